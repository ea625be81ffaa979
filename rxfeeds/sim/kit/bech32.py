"""Bech32 addresses (BIP-173), as Binance Chain writes them (``bnb1…``, ``tbnb1…``).

Written from the BIP-173 specification for the simulators: a bech32 string is a
human-readable part, ``1``, then 5-bit groups in the 32-character alphabet ending in a
six-group checksum; the checksum is right when the BCH polymod over the expanded
human-readable part and the data equals 1.

Example:
    >>> address = encode("tbnb", bytes(range(20)))
    >>> address[:5], decode(address) == ("tbnb", bytes(range(20)))
    ('tbnb1', True)
    >>> decode(address[:-1] + ("q" if address[-1] != "q" else "p"))  # a changed character
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

__all__ = ["decode", "encode"]

ALPHABET: Final = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_INDEX: Final = {c: i for i, c in enumerate(ALPHABET)}
_POLY: Final = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)  # BIP-173 generator


def _polymod(groups: Iterable[int]) -> int:
    chk = 1
    for g in groups:
        top = chk >> 25
        chk = ((chk & 0x1FFFFFF) << 5) ^ g
        for bit, poly in enumerate(_POLY):
            if top >> bit & 1:
                chk ^= poly
    return chk


def _expand(hrp: str) -> list[int]:
    high = [ord(c) >> 5 for c in hrp]
    low = [ord(c) & 31 for c in hrp]
    return [*high, 0, *low]


def _regroup(data: Iterable[int], src: int, dst: int, pad: bool) -> list[int] | None:
    acc = bits = 0
    out: list[int] = []
    for value in data:
        acc = (acc << src) | value
        bits += src
        while bits >= dst:
            bits -= dst
            out.append((acc >> bits) & ((1 << dst) - 1))
    if pad and bits:
        out.append((acc << (dst - bits)) & ((1 << dst) - 1))
    elif not pad and (bits >= src or (acc << (dst - bits)) & ((1 << dst) - 1)):
        return None
    return out


def encode(hrp: str, payload: bytes) -> str:
    """The bech32 string of ``payload`` bytes under human-readable part ``hrp``."""
    groups = _regroup(payload, 8, 5, True) or []
    residue = _polymod([*_expand(hrp), *groups, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(residue >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(ALPHABET[g] for g in [*groups, *checksum])


def decode(text: str) -> tuple[str, bytes] | None:
    """``(hrp, payload)`` of a well-formed lower-case bech32 string, or None."""
    hrp, sep, rest = text.rpartition("1")
    if not sep or not hrp or len(rest) < 6 or len(text) > 90 or any(c not in _INDEX for c in rest):
        return None
    if any(not 33 <= ord(c) <= 126 for c in hrp) or hrp != hrp.lower():
        return None
    groups = [_INDEX[c] for c in rest]
    if _polymod([*_expand(hrp), *groups]) != 1:
        return None
    payload = _regroup(groups[:-6], 5, 8, False)
    return None if payload is None else (hrp, bytes(payload))
