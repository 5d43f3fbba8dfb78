import os
import signal
import time

import numpy as np
import pytest

from bharnet.io import textnum
from bharnet.io.textnum import tokenize_numbers


def test_bulk_parse_equals_float():
    rng = np.random.default_rng(0)
    numbers = np.concatenate([rng.normal(0, 1, 500), rng.normal(0, 1000, 500), rng.integers(-5, 5, 50)])
    texts = [f"{v:.7g}" for v in numbers] + [f"{v:.3f}" for v in numbers[:100]] + ["72057594037931101", "-0", "5."]
    texts += ["123456789012345678", "-1234567890123456789", "00000000000000000000.5"]
    buf = ("\r\n".join(" ".join(texts[i:i + 12]) for i in range(0, len(texts), 12)) + "\r\n").encode()
    tokens = tokenize_numbers(buf)
    assert len(tokens) == len(texts) and len(tokens.bad) == 0
    np.testing.assert_array_equal(tokens.values, [float(t) for t in texts])  # bit for bit
    assert [tokens.text(i) for i in (0, len(texts) - 6)] == [texts[0], "72057594037931101"]


def test_other_tokens_go_through_float_or_are_flagged():
    tokens = tokenize_numbers(b"  1.5E-07 -3 abc 0.25 -.5 . - 12. 1.2.3 +4 3-4 nan -. 0.0000000000000000\n")
    expected = [1.5e-07, -3, None, 0.25, -0.5, None, None, 12.0, None, 4.0, None, None, None, 0.0]
    assert tokens.bad.tolist() == [i for i, v in enumerate(expected) if v is None and i != 11]
    for i, v in enumerate(expected):
        if v is not None:
            assert tokens.values[i] == v
    assert np.isnan(tokens.values[11])  # "nan" is a number to float(); the reader rejects it as a value


def test_line_of_each_token():
    tokens = tokenize_numbers(b"1 2\n\n  3\r\n4 5 6")
    assert tokens.line_first.tolist() == [0, 2, 2, 3, 6]
    assert [tokens.line_of(i) for i in range(6)] == [0, 0, 2, 3, 3, 3]


def test_empty():
    assert len(tokenize_numbers(b"")) == 0 and len(tokenize_numbers(b" \n ")) == 0


def test_edges_of_the_exact_path():
    texts = ["123456789012345", "-12345678.901234", "0.000000000000001", "-.5", "7.", "-0", "9" * 16,
             "1." + "0" * 22 + "1", "1.2.3", "-"]
    tokens = tokenize_numbers(" ".join(texts).encode())
    np.testing.assert_array_equal(tokens.values[:8], [float(t) for t in texts[:8]])
    assert np.signbit(tokens.values[5])
    assert tokens.bad.tolist() == [8, 9]
    # leading zeros are not significant digits
    many = [f"{abs(v):018.4f}" for v in np.random.default_rng(1).normal(0, 1e4, 200)]  # leading zeros
    tokens = tokenize_numbers(" ".join(many).encode())
    np.testing.assert_array_equal(tokens.values, [float(t) for t in many])


class _CompilingScan:
    """Stands in for the compiled scan at its first call: Ctrl-C is pressed while it compiles."""

    signatures: list = []

    def __init__(self) -> None:
        self.finished = False

    def __call__(self, a: np.ndarray):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # Python runs a handler at the next bytecode: here, if nothing holds it back
        self.finished = True
        return "scanned"


def test_ctrl_c_while_the_scan_compiles_is_delivered_once_it_is_done(monkeypatch):
    scan = _CompilingScan()
    monkeypatch.setattr(textnum, "_scan", scan)
    with pytest.raises(KeyboardInterrupt):
        textnum._scanned(np.zeros(1, np.uint8))
    assert scan.finished
