"""Fast, exact reading of whitespace-separated decimal numbers (the NTU and PKU-MMD text formats).

An NTU file holds about 30,000 numbers. Converting them one at a time (``float``, ``np.loadtxt``,
``np.fromstring``, ``fastnumbers``) costs 40-200 ns per number here, and NumPy array tricks over the
bytes cost about as much in memory passes; this is the part of the conversion that no library does
fast, so it is one compiled pass (numba) over the bytes: it finds the tokens and their lines and
evaluates plain decimals (``-12.345``) as an integer mantissa divided once by a power of ten. Both
are exact in float64 for up to 15 significant digits and 22 decimals, so the division gives the
correctly rounded value, the one ``float`` gives (as does the conversion of a whole number of up to
18 digits). Anything else (exponents such as ``1.5E-07``,
longer mantissas, malformed text) goes through ``float`` one token at a time: the result is
exactly ``float``'s, or NaN with the token listed in ``bad``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from bharnet.core.interrupts import ctrl_c_deferred

__all__ = ["Tokens", "tokenize_numbers"]

_POW10 = 10.0 ** np.arange(23)  # the powers of ten that float64 holds exactly


@njit(cache=True, nogil=True)
def _scan(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Tokens of the bytes ``a`` (separated by bytes <= 32: space, tab, CR, LF, control characters):
    start, end, value, whether the value is final (a plain decimal), and per line the index of its
    first token (one more entry: the token count). Positions are int32 (files below 2 GiB): half
    the memory to write and fault in."""
    n = a.size
    cap = n // 2 + 1
    starts = np.empty(cap, np.int32)
    ends = np.empty(cap, np.int32)
    values = np.empty(cap, np.float64)
    exact = np.empty(cap, np.bool_)
    line_first = np.empty(n + 2, np.int32)
    line_first[0] = 0
    k = i = line = 0
    while True:
        while i < n:
            c = a[i]
            if c > 32:
                break
            if c == 10:
                line += 1
                line_first[line] = k
            i += 1
        if i == n:
            break
        start = i
        negative = a[i] == 45  # "-"
        if negative:
            i += 1
        mantissa = digits = 0
        decimals = -1  # -1: no dot yet
        plain = True
        while i < n:
            c = a[i]
            if c <= 32:
                break
            if 48 <= c <= 57:
                mantissa = mantissa * 10 + (c - 48)  # wraps beyond 18 digits: not plain then
                digits += 1
                if decimals >= 0:
                    decimals += 1
            elif c == 46 and decimals < 0:  # "."
                decimals = 0
            else:
                plain = False
            i += 1
        plain = plain and digits > 0 and decimals <= 22
        if plain and digits > 15:  # leading zeros are not significant: count them out (rare)
            j = start + negative
            while j < i and (a[j] == 48 or a[j] == 46):
                digits -= a[j] == 48
                j += 1
            # a whole number of up to 18 digits (a Kinect body ID) converts with one rounding
            plain = digits <= 15 or (decimals < 0 and digits <= 18)
        if plain:
            value = mantissa / _POW10[decimals] if decimals > 0 else float(mantissa)
            values[k] = -value if negative else value
        else:
            values[k] = np.nan
        starts[k] = start
        ends[k] = i
        exact[k] = plain
        k += 1
    line_first[line + 1] = k
    return starts[:k], ends[:k], values[:k], exact[:k], line_first[:line + 2]


class Tokens:
    """The tokens of a text buffer: byte ``starts``/``ends`` and numeric ``values`` (NaN where a token
    is not a number; ``bad`` lists those token indices); line ``i`` (0-based) holds the tokens
    ``line_first[i]:line_first[i + 1]``."""

    def __init__(self, buf: bytes) -> None:
        if len(buf) >= 2**31:
            raise ValueError(f"a text of {len(buf) / 2**30:.1f} GiB: skeleton text files are far smaller")
        self.buf = buf
        self.starts, self.ends, self.values, exact, self.line_first = _scanned(np.frombuffer(buf, np.uint8))
        bad = []
        for i in np.flatnonzero(~exact).tolist():
            try:
                self.values[i] = float(buf[self.starts[i]:self.ends[i]])
            except ValueError:
                bad.append(i)
        self.bad = np.asarray(bad, np.int64)

    def __len__(self) -> int:
        return len(self.starts)

    def line_of(self, i: int) -> int:
        """The 0-based line of token ``i``."""
        return int(np.searchsorted(self.line_first, i, side="right")) - 1

    def text(self, i: int) -> str:
        """Token ``i`` as text."""
        return self.buf[self.starts[i]:self.ends[i]].decode(errors="replace")


def _scanned(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_scan`, whose first call compiles it (or loads it from numba's cache) with Ctrl-C held
    back: a press would land in llvmlite's C callbacks, where Python prints it as "Exception
    ignored" with a traceback, and loses it."""
    if _scan.signatures:
        return _scan(a)
    with ctrl_c_deferred():
        return _scan(a)


def tokenize_numbers(buf: bytes) -> Tokens:
    """Split ``buf`` at whitespace and evaluate every token as a number (see :class:`Tokens`)."""
    return Tokens(buf)
