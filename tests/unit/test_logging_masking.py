import io
import logging

import pytest

from agentgraph.observability.logging import MaskingFilter, MaskingFormatter, mask_text


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("from +250788000001 to 250788123456", "from +2507******01 to 2507******56"),
        ("local 0788000002 here", "local 0788****02 here"),
        ("spaced +250 788 000 001.", "spaced +250 7** *** *01."),
        ("dashed 078-800-0003", "dashed 078-8**-**03"),
        ("call 0788 000 001 now", "call 0788 *** *01 now"),
        ("thread_id=wa:easymo:%2B250788000001&x", "thread_id=wa:easymo:%2B2507******01&x"),
    ],
)
def test_phone_numbers_are_masked(raw, masked):
    assert mask_text(raw) == masked


@pytest.mark.parametrize(
    "text",
    [
        "on 2026-11-22 at 10:00",
        "sent 500000 RWF",
        "trip 12, booking 3",
        "2026-12-04 15:26:49,151 INFO agentgraph.runtime: ready",
        "a balance of 1 000 000 RWF",
        "1 000 000 000",
        "ratio 0.1234567890",
    ],
)
def test_dates_amounts_and_ids_stay_readable(text):
    assert mask_text(text) == text


def test_secrets_are_masked():
    masked = mask_text("Authorization: Bearer abcdef123456789 key sk-proj-abcdefghijkl")
    assert "abcdef123456789" not in masked and "abcdefghijkl" not in masked


def test_filter_masks_arguments_too():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "user %s sent %d", ("+250788000001", 5), None
    )
    MaskingFilter().filter(record)
    assert record.getMessage() == "user +2507******01 sent 5"


def test_tracebacks_are_masked():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(MaskingFormatter("%(message)s"))
    log = logging.getLogger("test.masking")
    log.addHandler(handler)
    try:
        raise ValueError("bad recipient +250788000002")
    except ValueError:
        log.exception("tool failed")
    finally:
        log.removeHandler(handler)
    out = stream.getvalue()
    assert "ValueError: bad recipient +2507******02" in out
    assert "250788000002" not in out


def test_per_request_http_client_logs_are_quiet():
    from agentgraph.observability.logging import configure_logging

    httpx_logger, root = logging.getLogger("httpx"), logging.getLogger()
    levels = (httpx_logger.level, root.level)
    try:
        configure_logging()
        assert not httpx_logger.isEnabledFor(logging.INFO)
        assert httpx_logger.isEnabledFor(logging.WARNING)
        assert logging.getLogger("agentgraph.runtime.channel").isEnabledFor(logging.INFO)
    finally:
        httpx_logger.setLevel(levels[0])
        root.setLevel(levels[1])


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        (
            '"GET /v1/events/e1/organizer?token=s3cret-token HTTP/1.1" 101',
            '"GET /v1/events/e1/organizer?token=*** HTTP/1.1" 101',
        ),
        (
            "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=abc123&hub.challenge=42",
            "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=***&hub.challenge=42",
        ),
    ],
)
def test_secret_query_parameters_are_masked(raw, masked):
    assert mask_text(raw) == masked
