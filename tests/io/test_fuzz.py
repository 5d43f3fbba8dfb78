"""Property-based tests of every reader: arbitrary bytes and mutations of valid files end as the
reader's documented error, never another exception and never a hang.

Per-input readers (NTU, PKU, N-UCLA, custom, Holistic) raise ``ValueError`` (the conversion adds
the input's name and rejects it); whole-file readers (CTR-GCN and pyskl imports, hands files)
raise :class:`UserError` naming the file. The default run tries a few dozen inputs per reader;
``-m slow`` many more.
"""

from __future__ import annotations

import pickle
import signal
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bharnet.core.errors import UserError
from bharnet.core.sequence import Sequence

from .fixtures import write_ctrgcn_npz, write_custom, write_holistic, write_ntu, write_pku, write_pyskl, write_ucla

DEFAULT_EXAMPLES = 25
SLOW_EXAMPLES = 400
#: no single input may take longer than this (a hang)
SECONDS_PER_INPUT = 30


@contextmanager
def _no_hang(seconds: int):
    def expired(signum, frame):
        raise TimeoutError(f"a reader took more than {seconds} s on one input")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True)
class Reader:
    """How to feed bytes to one reader: the file name, a valid file to mutate, what to call."""

    file_name: str
    valid: Callable[[Path], bytes]
    read: Callable[[Path], object]
    error: type[Exception]


def _valid_ntu(tmp: Path) -> bytes:
    write_ntu(tmp, num_files=1, frames=6)
    return next(tmp.glob("*.skeleton")).read_bytes()


def _read_ntu(path: Path):
    from bharnet.io.ntu import read_ntu_sample

    return read_ntu_sample(str(path))


def _valid_pku(tmp: Path) -> bytes:
    write_pku(tmp, videos=("0002-L",), frames=40)
    return (tmp / "skeleton" / "0002-L.txt").read_bytes()


def _read_pku(path: Path):
    from bharnet.io.pku import read_pku_sample

    labels = path.parent / "labels"
    labels.mkdir(exist_ok=True)
    (labels / path.name).write_text("3,2,20,1\n51,21,39,1\n")
    return read_pku_sample(str(path), labels_dir=str(labels))


def _valid_pku_labels(tmp: Path) -> bytes:
    return b"3,2,20,1\n12,21,30,1\n51,31,39,1\n"


def _read_pku_labels(path: Path):
    from bharnet.io.pku import read_pku_labels

    return read_pku_labels(path, 40)


def _valid_ucla(tmp: Path) -> bytes:
    write_ucla(tmp, num_clips=1, frames=4)
    return next(tmp.glob("*.json")).read_bytes()


def _read_ucla(path: Path):
    from bharnet.io.ucla import read_ucla

    return [read_ucla(path)]


def _valid_custom(suffix: str) -> Callable[[Path], bytes]:
    def valid(tmp: Path) -> bytes:
        write_custom(tmp, n=2, frames=4)
        return (tmp / f"sample0{0 if suffix == 'npz' else 1}.{suffix}").read_bytes()

    return valid


def _read_custom(path: Path):
    from bharnet.io.custom import read_custom_sample

    return read_custom_sample(str(path.parent), path.stem, "0", frozenset(), classes=None, persons=1, joints=17,
                              channels=3)


def _valid_labels_csv(tmp: Path) -> bytes:
    write_custom(tmp, n=3, frames=4)
    return (tmp / "labels.csv").read_bytes()


def _read_labels_csv(path: Path):
    from bharnet.io.custom import read_labels_csv

    return read_labels_csv(path.parent)


def _valid_holistic(tmp: Path) -> bytes:
    write_holistic(tmp, n=1, frames=3)
    return (tmp / "clip0.npy").read_bytes()


def _read_holistic(path: Path):
    from bharnet.io.custom import read_holistic

    return read_holistic(path)


def _valid_ctrgcn(tmp: Path) -> bytes:
    write_ctrgcn_npz(tmp / "x.npz", n_train=2, n_test=1, frames=4, classes=60)
    return (tmp / "x.npz").read_bytes()


def _valid_pyskl(tmp: Path) -> bytes:
    write_pyskl(tmp / "x.pkl", n=3, frames=4)
    return (tmp / "x.pkl").read_bytes()


def _import(path: Path):
    from bharnet.store.imports import prepare_import

    return prepare_import(path, path.parent / "store", progress=False)


def _valid_hands(tmp: Path) -> bytes:
    from bharnet.video.hand_files import HandTrack, save_hands

    t = 3
    track = HandTrack(np.zeros((t, 2, 21, 3), np.float32), np.ones((t, 2), np.float32),
                      np.ones((t, 2, 21), np.float32), np.zeros((t, 2), bool), np.zeros((t, 2), bool), 640, 480,
                      30.0, "pose", "0")
    return save_hands(track, tmp / "x.npz").read_bytes()


def _read_hands(path: Path):
    from bharnet.video.hand_files import read_hands

    return read_hands(path)


READERS = {
    "ntu": Reader("S001C001P001R001A001.skeleton", _valid_ntu, _read_ntu, ValueError),
    "pku": Reader("0002-L.txt", _valid_pku, _read_pku, ValueError),
    "pku-labels": Reader("0002-L.txt", _valid_pku_labels, _read_pku_labels, ValueError),
    "ucla": Reader("a01_s01_e00_v01.json", _valid_ucla, _read_ucla, ValueError),
    "custom-npy": Reader("sample01.npy", _valid_custom("npy"), _read_custom, ValueError),
    "custom-npz": Reader("sample00.npz", _valid_custom("npz"), _read_custom, ValueError),
    "labels-csv": Reader("labels.csv", _valid_labels_csv, _read_labels_csv, ValueError),
    "holistic": Reader("clip0.npy", _valid_holistic, _read_holistic, ValueError),
    "ctrgcn-npz": Reader("NTU60_CS.npz", _valid_ctrgcn, _import, UserError),
    "pyskl-pkl": Reader("annotations.pkl", _valid_pyskl, _import, UserError),
    "hands-file": Reader("S001C001P001R001A001.npz", _valid_hands, _read_hands, UserError),
}


@cache
def _valid_bytes(kind: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return READERS[kind].valid(Path(tmp))


@st.composite
def _mutated(draw, valid: bytes) -> bytes:
    """A valid file with a few random edits: truncation, flipped / inserted / deleted bytes, a
    duplicated slice: what a damaged disk, a bad copy or a careless edit makes."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "duplicate"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "truncate":
            del data[pos:]
        elif op == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 64))]
        elif op == "duplicate":
            data[pos:pos] = data[pos:pos + draw(st.integers(1, 256))]
    return bytes(data)


def _inputs(kind: str):
    valid = _valid_bytes(kind)
    return st.one_of(st.binary(max_size=4096), _mutated(valid), st.just(valid[: len(valid) // 2]))


def _check(kind: str, data: bytes) -> None:
    reader = READERS[kind]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / reader.file_name
        path.write_bytes(data)
        try:
            with _no_hang(SECONDS_PER_INPUT):
                result = reader.read(path)
        except reader.error as err:
            assert str(err).strip(), "an error without a message"
            if reader.error is UserError:
                assert path.name in str(err), f"the message does not name the file: {err}"
            return
        if isinstance(result, list) and result and isinstance(result[0], Sequence):
            for seq in result:
                assert seq.num_frames >= 0 and seq.body.ndim == 4


def _fuzz(kind: str, examples: int) -> int:
    tried = []

    @settings(max_examples=examples, deadline=None, database=None, derandomize=examples <= DEFAULT_EXAMPLES,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=_inputs(kind))
    def check(data: bytes) -> None:
        tried.append(len(data))
        _check(kind, data)

    check()
    return len(tried)


@pytest.mark.parametrize("kind", sorted(READERS))
def test_a_reader_fed_damaged_bytes_raises_only_its_documented_error(kind):
    assert _fuzz(kind, DEFAULT_EXAMPLES) > 0


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(READERS))
def test_a_reader_fed_damaged_bytes_raises_only_its_documented_error_many_inputs(kind):
    assert _fuzz(kind, SLOW_EXAMPLES) > 0


def test_the_valid_files_the_fuzzing_mutates_are_read():
    """The mutations start from files each reader accepts (else the fuzzing tests only errors)."""
    for kind, reader in READERS.items():
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / reader.file_name
            path.write_bytes(_valid_bytes(kind))
            assert reader.read(path), kind


def test_pickle_fuzz_seed_is_a_plain_pickle():
    assert isinstance(pickle.loads(_valid_bytes("pyskl-pkl")), dict)
