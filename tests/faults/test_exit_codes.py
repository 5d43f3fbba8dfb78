"""Exit codes of the batch commands (README, "Where results go, and exit codes"): 1 when any input
failed, whatever the others did, with the results of the others kept; 2 when there is nothing to do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bharnet.cli import main

pytestmark = pytest.mark.integration  # commands end to end, MediaPipe


@pytest.fixture
def clips(tmp_path: Path, cup_clip: Path) -> Path:
    """A real clip and a damaged one in one folder."""
    folder = tmp_path / "clips"
    folder.mkdir()
    (folder / "cup.mp4").write_bytes(cup_clip.read_bytes())
    (folder / "broken.mp4").write_bytes(b"\x00" * 4096)
    return folder


def test_extract_hands_with_a_failed_video_exits_1_and_keeps_the_others(clips, tmp_path, hand_model, pose_model,
                                                                        capsys):
    argv = ["extract-hands", str(clips), "--out", str(tmp_path / "hands"), "--hand-model", str(hand_model),
            "--pose-model", str(pose_model), "--json"]
    assert main(argv) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["done"] == 1 and list(summary["failures"]) == [str(clips / "broken.mp4")]
    assert sorted(p.name for p in (tmp_path / "hands").iterdir()) == ["cup.npz"]
    assert main(argv) == 1  # a rerun: the done one skipped, the broken one fails again
    assert json.loads(capsys.readouterr().out)["skipped"] == 1


def test_extract_roi_with_a_failed_video_exits_1(clips, tmp_path, pose_model, capsys):
    argv = ["extract-roi", str(clips / "broken.mp4"), "--out", str(tmp_path / "roi"), "--pose-model", str(pose_model)]
    assert main(argv) == 1
    assert "broken.mp4" in capsys.readouterr().err


def test_a_folder_without_videos_exits_2_before_the_models_are_looked_for(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    for argv in (["extract-hands", str(tmp_path / "empty"), "--out", str(tmp_path / "o")],
                 ["extract-roi", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]):
        assert main(argv) == 2
        assert "no video files in" in capsys.readouterr().err
