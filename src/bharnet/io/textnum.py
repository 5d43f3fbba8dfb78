"""Bulk parsing of whitespace-separated decimal numbers with NumPy.

Converting tokens one by one (``float(token)``, ``np.array(tokens, float)``, ``np.loadtxt``,
``np.fromstring``) costs a C-level string-to-double call or a Python operation per number, which
dominates reading the NTU text files (about 30,000 numbers per file). Here plain decimals
(``-12.345``) are evaluated for all tokens at once with array operations; the rare other tokens
(exponents such as ``1.5E-07``, anything malformed) go through ``float`` one by one, so the result
is exactly what ``float`` would give or a ``ValueError`` naming the offending token.

Tokens of up to 16 characters (nearly all) are evaluated as a fixed-width byte matrix: each token's
bytes right-aligned in a row (a strided view of the buffer, one gather), the dot removed by
shifting the bytes before it, and the digits times powers of ten summed by one matrix-vector
product - the integer mantissa, exact, divided once by the power of ten of its decimals.
"""

from __future__ import annotations

import sys

import numpy as np

__all__ = ["Tokens", "tokenize_numbers"]

_MINUS, _DOT, _ZERO = 45, 46, 48
# tokens longer than this fall back to float()
_MAX_LEN = 40
_POS_POW = 10.0 ** np.arange(_MAX_LEN)


class _Scratch:
    """Work arrays reused from one call to the next: a fresh large temporary per operation costs
    a page fault per 4 KiB on first touch, which on some virtual machines takes longer than the
    arithmetic itself."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, size: int, dtype) -> np.ndarray:
        arr = self._arrays.get(name)
        if arr is None or arr.size < size or arr.dtype != dtype:
            arr = np.empty(max(size, 1 << 16) * 5 // 4, dtype)
            self._arrays[name] = arr
        return arr[:size]

    def arange(self, size: int) -> np.ndarray:
        arr = self._arrays.get("arange")
        if arr is None or arr.size < size:
            arr = self._arrays["arange"] = np.arange(max(size, 1 << 16) * 5 // 4, dtype=np.intp)
        return arr[:size]


_scratch = _Scratch()


class Tokens:
    """The tokens of a text buffer: byte ``starts``/``ends`` and their numeric ``values``
    (NaN where a token is not a number; ``bad`` lists those token indices)."""

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        a = np.frombuffer(buf, np.uint8)
        size = len(a)
        text = _scratch.get("text", size + 2, np.bool_)
        text[0] = text[-1] = False
        np.greater(a, 32, out=text[1:-1])  # space, tab, CR, LF and control characters separate tokens
        change = _scratch.get("change", size + 1, np.bool_)
        np.not_equal(text[1:], text[:-1], out=change)
        edges = np.flatnonzero(change)
        self.starts = edges[0::2]
        self.ends = edges[1::2]
        self.values, self.bad = _evaluate_fixed(a, self.starts, self.ends)

    def __len__(self) -> int:
        return len(self.starts)

    def text(self, i: int) -> str:
        """Token ``i`` as text."""
        return self.buf[self.starts[i]:self.ends[i]].decode(errors="replace")


def _evaluate(a: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(starts)
    if n == 0:
        return np.zeros(0), np.zeros(0, np.int64)
    first = int(starts[0])
    a = a[first:]  # from the first token on; each token "owns" the separators after it
    size = len(a)
    starts = starts - first
    lens = ends - first - starts
    spans = np.diff(starts, append=size)
    s = _scratch
    position = s.arange(size)
    d = s.get("d", size, np.uint8)
    np.subtract(a, np.uint8(_ZERO), out=d)              # digit value (wraps for other bytes)
    digit = s.get("digit", size, np.bool_)
    np.less(d, 10, out=digit)
    dot = s.get("dot", size, np.bool_)
    np.equal(a, _DOT, out=dot)
    # where each token's dot is (-1: none); more than one dot -> float() below
    dots = np.flatnonzero(dot)
    dot_token = np.repeat(np.arange(n, dtype=np.int32), spans)[dots]  # cheaper than a search
    dot_at = starts - 1
    dot_at[dot_token] = dots
    # the integer mantissa (the digits without the dot) is summed exactly, then divided once by
    # 10^(digits after the dot): the correctly rounded result float() gives, for up to 15 digits.
    # The power of ten of the byte at i in a token ending at e: e - 1 - i, one less before the dot.
    ex = s.get("ex", size, np.intp)
    np.subtract(np.repeat(starts + lens - 1, spans), position, out=ex)
    before = s.get("before", size, np.bool_)
    np.less(position, np.repeat(dot_at, spans), out=before)
    np.subtract(ex, before, out=ex)
    w = s.get("w", size, np.float64)
    np.take(_POS_POW, ex, out=w, mode="clip")
    np.multiply(d, digit, out=d)
    np.multiply(w, d, out=w)
    values = np.add.reduceat(w, starts)
    after_dot = np.where(dot_at >= starts, starts + lens - 1 - dot_at, 0)  # digits after the dot
    values /= _POS_POW[np.minimum(after_dot, _MAX_LEN - 1)]
    negative = a[starts] == _MINUS
    np.negative(values, out=values, where=negative)
    # anything but a plain decimal (digits, at most one dot, a leading minus) goes through float()
    odd = s.get("odd", size, np.bool_)
    np.logical_or(digit, dot, out=odd)
    np.logical_or(odd, np.less_equal(a, 32, out=before), out=odd)  # digit, dot or separator
    odd[starts[negative]] = True                                     # or a leading minus
    suspicious = (lens >= _MAX_LEN - 1) | ((lens == 1) & ~digit[starts])  # too long, a lone "-" or "."
    twice = dot_token[1:] == dot_token[:-1]
    if twice.any():
        suspicious[dot_token[1:][twice]] = True  # two dots
    if not odd.all():
        odd_pos = np.flatnonzero(~odd)
        suspicious[np.searchsorted(starts, odd_pos, side="right") - 1] = True
    bad = []
    for i in np.flatnonzero(suspicious):
        try:
            values[i] = float(a[starts[i]:starts[i] + lens[i]].tobytes())
        except ValueError:
            values[i] = np.nan
            bad.append(i)
    return values, np.asarray(bad, np.int64)


_FIXED_WIDTH = 16  # longest token of the fixed-width evaluator; longer ones go through float()
_LONG_SHARE = 0.01  # more long tokens than this share: the byte-wise evaluator instead


def _row_sums(m: np.ndarray) -> np.ndarray:
    """Per-row sums of an ``(n, 16)`` uint8/bool array whose row sums stay below 256: the 16 bytes
    of a row as two uint64 words, added and folded by one multiplication (NumPy's reductions along a
    short last axis are several times slower)."""
    words = m.view(np.uint64)
    total = words[:, 0] + words[:, 1]
    return ((total * np.uint64(0x0101010101010101)) >> np.uint64(56)).astype(np.intp)


def _eight_digits(words: np.ndarray) -> np.ndarray:
    """The 8-digit numbers held by uint64 words of digit values (0-9, most significant digit in the lowest
    byte), combined pairwise in parallel within each word (SWAR)."""
    x = words * np.uint64(10)
    x += words >> np.uint64(8)
    x &= np.uint64(0x00FF00FF00FF00FF)
    y = x * np.uint64(100)
    y += x >> np.uint64(16)
    y &= np.uint64(0x0000FFFF0000FFFF)
    z = y * np.uint64(10000)
    z += y >> np.uint64(32)
    z &= np.uint64(0x00000000FFFFFFFF)
    return z


def _byte_masks(upto: bool) -> np.ndarray:
    """``(17, 2)`` uint64: row k holds 16 bytes that are 1 at columns >= k (``upto``: columns < k), else 0."""
    table = (np.arange(_FIXED_WIDTH)[None, :] < np.arange(_FIXED_WIDTH + 1)[:, None]) == upto
    return np.ascontiguousarray(table.astype(np.uint8)).view("V16").ravel()


def _rows16(table: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``table[index]`` for a table of 16-byte items, as ``(n, 2)`` uint64 (``take`` on whole items is
    several times faster than fancy indexing of rows)."""
    return np.take(table, index).view(np.uint64).reshape(-1, 2)


_FROM = _byte_masks(False)
_BEFORE = _byte_masks(True)
_U8 = np.uint64(8)
# multiplying a word holding a single 1 byte at byte b by this puts b in the top byte
_BYTE_INDEX = np.uint64(sum((7 - j) << (8 * j) for j in range(8)))


def _dot_column(dot: np.ndarray) -> np.ndarray:
    """The column of the single 1 byte of each ``(n, 2)`` word pair (0 where there is none)."""
    lo, hi = dot[:, 0], dot[:, 1]
    b_lo = (lo * _BYTE_INDEX) >> np.uint64(56)
    b_hi = ((hi * _BYTE_INDEX) >> np.uint64(56)) + _U8
    return np.where(hi != 0, b_hi, np.where(lo != 0, b_lo, 0)).astype(np.intp)


def _evaluate_fixed(a: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(starts)
    if n == 0:
        return np.zeros(0), np.zeros(0, np.int64)
    lens = ends - starts
    long = lens > _FIXED_WIDTH
    if long.sum() > _LONG_SHARE * n or sys.byteorder != "little":  # the words below are little-endian
        return _evaluate(a, starts, ends)
    w, s = _FIXED_WIDTH, _scratch
    padded = s.get("padded", len(a) + w, np.uint8)
    padded[:w] = 32
    padded[w:] = a
    # (n, 16) bytes: the 16 bytes that end where each token ends; as (n, 2) uint64 words, columns 0-7
    # and 8-15 (little-endian: column 0 is the low byte); the per-row masks come as words from tables
    windows = np.ndarray((len(padded) - w + 1,), "V16", padded, strides=(1,))  # 16 bytes from each byte on
    words = _rows16(windows, ends)
    rows = words.view(np.uint8)
    width = np.minimum(lens, w)
    first = w - width                                    # column of each token's first byte
    inside = _rows16(_FROM, first)
    digit = np.subtract(rows, np.uint8(_ZERO), out=s.get("digit", n * w, np.uint8).reshape(n, w))
    digit = np.less(digit, 10, out=s.get("isdigit", n * w, np.bool_).reshape(n, w)).view(np.uint64)
    digit &= inside
    dot = np.equal(rows, _DOT, out=s.get("dot", n * w, np.bool_).reshape(n, w)).view(np.uint64)
    dot &= inside
    ndots, ndigits = _row_sums(dot.view(np.uint8)), _row_sums(digit.view(np.uint8))
    negative = rows[np.arange(n), first] == _MINUS
    # a plain decimal: digits, at most one dot, a leading minus; at most 15 digits (exact in float64)
    other = width - ndigits - ndots - negative
    suspicious = long | (other != 0) | (ndots > 1) | (ndigits == 0) | (ndigits > 15)
    has_dot = ndots > 0
    dot_col = _dot_column(dot)
    # remove the dot: the bytes left of it move one column to the right (a byte shift of the words)
    shifted = np.empty_like(words)
    np.left_shift(words[:, 1], _U8, out=shifted[:, 1])
    shifted[:, 1] |= words[:, 0] >> np.uint64(56)
    np.left_shift(words[:, 0], _U8, out=shifted[:, 0])
    # 0xFF in the bytes left of the dot
    left = _rows16(_BEFORE, np.where(has_dot, np.minimum(dot_col, w - 1) + 1, 0)) * np.uint64(0xFF)
    merged = (shifted & left) | (words & ~left)
    digits = merged.view(np.uint8)
    digits -= np.uint8(_ZERO)
    keep = np.less(digits, 10, out=s.get("keep", n * w, np.bool_).reshape(n, w)).view(np.uint64)
    keep &= _rows16(_FROM, first + has_dot)
    merged &= keep * np.uint64(0xFF)
    values = _eight_digits(merged[:, 0]).astype(np.float64)
    values *= 1e8
    values += _eight_digits(merged[:, 1])                # the integer mantissa, exact
    values /= _POS_POW[np.where(has_dot, w - 1 - np.minimum(dot_col, w - 1), 0)]
    np.negative(values, out=values, where=negative)
    bad = []
    for i in np.flatnonzero(suspicious):
        try:
            values[i] = float(a[starts[i]:ends[i]].tobytes())
        except ValueError:
            values[i] = np.nan
            bad.append(i)
    return values, np.asarray(bad, np.int64)


def tokenize_numbers(buf: bytes) -> Tokens:
    """Split ``buf`` at whitespace and evaluate every token as a number (see :class:`Tokens`)."""
    return Tokens(buf)


def keep_freed_memory(limit_bytes: int = 256 << 20) -> bool:
    """Ask glibc's allocator to keep freed memory up to ``limit_bytes`` for reuse instead of
    returning it to the system and faulting it in again (every NumPy temporary above 128 KiB is a
    fresh mapping by default; on virtual machines page faults can cost more than the parsing).
    Used by the conversion's worker processes; a no-op (False) where the C library is not glibc."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, min(limit_bytes, 32 << 20)) and mallopt(m_trim_threshold, limit_bytes))
