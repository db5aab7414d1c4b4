"""What the WhatsApp channel does with a batch of inbound messages of one user.

`ConversationPolicy.respond(batch)` returns the message bodies to send, in order,
applying, before the assistant ever sees a message: STOP/START (one confirmation,
then silence until START), per-user rate limits (one notice per window), reactions
and system notices (recorded, no reply), media without caption, contacts and unsupported messages
(a polite fixed reply), the inbound length limit, and the tenant's
`ai_agents_enabled` flag (off: a fixed menu). Everything else is one assistant turn
for the tenant and on the thread the inbox rows were stored with; a batch of several
messages (merged by the debounce window) is one turn whose text is the messages
joined by newlines. Once a conversation is handed to a person, `Handover` decides
what the turn sends (one acknowledgement, then nothing; `agentgraph.runtime.handover`).
Choices a booking tool returned (trips, bookings) are sent as a list message.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig

from agentgraph.config import Settings
from agentgraph.domain.phones import normalize_phone
from agentgraph.runtime import replies
from agentgraph.runtime.assistant import Assistant
from agentgraph.runtime.handover import Handover
from agentgraph.runtime.inbox import InboxRow
from agentgraph.runtime.ratelimit import RateLimiter
from agentgraph.whatsapp.inbound import InboundMessage

log = logging.getLogger(__name__)

TURN_KINDS = frozenset({"text", "button_reply", "list_reply", "quick_reply", "location"})


def mergeable(message: InboundMessage) -> bool:
    """Plain texts may share a turn; answers, commands and media never do."""
    return message.kind == "text" and replies.command_word(message.text) is None


@dataclass(frozen=True)
class Answer:
    """The replies to a batch, and how many of its rows (from the first) they answer."""

    messages: list[dict[str, Any]]
    rows_answered: int


class ConversationPolicy:
    """Decides the replies to one batch; stateless apart from the rate limiter."""

    def __init__(
        self,
        assistant: Assistant,
        settings: Settings,
        limiter: RateLimiter,
        handover: Handover | None = None,
    ) -> None:
        self.assistant = assistant
        self.settings = settings
        self.limiter = limiter
        self.domain = assistant.persistence.domain
        self.handover = handover

    async def respond(self, rows: Sequence[InboxRow]) -> Answer:
        """The message bodies answering one batch of a conversation's inbox rows, and
        how many of the rows (from the first) they answer: all of them, except when a
        turn found already complete (a crash before its commit) covered fewer."""
        return Answer(*await self._respond(rows))

    async def _respond(self, rows: Sequence[InboxRow]) -> tuple[list[dict[str, Any]], int]:
        batch = [row.message for row in rows]
        first = batch[0]
        tenant, thread_id = rows[0].tenant, rows[0].thread_id
        phone = normalize_phone(first.wa_id)
        if all(m.kind in ("reaction", "system") for m in batch):
            if first.kind == "system":
                # Its body may name the user's new number or other details: DEBUG only
                # (masked, like every line).
                log.debug("system message for %s: %s", phone, first.text or "")
            return [], len(rows)
        # The flag is read now, with the profile, to spare the database a query per turn.
        profile, ai_enabled = await self.domain.flags.profile_and_flag(
            self.domain.profiles, tenant, phone, "ai_agents_enabled"
        )
        command = replies.command_word(first.text) if len(batch) == 1 else None
        if command == "stop":
            if profile.opted_out:
                return [], len(rows)
            await self.domain.profiles.update(tenant, phone, opted_out=True)
            log.info("user %s opted out", phone)
            return replies.texts(replies.STOPPED), len(rows)
        if command == "start" and profile.opted_out:
            await self.domain.profiles.update(tenant, phone, opted_out=False)
            log.info("user %s opted in", phone)
            return replies.texts(replies.STARTED), len(rows)
        if profile.opted_out:
            return [], len(rows)

        allowed: list[InboundMessage] = []
        notice: str | None = None
        for message in batch:
            decision = await self.limiter.hit(phone)
            if decision.allowed:
                allowed.append(message)
            elif decision.notify and notice is None:
                notice = decision.notify
        if not allowed:
            if notice == "day":
                return replies.texts(replies.RATE_LIMITED_DAY), len(rows)
            if notice == "minute":
                return replies.texts(replies.RATE_LIMITED_MINUTE), len(rows)
            return [], len(rows)

        head = allowed[0]
        if head.kind == "contacts":
            return replies.texts(replies.CONTACTS_ACK), len(rows)
        if head.kind == "media" and not head.text:
            return replies.texts(replies.media_ack(head.media_type)), len(rows)
        if head.kind == "unsupported" or head.text is None:
            return replies.texts(replies.UNSUPPORTED), len(rows)
        if any(len(m.text or "") > self.settings.max_inbound_chars for m in allowed):
            too_long = replies.TOO_LONG.format(limit=self.settings.max_inbound_chars)
            return replies.texts(too_long), len(rows)
        if not ai_enabled:
            return replies.texts(replies.MENU), len(rows)
        text = "\n".join(m.text for m in allowed if m.text)
        result = await self.assistant.send(
            text,
            user=phone,
            tenant=tenant,
            channel="whatsapp",
            thread_id=thread_id,
            inputs=[m.id for m in allowed],
        )
        if self.handover is not None:
            handed = await self.handover.answer(
                tenant=tenant,
                thread_id=thread_id,
                phone=phone,
                language=profile.language,
                text=text,
                result=result,
            )
            if handed is not None:
                return handed, len(rows)
        choices = None
        if result.agent == "booking" and not result.awaiting_confirmation and not result.error:
            choices = await self._turn_choices(thread_id)
        answered = len(rows)
        if result.replayed:
            # The recorded turn may have covered fewer rows than this batch holds (more
            # arrived within the debounce window since): the rest get their own turn.
            ids = [row.message_id for row in rows]
            covered = [ids.index(i) for i in result.inputs if i in ids]
            answered = max(covered) + 1 if covered else len(rows)
        return replies.turn_messages(result, choices), answered

    async def _turn_choices(self, thread_id: str) -> dict[str, Any] | None:
        """The choices artifact of this turn's last tool result, if it has one."""
        config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
        snapshot = await self.assistant.graph.aget_state(config)
        values = snapshot.values if isinstance(snapshot.values, dict) else {}
        for message in reversed(values.get("messages", [])):
            if isinstance(message, HumanMessage):
                return None
            if isinstance(message, ToolMessage):
                artifact = message.artifact
                if isinstance(artifact, dict) and artifact.get("kind") == "choices":
                    return artifact
                return None
        return None
