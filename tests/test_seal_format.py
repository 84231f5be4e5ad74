"""The sealed file is the documented construction, byte for byte, whatever the text's length."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random

import pytest

from scoring_common import seal as sealing


def _reference_seal(text: str, key: bytes) -> str:
    """The construction of the module docstring, written plainly."""
    plain = text.encode("utf-8")
    enc_key, mac_key = (hmac.new(key, label, hashlib.sha256).digest() for label in (b"enc", b"mac"))
    iv = hmac.new(mac_key, plain, hashlib.sha256).digest()[:16]
    blocks = range((len(plain) + 31) // 32)
    stream = b"".join(hmac.new(enc_key, iv + n.to_bytes(8, "big"), hashlib.sha256).digest() for n in blocks)
    cipher = bytes(a ^ b for a, b in zip(plain, stream))
    body = base64.b64encode(iv + cipher).decode("ascii")
    return "\n".join([sealing.MAGIC, *(body[i:i + 76] for i in range(0, len(body), 76))]) + "\n"


@pytest.mark.parametrize("length", [0, 1, 40, 41, 57 * 1024 - 16, 57 * 1024 - 15, 3 * 57 * 1024 + 5])
def test_seal_is_the_construction(length: int):
    rng = random.Random(length)
    text = "".join(rng.choice("ab,\n\u00e91") for _ in range(length))
    key = bytes(rng.randrange(256) for _ in range(32))
    sealed = sealing.seal(text, key)
    assert sealed == _reference_seal(text, key)
    assert sealing.unseal(sealed, key) == text
