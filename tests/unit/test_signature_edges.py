"""`X-Hub-Signature-256`: exactly Meta's header verifies, in any case or spacing; nothing
else does (another scheme, a truncated or extended digest, an empty header)."""

from __future__ import annotations

import pytest

from agentgraph.whatsapp.signature import sign, verify_signature

RAW = b'{"object":"whatsapp_business_account"}'
SIGNED = "sha256=0bf7374433906636bed1653bc7c64affb42fa5da9a39e251ab95c2e3a9c06923"


def test_sign_gives_the_header_meta_sends():
    assert sign(RAW, "app-secret") == SIGNED


@pytest.mark.parametrize(
    "header",
    [SIGNED, SIGNED.upper(), f"  {SIGNED}  ", SIGNED.replace("=", "= ")],
)
def test_a_matching_signature_verifies_whatever_its_case_and_spacing(header):
    assert verify_signature(RAW, header, "app-secret") is True


@pytest.mark.parametrize(
    "header",
    [
        SIGNED.replace("sha256", "sha512"),
        SIGNED.replace("sha256", "zz"),
        SIGNED.replace("sha256", "sha1"),
        "sha256=",
        "sha256",
        "",
        SIGNED[:-1],
        SIGNED + "0",
    ],
)
def test_anything_but_that_signature_is_refused(header):
    assert verify_signature(RAW, header, "app-secret") is False
