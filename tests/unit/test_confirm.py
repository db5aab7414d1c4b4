from datetime import UTC, datetime

import pytest

from agentgraph.prompts import prompt_library
from agentgraph.tools.confirm import classify_answer
from agentgraph.tools.dates import parse_day

PROMPTS = prompt_library()


@pytest.mark.parametrize(
    "text", ["yes", "YES", "Yes please", "ok", "oui", "Oui!", "d'accord", "confirm"]
)
def test_yes_words(text):
    assert classify_answer(text, PROMPTS) == "yes"


@pytest.mark.parametrize(
    "text",
    ["no", "No thanks", "cancel", "non", "annuler", "nope", "non merci", "no no", "cancel it"],
)
def test_no_words(text):
    assert classify_answer(text, PROMPTS) == "no"


@pytest.mark.parametrize(
    "text",
    [
        "what is my balance",
        "yes but first tell me my balance and my bookings please",
        "",
        "5000",
        "ok cancel",
        "yes cancel",
        "ok wait",
        "ok no",
        "sure, stop",
        "oui non",
        "yes but send 2000",
        "ok but to 0788000003",
    ],
)
def test_anything_else_is_not_a_yes(text):
    assert classify_answer(text, PROMPTS) == "other"


NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)  # a Sunday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", "2026-11-22"),
        ("tomorrow", "2026-11-23"),
        ("demain", "2026-11-23"),
        ("friday", "2026-11-27"),
        ("vendredi", "2026-11-27"),
        ("2026-12-24", "2026-12-24"),
        ("24/12", "2026-12-24"),
        ("01/01", "2027-01-01"),
    ],
)
def test_parse_day(text, expected):
    assert parse_day(text, NOW, PROMPTS).isoformat() == expected


def test_parse_day_rejects_nonsense_with_a_message():
    with pytest.raises(ValueError, match="could not read the date"):
        parse_day("someday", NOW, PROMPTS)
    assert parse_day(None, NOW, PROMPTS) is None
