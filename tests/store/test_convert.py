import numpy as np
import pytest

from bharnet.core.errors import UserError
from bharnet.core.sequence import Sequence
from bharnet.store import ntu
from bharnet.store.convert import run_conversion
from bharnet.store.ntu import prepare_ntu
from bharnet.store.packed import SkeletonStore, StoreWriter
from tests.io.fixtures import write_ntu


def _convert(source: str) -> list[Sequence]:
    if source.startswith("bad"):
        raise ValueError("line 3: something is wrong")
    i = int(source.split("-")[1])
    return [Sequence(name=source, label=i % 3, body=np.full((i + 1, 1, 20, 3), i, np.float32),
                     splits=frozenset({"train"}))]


def _writer(path):
    return StoreWriter(path, body_layout="ucla20", num_persons=1, classes=["a", "b", "c"])


def test_order_rejects_and_summary(tmp_path):
    sources = ["s-1", "bad-1", "s-2", "s-3"]
    with _writer(tmp_path / "store") as writer:
        summary = run_conversion(sources, _convert, writer, workers=2)
    store = SkeletonStore(tmp_path / "store")
    assert store.names == ["s-1", "s-2", "s-3"]  # input order, whatever the workers' timing
    assert store.rejected == [{"source": "bad-1", "problem": "line 3: something is wrong"}]
    assert summary.converted == 3 and summary.inputs == 4 and "1 input rejected" in " ".join(summary.lines())
    np.testing.assert_array_equal(store.frames("body", 1), np.full((3, 1, 20, 3), 2))


def test_invalid_sample_is_rejected_not_written(tmp_path):
    def nan_sample(source):
        return [Sequence(name=source, label=0, body=np.full((2, 1, 20, 3), np.nan, np.float32))]

    with _writer(tmp_path / "store") as writer:
        run_conversion(["x"], nan_sample, writer)
    store = SkeletonStore(tmp_path / "store")
    assert len(store) == 0 and "NaN" in store.rejected[0]["problem"]


def test_strict_stops_at_first_bad_input(tmp_path):
    with pytest.raises(UserError, match="bad-1: line 3: something is wrong"), _writer(tmp_path / "store") as writer:
        run_conversion(["s-1", "bad-1", "s-2"], _convert, writer, strict=True)
    assert not (tmp_path / "store").exists()


def test_resume_converts_only_the_rest(tmp_path):
    sources = [f"s-{i}" for i in range(10)]
    seen = []

    def interrupted(source):
        if len(seen) == 4:
            raise KeyboardInterrupt
        seen.append(source)
        return _convert(source)

    with pytest.raises(KeyboardInterrupt), _writer(tmp_path / "store") as writer:
        run_conversion(sources, interrupted, writer)
    assert not (tmp_path / "store").exists()
    seen_again = []

    def counting(source):
        seen_again.append(source)
        return _convert(source)

    with _writer(tmp_path / "store") as writer:
        summary = run_conversion(sources, counting, writer)
    assert seen_again == sources[4:] and summary.resumed == 4
    store = SkeletonStore(tmp_path / "store")
    assert store.names == sources and list(store.labels) == [i % 3 for i in range(10)]


def test_resume_ntu_after_interruption(tmp_path, monkeypatch):
    write_ntu(tmp_path / "raw", num_files=6)
    real = ntu.read_ntu_sample
    calls = []

    def flaky(path, **kwargs):
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(path, **kwargs)

    monkeypatch.setattr(ntu, "read_ntu_sample", flaky)
    with pytest.raises(KeyboardInterrupt):
        prepare_ntu(tmp_path / "raw", tmp_path / "store", workers=1)
    calls.clear()
    monkeypatch.setattr(ntu, "read_ntu_sample", lambda path, **kw: (calls.append(path), real(path, **kw))[1])
    summary = prepare_ntu(tmp_path / "raw", tmp_path / "store", workers=1)
    assert len(calls) == 4 and summary.resumed == 2 and len(SkeletonStore(tmp_path / "store")) == 6
