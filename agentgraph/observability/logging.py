"""Process logging with phone numbers and secrets masked in every line, tracebacks included.

`configure_logging()` installs a stderr handler whose formatter masks the finished
line (message, arguments and any traceback): phone numbers in international or local
form (`+250788000001`, `250788000001`, `0788000001`, `+250 788 000 001`) keep their
first four and last two digits (`+2507******01`), emails keep their first character
and domain (`a***@example.com`), and bearer tokens / API keys are
replaced by `***`. Call sites may log freely; nothing full leaves the process.
"""

from __future__ import annotations

import logging
import re
import sys
from urllib.parse import unquote

# A phone number: 9-15 digits in a row, or grouped by single spaces or dashes when it
# starts like a number people dial (+country or a local 0), never inside a longer
# number or a word (ids, hashes). So dates and times ("2026-12-04 15:26:49"), grouped
# amounts ("1 000 000 RWF") and short ids stay readable. `%2B` is a URL-encoded "+".
_PHONE = re.compile(
    r"(?<![\w+.%])(?<!\d[ -])"
    r"(?:(?:\+|%2B)\d(?:[ -]?\d){7,14}|0\d(?:[ -]?\d){7,13}|\d{9,15})(?!\w)",
    re.IGNORECASE,
)
# An email address keeps its first character and its domain: `a***@example.com`.
_EMAIL = re.compile(r"(?<![\w.+-])([\w+-])[\w.+-]*@([\w-]+(?:\.[\w-]+)+)")
_SECRET = re.compile(r"(?i)(bearer\s+|sk-|api[_-]?key[=:\s]+|access_token=)[A-Za-z0-9._\-]{6,}")
# Secret-looking query parameters of a logged URL (the access log writes raw paths).
_QUERY_SECRET = re.compile(
    r"(?i)([?&](?:[\w.]*token|[\w.]*secret|api[_-]?key|password|signature)=)[^&\s\"']+"
)


def _mask_phone(match: re.Match[str]) -> str:
    raw = match.group(0)
    start = 3 if raw.upper().startswith("%2B") else 0  # the "2" of %2B is no digit
    digits = [i for i, c in enumerate(raw) if c.isdigit() and i >= start]
    keep = set(digits[:4] + digits[-2:])
    return "".join(
        c if (not c.isdigit() or i < start or i in keep) else "*" for i, c in enumerate(raw)
    )


def mask_text(text: str) -> str:
    """`text` with phone numbers, emails, secrets and secret query parameters masked."""
    masked = _PHONE.sub(_mask_phone, text)
    masked = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", masked)
    masked = _QUERY_SECRET.sub(lambda m: m.group(1) + "***", masked)
    return _SECRET.sub(lambda m: m.group(1) + "***", masked)


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


class MaskingUvicornFormatter(logging.Formatter):
    """uvicorn's default formatter, masked: its lines may carry paths and errors."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        from uvicorn.logging import DefaultFormatter

        super().__init__()
        self._inner = DefaultFormatter(*args, **kwargs)  # type: ignore[arg-type]

    def format(self, record: logging.LogRecord) -> str:
        """uvicorn's line, passed through `mask_text`."""
        return mask_text(self._inner.format(record))


class MaskingAccessFormatter(logging.Formatter):
    """uvicorn's access-log formatter, masked: request lines carry query strings
    (`?token=`, `hub.verify_token=`) and paths with phone numbers."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        from uvicorn.logging import AccessFormatter

        super().__init__()
        self._inner = AccessFormatter(*args, **kwargs)  # type: ignore[arg-type]

    def format(self, record: logging.LogRecord) -> str:
        """uvicorn's access line, percent-decoded (so `%2B250...` is seen as the number
        it is) and passed through `mask_text`."""
        return mask_text(unquote(self._inner.format(record)))


def uvicorn_log_config() -> dict[str, object]:
    """uvicorn's logging configuration with every line masked (access log included)."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, object] = {**LOGGING_CONFIG}
    formatters = dict(LOGGING_CONFIG["formatters"])
    formatters["default"] = {
        **formatters["default"],
        "()": f"{__name__}.MaskingUvicornFormatter",
    }
    formatters["access"] = {**formatters["access"], "()": f"{__name__}.MaskingAccessFormatter"}
    config["formatters"] = formatters
    return config
