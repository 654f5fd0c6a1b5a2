"""The content version of a text (issue 22): a digest that can be computed from its pieces.

``content_hash(text)`` is 20 hex characters, a blake2b of two numbers: the text's UTF-8 bytes
read as one big-endian integer modulo N (the product of two primes below 2**30), and their
count. That residue of a concatenation follows from the residues of its parts —
``r(a + b) = r(a) * 256**len(b) + r(b)  (mod N)`` — so a text kept in chunks (proxy/text.py)
gets the digest of its whole content from a residue kept per chunk: after a keystroke only the
chunk it touched is read again, and the value is the one the same text read fresh from disk
gets, however it was cut. Before, every tracked request after an edit hashed the whole
document (blake2b over 2.3 MB: ~21 ms per request, on the path of the answer's recording).

Four more hex characters than the blake2b of the whole text it replaces, so that a version
written before tells itself apart (tracker/rehash.py). Not a cryptographic hash, and not meant
as one: it tells content versions apart. Two different
texts of the same length collide only if N divides the difference of their integers: never
for an edit that differs in fewer than 7 bytes (the difference is then d * 256**k with
0 < |d| < 2**56 < N, and N shares no factor with 256), and about once in 2**60 otherwise.

The big-integer work holds the GIL (``%`` on a 2.5 MB integer is tens of ms), so long texts are
taken ``_SLICE`` bytes at a time: a reader thread hashing a file lets the relay's thread in.
Pure arithmetic on str and bytes: no I/O, and nothing of LSP (the proxy and the tracker's
migration share it).
"""

from __future__ import annotations

from collections.abc import Iterable
from hashlib import blake2b
from typing import NamedTuple

_P1 = 1_073_741_789  # the two largest primes below 2**30: ``%`` by one machine word is fast
_P2 = 1_073_741_783
_N = _P1 * _P2
_P1_INVERSE = pow(_P1, -1, _P2)
_SLICE = 1 << 16


class Part(NamedTuple):
    """One piece of a text: its residue, its byte count, and 256**size mod N (the factor a
    piece before it is multiplied by when this one follows)."""

    residue: int
    size: int
    shift: int


EMPTY = Part(0, 0, 1)


def _residue(data: bytes) -> int:
    """``int(data) mod N`` from the residues modulo both primes (the Chinese remainder)."""
    x = int.from_bytes(data, "big")
    a, b = x % _P1, x % _P2
    return a + _P1 * ((b - a) * _P1_INVERSE % _P2)


def part(text: str) -> Part:
    """The Part of `text` (lone surrogates, which JSON may carry, are encoded as they are)."""
    return part_of_bytes(text.encode("utf-8", "surrogatepass"))


def part_of_bytes(data: bytes) -> Part:
    size = len(data)
    if size <= _SLICE:
        return Part(_residue(data), size, pow(256, size, _N))
    view = memoryview(data)
    return combined(part_of_bytes(bytes(view[i : i + _SLICE])) for i in range(0, size, _SLICE))


def combined(parts: Iterable[Part]) -> Part:
    """The Part of the concatenation of `parts`, in order."""
    residue, size, shift = 0, 0, 1
    for p in parts:
        residue = (residue * p.shift + p.residue) % _N
        shift = shift * p.shift % _N
        size += p.size
    return Part(residue, size, shift)


def finish(whole: Part) -> str:
    """The content hash of the text whose Part is `whole`."""
    return blake2b(f"{whole.residue}:{whole.size}".encode(), digest_size=10).hexdigest()


def content_hash(text: str) -> str:
    """The content version of a text: 20 hex characters (see the module docstring)."""
    return finish(part(text))


#: Until issue 22 the content hash was 16 hex characters of blake2b over the UTF-8 bytes; a
#: database written then holds those (tracker/rehash.py re-keys them). A new hash is never 16.
LEGACY_LENGTH = 16


def legacy_hash(text: str) -> str:
    """The content hash as it was defined before issue 22."""
    return blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
