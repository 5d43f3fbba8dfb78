import json

import numpy as np
import pytest

from bharnet.cli import main
from bharnet.core.errors import UserError
from bharnet.io.ucla import UCLA_CLASSES, read_ucla
from bharnet.store.packed import SkeletonStore
from bharnet.store.ucla import prepare_ucla

from .fixtures import write_ucla


def test_read_ucla_values_label_split(tmp_path):
    written = write_ucla(tmp_path, num_clips=3)
    name = "a02_s01_e00_v02"
    seq = read_ucla(tmp_path / f"{name}.json")
    assert seq.name == name and seq.label == 1 and seq.splits == {"train"}
    assert seq.body.shape == (13, 1, 20, 3) and seq.body.dtype == np.float32
    np.testing.assert_allclose(seq.body[:, 0], np.array(written[name]["skeletons"]), atol=1e-6)
    assert read_ucla(tmp_path / "a03_s01_e00_v03.json").splits == {"test"}


def test_prepare_ucla_store(tmp_path):
    written = write_ucla(tmp_path / "raw", num_clips=6)
    summary = prepare_ucla(tmp_path / "raw", tmp_path / "store", workers=1)
    assert summary.samples == 6 and not summary.rejected
    store = SkeletonStore(tmp_path / "store")
    assert store.classes == UCLA_CLASSES and store.body_layout == "ucla20"
    assert len(store.split("train")) == 4 and len(store.split("test")) == 2
    for i in range(len(store)):
        record = written[store.names[i]]
        assert store.labels[i] == record["label"] - 1
        np.testing.assert_allclose(store.frames("body", i)[:, 0], record["skeletons"], atol=1e-6)


def _bad_ucla(folder):
    good = write_ucla(folder, num_clips=3)
    (folder / "a01_s09_e00_v01.json").write_text('{"file_name": "a01_s09_e00_v01", "skeletons": [[[1, 2')
    bad_joints = {"file_name": "a01_s08_e00_v01", "label": 1, "skeletons": [[[0.0, 0.0, 0.0]] * 19]}
    (folder / "a01_s08_e00_v01.json").write_text(json.dumps(bad_joints))
    bad_label = {"file_name": "a01_s07_e00_v01", "label": 11, "skeletons": [[[0.0, 0.0, 0.0]] * 20]}
    (folder / "a01_s07_e00_v01.json").write_text(json.dumps(bad_label))
    text = {"file_name": "a01_s06_e00_v01", "label": 1, "skeletons": [[["x", 0.0, 0.0]] + [[0.0, 0.0, 0.0]] * 19]}
    (folder / "a01_s06_e00_v01.json").write_text(json.dumps(text))
    (folder / "a01_s05_e00_v01.json").write_text('{"file_name": "a01_s05_e00_v01", "label": 1, "skeletons": []}')
    nan = '{"file_name": "a01_s04_e00_v01", "label": 1, "skeletons": [[' + ", ".join(["[NaN, 0, 0]"] * 20) + "]]}"
    (folder / "a01_s04_e00_v01.json").write_text(nan)
    return good


def test_bad_inputs_reported_and_skipped(tmp_path, capsys):
    good = _bad_ucla(tmp_path / "raw")
    summary = prepare_ucla(tmp_path / "raw", tmp_path / "store", workers=2)
    store = SkeletonStore(tmp_path / "store")
    assert sorted(store.names) == sorted(good)
    problems = {r["source"]: r["problem"] for r in store.rejected}
    assert len(summary.rejected) == 6
    assert "truncated" in problems["a01_s09_e00_v01.json"]
    assert "19 joints, expected 20" in problems["a01_s08_e00_v01.json"]
    assert "unknown label 11" in problems["a01_s07_e00_v01.json"]
    assert "non-numeric" in problems["a01_s06_e00_v01.json"]
    assert "zero frames" in problems["a01_s05_e00_v01.json"]
    assert "NaN" in problems["a01_s04_e00_v01.json"]
    err = capsys.readouterr().err
    assert "a01_s08_e00_v01.json" in err and "19 joints" in err


def test_strict_stops(tmp_path):
    _bad_ucla(tmp_path / "raw")
    with pytest.raises(UserError, match=r"a01_s0\d_e00_v01.json"):
        prepare_ucla(tmp_path / "raw", tmp_path / "store", strict=True)
    assert not (tmp_path / "store").exists()


def test_cli(tmp_path, capsys):
    write_ucla(tmp_path / "raw", num_clips=3)
    argv = ["prepare", "ucla", "--raw", str(tmp_path / "raw"), "--out", str(tmp_path / "s"), "--workers", "1"]
    assert main(argv) == 0
    assert len(SkeletonStore(tmp_path / "s")) == 3
    _bad_ucla(tmp_path / "raw2")
    assert main(["prepare", "ucla", "--raw", str(tmp_path / "raw2"), "--out", str(tmp_path / "s2"), "--strict"]) == 2
    assert "error" in capsys.readouterr().err
    assert main(["prepare", "ucla", "--raw", str(tmp_path / "nope"), "--out", str(tmp_path / "s3")]) == 2


def test_real_ucla_files(shared, tmp_path):
    raw = shared / "data" / "nw-ucla" / "all_sqe"
    for name in ["a01_s01_e00_v01", "a12_s10_e00_v03"]:
        if not (raw / f"{name}.json").exists():
            pytest.skip(f"{name} absent")
        (tmp_path / f"{name}.json").symlink_to(raw / f"{name}.json")
    prepare_ucla(tmp_path, tmp_path / "store")
    store = SkeletonStore(tmp_path / "store")
    assert store.names == ["a01_s01_e00_v01", "a12_s10_e00_v03"]
    assert list(store.labels) == [0, 9] and list(store.split("test")) == [1]
    record = json.loads((raw / "a01_s01_e00_v01.json").read_text())
    np.testing.assert_allclose(store.frames("body", 0)[:, 0], record["skeletons"], atol=1e-6)


def test_a_copied_clip_is_rejected_as_a_duplicate_name(tmp_path):
    write_ucla(tmp_path / "raw", num_clips=3)
    original = tmp_path / "raw" / "a02_s01_e00_v02.json"
    (tmp_path / "raw" / "copy of a02.json").write_bytes(original.read_bytes())
    summary = prepare_ucla(tmp_path / "raw", tmp_path / "store", workers=1)
    problems = dict(summary.rejected)
    assert list(problems) == ["copy of a02.json"]
    assert "duplicate sample name 'a02_s01_e00_v02'" in problems["copy of a02.json"]
    assert "a02_s01_e00_v02.json" in problems["copy of a02.json"]
    store = SkeletonStore(tmp_path / "store")
    assert sorted(store.names) == sorted(set(store.names)) and len(store) == 3
