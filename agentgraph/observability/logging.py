"""Process logging with phone numbers and secrets masked in every record.

`configure_logging()` installs a handler whose filter rewrites E.164-looking phone
numbers (`+250788000001` -> `+2507******01`) and bearer tokens / API keys in the
formatted message, so no log line carries a full phone number or a secret, whatever
the calling code passed in.
"""

from __future__ import annotations

import logging
import re
import sys

_PHONE = re.compile(r"(?<![\w+])(\+?\d{4})(\d{5,9})(\d{2})(?!\d)")
_SECRET = re.compile(r"(?i)(bearer\s+|sk-|api[_-]?key[=:\s]+|access_token=)[A-Za-z0-9._\-]{6,}")


def mask_text(text: str) -> str:
    """`text` with phone numbers and secrets masked."""
    text = _PHONE.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)
    return _SECRET.sub(lambda m: m.group(1) + "***", text)


class MaskingFilter(logging.Filter):
    """Masks the fully formatted message (args included) of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        record.msg = mask_text(message)
        record.args = None
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """Send masked logs to stderr; safe to call more than once."""
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "_agentgraph", False):
            root.setLevel(level)
            return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    handler._agentgraph = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
