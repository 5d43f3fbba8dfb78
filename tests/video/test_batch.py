"""The batch runner shared by extract-hands and extract-roi: plans, shards, resume, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from bharnet.core.errors import UserError
from bharnet.video.batch import RunSummary, VideoJob, collect, parse_shard, pending, plan_videos, run_jobs


def _work(job: VideoJob) -> dict:
    if job.video.name.startswith("bad"):
        raise ValueError("cannot decode")
    if job.video.name.startswith("user"):
        raise UserError(f"{job.video}: no person")
    job.out.write_text("done")
    return {"video": str(job.video), "ok": True}


def test_plan_shards_resume_and_failures(tmp_path: Path) -> None:
    videos, skeletons, out = tmp_path / "videos", tmp_path / "skeletons", tmp_path / "out"
    for folder in (videos, skeletons, out):
        folder.mkdir()
    for name in ("S001C001P001R001A001_rgb.avi", "bad.mp4", "user.mp4", "notes.txt"):
        (videos / name).write_bytes(b"x")
    (skeletons / "S001C001P001R001A001.skeleton").write_text("")
    jobs = plan_videos([videos], lambda v: out / f"{v.stem}.txt", skeletons,
                       preview_path=lambda v: out / f"{v.stem}.png")
    assert [j.video.name for j in jobs] == ["S001C001P001R001A001_rgb.avi", "bad.mp4", "user.mp4"]  # by name
    assert [j.skeleton is not None for j in jobs if j.video.name.startswith("S001")] == [True]
    assert all(j.preview == out / f"{j.video.stem}.png" for j in jobs)
    halves = [{j.video for j in plan_videos([videos], lambda v: v, shard=(i, 2))} for i in range(2)]
    assert halves[0] | halves[1] == {j.video for j in jobs} and not halves[0] & halves[1]

    summary = collect(run_jobs(pending(jobs, first := RunSummary()), _work), first, start=0.0)
    assert (first.videos, first.done, first.skipped) == (3, 1, 0)
    assert "ValueError: cannot decode" in first.failed[str(videos / "bad.mp4")]
    assert first.failed[str(videos / "user.mp4")].endswith("no person")
    assert summary is first and summary.seconds > 0
    again = RunSummary()
    assert len(pending(jobs, again)) == 2 and again.skipped == 1  # the one done is not done again


def test_shard_text() -> None:
    assert parse_shard("3/16") == (3, 16)
    for bad in ("16/16", "a/b", "1"):
        with pytest.raises(UserError, match="--shard"):
            parse_shard(bad)
