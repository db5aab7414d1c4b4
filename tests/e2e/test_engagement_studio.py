"""`langgraph dev` serves the engagement graph (named `engagement` in langgraph.json),
with its dependencies built from the settings, and refuses an empty input."""

from __future__ import annotations

import pytest
from langgraph_sdk import get_client

from tests.e2e.test_langgraph_dev import dev_server  # noqa: F401  (the shared fixture)


@pytest.mark.slow
async def test_engagement_graph_runs_a_cycle_on_langgraph_dev(dev_server: str) -> None:  # noqa: F811
    client = get_client(url=dev_server)
    assert await client.assistants.search(graph_id="engagement"), "graph 'engagement' missing"
    thread = await client.threads.create()
    state = await client.runs.wait(
        thread["thread_id"],
        "engagement",
        input={
            "anomaly": {
                "anomaly_type": "sudden_drop",
                "severity": "high",
                "score": 20.0,
                "baseline": 70.0,
                "magnitude": 50.0,
                "details": {},
            },
            "snapshot": {"present": 50, "chat_per_min": 2.0},
            "score": 20.0,
        },
        context={"event_id": "studio-ev", "session_id": "s1"},
    )
    assert state["decision"]["id"] == "studio-ev:s1:1"
    assert state["status"] in ("skipped", "decided", "executed")
    # Studio's default form sends an empty input: refused, with what is needed.
    empty = await client.threads.create()
    answer = await client.runs.wait(empty["thread_id"], "engagement", input={}, raise_error=False)
    error = answer["__error__"]
    assert error["error"] == "ValueError" and "anomaly.anomaly_type" in error["message"]
