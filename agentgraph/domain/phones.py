"""Phone numbers: one canonical E.164 form for storage and a masked form for logs.

`normalize_phone` accepts what people type (`0788000001`, `250788000001`,
`+250 788 000 001`, `00250788000001`, `788000001`) and returns `+250788000001`, or
raises `InvalidPhone`. Numbers without a country code are Rwandan. Rwandan numbers
must have nine national digits; other countries' numbers are accepted when they
look like E.164 (8 to 15 digits, no leading zero). `mask_phone` keeps the country
prefix and the last two digits (`+2507******01`) so logs can tell users apart
without storing their numbers.
"""

from __future__ import annotations

import re

from agentgraph.domain.errors import InvalidPhone

RWANDA_CODE = "250"
_SEPARATORS = re.compile(r"[\s\-.()/]")


def normalize_phone(raw: object) -> str:
    """The E.164 form of `raw` (`+250788000001`); raises `InvalidPhone`."""
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise InvalidPhone(raw)
    text = _SEPARATORS.sub("", str(raw))
    if text.startswith("+"):
        digits = text[1:]
    elif text.startswith("00"):
        digits = text[2:]
    elif text.startswith("0"):
        digits = RWANDA_CODE + text[1:]
    elif text.startswith(RWANDA_CODE) and len(text) == 12:
        digits = text
    elif len(text) == 9:
        digits = RWANDA_CODE + text
    else:
        digits = text
    if not digits.isdigit() or not digits.isascii() or digits.startswith("0"):
        raise InvalidPhone(raw)
    if digits.startswith(RWANDA_CODE):
        if len(digits) != 12:
            raise InvalidPhone(raw)
    elif not 8 <= len(digits) <= 15:
        raise InvalidPhone(raw)
    return "+" + digits


def mask_phone(phone: str) -> str:
    """`+250788000001` -> `+2507******01`; short or odd values are masked whole."""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:5] + "*" * (len(phone) - 7) + phone[-2:]
