"""LangSmith traces as they leave the process, recorded by a local stand-in for the API.

A three-turn chat (balance, a transfer, its yes) on the offline model, traced to the
recorder: root runs named after the graph with useful metadata, the user named by
pseudonym, no phone number or email anywhere in the uploaded bytes, and the
confirmation pause recorded as a normal end, not an error. With masking turned off the
same chat uploads the numbers, which is what proves the masking removes them.
"""

from __future__ import annotations

import re

from pydantic import SecretStr

from agentgraph.config import Settings
from tests.support.langsmith_recorder import LangSmithRecorder
from tests.support.live_server import live_server

ALICE = "+250788000001"
CHAT = (
    "what is my balance",
    "send 1000 to +250788000002",
    "yes",
    "thanks! write to alice.uwase@example.com if anything goes wrong",
)
# Every form of the two demo users' numbers the chat could leak (local, international).
PHONES = re.compile(rb"788\s?000\s?00[12]")


async def _traced_chat(settings: Settings, open_seeded, *, masking: bool = True):
    recorder = LangSmithRecorder()
    async with live_server(recorder.app) as url:
        traced = settings.model_copy(
            update={
                "langsmith_tracing": True,
                "langsmith_endpoint": url,
                "langsmith_api_key": SecretStr("test-key"),
                "langsmith_project": "agentgraph-tests",
                "trace_masking": masking,
            }
        )
        async with open_seeded(traced) as assistant:
            replies = [
                (await assistant.send(text, user=ALICE, tenant="easymo")).replies for text in CHAT
            ]
            pseudonym = await assistant.persistence.domain.pseudonyms.of("easymo", ALICE)
        # Leaving `open_seeded` flushed the client: every run is in the recorder.
    return recorder, replies, pseudonym


async def test_traces_name_the_graph_and_carry_turn_metadata(sqlite_settings, open_seeded):
    recorder, replies, pseudonym = await _traced_chat(sqlite_settings, open_seeded)

    assert replies[2][0].startswith("Done: sent 1,000 RWF to Jean Habimana")
    roots = recorder.roots()
    assert [r["name"] for r in roots] == ["assistant"] * len(CHAT)
    # The "yes" resumes turn 2 (the pause); the thanks starts turn 3.
    for turn, root in zip((1, 2, 2, 3), roots, strict=True):
        assert set(root["tags"]) == {"assistant", "channel:cli", "tenant:easymo"}
        metadata = root["extra"]["metadata"]
        assert {k: metadata[k] for k in ("tenant_id", "channel", "user", "turn")} == {
            "tenant_id": "easymo",
            "channel": "cli",
            "user": pseudonym,
            "turn": turn,
        }
        assert metadata["thread_id"] == f"chat:easymo:{pseudonym}"
        assert root["session_name"] == "agentgraph-tests"
    # The agent that held the conversation when each turn began.
    assert [r["extra"]["metadata"]["agent"] for r in roots[:3]] == ["triage", "payment", "payment"]


async def test_a_confirmation_pause_is_not_an_error_run(sqlite_settings, open_seeded):
    recorder, _, _ = await _traced_chat(sqlite_settings, open_seeded)

    assert [r["name"] for r in recorder.runs.values() if r.get("error")] == []
    paused = [r for r in recorder.runs.values() if r["name"] == "transfer_money"]
    # The proposing call paused; the resumed call (after "yes") moved the money.
    assert len(paused) == 2
    assert paused[0]["outputs"]["output"]["paused"] == "GraphInterrupt"
    assert all(r.get("end_time") for r in recorder.runs.values())


async def test_traces_carry_no_phone_number_or_email(sqlite_settings, open_seeded):
    recorder, replies, _ = await _traced_chat(sqlite_settings, open_seeded)

    assert "+250788000002" in replies[1][0]  # the user saw the number...
    body = recorder.body
    assert len(body) > 10_000
    assert PHONES.findall(body) == []  # ...the trace did not
    assert b"+2507******02" in body
    assert b"alice.uwase@" not in body
    assert b"a***@example.com" in body


async def test_masking_can_be_turned_off_for_private_deployments(sqlite_settings, open_seeded):
    recorder, _, pseudonym = await _traced_chat(sqlite_settings, open_seeded, masking=False)

    assert b"+250788000002" in recorder.body
    assert b"alice.uwase@example.com" in recorder.body
    # Thread ids stay pseudonymous either way: the number is never part of one.
    assert b"chat:easymo:+250788000001" not in recorder.body
    assert f"chat:easymo:{pseudonym}".encode() in recorder.body


async def test_conductor_cycles_are_traced_as_engagement_runs(sqlite_settings):
    from agentgraph.clock import ManualClock
    from agentgraph.engagement.detection.simulation import HIGH, LOW
    from tests.integration.test_engagement_service import (
        Session,
        feed_of,
        run,
        set_confidence,
    )
    from tests.support.engagement import conductor

    recorder = LangSmithRecorder()
    async with live_server(recorder.app) as url:
        settings = sqlite_settings.model_copy(
            update={
                "langsmith_tracing": True,
                "langsmith_endpoint": url,
                "langsmith_api_key": SecretStr("test-key"),
            }
        )
        clock = ManualClock()
        # Leaving the conductor flushes its runs to the recorder.
        async with conductor(settings, clock) as service:
            await set_confidence(service.store, "ev-traced", {"*": 0.6})
            _, messages = feed_of(service, "ev-traced")
            session = Session(service, clock, "ev-traced", "s1", seed=2)
            await run(service, clock, [session], HIGH, 150)
            await run(
                service, clock, [session], LOW, 180, until=lambda: messages("approval_request")
            )

    roots = recorder.roots()
    assert roots and {r["name"] for r in roots} == {"engagement"}
    for root in roots:
        assert set(root["tags"]) == {"engagement", "event:ev-traced"}
        metadata = root["extra"]["metadata"]
        assert (metadata["event_id"], metadata["session_id"]) == ("ev-traced", "s1")
    # The cycle paused for the organizer's approval: a pause, not an error.
    assert [r["name"] for r in recorder.runs.values() if r.get("error")] == []
    assert any(
        (r.get("outputs") or {}).get("paused") == "GraphInterrupt" for r in recorder.runs.values()
    )
