import numpy as np
import pytest

from bharnet.cli import main
from bharnet.io.pku import PKU_CLASSES, read_split_file
from bharnet.store.packed import SkeletonStore
from bharnet.store.pku import prepare_pku

from .fixtures import write_pku


def test_prepare_pku_clips_labels_splits(tmp_path):
    written = write_pku(tmp_path)
    summary = prepare_pku(tmp_path / "skeleton", tmp_path / "label", tmp_path / "store",
                          splits_dir=tmp_path / "split", workers=2)
    assert summary.samples == 12 and not summary.rejected
    store = SkeletonStore(tmp_path / "store")
    assert store.classes == PKU_CLASSES and len(PKU_CLASSES) == 51
    for i, name in enumerate(store.names):
        video, k = name.rsplit("_", 1)
        data, segments = written[video]
        action, start, end = segments[int(k)]
        assert store.labels[i] == action - 1
        np.testing.assert_allclose(store.frames("body", i), data[start:end], atol=1e-6)
    assert {store.names[i] for i in store.split("xview_test")} == {f"{v}_{k:02d}" for v in ("0002-L", "0291-L")
                                                                   for k in range(3)}
    assert len(store.split("xview_train")) == 6
    assert len(store.split("xsub_train")) == 9 and len(store.split("xsub_test")) == 3


def test_split_file_spellings(tmp_path):
    (tmp_path / "s.txt").write_text("Training videos: \n0002-L, 0003-M\nValidation videos: \n0004-R\n")
    assert read_split_file(tmp_path / "s.txt") == ({"0002-L", "0003-M"}, {"0004-R"})


@pytest.mark.parametrize("label_text, skeleton_edit, problem", [
    ("52,5,30,1\n", None, "line 1: unknown label 52"),
    ("1,5,300,1\n", None, "outside the 90 frames"),
    ("1,five,30,1\n", None, "expected action,start,end"),
    ("1,5,30,1\n", lambda t: t[: len(t) // 2], "values, expected 150"),
    ("1,5,30,1\n", lambda t: t.replace("0.000000", "zero", 1), "non-numeric value 'zero'"),
])
def test_bad_videos_reported(tmp_path, capsys, label_text, skeleton_edit, problem):
    write_pku(tmp_path)
    (tmp_path / "label" / "0002-M.txt").write_text(label_text)
    if skeleton_edit:
        path = tmp_path / "skeleton" / "0002-M.txt"
        path.write_text(skeleton_edit(path.read_text()))
    summary = prepare_pku(tmp_path / "skeleton", tmp_path / "label", tmp_path / "store")
    assert [name for name, _ in summary.rejected] == ["0002-M.txt"]
    assert problem in summary.rejected[0][1]
    assert len(SkeletonStore(tmp_path / "store")) == 9
    assert "0002-M.txt" in capsys.readouterr().err


def test_cli_without_split_folder(tmp_path, capsys):
    write_pku(tmp_path)
    argv = ["prepare", "pku", "--skeletons", str(tmp_path / "skeleton"), "--labels", str(tmp_path / "label"),
            "--out", str(tmp_path / "store"), "--workers", "1"]
    assert main(argv) == 0
    assert "no cross-subject split" in capsys.readouterr().err
    assert set(SkeletonStore(tmp_path / "store").splits) == {"xview_train", "xview_test"}


def test_split_folder_found_beside_the_skeletons(tmp_path):
    write_pku(tmp_path)
    (tmp_path / "split").rename(tmp_path / "Split")  # the download's folder name
    summary = prepare_pku(tmp_path / "skeleton", tmp_path / "label", tmp_path / "store", workers=1)
    assert not summary.notes
    assert len(SkeletonStore(tmp_path / "store").split("xsub_test")) == 3
