import logging

from agentgraph.observability.logging import MaskingFilter, mask_text


def test_phone_numbers_are_masked():
    assert mask_text("from +250788000001 to 250788123456") == "from +2507******01 to 2507******56"


def test_secrets_are_masked():
    masked = mask_text("Authorization: Bearer abcdef123456789 key sk-proj-abcdefghijkl")
    assert "abcdef123456789" not in masked and "abcdefghijkl" not in masked


def test_filter_masks_arguments_too():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "user %s sent %d", ("+250788000001", 5), None
    )
    MaskingFilter().filter(record)
    assert record.getMessage() == "user +2507******01 sent 5"
