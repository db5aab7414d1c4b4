"""Tool calls as OpenTelemetry spans: one `tool` span per executed call, child of the
turn, marked failed with the exception's type when a call fails, and not failed when
a money tool pauses for the user's confirmation."""

from __future__ import annotations

from agentgraph.observability import otel
from agentgraph.observability.otel import open_otel
from agentgraph.testing import ScriptedChatModel, tool_call
from tests.support.otlp_receiver import OtlpReceiver

ALICE = "+250788000001"


async def test_tool_spans_show_failures_by_type_and_pauses_as_no_failure(
    sqlite_settings, open_seeded
):
    model = ScriptedChatModel(
        responses=[
            tool_call("transfer_to_payment", {}, "h1"),
            tool_call("transfer_money", {"recipient_phone": "0788000002", "amount": "lots"}, "t0"),
            tool_call("transfer_money", {"recipient_phone": "0788000002", "amount": 5000}, "t1"),
        ]
    )
    with OtlpReceiver() as receiver:
        traced = sqlite_settings.model_copy(update={"otel_exporter_otlp_endpoint": receiver.url})
        async with open_otel(traced), open_seeded(sqlite_settings, model) as assistant:
            with otel.span("turn", parent=otel.NEW_TRACE):
                asked = await assistant.send("send 5000 to 0788000002", user=ALICE, tenant="easymo")
    assert asked.awaiting_confirmation
    spans = receiver.snapshot()
    [turn] = [s for s in spans if s.name == "turn"]
    tools = [s for s in spans if s.name == "tool"]
    assert all(t.parent_id == turn.span_id for t in tools)
    handoff, bad, paused = tools
    assert handoff.attributes["gen_ai.tool.name"] == "transfer_to_payment"
    assert handoff.attributes["agentgraph.tool_status"] == "command"
    assert bad.attributes["gen_ai.tool.call.id"] == "t0"
    assert bad.status == "error" and bad.attributes["error.type"] == "ToolInvocationError"
    assert bad.attributes["agentgraph.tool_status"] == "error"
    assert paused.attributes["gen_ai.tool.call.id"] == "t1"
    assert paused.attributes["agentgraph.tool_paused"] is True and paused.status == "unset"
    # The arguments (a phone number, an amount) are not in the spans.
    assert not any(b"788000002" in s.raw or b"5000" in s.raw for s in spans)
