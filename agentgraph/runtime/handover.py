"""The customer's side of a human handover on WhatsApp: one acknowledgement, then quiet.

`Handover.answer(tenant, thread_id, phone, language, text, result)` decides what a
turn of the WhatsApp channel sends once the conversation is escalated (the turn's
`TurnResult.escalated`), or returns None for a normal turn:

- the turn that escalated (by the user's request or an urgent ticket): the
  conversation's inbox item is acknowledged once, and the customer gets one message
  in their language, "a person will answer, usually within {wait}" (the SLA target of
  the item's priority), instead of the assistant's words;
- every later message while a person has it (or is awaited): attached to the inbox
  item (announced on the inbox feed) and answered with nothing.

`after_failure` is the repeated-failures policy: when this turn failed (the customer
got the apology) and so did the `escalate_after_failures - 1` turns before it, the
conversation is escalated by policy, with the same acknowledgement. Counting reads
the outbox only on a failed turn, so a normal turn costs no query.

Texts come from the message catalogue `prompts/human_inbox.json` (en, fr, rw).
"""

from __future__ import annotations

import logging
from typing import Any

from agentgraph.domain import Domain
from agentgraph.domain.inbox_records import InboxItem
from agentgraph.prompts import PromptLibrary
from agentgraph.runtime import replies
from agentgraph.runtime.outbox import Outbox
from agentgraph.runtime.turns import APOLOGY, TurnResult, TurnRunner
from agentgraph.threads import mask_thread_id

__all__ = ["CATALOGUE", "Handover", "catalogue_text"]

log = logging.getLogger(__name__)

CATALOGUE = "human_inbox.json"


def catalogue_text(prompts: PromptLibrary, key: str, language: str, **values: str) -> str:
    """The catalogue's `key` text in `language` (English when it has none), filled in."""
    table = prompts.table(CATALOGUE)
    texts = table[key]
    template = texts.get(language) or texts["en"]
    return str(template).format(**values)


def acknowledgement(prompts: PromptLibrary, item: InboxItem, language: str) -> str:
    """ "A person will answer, usually within {wait}" for `item`, in `language`."""
    waits = prompts.table(CATALOGUE)["wait"]
    wait = (waits.get(language) or waits["en"])[item.priority]
    return catalogue_text(prompts, "acknowledgement", language, wait=wait)


class Handover:
    """See the module docstring; one per channel."""

    def __init__(
        self,
        domain: Domain,
        runner: TurnRunner,
        outbox: Outbox,
        prompts: PromptLibrary,
        *,
        failure_limit: int,
    ) -> None:
        self.domain = domain
        self.runner = runner
        self.outbox = outbox
        self.prompts = prompts
        self.failure_limit = failure_limit

    async def answer(
        self,
        *,
        tenant: str,
        thread_id: str,
        phone: str,
        language: str,
        text: str,
        result: TurnResult,
    ) -> list[dict[str, Any]] | None:
        """The messages for a turn of an escalated conversation, or None when the
        conversation is not escalated (the turn's own replies stand)."""
        if not result.escalated:
            if result.error:
                return await self.after_failure(tenant, thread_id, phone, language, text)
            return None
        inbox = self.domain.human_inbox
        item = await inbox.open_item(tenant, thread_id)
        if item is None:
            # Escalated in the graph without an item (before the inbox existed): open one.
            item, _ = await inbox.open(
                tenant,
                thread_id,
                channel="whatsapp",
                phone=phone,
                reason="The conversation was handed to a person.",
                source="user",
            )
        await inbox.attach_customer_message(item, text)
        if await inbox.acknowledge(item.id):
            return replies.texts(acknowledgement(self.prompts, item, language))
        return []

    async def after_failure(
        self, tenant: str, thread_id: str, phone: str, language: str, text: str
    ) -> list[dict[str, Any]] | None:
        """Escalate by policy after `failure_limit` failed turns in a row (this one
        included); None when the limit is not reached (or the policy is off)."""
        if self.failure_limit <= 0:
            return None
        earlier = self.failure_limit - 1
        if earlier and (await self.outbox.recent_texts(thread_id, earlier)) != [APOLOGY] * earlier:
            return None
        reason = f"The assistant failed {self.failure_limit} times in a row."
        item, _ = await self.domain.human_inbox.open(
            tenant,
            thread_id,
            channel="whatsapp",
            phone=phone,
            reason=reason,
            source="policy",
            priority="high",
        )
        await self.runner.update(thread_id, {"escalated": True, "escalation_reason": reason})
        log.warning("conversation %s handed to a person by policy", mask_thread_id(thread_id))
        await self.domain.human_inbox.attach_customer_message(item, text)
        if await self.domain.human_inbox.acknowledge(item.id):
            return replies.texts(acknowledgement(self.prompts, item, language))
        return []
