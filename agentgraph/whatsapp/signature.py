"""`X-Hub-Signature-256` verification: HMAC-SHA256 of the raw body with the app secret.

`verify_signature(raw, header, secret)` returns True only for a well-formed
`sha256=<hex>` header matching the digest, compared in constant time. Verify the
bytes as received: parsing and re-serialising JSON changes the digest.
"""

from __future__ import annotations

import hashlib
import hmac


def sign(raw: bytes, secret: str) -> str:
    """The header value Meta would send for `raw` (used by tests and the bench)."""
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def verify_signature(raw: bytes, header: str, secret: str) -> bool:
    """True when `header` is the signature of `raw` under `secret`."""
    scheme, _, digest = header.strip().partition("=")
    if scheme.lower() != "sha256" or not digest:
        return False
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), digest.strip().lower().encode())
