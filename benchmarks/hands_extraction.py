"""Throughput and detection rate of ``extract_hands``. Run pinned to one core for a per-core rate:

    taskset -c 0 python benchmarks/hands_extraction.py [--shared ../shared] [--frames 60]

Prints frames/s for (a) cup.mp4 (no body: pose pass + whole-frame hand landmarker) and (b) a
1920x1080 clip with a 64x48 px hand and an NTU skeleton (body-guided crops), and the share of
frames with a detected hand in each.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from bharnet.video.decode import write_video
from bharnet.video.hand_files import write_ntu_skeleton
from bharnet.video.hands import extract_hands


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared")
    parser.add_argument("--frames", type=int, default=60, help="frames of the 1920x1080 clip")
    args = parser.parse_args()
    hand_model = args.shared / "models" / "hand_landmarker.task"
    pose_model = args.shared / "models" / "pose_landmarker_full.task"
    hand = cv2.cvtColor(cv2.imread(str(args.shared / "data" / "media" / "handSrc.jpg")), cv2.COLOR_BGR2RGB)
    with tempfile.TemporaryDirectory() as tmp:
        video, skeleton = _small_hand_clip(Path(tmp), hand, args.frames)
        cases = [("cup.mp4 640x480, pose + whole frame", args.shared / "data" / "media" / "cup.mp4", None),
                 ("1920x1080, 64 px hand, NTU skeleton crops", video, skeleton)]
        for name, path, skel in cases:
            start = time.perf_counter()
            track = extract_hands(path, hand_model, skeleton=skel, pose_model=pose_model)
            seconds = time.perf_counter() - start
            detected = (~track.missing & ~track.interpolated).any(axis=1).mean()
            print(f"{name}: {track.frames} frames, {track.frames / seconds:.1f} frames/s, hand detected in "
                  f"{detected:.1%} of frames ({track.frames_with_hand / track.frames:.1%} after gap filling), "
                  f"source={track.source}")


if __name__ == "__main__":
    main()
