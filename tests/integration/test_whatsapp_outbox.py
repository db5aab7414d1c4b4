"""The outbox commit on both engines: atomic, idempotent, ordered (Postgres commits a
turn as one statement, SQLite as a transaction; both must behave the same)."""

from __future__ import annotations

import asyncio

from agentgraph.persistence import open_domain
from agentgraph.runtime.inbox import Inbox, InboxEntry
from agentgraph.runtime.outbox import Outbox
from agentgraph.threads import conversation_thread_id
from agentgraph.whatsapp.inbound import InboundMessage

THREAD = conversation_thread_id("whatsapp", "easymo", "+972500000001")


def _message(mid: str) -> InboxEntry:
    message = InboundMessage(
        id=mid, phone_number_id="1122334455667", wa_id="972500000001", kind="text", text=mid
    )
    return InboxEntry("easymo", THREAD, message)


async def test_commit_turn_stores_once_in_order_and_marks_the_inbox(any_settings):
    async with open_domain(any_settings) as domain:
        inbox, outbox = Inbox(domain.db), Outbox(domain.db)
        await inbox.add_many([_message("wamid.a"), _message("wamid.b"), _message("wamid.c")])
        replies = [{"type": "text", "text": {"body": f"reply {n}"}} for n in range(3)]

        committed = await outbox.commit_turn(
            thread_id=THREAD,
            recipient="972500000001",
            phone_number_id="1122334455667",
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
        assert await inbox.pending_with_unsent(
            conversation_thread_id("whatsapp", "easymo", "+0")
        ) == ([], [])
        rows = [await outbox.get(i) for i in ids]
        assert [r.payload["text"]["body"] for r in rows if r] == ["reply 0", "reply 1", "reply 2"]
        assert [r.idempotency_key for r in rows if r] == [f"wamid.a:{n}" for n in range(3)]

        # The same turn committed again (after a crash): the same rows, nothing new.
        again = await outbox.commit_turn(
            thread_id=THREAD,
            recipient="972500000001",
            phone_number_id="1122334455667",
            inbound_ids=["wamid.a", "wamid.b"],
            messages=replies,
        )
        assert again.ids == [] and again.answered == 0
        assert len(await outbox.recent(thread_id=THREAD)) == 3

        # A worker that lost the conversation composed a different turn for rows
        # another worker already answered: nothing of it is stored.
        late = await outbox.commit_turn(
            thread_id=THREAD,
            recipient="972500000001",
            phone_number_id="1122334455667",
            inbound_ids=["wamid.a"],
            messages=[*replies, {"type": "text", "text": {"body": "late extra"}}],
        )
        assert late.answered == 0 and late.ids == []
        assert len(await outbox.recent(thread_id=THREAD)) == 3

        # All or nothing: a batch of which one message was answered elsewhere marks
        # nothing (the other stays queued for its owner) and stores nothing.
        mixed = await outbox.commit_turn(
            thread_id=THREAD,
            recipient="972500000001",
            phone_number_id="1122334455667",
            inbound_ids=["wamid.b", "wamid.c"],
            messages=[{"type": "text", "text": {"body": "b and c"}}],
        )
        assert mixed.answered == 0 and mixed.ids == []
        assert await inbox.status_of("wamid.c") == "queued"
        assert len(await outbox.recent(thread_id=THREAD)) == 3

        # A turn without replies (an opted-out user) still marks its message answered.
        silent = await outbox.commit_turn(
            thread_id=THREAD,
            recipient="972500000001",
            phone_number_id="1122334455667",
            inbound_ids=["wamid.c"],
            messages=[],
        )
        assert silent.ids == [] and silent.answered == 1
        assert await inbox.status_of("wamid.c") == "done"
        assert await inbox.pending(THREAD) == []


async def test_overlapping_commits_are_all_or_nothing(any_settings):
    """Two workers committing overlapping batches at the same instant: one wins
    whole, the other marks and stores nothing; no message is half answered."""
    async with open_domain(any_settings) as domain:
        inbox, outbox = Inbox(domain.db), Outbox(domain.db)
        for round_ in range(10):
            ids = [f"wamid.r{round_}.{n}" for n in range(3)]
            await inbox.add_many([_message(i) for i in ids])

            def commit(batch: list[str], text: str):
                return outbox.commit_turn(
                    thread_id=THREAD,
                    recipient="972500000001",
                    phone_number_id="1122334455667",
                    inbound_ids=batch,
                    messages=[{"type": "text", "text": {"body": text}}],
                )

            first, second = await asyncio.gather(commit(ids[:2], "one"), commit(ids[1:], "two"))
            assert sorted([first.answered, second.answered]) == [0, 2]
            winner, loser = (ids[:2], ids[2]) if first.answered else (ids[1:], ids[0])
            assert [await inbox.status_of(i) for i in winner] == ["done", "done"]
            assert await inbox.status_of(loser) == "queued"
            assert len(first.ids) + len(second.ids) == 1
