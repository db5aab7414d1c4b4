"""The confirmation decision itself: what the user is shown, and which answers may act.

`require_confirmation` is called here with LangGraph's `interrupt` replaced by the
answer a caller would resume with, so each verdict is checked without a graph (the
graph round trip is tested in test_checkpoint_interrupts.py and the flow tests).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from agentgraph.clock import ManualClock
from agentgraph.prompts import prompt_library
from agentgraph.tools import confirm
from agentgraph.tools.confirm import Decision, classify_answer, confirmation_text

PROMPTS = prompt_library()
ASKED = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
TTL = 300
EN = PROMPTS.table("confirmation.json")["prompts"]["en"]
FR = PROMPTS.table("confirmation.json")["prompts"]["fr"]


def decide(monkeypatch, answer, *, now=ASKED, language="en"):
    """Run `require_confirmation`, resuming with `answer`; returns (request, decision)."""
    shown = []

    def fake_interrupt(request):
        shown.append(request)
        return answer

    monkeypatch.setattr(confirm, "interrupt", fake_interrupt)
    decision = confirm.require_confirmation(
        action="transfer",
        summary="Send 5,000 RWF to Bob?",
        details={"amount": 5_000},
        language=language,
        ttl_seconds=TTL,
        requested_at=ASKED,
        prompts=PROMPTS,
        clock=ManualClock(now),
    )
    return shown[0], decision


def test_the_request_shows_the_summary_buttons_and_deadline(monkeypatch):
    request, _ = decide(monkeypatch, "no")
    assert request == {
        "type": "confirmation",
        "action": "transfer",
        "prompt": f"Send 5,000 RWF to Bob? {EN['suffix']}",
        "details": {"amount": 5_000},
        "options": [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}],
        "expires_at": (ASKED + timedelta(seconds=TTL)).isoformat(),
    }


def test_a_french_request_has_french_buttons_and_texts(monkeypatch):
    request, decision = decide(monkeypatch, "non", language="fr")
    assert request["options"] == [{"id": "yes", "title": "Oui"}, {"id": "no", "title": "Non"}]
    assert request["prompt"] == f"Send 5,000 RWF to Bob? {FR['suffix']}"
    assert decision == Decision(False, FR["cancelled"])


def test_only_french_gets_french_buttons(monkeypatch):
    for language in ("rw", "sw", "en"):
        request, _ = decide(monkeypatch, "no", language=language)
        assert [o["title"] for o in request["options"]] == ["Yes", "No"]


def test_a_yes_up_to_the_deadline_approves(monkeypatch):
    deadline = ASKED + timedelta(seconds=TTL)
    assert decide(monkeypatch, "yes", now=deadline)[1] == Decision(True)
    assert decide(monkeypatch, {"answer": "yes"}, now=ASKED)[1] == Decision(True)


def test_a_yes_after_the_deadline_expires(monkeypatch):
    late = ASKED + timedelta(seconds=TTL, microseconds=1)
    assert decide(monkeypatch, "yes", now=late)[1] == Decision(False, EN["expired"])


def test_a_yes_is_timed_by_its_own_time_when_it_has_one(monkeypatch):
    late = (ASKED + timedelta(seconds=TTL + 1)).isoformat()
    in_time = (ASKED + timedelta(seconds=TTL)).isoformat()
    # The clock says "in time"; the answer's own time says otherwise, and wins.
    assert decide(monkeypatch, {"answer": "yes", "at": late})[1] == Decision(False, EN["expired"])
    far = ASKED + timedelta(hours=1)
    assert decide(monkeypatch, {"answer": "yes", "at": in_time}, now=far)[1] == Decision(True)


def test_a_naive_answer_time_is_read_as_utc(monkeypatch):
    naive_late = (ASKED + timedelta(seconds=TTL + 1)).replace(tzinfo=None).isoformat()
    naive_in_time = ASKED.replace(tzinfo=None).isoformat()
    assert decide(monkeypatch, {"answer": "yes", "at": naive_late})[1].approved is False
    far = ASKED + timedelta(hours=1)
    assert decide(monkeypatch, {"answer": "yes", "at": naive_in_time}, now=far)[1].approved


@pytest.mark.parametrize("at", ["not a time", "", 12])
def test_an_unreadable_answer_time_falls_back_to_the_clock(monkeypatch, at):
    assert decide(monkeypatch, {"answer": "yes", "at": at})[1] == Decision(True)
    late = ASKED + timedelta(seconds=TTL + 1)
    assert decide(monkeypatch, {"answer": "yes", "at": at}, now=late)[1].approved is False


@pytest.mark.parametrize(
    ("answer", "text"),
    [
        ("no", "cancelled"),
        ({"answer": "no"}, "cancelled"),
        ({"text": "non merci"}, "cancelled"),
        ({"answer": "expired"}, "expired"),
        ({"answer": "superseded"}, "superseded"),
        ({"answer": "other"}, "superseded"),
        ({"answer": "YES"}, "superseded"),
        ({"text": 5}, "superseded"),
        ({}, "superseded"),
        ("what is my balance", "superseded"),
        (None, "superseded"),
        (["yes"], "superseded"),
    ],
)
def test_anything_but_a_yes_refuses_with_its_text(monkeypatch, answer, text):
    assert decide(monkeypatch, answer)[1] == Decision(False, EN[text])


def test_a_dict_answer_prefers_its_verdict_over_its_text(monkeypatch):
    assert decide(monkeypatch, {"answer": "no", "text": "yes"})[1] == Decision(
        False, EN["cancelled"]
    )
    assert decide(monkeypatch, {"text": "oui"})[1] == Decision(True)


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("please", "other"),
        ("thank you", "other"),
        ("Yes, thank you!", "yes"),
        ("OK merci", "yes"),
        ("D'ACCORD", "yes"),
        ("Annulé", "no"),
        ("no, cancel", "no"),
        ("cancel it please", "no"),
        ("it", "other"),
        ("it it", "other"),
        ("no thanks yes", "other"),
        ("cancel and", "other"),
        ("no hello", "other"),
    ],
)
def test_politeness_accents_and_repeats(text, verdict):
    assert classify_answer(text, PROMPTS) == verdict


def test_an_unknown_language_reads_english_texts():
    assert confirmation_text("expired", "rw-xx", PROMPTS) == EN["expired"]
    assert confirmation_text("suffix", "fr", PROMPTS) == FR["suffix"]


def test_a_decision_cannot_be_turned_into_an_approval_afterwards():
    refused = Decision(False, EN["cancelled"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        refused.approved = True  # type: ignore[misc]


def test_the_vocabulary_is_folded_once_per_prompt_library():
    confirm._answer_words.cache_clear()
    for text in ("yes", "no", "maybe"):
        classify_answer(text, PROMPTS)
    info = confirm._answer_words.cache_info()
    assert (info.misses, info.hits) == (1, 2)
