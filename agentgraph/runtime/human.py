"""A person's side of a handed-over conversation: claim, reply, release.

`HumanDesk` acts for an `InboxActor` (`agentgraph.operators.inbox.inbox_actor`) on a
conversation id (its thread id), in the actor's tenant only; another tenant's
conversation is `ConversationNotFound` like a missing one.

- `claim` / `unclaim`: one owner at a time (`domain.human_inbox`).
- `reply(actor, conversation, text)`: the reply goes through the assistant's own
  delivery path. Under the conversation's lock (no turn runs meanwhile), one
  transaction checks that the actor holds the item, records the human message and
  stores its outbox row (key `human:{message id}`); then the row is delivered like any
  reply (retried on 429/5xx, failed at once on errors that cannot succeed, statuses
  recorded from webhooks), and the text joins the conversation's history as an
  `AIMessage` named `human` (`response_metadata["author"] == "human"`), whose id makes
  a repeat write keep one copy. Outside WhatsApp's 24-hour window the reply goes out
  as the tenant's template message, or is refused (`InboxConflict("window_closed")`)
  when it has none. Refused replies store and send nothing.
- `release(actor, conversation, note)`: closes the item, gives the conversation back
  to the assistant with the note in its history (a system message the customer never
  sees), and tells the customer in their language while their window is open.

Every change is announced on the inbox feed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from langchain_core.messages import AIMessage, AnyMessage, SystemMessage

from agentgraph.domain import DomainError
from agentgraph.domain.inbox_records import InboxActor, InboxConflict, InboxItem
from agentgraph.runtime import replies
from agentgraph.runtime.channel import WhatsAppChannel
from agentgraph.runtime.handover import catalogue_text
from agentgraph.threads import mask_thread_id
from agentgraph.whatsapp.formatting import text_message

__all__ = ["MAX_REPLY_CHARS", "HumanDesk", "HumanReply", "InvalidReply"]

log = logging.getLogger(__name__)

# WhatsApp's limit on a text body.
MAX_REPLY_CHARS = 4096
NOTE_MAX_CHARS = 2000


class InvalidReply(ValueError):
    """The reply text is empty or longer than WhatsApp accepts (a 422 on `text`)."""


@dataclass(frozen=True)
class HumanReply:
    """A stored human reply and how its delivery went: `status` is the outbox row's
    (`sent`, `dev` without a Graph API client, `failed`, or `pending` while retried),
    with Meta's `error_code` and `error` when it failed; `kind` is `text` or `template`."""

    message_id: int
    item: InboxItem
    kind: str
    status: str
    error_code: int | None
    error: str | None


def human_message(message_id: int, text: str, who: str) -> AIMessage:
    """A person's reply as the conversation's history keeps it."""
    return AIMessage(
        content=text,
        id=f"human-{message_id}",
        name="human",
        response_metadata={"author": "human", "operator": who},
    )


def check_reply(text: str) -> str:
    """`text` stripped; `InvalidReply` when empty or over 4,096 characters."""
    cleaned = text.strip()
    if not cleaned:
        raise InvalidReply("text must not be empty")
    if len(cleaned) > MAX_REPLY_CHARS:
        raise InvalidReply(f"text must be at most {MAX_REPLY_CHARS} characters")
    return cleaned


class HumanDesk:
    """See the module docstring; one per process, on its WhatsApp channel."""

    def __init__(self, channel: WhatsAppChannel) -> None:
        self.channel = channel
        self.assistant = channel.assistant
        self.domain = channel.assistant.persistence.domain
        self.inbox = self.domain.human_inbox

    async def _language(self, item: InboxItem | None) -> str:
        """The customer's reply language (English when unknown)."""
        if item is None:
            return "en"
        try:
            return (await self.domain.profiles.get(item.tenant, item.phone)).language
        except DomainError:
            return "en"

    async def _known(self, actor: InboxActor, conversation: str) -> bool:
        return await self.channel.inbox.has_thread(conversation, actor.scope)

    async def claim(self, actor: InboxActor, conversation: str) -> InboxItem:
        """Take the conversation's waiting item (see `HumanInbox.claim`)."""
        known = await self._known(actor, conversation)
        return await self.inbox.claim(
            actor.scope, conversation, who=actor.who, name=actor.name, known=known
        )

    async def unclaim(self, actor: InboxActor, conversation: str) -> InboxItem:
        """Put the item back in the queue (an admin may take anyone's claim back)."""
        known = await self._known(actor, conversation)
        return await self.inbox.unclaim(
            actor.scope, conversation, who=actor.who, anyone=actor.admin, known=known
        )

    async def reply(self, actor: InboxActor, conversation: str, text: str) -> HumanReply:
        """Send a person's reply to the customer (module docstring)."""
        text = check_reply(text)
        known = await self._known(actor, conversation)
        latest = await self.inbox.latest(actor.scope, conversation)
        templates = self.domain.inbox_templates
        template = await templates.get(latest.tenant) if latest is not None else None
        outbox, db = self.channel.outbox, self.domain.db
        async with self.channel.locks.hold(conversation):
            async with db.transaction() as tx:
                item = await self.inbox.lock_for_reply(
                    tx, actor.scope, conversation, who=actor.who, known=known
                )
                if item.channel != "whatsapp":
                    raise InboxConflict(
                        "channel",
                        "Human replies reach WhatsApp conversations; "
                        f"this one is on {item.channel}.",
                    )
                if item.window_open(self.inbox.now()):
                    kind, payload = "text", text_message(text)
                elif template is not None:
                    kind, payload = "template", template.payload(text)
                else:
                    closed = item.window_closes_at.isoformat()
                    raise InboxConflict(
                        "window_closed",
                        "The customer last wrote more than 24 hours ago (the window closed at "
                        f"{closed}): WhatsApp accepts only a template message now, and this "
                        "tenant has no reply template configured.",
                    )
                message_id = await self.inbox.add_human_message(
                    tx, item, who=actor.who, kind=kind, text=text
                )
                row_id = await outbox.add_in(
                    tx,
                    key=f"human:{message_id}",
                    thread_id=conversation,
                    recipient=item.phone.lstrip("+"),
                    phone_number_id=item.phone_number_id,
                    message=payload,
                    orphan_after_seconds=self.channel.settings.queue_claim_idle_seconds,
                )
                await self.inbox.link_outbox(tx, message_id, row_id)
            await self.channel.delivery.deliver([row_id])
            await self.assistant.runner.update(
                conversation, {"messages": [human_message(message_id, text, actor.who)]}
            )
        sent = await outbox.get(row_id)
        item = await self.inbox.get(item.id)
        await self.inbox.announce("replied", item)
        status = sent.status if sent is not None else "pending"
        if status == "failed":
            log.warning("human reply on %s failed to send", mask_thread_id(conversation))
        return HumanReply(
            message_id=message_id,
            item=item,
            kind=kind,
            status=status,
            error_code=sent.error_code if sent is not None else None,
            error=sent.error if sent is not None else None,
        )

    async def release(
        self, actor: InboxActor, conversation: str, note: str | None = None
    ) -> tuple[InboxItem, bool]:
        """Give the conversation back to the assistant; returns the item and whether the
        customer was told (only while their 24-hour window is open)."""
        note = " ".join((note or "").split())[:NOTE_MAX_CHARS] or None
        known = await self._known(actor, conversation)
        latest = await self.inbox.latest(actor.scope, conversation)
        language = await self._language(latest)
        db = self.domain.db
        async with self.channel.locks.hold(conversation):
            async with db.transaction() as tx:
                item = await self.inbox.lock_for_release(
                    tx, actor.scope, conversation, who=actor.who, known=known
                )
                item = await self.inbox.release(tx, item, note)
                row_id = None
                if item.channel == "whatsapp" and item.window_open(self.inbox.now()):
                    notice = catalogue_text(self.assistant.runner.prompts, "released", language)
                    row_id = await self.channel.outbox.add_in(
                        tx,
                        key=f"release:{item.id}",
                        thread_id=conversation,
                        recipient=item.phone.lstrip("+"),
                        phone_number_id=item.phone_number_id,
                        message=replies.texts(notice)[0],
                        orphan_after_seconds=self.channel.settings.queue_claim_idle_seconds,
                    )
            history: list[AnyMessage] = []
            if note:
                history.append(
                    SystemMessage(
                        f"Handover note from the person who handled this conversation: {note}",
                        id=f"release-{item.id}",
                    )
                )
            await self.assistant.runner.release(conversation, history)
            if row_id is not None:
                await self.channel.delivery.deliver([row_id])
        await self.inbox.announce("released", item)
        return item, row_id is not None
