"""Numeric flags are checked as the command line is parsed: a bad value is a usage error (exit 2,
a usage line, the flag named) before any work, on every command."""

from __future__ import annotations

import argparse

import pytest

from bharnet.cli import main
from bharnet.cli.flags import non_negative_float, non_negative_int, positive_float, positive_int

# (command line without the flag, flag, a bad value): every numeric flag of every command
BAD = [
    (["predict", "m.ckpt", "v.mp4"], "--clip", "-1"),
    (["predict", "m.ckpt", "v.mp4"], "--clip", "0"),
    (["predict", "m.ckpt", "v.mp4"], "--stride", "0"),
    (["predict", "m.ckpt", "v.mp4"], "--top", "0"),
    (["predict", "m.ckpt", "v.mp4"], "--top", "2.5"),
    (["live", "m.ckpt"], "--window", "0"),
    (["live", "m.ckpt"], "--stride", "-0.5"),
    (["live", "m.ckpt"], "--top", "-3"),
    (["live", "m.ckpt"], "--seconds", "nan"),
    (["live", "m.ckpt"], "--people", "0"),
    (["record", "--label", "wave", "--out", "clips"], "--seconds", "0"),
    (["record", "--label", "wave", "--out", "clips"], "--count", "0"),
    (["record", "--label", "wave", "--out", "clips"], "--countdown", "-1"),
    (["extract-hands", "v.mp4", "--out", "hands"], "--workers", "0"),
    (["extract-hands", "v.mp4", "--out", "hands"], "--max-gap", "-1"),
    (["extract-roi", "v.mp4", "--out", "rois"], "--workers", "-2"),
    (["prepare", "ucla", "--raw", "raw", "--out", "store"], "--workers", "0"),
    (["prepare", "ntu", "--skeletons", "raw", "--out", "store"], "--workers", "x"),
    (["prepare", "pku", "--skeletons", "s", "--labels", "l", "--out", "store"], "--workers", "0"),
    (["prepare", "custom", "folder", "--out", "store"], "--persons", "0"),
    (["prepare", "custom", "folder", "--out", "store"], "--workers", "0"),
    (["test", "m.ckpt"], "--clips", "0"),
    (["export", "m.ckpt", "--onnx", "m.onnx"], "--frames", "0"),
    (["export", "m.ckpt", "--onnx", "m.onnx"], "--batch", "-1"),
    (["profile", "body-expert"], "--frames", "0"),
    (["profile", "body-expert"], "--num-classes", "0"),
    (["benchmark"], "--batch", "0"),
    (["benchmark"], "--frames", "-64"),
    (["benchmark"], "--persons", "0"),
    (["benchmark"], "--threads", "0"),
    (["benchmark"], "--repeats", "0"),
    (["benchmark"], "--warmup", "-1"),
    (["benchmark"], "--num-classes", "inf"),
    (["ensemble", "a.npz", "b.npz", "--out", "report"], "--weights", "1,nan"),
    (["ensemble", "a.npz", "b.npz", "--out", "report"], "--weights", "1,-1"),
]


@pytest.mark.parametrize(("argv", "flag", "value"), BAD, ids=[f"{a[0]} {f} {v}" for a, f, v in BAD])
def test_a_bad_number_is_a_usage_error(argv, flag, value, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, flag, value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: bharnet") and f"argument {flag}" in err and repr(value) in err, err


def test_number_types_take_their_range_and_refuse_the_rest() -> None:
    assert positive_int("3") == 3 and non_negative_int("0") == 0
    assert positive_float("0.5") == 0.5 and non_negative_float("0") == 0.0
    for parse, bad in ((positive_int, "0"), (positive_int, "1.5"), (non_negative_int, "-1"), (positive_float, "0"),
                       (positive_float, "inf"), (positive_float, "nan"), (non_negative_float, "-0.1"),
                       (non_negative_float, "x")):
        with pytest.raises(argparse.ArgumentTypeError, match=repr(bad)):
            parse(bad)
