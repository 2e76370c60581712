"""Stable keys of imported records: 128-bit content hashes, computed for whole columns at once.

An activity is keyed by its lead, type, instant and url, a touch by its lead, channel, instant
and rep (`services.import_convert`); a lead keeps a hash of its imported values, to tell a
changed row from an unchanged one. A key is 128 bits written as 32 hex digits: at 20 million
events the chance that two different ones share a key is about 10^-24.

The hash is simple enough to compute with numpy over a million values in a few milliseconds
per column, with no Python per row:

- a text value is its UTF-8 bytes read as little-endian 8-byte words (the last one padded with
  zero bytes); each word is absorbed into two 64-bit lanes, and then the byte length;
- an integer or an instant (microseconds since the epoch, UTC) is one word; a float its IEEE
  bits; true/false 1/0; a null a fixed pair of lanes that no value produces in practice;
- a record absorbs the lanes of its values in order.

Absorbing a word x into a lane h is `h = mix(h ^ x)`, with two different 64-bit finalizers as
`mix` (splitmix64's for lane a, MurmurHash3's fmix64 for lane b). It is not a cryptographic
hash; nothing here needs one (erasure re-hashes the keys of an erased person with a secret).

Keys are stored: changing any detail here makes a re-import add every event again. The tests
pin the output for fixed inputs, and `record_key` (plain Python) is the same function for one
record.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

Lanes = tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]

_MASK = (1 << 64) - 1
SEED_A = 0x9E3779B97F4A7C15
SEED_B = 0xC2B2AE3D27D4EB4F
#: The lanes of a null value.
NULL_A = 0x6E756C6C6E756C6C
NULL_B = 0x4E554C4C4E554C4C
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_U64 = np.dtype(np.uint64)
_KA = 0x9FB21C651E98DF25
_KB = 0xD6E8FEB86659FD93
#: Masks that keep the first 0..8 bytes of a little-endian word.
_TAIL = np.array([(1 << (8 * i)) - 1 for i in range(8)] + [(1 << 64) - 1], dtype=np.uint64)


def _mix_a(z: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return z


def _mix_b(z: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    z ^= z >> np.uint64(33)
    z *= np.uint64(0xFF51AFD7ED558CCD)
    z ^= z >> np.uint64(33)
    z *= np.uint64(0xC4CEB9FE1A85EC53)
    z ^= z >> np.uint64(33)
    return z


def _absorb(lanes: Lanes, word: npt.NDArray[np.uint64]) -> Lanes:
    return _mix_a(lanes[0] ^ word), _mix_b(lanes[1] ^ word)


def text_lanes(values: pa.Array) -> Lanes:
    """The lanes of each text value (nulls get the null lanes)."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_large_string(values.type):
        values = values.cast(pa.string())
    return _with_nulls(_text_lanes(values), values)


def vocabulary_lanes(values: pa.Array) -> Lanes:
    """`text_lanes` for a column of few distinct values (types, channels): each hashed once."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    unique = pc.unique(values)
    a, b = text_lanes(unique)
    index = pc.index_in(values, unique).to_numpy(zero_copy_only=False)
    return a[index.astype(np.int64)], b[index.astype(np.int64)]


def _text_lanes(values: pa.Array) -> Lanes:
    n = len(values)
    _, offsets_buffer, data_buffer = values.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[values.offset : values.offset + n + 1]
    starts = offsets[:-1].astype(np.int64)
    lengths = np.diff(offsets).astype(np.int64)
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)
        if data_buffer is not None
        else np.zeros(0, np.uint8)
    )
    padded = np.zeros(len(data) + 8, dtype=np.uint8)
    padded[: len(data)] = data
    # Every byte offset as the start of a little-endian 8-byte word (an overlapping view).
    words = np.ndarray(shape=(len(padded) - 7,), dtype="<u8", buffer=padded.data, strides=(1,))
    count = (lengths + 7) >> 3
    order = None
    if n and count.min() != count.max():
        # Longest first (a stable radix sort): the values that still have a word k are then
        # the first m_k rows, and every step works on one contiguous slice.
        order = np.argsort(-count.astype(np.int32), kind="stable")
        starts, lengths, count = starts[order], lengths[order], count[order]
    a = np.full(n, SEED_A, _U64)
    b = np.full(n, SEED_B, _U64)
    descending = -count
    for k in range(int(count[0]) if n else 0):
        m = int(np.searchsorted(descending, -k, side="left"))
        word = words[starts[:m] + 8 * k].astype(_U64)
        last = int(np.searchsorted(descending, -(k + 1), side="left"))
        if last < m:  # the last word of these values: keep only their bytes
            word[last:m] &= _TAIL[lengths[last:m] - 8 * k]
        _absorb_word(a[:m], b[:m], word)
    size = lengths.astype(_U64)
    a, b = _mix_a(a ^ size), _mix_b(b ^ size)
    if order is None:
        return a, b
    out_a, out_b = np.empty_like(a), np.empty_like(b)
    out_a[order], out_b[order] = a, b
    return out_a, out_b


def _absorb_word(
    a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64], word: npt.NDArray[np.uint64]
) -> None:
    """One 8-byte word of text into both lanes, in place: xor, multiply, xor-shift."""
    a ^= word
    a *= np.uint64(_KA)
    a ^= a >> np.uint64(32)
    b ^= word
    b *= np.uint64(_KB)
    b ^= b >> np.uint64(29)


def _with_nulls(lanes: Lanes, values: pa.Array) -> Lanes:
    if values.null_count:
        null = values.is_null().to_numpy(zero_copy_only=False)
        lanes[0][null] = NULL_A
        lanes[1][null] = NULL_B
    return lanes


def word_lanes(words: npt.NDArray[Any], null: npt.NDArray[np.bool_] | None = None) -> Lanes:
    """The lanes of values that are one 64-bit word each (integers, instants, float bits)."""
    word = words.astype(np.int64, copy=False).view(_U64)
    lanes = _absorb((np.full(len(word), SEED_A, _U64), np.full(len(word), SEED_B, _U64)), word)
    if null is not None and null.any():
        lanes[0][null] = NULL_A
        lanes[1][null] = NULL_B
    return lanes


def column_lanes(values: pa.Array) -> Lanes:
    """The lanes of a typed column: text, integers, floats, booleans or instants."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    kind = values.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return text_lanes(values)
    null = values.is_null().to_numpy(zero_copy_only=False)
    if pa.types.is_timestamp(kind):
        words = pc.cast(values, pa.timestamp("us", "UTC")).cast(pa.int64())
    elif pa.types.is_floating(kind):
        words = pc.cast(values, pa.float64()).fill_null(0.0)
        return word_lanes(words.to_numpy().view(np.int64), null)
    elif pa.types.is_boolean(kind):
        words = pc.cast(values, pa.int64())
    else:
        words = pc.cast(values, pa.int64())
    return word_lanes(words.fill_null(0).to_numpy(), null)


def record_lanes(columns: Sequence[Lanes]) -> Lanes:
    """The lanes of records made of these columns' values, in order."""
    n = len(columns[0][0]) if columns else 0
    lanes: Lanes = (np.full(n, SEED_A, _U64), np.full(n, SEED_B, _U64))
    for a, b in columns:
        lanes = (_mix_a(lanes[0] ^ a), _mix_b(lanes[1] ^ b))
    return lanes


_HEX = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")


def key_text(lanes: Lanes) -> pa.Array:
    """The keys as 32 lowercase hex digits (lane a, then lane b; each big-endian)."""
    n = len(lanes[0])
    pairs = np.empty((n, 2), dtype=">u8")
    pairs[:, 0], pairs[:, 1] = lanes
    digits = _HEX[pairs.view(np.uint8).reshape(n, 16)]
    data = pa.py_buffer(np.ascontiguousarray(digits).tobytes())
    offsets = pa.py_buffer((np.arange(n + 1, dtype=np.int32) * 32).tobytes())
    return pa.StringArray.from_buffers(n, offsets, data)


def record_keys(columns: Sequence[pa.Array]) -> pa.Array:
    """The key of each record made of these typed columns (the vectorized `record_key`)."""
    return key_text(record_lanes([column_lanes(c) for c in columns]))


# --- One record, in plain Python (the reference, and for callers with a single event) --------


def _mix_a_int(z: int) -> int:
    z ^= z >> 30
    z = (z * 0xBF58476D1CE4E5B9) & _MASK
    z ^= z >> 27
    z = (z * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _mix_b_int(z: int) -> int:
    z ^= z >> 33
    z = (z * 0xFF51AFD7ED558CCD) & _MASK
    z ^= z >> 33
    z = (z * 0xC4CEB9FE1A85EC53) & _MASK
    return z ^ (z >> 33)


def _value_lanes(value: object) -> tuple[int, int]:
    if value is None:
        return NULL_A, NULL_B
    if isinstance(value, str):
        data = value.encode("utf-8")
        a, b = SEED_A, SEED_B
        for k in range(0, len(data), 8):
            word = int.from_bytes(data[k : k + 8], "little")
            a = ((a ^ word) * _KA) & _MASK
            a ^= a >> 32
            b = ((b ^ word) * _KB) & _MASK
            b ^= b >> 29
        return _mix_a_int(a ^ len(data)), _mix_b_int(b ^ len(data))
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()}: keys need tz-aware instants")
        word = (value - _EPOCH) // timedelta(microseconds=1)
    elif isinstance(value, float):
        word = int.from_bytes(struct.pack("<d", value), "little")
    elif isinstance(value, int):  # and bool
        word = int(value)
    else:
        raise TypeError(f"cannot key a {type(value).__name__} value")
    word &= _MASK
    return _mix_a_int(SEED_A ^ word), _mix_b_int(SEED_B ^ word)


def record_key(values: Sequence[object]) -> str:
    """The key of one record: the same as `record_keys` gives for that row.

    Values are text, int, float, bool, tz-aware datetimes or None.
    """
    a, b = SEED_A, SEED_B
    for value in values:
        va, vb = _value_lanes(value)
        a, b = _mix_a_int(a ^ va), _mix_b_int(b ^ vb)
    return f"{a:016x}{b:016x}"


def constant_lanes(value: object, n: int) -> Lanes:
    """The lanes of `value` repeated `n` times (a column every record shares)."""
    a, b = _value_lanes(value)
    return np.full(n, a, _U64), np.full(n, b, _U64)
