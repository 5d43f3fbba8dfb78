"""Real hand video moved along drawn paths: the "video" kind of ``hand_norm.py``.

    PYTHONPATH=src python benchmarks/moved_clips.py OUT [--shared ../shared] [--per-class 24]

Each clip is a random stretch of cup.mp4 (a real hand turning a cup, no person in view), scaled
down and moved across a plain canvas along one of five paths (a circle, four swipes), as a camera
sees a hand that draws a gesture in the air; every clip has its own size, amplitude, speed and
start. The paths are the classes; the hand's shape, taken from the same video, tells none apart.
Writes ``OUT/<class>_NNN.mp4`` and ``OUT/labels.csv`` (the custom format of ``bharnet prepare
custom --videos``): of each class's clips, the first 14 % in ``val``, the next 30 % in ``test``, the
rest in ``train``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bharnet.video.decode import iter_frames, write_video

PATHS = ("circle", "swipe_left", "swipe_right", "swipe_up", "swipe_down")
CANVAS = (480, 640)  # height, width
FRAMES = 40
HAND_AT = np.array([0.6, 0.45])  # where the hand is in cup.mp4's frames, as a share of width and height


def path_offsets(kind: str, frames: int, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    """(frames, 2) x, y pixel offsets of the hand from where it starts, drawing ``kind``."""
    s = np.linspace(0.0, 1.0, frames)
    s = s + rng.uniform(-0.15, 0.15) * np.sin(np.pi * s)  # uneven speed
    if kind == "circle":
        angle = 2 * np.pi * s
        xy = np.stack([np.sin(angle), 1 - np.cos(angle)], axis=1) * amplitude / 2
    else:
        direction = {"swipe_left": (-1, 0), "swipe_right": (1, 0), "swipe_up": (0, -1), "swipe_down": (0, 1)}[kind]
        xy = np.outer(s - 0.5, direction) * amplitude
    return xy + rng.normal(0, 2.0, xy.shape)  # a hand never moves quite straight


def moved_clip(source: list[np.ndarray], kind: str, rng: np.random.Generator) -> list[np.ndarray]:
    """One clip: a stretch of ``source`` frames scaled down and moved along ``kind`` over a canvas."""
    import cv2

    start = int(rng.integers(0, len(source) - FRAMES))
    scale = rng.uniform(0.6, 0.8)
    amplitude = rng.uniform(100, 160)
    h, w = source[0].shape[:2]
    size = (int(w * scale), int(h * scale))
    centre = np.array([CANVAS[1] / 2, CANVAS[0] / 2]) + rng.uniform(-30, 30, 2)
    offsets = path_offsets(kind, FRAMES, amplitude, rng)
    background = np.median(np.stack(source[::20]), axis=(0, 1, 2)).astype(np.uint8)
    clip = []
    for t in range(FRAMES):
        canvas = np.empty((*CANVAS, 3), np.uint8)
        canvas[:] = background
        patch = cv2.resize(source[start + t], size, interpolation=cv2.INTER_AREA)
        x0, y0 = (centre + offsets[t] - HAND_AT * np.array(size)).round().astype(int)
        xs, ys = slice(max(x0, 0), min(x0 + size[0], CANVAS[1])), slice(max(y0, 0), min(y0 + size[1], CANVAS[0]))
        canvas[ys, xs] = patch[ys.start - y0:ys.stop - y0, xs.start - x0:xs.stop - x0]
        clip.append(canvas)
    return clip


def write_moved_clips(out: Path, shared: Path, per_class: int = 24, seed: int = 0) -> Path:
    """The clips and their ``labels.csv`` in ``out`` (kept when there already)."""
    if (out / "labels.csv").exists():
        return out
    if out.exists() and any(out.iterdir()):  # never write over files this did not make
        raise SystemExit(f"{out} holds other files and no labels.csv: give an empty or new folder")
    out.mkdir(parents=True, exist_ok=True)
    source = list(iter_frames(shared / "data" / "media" / "cup.mp4"))
    rng = np.random.default_rng(seed)
    rows = []
    for kind in PATHS:
        for n in range(per_class):
            name = f"{kind}_{n:03d}"
            write_video(out / f"{name}.mp4", moved_clip(source, kind, rng), fps=30, threads=1)
            split = "val" if n < round(0.14 * per_class) else "test" if n < round(0.44 * per_class) else "train"
            rows.append(f"{name},{kind},{split}")
    (out / "labels.csv").write_text("\n".join(rows) + "\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared")
    parser.add_argument("--per-class", type=int, default=24)
    args = parser.parse_args()
    print(write_moved_clips(args.out, args.shared, args.per_class))


if __name__ == "__main__":
    main()
