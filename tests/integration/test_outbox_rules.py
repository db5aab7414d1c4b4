"""Outbox rows and delivery statuses, one rule at a time, on SQLite.

The flows (a crash mid-send, a status settling a row) are tested end to end in
test_outbox_statuses.py and test_crash_windows.py; here each repository method is
held to its docstring: which rows it touches, which it leaves, what it returns.
"""

from __future__ import annotations

import time

import pytest

from agentgraph.persistence import open_domain
from agentgraph.runtime.inbox import Inbox, InboxEntry
from agentgraph.runtime.outbox import UNKNOWN_DELIVERY, Outbox
from agentgraph.runtime.statuses import RANK, MessageStatuses, outbox_row_of
from agentgraph.whatsapp.inbound import InboundMessage
from agentgraph.whatsapp.payloads import ApiError, Status

A, B = "wa:easymo:+972500000001", "wa:easymo:+972500000002"


@pytest.fixture
async def db(sqlite_settings):
    async with open_domain(sqlite_settings) as domain:
        yield domain.db


def _entry(mid: str, thread: str = A) -> InboxEntry:
    message = InboundMessage(
        id=mid, phone_number_id="1122334455667", wa_id="972500000001", kind="text", text=mid
    )
    return InboxEntry("easymo", thread, message)


async def _turn(db, mids, messages, thread=A, orphan=30.0):
    await Inbox(db).add_many([_entry(m, thread) for m in mids])
    return await Outbox(db).commit_turn(
        thread_id=thread,
        recipient="972500000001",
        phone_number_id="1122334455667",
        inbound_ids=mids,
        messages=messages,
        orphan_after_seconds=orphan,
    )


def _text(body: str) -> dict:
    return {"type": "text", "text": {"body": body}}


async def test_a_commit_stores_keyed_rows_due_after_the_orphan_delay(db):
    before = time.time()
    turn = await _turn(db, ["m1", "m2", "m1"], [_text("a"), {"text": {"body": "b"}}], orphan=50)
    assert turn.answered == 2 and len(turn.ids) == 2
    outbox = Outbox(db)
    rows = [await outbox.get(i) for i in turn.ids]
    assert [(r.idempotency_key, r.kind, r.inbound_id, r.status, r.attempts) for r in rows] == [
        ("m1:0", "text", "m1", "pending", 0),
        ("m1:1", "text", "m1", "pending", 0),
    ]
    assert rows[1].payload == {"text": {"body": "b"}}
    assert before <= rows[0].created_at <= time.time()
    due = await db.fetchval("SELECT next_attempt_at FROM wa_outbox WHERE id = ?", [turn.ids[0]])
    assert due == pytest.approx(rows[0].created_at + 50)
    assert await outbox.due() == []
    assert await outbox.due(everything=True) == turn.ids
    assert await Inbox(db).status_of("m2") == "done"


async def test_a_commit_answering_an_answered_message_stores_nothing(db):
    await _turn(db, ["m1"], [_text("a")])
    await Inbox(db).add_many([_entry("m2")])
    again = await Outbox(db).commit_turn(
        thread_id=A,
        recipient="972500000001",
        phone_number_id=None,
        inbound_ids=["m2", "m1"],
        messages=[_text("b")],
    )
    assert (again.ids, again.answered) == ([], 0)
    assert await Inbox(db).status_of("m2") == "queued"
    assert await Outbox(db).unsent_count() == 1


async def test_claim_takes_a_pending_row_once_and_counts_the_attempt(db):
    (row_id,) = (await _turn(db, ["m1"], [_text("a")])).ids
    outbox = Outbox(db)
    claimed = await outbox.claim(row_id)
    assert claimed is not None and (claimed.status, claimed.attempts) == ("sending", 1)
    assert await outbox.claim(row_id) is None
    assert await outbox.unsent_count() == 1
    await outbox.mark_retry(row_id, 123.0, "busy")
    row = await outbox.get(row_id)
    assert (row.status, row.error) == ("pending", "busy")
    assert await db.fetchval("SELECT next_attempt_at FROM wa_outbox WHERE id = ?", [row_id]) == 123
    # A retry is recorded only for a row being sent.
    await outbox.mark_retry(row_id, 456.0, "again")
    assert (await outbox.get(row_id)).error == "busy"
    assert (await outbox.claim(row_id)).attempts == 2
    await outbox.mark_sent(row_id, "wamid.1")
    row = await outbox.get(row_id)
    assert (row.status, row.wamid, row.error) == ("sent", "wamid.1", None)
    assert await outbox.unsent_count() == 0


async def test_mark_failed_and_dev_mode_are_final(db):
    one, two = (await _turn(db, ["m1"], [_text("a"), _text("b")])).ids
    outbox = Outbox(db)
    await outbox.mark_failed(one, 131047, "closed window")
    await outbox.mark_sent(two, None, status="dev")
    first, second = await outbox.get(one), await outbox.get(two)
    assert (first.status, first.error_code, first.error) == ("failed", 131047, "closed window")
    assert (second.status, second.wamid) == ("dev", None)
    assert await outbox.claim(one) is None and await outbox.claim(two) is None
    assert await outbox.due(everything=True) == []
    assert await outbox.get(10**6) is None


async def test_due_pending_and_recent_keep_order_and_threads_apart(db):
    a_ids = (await _turn(db, ["a1"], [_text("1"), _text("2"), _text("3")], orphan=0)).ids
    b_ids = (await _turn(db, ["b1"], [_text("x")], thread=B, orphan=0)).ids
    outbox = Outbox(db)
    assert await outbox.due() == [*a_ids, *b_ids]
    assert await outbox.due(limit=2) == a_ids[:2]
    assert await outbox.pending_for(A) == a_ids
    await outbox.claim(a_ids[0])
    assert await outbox.pending_for(A) == a_ids[1:]
    assert await outbox.due() == [*a_ids[1:], *b_ids]
    assert [r.id for r in await outbox.recent()] == [*a_ids, *b_ids]
    assert [r.id for r in await outbox.recent(limit=2)] == [a_ids[2], b_ids[0]]
    assert [r.id for r in await outbox.recent(thread_id=B)] == b_ids
    assert [r.id for r in await outbox.recent(limit=1, thread_id=A)] == [a_ids[2]]
    listed = (await outbox.recent(limit=1))[0].as_json()
    assert listed == {
        "id": b_ids[0],
        "to": "972500000001",
        "thread_id": B,
        "in_reply_to": "b1",
        "type": "text",
        "message": _text("x"),
        "status": "pending",
        "attempts": 0,
        "wamid": None,
        "error": None,
        "created_at": listed["created_at"],
    }


async def test_a_stale_send_is_retried_unless_a_later_reply_went_out(db):
    a1, a2, a3 = (await _turn(db, ["a1"], [_text("1"), _text("2"), _text("3")])).ids
    (b1,) = (await _turn(db, ["b1"], [_text("x")], thread=B)).ids
    outbox = Outbox(db)
    for row_id in (a1, a2, b1):
        await outbox.claim(row_id)
    await outbox.mark_sent(a2, "wamid.a2")
    await outbox.claim(a3)
    await outbox.mark_sent(a3, None, status="dev")
    assert await outbox.release_stale(60) == 0
    assert (await outbox.get(a1)).status == "sending"
    # Claimed "in the future" relative to the cutoff: everything sending is stale.
    assert await outbox.release_stale(-5) == 1
    first, other = await outbox.get(a1), await outbox.get(b1)
    assert (first.status, first.error) == ("failed", UNKNOWN_DELIVERY)
    assert (other.status, other.error) == ("pending", None)


async def test_a_stale_send_followed_only_by_unsent_replies_is_retried(db):
    a1, a2 = (await _turn(db, ["a1"], [_text("1"), _text("2")])).ids
    outbox = Outbox(db)
    await outbox.claim(a1)
    await outbox.mark_failed(a2, None, "x")
    assert await outbox.release_stale(-5) == 1
    assert (await outbox.get(a1)).status == "pending"


async def test_a_status_settles_only_a_row_still_pending_or_sending(db):
    one, two, three = (await _turn(db, ["m1"], [_text("a"), _text("b"), _text("c")])).ids
    outbox = Outbox(db)
    await outbox.claim(one)
    assert await outbox.mark_sent_by_status(one, "wamid.1", "delivered", None, None) is True
    row = await outbox.get(one)
    assert (row.status, row.wamid) == ("sent", "wamid.1")
    assert await outbox.mark_sent_by_status(one, "wamid.x", "failed", 1, "late") is False
    assert await outbox.mark_sent_by_status(two, "wamid.2", "failed", 131047, None) is True
    row = await outbox.get(two)
    assert (row.status, row.wamid, row.error_code, row.error) == (
        "failed",
        "wamid.2",
        131047,
        "failed",
    )
    assert await outbox.mark_sent_by_status(three, "wamid.3", "failed", 5, "bad") is True
    assert (await outbox.get(three)).error == "bad"
    assert await outbox.mark_sent_by_status(10**6, "wamid.9", "sent", None, None) is False


@pytest.mark.parametrize(
    ("data", "row"),
    [
        ("outbox:12", 12),
        ("outbox:" + "9" * 18, 10**18 - 1),
        ("outbox:" + "9" * 19, None),
        ("outbox:", None),
        ("outbox:12x", None),
        ("xoutbox:12", None),
        ("", None),
        (None, None),
    ],
)
def test_only_our_callback_data_names_an_outbox_row(data, row):
    assert outbox_row_of(data) == row


def _status(wamid, status, *, errors=None, ts="1700000000", callback=None):
    return Status(
        id=wamid,
        status=status,
        timestamp=ts,
        recipient_id="972500000001",
        errors=errors,
        biz_opaque_callback_data=callback,
    )


async def test_statuses_never_go_backwards(db):
    statuses = MessageStatuses(db)
    assert RANK == {"sent": 1, "delivered": 2, "read": 3, "failed": 4}
    assert await statuses.record(_status("w1", "deleted")) is False
    assert await statuses.get("w1") is None
    assert await statuses.record(_status("w1", "delivered")) is True
    assert await statuses.record(_status("w1", "sent")) is False
    assert await statuses.record(_status("w1", "delivered")) is False
    assert await statuses.record(_status("w1", "read", ts="1700000050")) is True
    assert await statuses.record(_status("w1", "delivered")) is False
    assert await statuses.get("w1") == {
        "wamid": "w1",
        "recipient": "972500000001",
        "status": "read",
        "error_code": None,
        "error_title": None,
        "outside_window": 0,
    }
    at = await db.fetchval("SELECT status_at FROM wa_message_status WHERE wamid = 'w1'")
    assert at == 1700000050
    before = time.time()
    await statuses.record(_status("w2", "sent", ts=None))
    at = await db.fetchval("SELECT status_at FROM wa_message_status WHERE wamid = 'w2'")
    assert before <= at <= time.time()


async def test_a_failure_is_recorded_with_its_reason_on_the_sent_row(db):
    one, two, three = (await _turn(db, ["m1"], [_text("a"), _text("b"), _text("c")])).ids
    outbox = Outbox(db)
    for row_id, wamid in ((one, "w1"), (two, "w2"), (three, "w3")):
        await outbox.claim(row_id)
        await outbox.mark_sent(row_id, wamid)
    statuses = MessageStatuses(db)
    closed = [ApiError(code=131047, title="Re-engagement message")]
    other = [ApiError(code=131026, title="Undeliverable")]
    assert await statuses.record(_status("w1", "failed", errors=closed)) is True
    assert await statuses.record(_status("w2", "failed", errors=other)) is True
    assert await statuses.record(_status("w3", "failed")) is True
    got = [await outbox.get(i) for i in (one, two, three)]
    assert [(r.status, r.error_code, r.error) for r in got] == [
        ("failed", 131047, "outside the 24-hour window"),
        ("failed", 131026, "Undeliverable"),
        ("failed", None, "failed"),
    ]
    w1, w2 = await statuses.get("w1"), await statuses.get("w2")
    assert (w1["outside_window"], w1["error_code"], w1["error_title"]) == (
        1,
        131047,
        "Re-engagement message",
    )
    assert (w2["outside_window"], w2["error_code"]) == (0, 131026)


async def test_a_status_naming_a_row_settles_it(db):
    one, two, three = (await _turn(db, ["m1"], [_text("a"), _text("b"), _text("c")])).ids
    outbox = Outbox(db)
    statuses = MessageStatuses(db)
    closed = [ApiError(code=131047, title="Re-engagement message")]
    other = [ApiError(code=131026, title="Undeliverable")]
    await statuses.record(_status("w1", "delivered", callback=f"outbox:{one}"))
    await statuses.record(_status("w2", "failed", errors=closed, callback=f"outbox:{two}"))
    await statuses.record(_status("w3", "failed", errors=other, callback=f"outbox:{three}"))
    got = [await outbox.get(i) for i in (one, two, three)]
    assert [(r.status, r.wamid, r.error_code, r.error) for r in got] == [
        ("sent", "w1", None, None),
        ("failed", "w2", 131047, "outside the 24-hour window"),
        ("failed", "w3", 131026, "Undeliverable"),
    ]


async def test_sent_and_read_statuses_never_fail_a_row(db):
    one, two = (await _turn(db, ["m1"], [_text("a"), _text("b")])).ids
    outbox = Outbox(db)
    assert await outbox.mark_sent_by_status(one, "w1", "sent", None, None) is True
    assert await outbox.mark_sent_by_status(two, "w2", "read", None, None) is True
    assert [(await outbox.get(i)).status for i in (one, two)] == ["sent", "sent"]
    statuses = MessageStatuses(db)
    assert await statuses.record(_status("w1", "read")) is True
    assert await statuses.record(_status("w2", "sent")) is True
    assert [(await outbox.get(i)).status for i in (one, two)] == ["sent", "sent"]
