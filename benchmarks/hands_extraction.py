"""Throughput and per-hand detection counts of ``extract_hands``. Run pinned to one core for a
per-core rate, and say the machine's load (``uptime``) with the numbers:

    taskset -c 0 python benchmarks/hands_extraction.py [--shared ../shared] [--repeat 2] [--only ntu]
        [--breakdown]

Cases: (a) the real NTU sample S001C001P001R001A001 (1920x1080, 103 frames) with its skeleton
(skeleton-guided regions: the rate NTU120's 114,480 videos are extracted at) and (b) without it
(pose landmarker over whole frames); (c) cup.mp4 (640x480, nobody in view: whole frames);
(d) a 1920x1080 clip with a 64x48 px hand and an NTU skeleton. For each: frames per second of
wall time and of this process's CPU time (the two agree when the core is not shared), and per
hand the frames found / interpolated / missing. ``--breakdown`` also says where the CPU time of
the last run went: the hand landmarker's and the pose landmarker's calls (count, ms of CPU time
each, MediaPipe's threads included), decoding the video to RGB (timed on its own, one pass), and
the rest (regions, tracking, filling).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import cv2
import numpy as np

from bharnet.video.decode import iter_frames, write_video
from bharnet.video.extract_config import ExtractConfig
from bharnet.video.hands import extract_hands
from bharnet.video.landmarker import REUSABLE, HandLandmarker, PoseLandmarker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.io.fixtures import write_ntu_skeleton  # noqa: E402  (the tests' writer of NTU skeleton files)


def _small_hand_clip(folder: Path, hand: np.ndarray, frames: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    small = cv2.resize(hand, (64, 48), interpolation=cv2.INTER_AREA)
    clips, body = [], np.zeros((frames, 25, 2))
    for t in range(frames):
        x0, y0 = 1300 + int(20 * np.sin(t / 5)), 600 + int(10 * np.cos(t / 7))
        frame = np.full((1080, 1920, 3), 200, np.uint8)
        frame[y0:y0 + 48, x0:x0 + 64] = small
        clips.append(frame)
        b = np.zeros((25, 2)) + [x0, 500]
        b[4], b[8], b[5], b[6], b[9] = [x0 - 80, 450], [x0, 450], [x0 - 100, 600], [x0 - 200, 700], [x0 - 50, 640]
        b[10], b[11], b[23], b[24] = [x0 + 2, y0 + 30], [x0 + 20, y0 + 25], [x0 + 45, y0 + 25], [x0 + 15, y0 + 5]
        body[t] = b + rng.normal(0, 3, (25, 2))
    video = write_video(folder / "S001C001P001R001A001_rgb.avi", clips, fps=30)
    return video, write_ntu_skeleton(folder / "S001C001P001R001A001.skeleton", {"1": body})


def _counts(track) -> str:
    found = ~track.missing & ~track.interpolated
    return "  ".join(f"{name} {int(found[:, s].sum())}/{int(track.interpolated[:, s].sum())}/"
                     f"{int(track.missing[:, s].sum())}" for s, name in enumerate(("left", "right")))


@contextmanager
def _calls_timed(spent: dict[str, list[float]]) -> Iterator[None]:
    """Count the landmarkers' calls and the CPU time in them (``spent[name] = [calls, seconds]``)."""
    originals = {cls: cls.detect for cls in (HandLandmarker, PoseLandmarker)}

    def timed(cls: type):
        inner, entry = originals[cls], spent.setdefault(cls.__name__, [0, 0.0])

        def detect(self, *args, **kwargs):
            start = time.process_time()
            try:
                return inner(self, *args, **kwargs)
            finally:
                entry[0] += 1
                entry[1] += time.process_time() - start
        return detect

    for cls in originals:
        cls.detect = timed(cls)
    try:
        yield
    finally:
        for cls, inner in originals.items():
            cls.detect = inner


def _decode_seconds(video: Path) -> float:
    start = time.process_time()
    for _ in iter_frames(video):
        pass
    return time.process_time() - start


def _run(name: str, video: Path, skeleton: Path | None, hand_model: Path, pose_model: Path, repeat: int,
         breakdown: bool = False, frame_step: int = 1) -> None:
    rates, spent = [], {}
    # as in a batch run (`bharnet extract-hands` over many videos), the landmarkers are made once
    with REUSABLE.session():
        for k in range(repeat):
            spent.clear()
            with _calls_timed(spent) if breakdown and k == repeat - 1 else nullcontext():
                wall, cpu = time.perf_counter(), time.process_time()
                track = extract_hands(video, hand_model, skeleton=skeleton, pose_model=pose_model,
                                      config=ExtractConfig(frame_step=frame_step))
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            rates.append((track.frames / wall, track.frames / cpu))
    best_wall, best_cpu = max(r[0] for r in rates), max(r[1] for r in rates)
    print(f"{name}: {track.frames} frames, {best_wall:.1f} frames/s wall, {best_cpu:.1f} frames/s of CPU time "
          f"(best of {repeat}); found/interpolated/missing: {_counts(track)}; source={track.source}", flush=True)
    if breakdown:
        _print_breakdown(spent, _decode_seconds(video), cpu, track.frames)


def _print_breakdown(spent: dict[str, list[float]], decode: float, total: float, frames: int) -> None:
    parts = {f"{name} ({calls} calls, {1000 * sec / max(calls, 1):.1f} ms each)": sec
             for name, (calls, sec) in spent.items()}
    parts["decoding to RGB"] = decode
    parts["the rest"] = total - sum(parts.values())
    for what, sec in parts.items():
        print(f"    {what}: {1000 * sec / frames:.1f} ms a frame, {100 * sec / total:.0f}%")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared")
    parser.add_argument("--frames", type=int, default=60, help="frames of the generated 1920x1080 clip")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case (the best is printed)")
    parser.add_argument("--only", choices=("ntu", "all"), default="all",
                        help="ntu: only the NTU sample with its skeleton")
    parser.add_argument("--breakdown", action="store_true",
                        help="say where the CPU time of the last run went (landmarker calls, decoding, the rest)")
    parser.add_argument("--frame-step", type=int, default=1, help="look at every N-th frame (ExtractConfig.frame_step)")
    args = parser.parse_args()
    hand_model = args.shared / "models" / "hand_landmarker.task"
    pose_model = args.shared / "models" / "pose_landmarker_full.task"
    ntu = args.shared / "data" / "ntu-sample"
    with tempfile.TemporaryDirectory() as tmp:
        cases = [("NTU S001C001P001R001A001 1920x1080, skeleton-guided", ntu / "S001C001P001R001A001_rgb.avi",
                  ntu / "S001C001P001R001A001.skeleton")]
        if args.only == "all":
            hand = cv2.cvtColor(cv2.imread(str(args.shared / "data" / "media" / "handSrc.jpg")), cv2.COLOR_BGR2RGB)
            video, skeleton = _small_hand_clip(Path(tmp), hand, args.frames)
            cases += [("NTU S001C001P001R001A001 1920x1080, pose landmarker", ntu / "S001C001P001R001A001_rgb.avi",
                       None),
                      ("cup.mp4 640x480, whole frames", args.shared / "data" / "media" / "cup.mp4", None),
                      ("1920x1080, 64 px hand, NTU skeleton", video, skeleton)]
        for name, path, skel in cases:
            _run(name, path, skel, hand_model, pose_model, args.repeat, args.breakdown, args.frame_step)


if __name__ == "__main__":
    main()
