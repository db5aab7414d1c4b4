from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from agentgraph.agents.memory import SUMMARY_MAX_CHARS, fold_summary, window_start
from agentgraph.handoff import HANDOFF_DESTINATION


def _exchange(i):
    return [
        HumanMessage(f"question {i}", id=f"h{i}"),
        AIMessage(
            "", tool_calls=[{"name": "check_balance", "args": {}, "id": f"c{i}"}], id=f"a{i}"
        ),
        ToolMessage(f"balance {i}", tool_call_id=f"c{i}", name="check_balance", id=f"t{i}"),
        AIMessage(f"answer {i}", id=f"r{i}"),
    ]


def test_window_never_starts_inside_a_tool_exchange():
    messages = [m for i in range(10) for m in _exchange(i)]
    for window in range(4, 30):
        cut = window_start(messages, window)
        assert isinstance(messages[cut], HumanMessage)
        assert len(messages) - cut <= window


def test_short_history_is_kept_whole():
    assert window_start(_exchange(0), 20) == 0


def test_summary_is_bounded_and_keeps_the_newest():
    messages = [m for i in range(200) for m in _exchange(i)]
    summary = fold_summary("", messages)
    assert len(summary) <= SUMMARY_MAX_CHARS
    assert "question 199" in summary and "answer 199" in summary
    assert "question 0\n" not in summary


def test_summary_skips_tool_calls_and_handoffs():
    handoff = ToolMessage(
        "Transferred to payment.",
        tool_call_id="x",
        name="transfer_to_payment",
        response_metadata={HANDOFF_DESTINATION: "payment"},
    )
    summary = fold_summary("User: earlier", [*_exchange(1), handoff])
    assert summary.splitlines() == [
        "User: earlier",
        "User: question 1",
        "Result: balance 1",
        "Assistant: answer 1",
    ]
