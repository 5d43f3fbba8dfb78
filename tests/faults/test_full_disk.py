"""Fault tests: the disk fills up while `prepare` writes the store (a patched writer runs out of
space after a given number of bytes). The run ends with one message saying what to do, and the
same command run again afterwards gives the store of an uninterrupted run, byte for byte."""

from __future__ import annotations

import errno
import io

import pytest

import bharnet.store.packed as store_module
from bharnet.cli import main
from tests.io.fixtures import write_ucla


class _FillingDisk:
    """Room for ``budget`` more bytes in all the files opened through it together."""

    def __init__(self, budget: int) -> None:
        self.left = budget

    def open(self, path, mode="r", *args, **kwargs):
        f = io.open(path, mode, *args, **kwargs)  # noqa: UP020, SIM115 - the real one; closed by the store
        return _Limited(f, self) if "a" in mode or "w" in mode else f


class _Limited:
    def __init__(self, f, disk: _FillingDisk) -> None:
        self._f, self._disk = f, disk

    def write(self, data: bytes) -> int:
        if len(data) > self._disk.left:
            self._f.write(data[: self._disk.left])  # what fits, as a real disk would
            self._disk.left = 0
            raise OSError(errno.ENOSPC, "No space left on device", self._f.name)
        self._disk.left -= len(data)
        return self._f.write(data)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


def _files(path):
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    root = tmp_path_factory.mktemp("disk")
    write_ucla(root / "raw", num_clips=24, frames=20)
    assert main(["prepare", "ucla", "--raw", str(root / "raw"), "--out", str(root / "reference"),
                 "--workers", "1", "--no-progress"]) == 0
    return root


# bytes of room: none, inside the first sample, in the middle, near the end of the raw data
BUDGETS = [0, 500, 20_000, 70_000, 150_000]


@pytest.mark.parametrize("budget", BUDGETS)
def test_a_full_disk_says_what_to_do_and_the_rerun_gives_the_same_store(raw, tmp_path, monkeypatch, capsys,
                                                                        budget):
    out = tmp_path / "store"
    argv = ["prepare", "ucla", "--raw", str(raw / "raw"), "--out", str(out), "--workers", "1", "--no-progress"]
    monkeypatch.setattr(store_module, "open", _FillingDisk(budget).open, raising=False)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "run the same command again to resume" in err
    assert "Traceback" not in err and not out.exists()
    monkeypatch.undo()  # space freed
    assert main(argv) == 0
    assert _files(out) == _files(raw / "reference")


def test_a_full_disk_while_packing_says_what_to_do(raw, tmp_path, monkeypatch, capsys):
    out = tmp_path / "store"
    argv = ["prepare", "ucla", "--raw", str(raw / "raw"), "--out", str(out), "--workers", "1", "--no-progress"]

    def no_room(raw_path, npy, shape):
        raise OSError(errno.ENOSPC, "No space left on device", str(npy))

    monkeypatch.setattr(store_module, "_raw_to_npy", no_room)
    assert main(argv) == 2
    assert "body.npy: cannot write (No space left on device)" in capsys.readouterr().err
    monkeypatch.undo()
    assert main(argv) == 0
    assert _files(out) == _files(raw / "reference")
