"""Operator JWTs: what the codec refuses, judged on the injected clock."""

from __future__ import annotations

import jwt
import pytest

from agentgraph.clock import ManualClock
from agentgraph.operators.tokens import InvalidToken, TokenCodec

SECRET = "s" * 40


def test_a_token_is_checked_for_kind_signature_and_expiry_on_the_clock():
    clock = ManualClock()
    codec = TokenCodec(SECRET, clock)
    access, claims = codec.issue("access", 7, "session-1")
    assert codec.verify(access, "access") == claims
    assert (claims.operator_id, claims.session) == (7, "session-1")
    with pytest.raises(InvalidToken, match="not an refresh token"):
        codec.verify(access, "refresh")
    with pytest.raises(InvalidToken, match="Signature verification failed"):
        TokenCodec("t" * 40, clock).verify(access, "access")
    clock.advance(30 * 60 - 1)
    assert codec.verify(access, "access").jti == claims.jti
    clock.advance(1)
    with pytest.raises(InvalidToken, match="token expired"):
        codec.verify(access, "access")


def test_unsigned_and_foreign_tokens_are_refused():
    codec = TokenCodec(SECRET, ManualClock())
    payload = {"iss": "agentgraph", "sub": "1", "sid": "s", "typ": "access", "jti": "j"}
    payload |= {"iat": 1_700_000_000, "exp": 1_800_000_000}
    unsigned = jwt.encode(payload, None, algorithm="none")
    foreign = jwt.encode({**payload, "iss": "someone-else"}, SECRET, algorithm="HS256")
    missing = jwt.encode({k: v for k, v in payload.items() if k != "sid"}, SECRET)
    for token in (unsigned, foreign, missing, "garbage"):
        with pytest.raises(InvalidToken):
            codec.verify(token, "access")


def test_a_short_secret_is_refused():
    with pytest.raises(ValueError, match="32 characters"):
        TokenCodec("short", ManualClock())
