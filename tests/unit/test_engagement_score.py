"""Signals parsing, sliding windows and the engagement score formula."""

from __future__ import annotations

import json

import pytest

from agentgraph.engagement.detection.score import (
    audience_bucket,
    band,
    components,
    engagement_score,
)
from agentgraph.engagement.signals.parsing import Signal, parse_frame
from agentgraph.engagement.signals.windows import SessionSnapshot, SessionWindows


def snap(**kw: float) -> SessionSnapshot:
    base = dict(
        present=50,
        active=35,
        chat_per_min=20.0,
        reactions_per_min=10.0,
        poll_participation=0.6,
        leaves_per_min=0.0,
        joins_per_min=0.0,
        leaves_in_window=0,
    )
    base.update(kw)
    return SessionSnapshot(**base)  # type: ignore[arg-type]


def test_seed_scenario_high_engagement_scores_high() -> None:
    score = engagement_score(snap())
    assert score == pytest.approx(71.9, abs=0.05)
    assert band(score) == "high"


def test_seed_scenario_drop_scores_low() -> None:
    score = engagement_score(
        snap(active=10, chat_per_min=2.0, reactions_per_min=2.0, poll_participation=0.15)
    )
    assert score == pytest.approx(17.7, abs=0.05)
    assert band(score) == "low"


def test_empty_session_scores_zero() -> None:
    assert engagement_score(snap(present=0, active=0, chat_per_min=0, reactions_per_min=0)) == 0


def test_without_a_poll_the_other_weights_are_renormalised() -> None:
    parts = components(snap(poll_participation=None))
    assert "poll" not in parts
    expected = (
        100 * (0.35 * parts["chat"] + 0.20 * parts["active"] + 0.20 * parts["reactions"]) / 0.75
    )
    assert engagement_score(snap(poll_participation=None)) == pytest.approx(expected, abs=0.05)


def test_perfect_session_scores_close_to_100_and_never_more() -> None:
    score = engagement_score(
        snap(active=50, chat_per_min=500, reactions_per_min=500, poll_participation=1.0)
    )
    assert 99 <= score <= 100


def test_an_exodus_halves_the_score() -> None:
    calm = engagement_score(snap())
    leaving = engagement_score(snap(present=40, active=28, leaves_per_min=10, leaves_in_window=10))
    assert leaving == pytest.approx(calm / 2, abs=0.5)


def test_bands_and_audience_buckets() -> None:
    assert [band(s) for s in (80, 65, 64.9, 35, 34.9)] == [
        "high",
        "high",
        "medium",
        "medium",
        "low",
    ]
    assert [audience_bucket(n) for n in (0, 24, 25, 149, 150)] == [
        "small",
        "small",
        "medium",
        "medium",
        "large",
    ]


def test_windows_slide_and_count_distinct_attendees() -> None:
    windows = SessionWindows(60)
    for i in range(10):
        windows.add(Signal("join", f"u{i}"), at=0)
    windows.add(Signal("chat", "u1"), at=10)
    windows.add(Signal("chat", "u1"), at=20)
    windows.add(Signal("poll_vote", "u2"), at=30)
    windows.add(Signal("reaction", "u3"), at=40)
    windows.add(Signal("leave", "u9"), at=50)
    now = windows.snapshot(60)
    assert (now.present, now.active, now.chat_per_min) == (9, 3, 2.0)
    assert now.poll_participation == pytest.approx(1 / 9)
    assert now.leaves_in_window == 1
    later = windows.snapshot(95)
    assert (later.active, later.chat_per_min, later.reactions_per_min) == (1, 0.0, 1.0)
    assert windows.snapshot(200).poll_participation is None


def test_snapshots_carry_no_identity_or_text() -> None:
    windows = SessionWindows(60)
    windows.add(Signal("chat", "alice@example.com"), at=1)
    frame = json.dumps({"type": "chat", "user": "bob", "text": "my secret", "ts": 1})
    signals, problems = parse_frame(frame)
    assert problems == [] and not hasattr(signals[0], "text")
    dumped = json.dumps(windows.snapshot(2).as_dict())
    assert "alice" not in dumped and "secret" not in dumped


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        ("{", "frame is not valid JSON"),
        ('{"type": "chat"}', "signal needs a non-empty string 'user'"),
        ('{"type": "wave", "user": "u"}', "unknown signal type 'wave'"),
        ('{"type": "chat", "user": "u", "ts": "yesterday"}', "'ts' must be a number"),
        ("42", "each signal must be a JSON object"),
    ],
)
def test_malformed_frames_are_described_never_raised(frame: str, problem: str) -> None:
    signals, problems = parse_frame(frame)
    assert signals == [] and len(problems) == 1 and problems[0].startswith(problem)


def test_a_list_frame_keeps_its_valid_items() -> None:
    signals, problems = parse_frame(
        json.dumps([{"type": "chat", "user": "u1"}, {"type": "x"}, {"type": "poll_open"}])
    )
    assert [s.type for s in signals] == ["chat", "poll_open"]
    assert problems and problems[0].startswith("item 1:")
