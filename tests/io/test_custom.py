import numpy as np
import pytest

from bharnet.cli import main
from bharnet.core.errors import UserError
from bharnet.engine.fit import fit
from bharnet.store.custom import prepare_custom
from bharnet.store.packed import SkeletonStore

from .fixtures import write_custom, write_holistic


def test_custom_folder(tmp_path):
    written = write_custom(tmp_path / "mine")
    summary = prepare_custom(tmp_path / "mine", tmp_path / "store", layout="coco17", workers=2)
    assert summary.samples == 6 and not summary.rejected
    store = SkeletonStore(tmp_path / "store")
    assert store.classes == ["clap", "point", "wave"] and store.body_layout == "coco17"
    assert store.has("body_conf") and store.has("hands")
    assert len(store.split("train")) == 4 and len(store.split("test")) == 2
    for i, name in enumerate(store.names):
        record = written[name]
        assert store.classes[store.labels[i]] == record["label"]
        np.testing.assert_array_equal(store.frames("body", i), record["body"])
        if "hands" in record:
            np.testing.assert_array_equal(store.frames("hands", i), record["hands"])
            np.testing.assert_array_equal(store.frames("body_conf", i), record["body_conf"])
        else:
            assert not store.has_hands[i] and (store.frames("hand_conf", i) == 0).all()


def test_custom_bad_samples(tmp_path, capsys):
    write_custom(tmp_path / "mine", with_hands=False)
    np.save(tmp_path / "mine" / "sample01.npy", np.zeros((5, 1, 16, 3)))       # wrong joint count
    np.save(tmp_path / "mine" / "sample03.npy", np.full((5, 1, 17, 3), np.inf))  # not finite
    np.save(tmp_path / "mine" / "sample05.npy", np.zeros((0, 1, 17, 3)))      # zero frames
    with open(tmp_path / "mine" / "labels.csv", "a") as f:
        f.write("sample09,wave,train\nsample00b,jump,train\n")
    np.save(tmp_path / "mine" / "sample00b.npy", np.zeros((5, 1, 17, 3)))
    (tmp_path / "mine" / "classes.txt").write_text("clap\npoint\nwave\n")
    summary = prepare_custom(tmp_path / "mine", tmp_path / "store", layout="coco17")
    problems = dict(summary.rejected)
    assert "16 joints" in problems["sample01"] and "infinite" in problems["sample03"]
    assert "zero frames" in problems["sample05"] and "no file sample09" in problems["sample09"]
    assert "unknown label 'jump'" in problems["sample00b"]
    assert len(SkeletonStore(tmp_path / "store")) == 3
    assert "sample01" in capsys.readouterr().err
    argv = ["prepare", "custom", str(tmp_path / "mine"), "--out", str(tmp_path / "s2"), "--layout", "coco17",
            "--strict"]
    assert main(argv) == 2


def test_holistic_vectors(tmp_path):
    written = write_holistic(tmp_path / "mp")
    assert main(["prepare", "custom", str(tmp_path / "mp"), "--holistic", "--out", str(tmp_path / "s")]) == 0
    store = SkeletonStore(tmp_path / "s")
    assert store.body_layout == "pose33" and store.num_classes == 2
    for i, name in enumerate(store.names):
        x = written[name]
        pose = x[:, :132].reshape(-1, 33, 4)
        np.testing.assert_array_equal(store.frames("body", i)[:, 0], pose[..., :3])
        np.testing.assert_array_equal(store.frames("body_conf", i)[:, 0], pose[..., 3])
        np.testing.assert_array_equal(store.frames("hands", i).reshape(len(x), -1), x[:, -126:])
        conf = store.frames("hand_conf", i)
        assert (conf[:4, 1] == 0).all() and (conf[4:, 1] == 1).all() and (conf[:, 0] == 1).all()


@pytest.mark.integration  # MediaPipe on videos, then trains
def test_rgb_videos_become_a_store_that_trains(tiny_config, tmp_path, cup_clip, hand_model, pose_model, capsys):
    """Real videos: the hand of cup.mp4 (nobody in view: a zero body, the hands from whole frames)."""

    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("cup_a", "cup_b", "cup_c"):
        (folder / f"{name}.mp4").write_bytes(cup_clip.read_bytes())
    (folder / "broken.mp4").write_bytes(b"not a video")
    (folder / "labels.csv").write_text("name,label,split\ncup_a,hold cup,train\ncup_b,wave,train\n"
                                       "cup_c,hold cup,test\nbroken,wave,test\nmissing,wave,test\n")
    argv = ["prepare", "custom", str(folder), "--videos", "--out", str(tmp_path / "store"),
            "--hand-model", str(hand_model), "--pose-model", str(pose_model), "--workers", "1"]
    assert main(argv) == 1  # two inputs rejected: the store holds the others
    err = capsys.readouterr().err
    assert "broken.mp4" in err and "no video file missing.*" in err
    store = SkeletonStore(tmp_path / "store")
    assert len(store) == 3 and store.body_layout == "pose33" and store.classes == ["hold cup", "wave"]
    for i in range(3):
        assert store.has_hands[i] and (store.frames("hand_conf", i).max(axis=(1, 2)) > 0).mean() > 0.9
        assert (store.frames("body", i) == 0).all() and (store.frames("body_conf", i) == 0).all()
    run = fit(tiny_config(tmp_path / "store", tmp_path, name="run", model={"name": "hand-expert"},
                          trainer={"max_epochs": 1}), quiet=True)
    assert run["last"].exists()


@pytest.mark.parametrize("broken", ["sample00", "sample02"])  # the first file, one further on
def test_a_corrupt_npz_is_one_rejected_sample(tmp_path, broken):
    write_custom(tmp_path / "mine")
    (tmp_path / "mine" / f"{broken}.npz").write_bytes(b"PK\x03\x04 not a zip archive at all")
    summary = prepare_custom(tmp_path / "mine", tmp_path / "store", layout="coco17")
    problems = dict(summary.rejected)
    assert list(problems) == [broken] and "zip" in problems[broken].lower()
    assert len(SkeletonStore(tmp_path / "store")) == 5


def test_a_repeated_labels_row_is_refused(tmp_path):
    write_custom(tmp_path / "mine")
    with open(tmp_path / "mine" / "labels.csv", "a") as f:
        f.write("sample01,wave,test\n")
    with pytest.raises(UserError, match=r"labels.csv, line 8: sample01 again \(first on line 3\)"):
        prepare_custom(tmp_path / "mine", tmp_path / "store", layout="coco17")
    assert not (tmp_path / "store").exists()


def test_a_labels_csv_that_is_not_utf8_is_named(tmp_path):
    write_custom(tmp_path / "mine")
    (tmp_path / "mine" / "labels.csv").write_bytes("name,label\nsample00,caf\xe9\n".encode("latin-1"))
    with pytest.raises(UserError, match=r"labels.csv: not UTF-8 text"):
        prepare_custom(tmp_path / "mine", tmp_path / "store", layout="coco17")
