"""Process logging with phone numbers and secrets masked in every line, tracebacks included.

`configure_logging()` installs a stderr handler whose formatter masks the finished
line (message, arguments and any traceback): phone numbers in international or local
form (`+250788000001`, `250788000001`, `0788000001`, `+250 788 000 001`) keep their
first four and last two digits (`+2507******01`), and bearer tokens / API keys are
replaced by `***`. Call sites may log freely; nothing full leaves the process.
"""

from __future__ import annotations

import logging
import re
import sys

# 9-15 digits, optionally grouped by single spaces or dashes, not inside a longer number
# or a word (ids, hashes). Dates (8 digits) and amounts stay readable.
_PHONE = re.compile(r"(?<![\w+])\+?\d(?:[ -]?\d){8,14}(?![\w])")
_SECRET = re.compile(r"(?i)(bearer\s+|sk-|api[_-]?key[=:\s]+|access_token=)[A-Za-z0-9._\-]{6,}")


def _mask_phone(match: re.Match[str]) -> str:
    raw = match.group(0)
    digits = [i for i, c in enumerate(raw) if c.isdigit()]
    keep = set(digits[:4] + digits[-2:])
    return "".join(c if (not c.isdigit() or i in keep) else "*" for i, c in enumerate(raw))


def mask_text(text: str) -> str:
    """`text` with phone numbers and secrets masked."""
    return _SECRET.sub(lambda m: m.group(1) + "***", _PHONE.sub(_mask_phone, text))


class MaskingFormatter(logging.Formatter):
    """Formats as usual, then masks the whole line, traceback and stack included."""

    def format(self, record: logging.LogRecord) -> str:
        """The record formatted as usual, then passed through `mask_text`."""
        return mask_text(super().format(record))


class MaskingFilter(logging.Filter):
    """Masks the message (arguments included) for handlers that keep their own formatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always True (nothing is dropped). The record's message becomes its masked text with
        the arguments merged in and `args` cleared; a message that fails to format is left
        as is, for the handler to report."""
        try:
            message = record.getMessage()
        except Exception:
            return True
        record.msg = mask_text(message)
        record.args = None
        return True


QUIET_LOGGERS = ("httpx", "httpcore")


def configure_logging(level: int = logging.INFO) -> None:
    """Send masked logs to stderr; safe to call more than once.

    httpx and httpcore log every request at INFO (two lines per WhatsApp message, the
    read receipt and the reply); they are kept at WARNING, since the channel logs
    failed sends itself."""
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "_agentgraph", False):
            root.setLevel(level)
            return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    handler._agentgraph = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
