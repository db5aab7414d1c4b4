"""WhatsApp pieces that need no services: signature, payload parsing, message kinds,
formatting within Meta's limits, Graph API error mapping, batching and rate limits."""

from __future__ import annotations

import json

import httpx
import pytest

from agentgraph.runtime.channel import take_batch
from agentgraph.runtime.inbox import InboxRow
from agentgraph.runtime.ratelimit import MemoryRateLimiter
from agentgraph.runtime.replies import command_word, turn_messages
from agentgraph.runtime.turns import TurnResult
from agentgraph.whatsapp.client import (
    GraphAPIError,
    GraphClient,
    GraphUnavailable,
    OutsideWindow,
    RateLimited,
)
from agentgraph.whatsapp.formatting import buttons_message, list_message, split_text
from agentgraph.whatsapp.inbound import InboundMessage, nearest_place
from agentgraph.whatsapp.payloads import InvalidPayload, parse_webhook
from agentgraph.whatsapp.signature import verify_signature
from agentgraph.whatsapp.updates import MessageUpdate, iter_updates
from tests.support.whatsapp import APP_SECRET, fixture_bytes

VECTOR = "sha256=54edfa1d7259e0eb13c677cc7d73d1b5c86cfa12433d19156e058ab9251bc441"


def test_signature_vector_verifies_only_the_exact_bytes():
    raw = fixture_bytes("signed_text_raw.json")
    assert verify_signature(raw, VECTOR, APP_SECRET)
    assert not verify_signature(raw + b" ", VECTOR, APP_SECRET)
    assert not verify_signature(raw, VECTOR, "other")
    assert not verify_signature(raw, VECTOR.replace("sha256=", "sha1="), APP_SECRET)
    assert not verify_signature(raw, "garbage", APP_SECRET)


def test_malformed_and_foreign_bodies_are_invalid():
    for raw in (
        b"",
        b"[1]",
        b"{",
        b'{"object":"page","entry":[]}',
        b'{"object":"whatsapp_business_account"}',
    ):
        with pytest.raises(InvalidPayload):
            parse_webhook(raw)


def test_changes_other_than_messages_are_ignored():
    raw = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {"field": "message_template_status_update", "value": {"event": "APPROVED"}}
                    ],
                }
            ],
        }
    ).encode()
    assert list(iter_updates(parse_webhook(raw))) == []


def _kinds(name: str) -> list[tuple[str, str | None]]:
    body = parse_webhook(fixture_bytes(name))
    return [
        (m.kind, m.text)
        for u in iter_updates(body)
        if isinstance(u, MessageUpdate)
        for m in [InboundMessage.from_update(u)]
    ]


def test_message_kinds_of_the_fixtures():
    assert _kinds("text_reply_context.json") == [("text", "replied text")]
    assert _kinds("button_quick_reply.json") == [("quick_reply", "title")]
    assert _kinds("video.json") == [("media", "caption")]
    assert _kinds("audio_voice.json") == [("media", None)]
    assert _kinds("reaction_removed.json") == [("reaction", None)]
    assert _kinds("contacts.json") == [("contacts", None)]
    assert _kinds("interactive_with_errors.json") == [("unsupported", None)]


def test_reply_context_and_list_replies():
    raw = json.loads(fixture_bytes("text_reply_context.json"))
    message = InboundMessage.from_update(
        next(iter_updates(parse_webhook(json.dumps(raw).encode())))
    )
    assert message.reply_to == "wamid.xyzxyz=="
    assert (message.phone_number_id, message.wa_id) == ("1122334455667", "972987654321")
    value = raw["entry"][0]["changes"][0]["value"]["messages"][0]
    value.update(
        type="interactive",
        interactive={"type": "list_reply", "list_reply": {"id": "book trip 7", "title": "Trip 7"}},
    )
    del value["text"]
    picked = InboundMessage.from_update(next(iter_updates(parse_webhook(json.dumps(raw).encode()))))
    assert (picked.kind, picked.text) == ("list_reply", "book trip 7")


def test_location_near_a_served_city_names_it():
    assert nearest_place(-1.95, 30.06) == "Kigali"
    assert nearest_place(12.25, 43.9) is None


def test_split_text_respects_the_limit_and_sentences():
    text = " ".join(f"Sentence number {n} is here." for n in range(600))
    pieces = split_text(text)
    assert all(len(p) <= 4096 for p in pieces) and len(pieces) > 1
    assert all(p.endswith(".") for p in pieces)
    assert " ".join(pieces) == text
    assert split_text("x" * 5000) == ["x" * 4096, "x" * 904]


def test_buttons_and_lists_stay_within_limits():
    buttons = buttons_message("b" * 2000, [{"id": f"id{n}", "title": "t" * 30} for n in range(5)])
    action = buttons["interactive"]["action"]["buttons"]
    assert len(action) == 3 and all(len(b["reply"]["title"]) <= 20 for b in action)
    assert len(buttons["interactive"]["body"]["text"]) <= 1024
    rows = [{"id": f"r{n}", "title": "T" * 40, "description": "D" * 100} for n in range(15)]
    listed = list_message("Pick one", rows)["interactive"]["action"]
    assert len(listed["sections"][0]["rows"]) == 10
    assert all(
        len(r["title"]) <= 24 and len(r["description"]) <= 72 for r in listed["sections"][0]["rows"]
    )


def test_confirmation_turn_becomes_buttons():
    prompt = "Send 5,000 RWF to Jean? Reply YES to confirm or NO to cancel."
    result = TurnResult(
        input="send",
        replies=[prompt],
        agent="payment",
        awaiting_confirmation=True,
        confirmation={
            "prompt": prompt,
            "options": [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}],
        },
    )
    [message] = turn_messages(result)
    assert message["interactive"]["type"] == "button"
    assert message["interactive"]["body"]["text"] == prompt


def test_stop_and_start_words():
    assert command_word(" STOP ") == "stop" and command_word("Start") == "start"
    assert command_word("stop the transfer please") is None


def _client(status: int, body: dict) -> GraphClient:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, json=body))
    return GraphClient("http://graph.test/v21.0", "t", "1", transport=transport)


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (429, None, RateLimited),
        (400, 130429, RateLimited),
        (400, 131056, RateLimited),
        (400, 80007, RateLimited),
        (500, 1, GraphUnavailable),
        (400, 131047, OutsideWindow),
        (400, 131026, GraphAPIError),
    ],
)
async def test_graph_errors_map_to_exceptions(status, code, error):
    client = _client(status, {"error": {"message": "nope", "code": code}})
    with pytest.raises(error) as caught:
        await client.send("250788000001", {"type": "text", "text": {"body": "hi"}})
    assert type(caught.value) is error
    assert caught.value.retryable == (error in (RateLimited, GraphUnavailable))
    await client.aclose()


def _row(seq: int, text: str, at: float, kind: str = "text") -> InboxRow:
    message = InboundMessage(id=f"m{seq}", phone_number_id="1", wa_id="2", kind=kind, text=text)  # type: ignore[arg-type]
    return InboxRow(seq, message.id, "easymo", "wa:easymo:+2", kind, at, message)


def test_batches_merge_texts_within_the_window_only():
    rows = [_row(1, "a", 0.0), _row(2, "b", 1.0), _row(3, "c", 3.0)]
    assert [r.seq for r in take_batch(rows, 1.5)] == [1, 2]
    assert [r.seq for r in take_batch(rows, 0.0)] == [1]
    assert [r.seq for r in take_batch([_row(1, "yes", 0, "button_reply"), rows[1]], 9)] == [1]
    assert [r.seq for r in take_batch([rows[0], _row(2, "STOP", 0.1)], 9)] == [1]


async def test_memory_rate_limiter_notifies_once_per_window():
    limiter = MemoryRateLimiter(per_minute=2, per_day=100)
    decisions = [await limiter.hit("u") for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, False, False, False]
    assert [d.notify for d in decisions] == [None, None, "minute", None, None]


async def test_messages_the_minute_limit_refuses_do_not_use_up_the_day():
    limiter = MemoryRateLimiter(per_minute=2, per_day=3)
    flood = [await limiter.hit("u") for _ in range(10)]  # one minute: 2 answered
    assert [d.allowed for d in flood].count(True) == 2
    limiter._counts = {k: v for k, v in limiter._counts.items() if k[1] != "m"}  # next minute
    later = [await limiter.hit("u") for _ in range(3)]
    assert [d.allowed for d in later] == [True, False, False]
    assert [d.notify for d in later] == [None, "day", None]
