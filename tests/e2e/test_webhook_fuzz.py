"""Property-based fuzzing of the WhatsApp webhook through the real app over HTTP.

Hypothesis builds signed webhook bodies that mix well-formed text messages of one
user with hostile items of other senders, shaped like the payload models but with
hostile values: non-finite numbers, lone surrogates, huge strings, wrong types,
missing fields, unknown kinds and deep nesting. For every body: no response is a
5xx, the server stays ready (no worker died), and every well-formed message is
answered exactly once, in order. The app runs in a thread of its own so that
Hypothesis drives it from plain synchronous code.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.app import create_app
from tests.support.echo_model import EchoChatModel
from tests.support.live_server import free_port
from tests.support.whatsapp import PHONE_NUMBER_ID, channel_settings, signed_headers

pytestmark = pytest.mark.slow

_users = itertools.count(1)
_ids = itertools.count(1)

# Characters including lone surrogates (Hypothesis leaves them out by default).
hostile_text = st.text(
    alphabet=st.characters(codec=None, exclude_categories=()), min_size=0, max_size=300
)
huge_text = st.integers(min_value=3_000, max_value=60_000).map(lambda n: "z" * n)
leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    hostile_text,
    huge_text,
)
hostile_value = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(hostile_text, inner, max_size=3)
    ),
    max_leaves=12,
)
kinds = st.sampled_from(
    ["text", "location", "image", "audio", "interactive", "button", "reaction",
     "system", "contacts", "order", "unknown", ""]
)  # fmt: skip


def _deep(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = [value]
    return value


@st.composite
def hostile_message(draw: st.DrawFn) -> dict[str, Any]:
    """A message-shaped item from another sender with hostile fields."""
    kind = draw(kinds)
    item: dict[str, Any] = {
        "from": draw(st.one_of(st.just(f"97259{next(_users):07d}"), hostile_value)),
        "id": draw(st.one_of(st.just(f"wamid.hostile.{next(_ids)}"), hostile_value)),
        "timestamp": draw(st.one_of(st.just("1700000000"), hostile_value)),
        "type": kind,
        kind or "text": draw(
            st.one_of(
                hostile_value,
                st.fixed_dictionaries(
                    {"body": hostile_value, "latitude": hostile_value, "longitude": hostile_value}
                ),
            )
        ),
    }
    for field in draw(st.sets(st.sampled_from(["from", "id", "timestamp", "type"]), max_size=2)):
        item.pop(field, None)
    if draw(st.booleans()):
        item["nested"] = _deep(draw(st.integers(min_value=10, max_value=600)))
    return item


@st.composite
def hostile_status(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "id": draw(st.one_of(st.just(f"wamid.status.{next(_ids)}"), hostile_value)),
        "status": draw(st.one_of(st.sampled_from(["sent", "read", "failed"]), hostile_value)),
        "timestamp": draw(st.one_of(st.just("1700000000"), hostile_value)),
        "recipient_id": draw(st.one_of(st.just("972500000001"), hostile_value)),
        "errors": draw(st.one_of(st.none(), hostile_value)),
    }


good_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=60
).filter(lambda t: t.strip() and t.strip().lower() not in ("stop", "start", "yes", "no"))


@st.composite
def mixed_body(draw: st.DrawFn) -> tuple[str, list[str], bytes]:
    """(user, ids of its well-formed messages in order, the raw signed-to-be body)."""
    user = f"97250{next(_users):07d}"
    good = [
        {
            "from": user,
            "id": f"wamid.good.{next(_ids)}",
            "timestamp": "1700000000",
            "type": "text",
            "text": {"body": draw(good_text)},
        }
        for _ in range(draw(st.integers(min_value=1, max_value=3)))
    ]
    hostile = draw(st.lists(hostile_message(), min_size=1, max_size=4))
    items = draw(st.permutations([*good, *hostile]))
    statuses = draw(st.lists(hostile_status(), max_size=2))
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": draw(st.one_of(st.just([{"wa_id": user}]), hostile_value)),
        "messages": items,
        "statuses": statuses,
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    # ensure_ascii writes lone surrogates as \\udXXX escapes, as a sender could.
    raw = json.dumps(body, ensure_ascii=True).replace("Infinity", "1e999").encode()
    # Body order is arrival order: the good ones must be answered in that order.
    return user, [m["id"] for m in items if m.get("from") == user], raw


class _ThreadedServer:
    """The real app under uvicorn in a thread with its own event loop."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()))

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the app did not start")
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="module")
def http(tmp_path_factory) -> Iterator[httpx.Client]:
    from agentgraph.config import Settings

    base = Settings(AGENTGRAPH_DATA_DIR=tmp_path_factory.mktemp("fuzz"), AGENTGRAPH_OFFLINE=True)
    app = create_app(channel_settings(base, None), model=EchoChatModel())
    with _ThreadedServer(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def _answers(http: httpx.Client, user: str, expected: int) -> list[str]:
    """The `in_reply_to` ids of the user's replies, once `expected` have been stored."""
    deadline = time.monotonic() + 30
    while True:
        rows = http.get("/dev/outbox", params={"to": user, "limit": 1000}).json()["messages"]
        if len(rows) >= expected or time.monotonic() > deadline:
            return [r["in_reply_to"] for r in sorted(rows, key=lambda r: r["id"])]
        time.sleep(0.02)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=mixed_body())
def test_hostile_bodies_never_fail_and_good_messages_are_answered_once(http, case):
    user, good_ids, raw = case
    response = http.post("/webhooks/whatsapp", content=raw, headers=signed_headers(raw))
    assert response.status_code < 500, response.text
    assert response.status_code == 200, response.text
    # The same body again (Meta redelivers): nothing is answered twice.
    again = http.post("/webhooks/whatsapp", content=raw, headers=signed_headers(raw))
    assert again.status_code == 200
    assert _answers(http, user, len(good_ids)) == good_ids
    assert http.get("/health/ready").status_code == 200
