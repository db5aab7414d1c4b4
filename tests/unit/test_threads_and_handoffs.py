"""Thread ids, handoff metadata and the clock: the small modules every layer relies on."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from langchain_core.messages import ToolMessage

from agentgraph.clock import ManualClock
from agentgraph.domain.pseudonyms import pseudonym
from agentgraph.handoff import HANDOFF_DESTINATION, handoff_destination
from agentgraph.threads import conversation_thread_id, event_thread_id, mask_thread_id
from agentgraph.tools import TOOLS, needs_confirmation
from agentgraph.tools.handoff import HANDOFF_TOOLS


def test_every_channel_thread_names_its_tenant_and_user_pseudonym():
    name = pseudonym(b"k", "acme", "+250788000001")
    assert conversation_thread_id("whatsapp", "acme", name) == f"wa:acme:{name}"
    assert conversation_thread_id("cli", "easymo", name) == f"chat:easymo:{name}"
    assert conversation_thread_id("web", "acme", "visitor-7") == "web:acme:visitor-7"
    assert event_thread_id("ev1", "s1") == "event:ev1:s1"


def test_a_pseudonym_is_a_keyed_hash_of_tenant_and_user():
    name = pseudonym(b"key-1", "acme", "+250788000001")
    assert re.fullmatch(r"[a-z2-7]{20}", name)
    assert "788" not in name
    assert pseudonym(b"key-1", "acme", "+250788000001") == name  # stable
    others = {
        pseudonym(b"key-2", "acme", "+250788000001"),  # another key
        pseudonym(b"key-1", "easymo", "+250788000001"),  # another tenant
        pseudonym(b"key-1", "acme", "+250788000002"),  # another user
        # The separator keeps tenant and user apart ("ac" + "me+250..." is not "acme" + "+250...").
        pseudonym(b"key-1", "ac", "me+250788000001"),
    }
    assert name not in others and len(others) == 4


def test_a_masked_thread_keeps_only_the_last_two_characters_of_the_user():
    assert mask_thread_id("wa:acme:+250788000001") == "wa:acme:***01"


def test_handoff_destination_reads_tools_results_and_described_tools():
    tool = HANDOFF_TOOLS["payment"]
    assert handoff_destination(tool) == "payment"
    result = ToolMessage(
        "Transferred.", tool_call_id="x", response_metadata={HANDOFF_DESTINATION: "support"}
    )
    assert handoff_destination(result) == "support"
    assert handoff_destination({"metadata": {HANDOFF_DESTINATION: "booking"}}) == "booking"
    assert handoff_destination(TOOLS["check_balance"]) is None
    # A result that only looks like a handoff by its name is not one.
    assert handoff_destination(ToolMessage("x", tool_call_id="y", name="transfer_to_x")) is None


def test_the_money_tools_say_so_in_their_metadata():
    confirmed = {name for name, tool in TOOLS.items() if needs_confirmation(tool)}
    assert confirmed == {"transfer_money", "cancel_booking", "create_booking"}
    moving = {name for name, tool in TOOLS.items() if (tool.metadata or {}).get("moves_money")}
    assert moving == {"transfer_money", "cancel_booking", "create_booking"}


def test_manual_clock_moves_both_views_together_and_never_back():
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.now() == datetime(2026, 1, 1, tzinfo=UTC)
    assert clock.time() == datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    clock.advance(timedelta(hours=2))
    clock.advance(seconds=30)
    assert clock.now() == datetime(2026, 1, 1, 2, 0, 30, tzinfo=UTC)
    assert clock.time() == clock.now().timestamp()
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="backwards"):
        clock.set(datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="naive"):
        ManualClock(datetime(2026, 1, 1))
