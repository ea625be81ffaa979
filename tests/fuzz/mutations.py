"""Hypothesis strategies that turn a valid venue frame into a hostile one.

A frame is parsed, one or more of its values are replaced (numbers by huge / NaN / negative /
exponent / wrong-typed values, strings by lists, objects, surrogates, ...; any value by deep
nesting), and it is serialised again; raw JSON tokens that ``json.dumps`` cannot write (``NaN``,
``1e999999999``, deep nesting) are spliced in as text.  Text-level mutations truncate or corrupt
bytes; a last strategy produces random JSON documents.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson
from hypothesis import strategies as st

#: raw JSON number tokens (text spliced into the frame)
RAW_NUMBERS = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e999999999",
    "1e-999999999",
    "0e-999999999",
    "-1e9999999999",
    "1e400",
    "-1",
    "-0.0",
    "0",
    "1e308",
    "9" * 5000,
    "1" + "0" * 300,
    "0." + "0" * 2000 + "1",
    "4294967296",
    "18446744073709551616",
]
#: hostile values as Python objects (serialised normally)
VALUES: list[Any] = [
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "1e400",
    "1e999999999",
    "-1",
    "-0.5",
    "0",
    "0.0",
    "",
    " 1",
    "1_000",
    "9" * 400,
    "1" * 60,
    "\ud800",
    "a\udfffb",
    "ETHBTC\n",
    ["BTCUSDT"],
    {"symbol": "BTCUSDT"},
    [],
    {},
    None,
    True,
    False,
    -1,
    0,
    1.5,
    -1.5,
    1e308,
    10**30,
    -(10**30),
    2**63,
]


class Raw:
    """A raw JSON token to splice into the serialised frame."""

    def __init__(self, text: str) -> None:
        self.text = text


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, (*path, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, (*path, i)))
    return out


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        copy[head] = _replace(value[head], rest, new)
        return copy
    copy_list = list(value)
    copy_list[head] = _replace(value[head], rest, new)
    return copy_list


def serialise(value: Any) -> bytes:
    """JSON text of ``value`` with every :class:`Raw` spliced in as its token."""
    raws: list[str] = []

    def default(obj: Any) -> Any:
        if isinstance(obj, Raw):
            raws.append(obj.text)
            return f"\x00RAW{len(raws) - 1}\x00"
        if isinstance(obj, Decimal):
            return Raw(str(obj)).text  # pragma: no cover - parsed frames hold no Decimals
        raise TypeError(type(obj).__name__)

    text = json.dumps(value, default=default, ensure_ascii=False, separators=(",", ":"))
    for i, raw in enumerate(raws):
        text = text.replace(f'"\\u0000RAW{i}\\u0000"', raw)
    return text.encode("utf-8", "surrogatepass")


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes | str:
    """One seed frame with hostile changes (see the module docstring)."""
    frame = draw(st.sampled_from(seeds))
    kind = draw(st.sampled_from(["value", "value", "value", "values", "truncate", "bytes", "nest", "text"]))
    if kind == "truncate":
        return frame[: draw(st.integers(0, max(0, len(frame) - 1)))]
    if kind == "bytes":
        data = bytearray(frame)
        for _ in range(draw(st.integers(1, 4))):
            if data:
                data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    try:
        parsed = orjson.loads(frame)
    except orjson.JSONDecodeError:
        return frame
    paths = _paths(parsed)
    if kind == "nest":
        path = draw(st.sampled_from(paths))
        depth = draw(st.sampled_from([50, 1000, 100_000]))
        return serialise(_replace(parsed, path, Raw("[" * depth + "1" + "]" * depth)))
    rounds = 1 if kind in ("value", "text") else draw(st.integers(2, 5))
    for _ in range(rounds):
        paths = _paths(parsed)
        path = draw(st.sampled_from(paths[1:] or paths))
        if draw(st.booleans()):
            new: Any = Raw(draw(st.sampled_from(RAW_NUMBERS)))
        else:
            new = draw(st.sampled_from(VALUES))
        parsed = _replace(parsed, path, new)
    data = serialise(parsed)
    if kind == "text":  # as a str frame (lone surrogates then reach the codec undecoded)
        return data.decode("utf-8", "surrogatepass")
    return data


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)


@st.composite
def random_json(draw: st.DrawFn, keys: list[str]) -> bytes:
    """A random JSON document, often an object using the venue's own field names."""
    if draw(st.booleans()):
        return serialise(draw(json_values))
    chosen = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=6))
    return serialise({k: draw(json_values) for k in chosen})
