import pickle
import subprocess
import sys

import numpy as np
import pytest

from bharnet.cli import main
from bharnet.core.errors import UserError
from bharnet.io.imports import NpzMember
from bharnet.io.ntu import NTU_CLASSES
from bharnet.store.imports import prepare_import
from bharnet.store.packed import SkeletonStore

from .fixtures import write_ctrgcn_npz, write_pyskl


@pytest.mark.parametrize("compressed", [False, True])
def test_ctrgcn_npz_trims_padding(tmp_path, compressed):
    written = write_ctrgcn_npz(tmp_path / "NTU60_CS.npz", compressed=compressed)
    summary = prepare_import(tmp_path / "NTU60_CS.npz", tmp_path / "store")
    assert summary.samples == 8
    store = SkeletonStore(tmp_path / "store")
    assert store.classes == NTU_CLASSES[:60] and store.body_layout == "ntu25"
    assert len(store.split("train")) == 5 and len(store.split("test")) == 3
    for i, name in enumerate(store.names):
        part, index = name.split("_")
        x, labels = written[part]
        index = int(index)
        body = store.frames("body", i)
        assert body.shape == (30 - index, 2, 25, 3) and store.labels[i] == labels[index]
        np.testing.assert_array_equal(body.reshape(len(body), 150), x[index, : 30 - index])


def test_npz_bad_rows(tmp_path):
    write_ctrgcn_npz(tmp_path / "a.npz", n_train=4, n_test=2)
    with np.load(tmp_path / "a.npz") as f:
        arrays = dict(f)
    arrays["x_train"][2] = 0  # all padding
    arrays["x_test"][1, 0, 0] = np.nan
    np.savez(tmp_path / "b.npz", **arrays)
    summary = prepare_import(tmp_path / "b.npz", tmp_path / "store")
    problems = dict(summary.rejected)
    assert "zero frames" in problems["train/2"] and "NaN" in problems["test/1"]
    assert len(SkeletonStore(tmp_path / "store")) == 4
    with pytest.raises(UserError, match="train/2"):
        prepare_import(tmp_path / "b.npz", tmp_path / "store2", strict=True)


def test_pyskl_pickle(tmp_path):
    data = write_pyskl(tmp_path / "coco.pkl")
    prepare_import(tmp_path / "coco.pkl", tmp_path / "store")
    store = SkeletonStore(tmp_path / "store")
    assert store.body_layout == "coco17" and store.meta["channels"] == 2 and store.meta["num_persons"] == 2
    assert store.has("body_conf") and len(store.split("xsub_train")) == 4 and len(store.split("xsub_val")) == 2
    for i, annotation in enumerate(data["annotations"]):
        j = store.names.index(annotation["frame_dir"])
        m = annotation["keypoint"].shape[0]
        np.testing.assert_allclose(store.frames("body", j)[:, :m], annotation["keypoint"].transpose(1, 0, 2, 3))
        np.testing.assert_allclose(store.frames("body_conf", j)[:, :m], annotation["keypoint_score"].transpose(1, 0, 2))
        assert store.labels[j] == annotation["label"] and (store.frames("body", j)[:, m:] == 0).all()
        assert i == j


def test_pyskl_bad_annotation_and_cli(tmp_path, capsys):
    data = write_pyskl(tmp_path / "x.pkl")
    data["annotations"][1]["keypoint"] = data["annotations"][1]["keypoint"][:, :, :16]
    (tmp_path / "x.pkl").write_bytes(pickle.dumps(data))
    # exit 1: one annotation rejected, the others converted
    assert main(["prepare", "import", str(tmp_path / "x.pkl"), "--out", str(tmp_path / "s")]) == 1
    err = capsys.readouterr().err
    assert "clip001" in err and "16 joints" in err
    assert main(["prepare", "import", str(tmp_path / "nope.npz"), "--out", str(tmp_path / "t")]) == 2


def test_npz_member_reads_rows_in_any_order(tmp_path):
    written = write_ctrgcn_npz(tmp_path / "c.npz", compressed=True)
    member = NpzMember(tmp_path / "c.npz", "x_train")
    for i in (3, 4, 0, 2):  # forward skips rows, backward reopens the archive
        np.testing.assert_array_equal(member.row(i), written["train"][0][i])
    member.close()


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    data = write_pyskl(tmp_path / "ok.pkl")
    data["annotations"][0]["label"] = _RunsCode(tmp_path / "ran")
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps(data))
    with pytest.raises(UserError, match=r"evil.pkl: .*refused: the pickle would call (posix|os).system"):
        prepare_import(tmp_path / "evil.pkl", tmp_path / "store")
    assert not (tmp_path / "ran").exists()
    summary = prepare_import(tmp_path / "ok.pkl", tmp_path / "store")  # numpy arrays and plain data still load
    assert summary.samples == 6


def test_a_damaged_memo_index_in_a_pickle_fails_without_allocating_gigabytes(tmp_path):
    # PROTO 4, EMPTY_DICT, LONG_BINPUT 1.5e9, STOP: C's unpickler would grow its memo array to ~24 GB
    (tmp_path / "damaged.pkl").write_bytes(b"\x80\x04}r" + (1_500_000_000).to_bytes(4, "little") + b".")
    script = ("import resource, sys\n"
              "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
              "from bharnet.io.imports import read_pyskl\n"
              "try:\n    read_pyskl(sys.argv[1])\n"
              "except ValueError as err:\n    print('refused:', err)\n")
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "damaged.pkl")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "refused: not a pyskl annotation file" in result.stdout
