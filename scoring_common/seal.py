"""Per-item scores of a hidden split, sealed so that only the organisers can read them.

The scoring output reaches participants on every platform (AI4MediaBench has no per-phase
switch to hide it, and Codabench's ``hide_output`` also hides the detailed results and the
logs, so participants would never learn why a Test run failed). On a hidden split the
scorer therefore writes ``per_item_scores.sealed``: the CSV encrypted and authenticated
with a key derived from the split's reference data, which only the organisers hold.

Construction (hashing from the standard library): deterministic authenticated encryption in the SIV
style, from HMAC-SHA256 as a pseudo-random function,

    k_enc, k_mac = HMAC(K, "enc"), HMAC(K, "mac")     K = SHA-256 of the reference files
    iv           = HMAC(k_mac, plaintext)[:16]          (also the authentication tag)
    keystream    = HMAC(k_enc, iv || counter_0) || HMAC(k_enc, iv || counter_1) || ...
    ciphertext   = plaintext XOR keystream

so the same run gives byte-identical outputs, and any change of the file is detected.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
from pathlib import Path

import numpy as np

#: First line of a sealed file; the version names the construction above.
MAGIC = "per-item-scores-sealed-v1"
#: Files of the reference data that do not enter the key (published or written by the kit).
KEY_EXCLUDED = frozenset({"split.json"})
IV_BYTES = 16
BLOCK_BYTES = 32
#: Bytes base64-encoded at a time when sealing: whole lines of 57 bytes.
_ENCODED_BYTES = 57 * 1024


class SealError(ValueError):
    """A sealed file that is damaged, or was sealed with another split's key."""


def reference_key(ref_dir: Path) -> bytes:
    """The 32-byte key of a split: SHA-256 over the names and bytes of its reference files."""
    digest = hashlib.sha256(MAGIC.encode())
    for path in sorted(p for p in Path(ref_dir).rglob("*") if p.is_file() and p.name not in KEY_EXCLUDED):
        name = path.relative_to(ref_dir).as_posix().encode()
        digest.update(len(name).to_bytes(4, "big") + name)
        data = path.read_bytes()
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.digest()


def seal(text: str, key: bytes) -> str:
    """The sealed form of ``text`` (a small text file: magic line, then base64)."""
    plain = text.encode("utf-8")
    enc_key, mac_key = _subkeys(key)
    iv = hmac.new(mac_key, plain, hashlib.sha256).digest()[:IV_BYTES]
    sealed = _xor(plain, _keystream(enc_key, iv, len(plain)))
    del plain
    sealed[:0] = iv
    # encodebytes writes lines of 76 characters (57 bytes), each ended by a newline: encoding
    # whole lines at a time gives the same text without a second copy of it.
    out = io.BytesIO()
    out.write(f"{MAGIC}\n".encode("ascii"))
    for start in range(0, len(sealed), _ENCODED_BYTES):
        out.write(base64.encodebytes(sealed[start:start + _ENCODED_BYTES]))
    del sealed
    return out.getvalue().decode("ascii")


def unseal(sealed: str, key: bytes) -> str:
    """The text of a sealed file; :class:`SealError` if it is damaged or the key is not its split's."""
    first, _, rest = sealed.partition("\n")
    if first.strip() != MAGIC:
        raise SealError(f"not a sealed per-item file (first line is not {MAGIC!r})")
    try:
        raw = base64.b64decode("".join(rest.split()), validate=True)
    except ValueError:
        raise SealError("the sealed per-item file is damaged (not base64)") from None
    if len(raw) < IV_BYTES:
        raise SealError("the sealed per-item file is truncated")
    iv, cipher = raw[:IV_BYTES], raw[IV_BYTES:]
    enc_key, mac_key = _subkeys(key)
    plain = _xor(cipher, _keystream(enc_key, iv, len(cipher)))
    if not hmac.compare_digest(hmac.new(mac_key, plain, hashlib.sha256).digest()[:IV_BYTES], iv):
        raise SealError("the sealed per-item file does not open with this reference data (another split, or damaged)")
    return plain.decode("utf-8")


def _subkeys(key: bytes) -> tuple[bytes, bytes]:
    return (hmac.new(key, b"enc", hashlib.sha256).digest(), hmac.new(key, b"mac", hashlib.sha256).digest())


def _keystream(enc_key: bytes, iv: bytes, size: int) -> bytes:
    blocks = (size + BLOCK_BYTES - 1) // BLOCK_BYTES
    stream = bytearray()  # grown in place: no object per block is kept
    for counter in range(blocks):
        stream += hmac.digest(enc_key, iv + counter.to_bytes(8, "big"), "sha256")
    del stream[size:]
    return stream


def _xor(data: bytes, stream: bytearray) -> bytearray:
    """``data`` XOR ``stream`` (as long as ``data``), computed in ``stream``'s own buffer."""
    if data:
        np.bitwise_xor(np.frombuffer(stream, dtype=np.uint8), np.frombuffer(data, dtype=np.uint8),
                       out=np.frombuffer(stream, dtype=np.uint8))
    return stream
