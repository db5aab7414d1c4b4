"""The outbox commit on both engines: atomic, idempotent, ordered (Postgres commits a
turn as one statement, SQLite as a transaction; both must behave the same)."""

from __future__ import annotations

from agentgraph.domain import open_domain
from agentgraph.runtime.inbox import Inbox
from agentgraph.runtime.outbox import Outbox
from agentgraph.whatsapp.inbound import InboundMessage

THREAD = "wa:1122334455667:972500000001"


def _message(mid: str) -> InboundMessage:
    return InboundMessage(
        id=mid, phone_number_id="1122334455667", wa_id="972500000001", kind="text", text=mid
    )


async def test_commit_turn_stores_once_in_order_and_marks_the_inbox(any_settings):
    async with open_domain(any_settings) as domain:
        inbox, outbox = Inbox(domain.db), Outbox(domain.db)
        await inbox.add_many([_message("wamid.a"), _message("wamid.b"), _message("wamid.c")])
        replies = [{"type": "text", "text": {"body": f"reply {n}"}} for n in range(3)]

        committed = await outbox.commit_turn(
            thread_id=THREAD,
            recipient="972500000001",
            inbound_ids=["wamid.a", "wamid.b"],
            messages=replies,
        )
        ids = committed.ids
        assert committed.answered == 2
        assert ids == sorted(ids) and len(set(ids)) == 3
        assert await inbox.status_of("wamid.a") == "done"
        assert await inbox.status_of("wamid.b") == "done"
        assert await inbox.status_of("wamid.c") == "queued"
        assert await outbox.pending_for(THREAD) == ids
        unsent, queued = await inbox.pending_with_unsent(THREAD)
        assert unsent == ids and [row.message_id for row in queued] == ["wamid.c"]
        assert queued[0].message.text == "wamid.c"
        assert await inbox.pending_with_unsent("wa:1122334455667:0") == ([], [])
        rows = [await outbox.get(i) for i in ids]
        assert [r.payload["text"]["body"] for r in rows if r] == ["reply 0", "reply 1", "reply 2"]
        assert [r.idempotency_key for r in rows if r] == [f"wamid.a:{n}" for n in range(3)]

        # The same turn committed again (after a crash): the same rows, nothing new.
        again = await outbox.commit_turn(
            thread_id=THREAD,
            recipient="972500000001",
            inbound_ids=["wamid.a", "wamid.b"],
            messages=replies,
        )
        assert again.ids == ids and again.answered == 0
        assert len(await outbox.recent(thread_id=THREAD)) == 3

        # A worker that lost the conversation composed a different turn for rows
        # another worker already answered: nothing of it is stored.
        late = await outbox.commit_turn(
            thread_id=THREAD,
            recipient="972500000001",
            inbound_ids=["wamid.a"],
            messages=[*replies, {"type": "text", "text": {"body": "late extra"}}],
        )
        assert late.answered == 0 and late.ids == ids
        assert len(await outbox.recent(thread_id=THREAD)) == 3

        # A turn without replies (an opted-out user) still marks its message answered.
        silent = await outbox.commit_turn(
            thread_id=THREAD, recipient="972500000001", inbound_ids=["wamid.c"], messages=[]
        )
        assert silent.ids == [] and silent.answered == 1
        assert await inbox.status_of("wamid.c") == "done"
        assert await inbox.pending(THREAD) == []
