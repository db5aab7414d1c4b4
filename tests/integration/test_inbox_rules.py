"""The inbox on SQLite: stored once, read back in arrival order per conversation."""

from __future__ import annotations

import pytest

from agentgraph.persistence import open_domain
from agentgraph.runtime.inbox import Inbox, InboxEntry
from agentgraph.runtime.outbox import Outbox
from agentgraph.whatsapp.inbound import InboundMessage

A, B = "wa:easymo:+972500000001", "wa:easymo:+972500000002"


@pytest.fixture
async def inbox(sqlite_settings):
    async with open_domain(sqlite_settings) as domain:
        yield Inbox(domain.db)


def entry(mid: str, thread: str = A, kind: str = "text") -> InboxEntry:
    message = InboundMessage(
        id=mid, phone_number_id="1122334455667", wa_id="972500000001", kind=kind, text=mid
    )
    return InboxEntry("easymo", thread, message)


async def test_new_messages_are_returned_once_in_body_order(inbox):
    fresh = await inbox.add_many([entry("m2"), entry("m1"), entry("m2")], received_at=5.0)
    assert [e.message.id for e in fresh] == ["m2", "m1"]
    again = await inbox.add_many([entry("m1"), entry("m3", B)])
    assert [e.message.id for e in again] == ["m3"]
    rows = await inbox.pending(A)
    assert [(r.message_id, r.tenant, r.thread_id, r.kind) for r in rows] == [
        ("m2", "easymo", A, "text"),
        ("m1", "easymo", A, "text"),
    ]
    assert rows[0].seq < rows[1].seq
    assert (rows[0].received_at, rows[0].message) == (5.0, entry("m2").message)
    assert await inbox.add_many([]) == []


async def test_a_webhook_larger_than_one_statement_is_stored_whole(inbox):
    entries = [entry(f"m{i:03}") for i in range(205)]
    fresh = await inbox.add_many(entries)
    assert [e.message.id for e in fresh] == [e.message.id for e in entries]
    assert await inbox.depth() == 205
    assert [r.message_id for r in await inbox.pending(A, limit=3)] == ["m000", "m001", "m002"]
    assert len(await inbox.pending(A)) == 100


async def test_queued_rows_unsent_replies_threads_and_statuses(inbox):
    await inbox.add_many([entry("b1", B), entry("a1"), entry("a2")])
    assert await inbox.pending_threads() == [B, A]
    assert (await inbox.status_of("a1"), await inbox.status_of("zz")) == ("queued", None)
    outbox = Outbox(inbox._db)
    turn = await outbox.commit_turn(
        thread_id=B,
        recipient="972500000002",
        phone_number_id=None,
        inbound_ids=["b1"],
        messages=[{"type": "text", "text": {"body": "x"}}, {"type": "text", "text": {"body": "y"}}],
    )
    assert await inbox.status_of("b1") == "done"
    assert await inbox.pending_threads() == [A]
    assert await inbox.depth() == 2
    assert await inbox.pending_with_unsent(B) == (turn.ids, [])
    await outbox.claim(turn.ids[0])
    assert await inbox.pending_with_unsent(B) == (turn.ids[1:], [])
    unsent, queued = await inbox.pending_with_unsent(A, limit=1)
    assert (unsent, [r.message_id for r in queued]) == ([], ["a1"])
    unsent, queued = await inbox.pending_with_unsent(A)
    assert [r.message_id for r in queued] == ["a1", "a2"]
    assert queued == await inbox.pending(A)
