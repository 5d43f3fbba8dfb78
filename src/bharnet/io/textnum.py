"""Bulk parsing of whitespace-separated decimal numbers with NumPy.

Converting tokens one by one (``float(token)``, ``np.array(tokens, float)``, ``np.loadtxt``) costs a
Python-level operation per number, which dominates reading the NTU text files (about 30,000 numbers
per file). Here plain decimals (``-12.345``) are evaluated for all tokens at once with array
operations; the rare other tokens (exponents such as ``1.5E-07``, anything malformed) go through
``float`` one by one, so the result is exactly what ``float`` would give or a ``ValueError`` naming
the offending token.
"""

from __future__ import annotations

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
        self.values, self.bad = _evaluate(a, self.starts, self.ends)

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
