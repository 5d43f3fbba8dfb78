"""Recall of the hand extraction on the development set: every real clip at hand, each with an
annotation of which hands of the kept person are visible in which frames
(``benchmarks/hands_devset/<clip>.json``, made by looking at contact sheets).

    OMP_NUM_THREADS=1 taskset -c 0 python benchmarks/hands_recall.py [--shared ../shared] [--only NAME ...]
        [--preview DIR] [--json] [--clips DIR]

Per clip it prints: the recall of visible hands (frames where an annotated visible hand is found
or interpolated, over the frames where it is visible; a hand on another person does not count),
finds where the hand is not visible, side swaps, finds on another person (composites: a hand
found far from the kept person's wrists and near the other person's), and frames per second of
this process's CPU time (run it pinned to one core: the per-core rate).

Side swaps: where the annotation gives the person's wrists (the NTU skeleton's colour positions,
moved with the person in a composite), a hand whose wrist is nearer the other side's wrist than
its own by half; elsewhere, a frame where one hand is visible and only the other slot has a hand.

An annotation file: ``video`` (a path under the shared folder, or ``build:crossing_front`` /
``build:crossing_behind``, made by ``dev_clips.py``), ``skeleton`` (NTU skeleton used by the
extraction, or null), ``mirrored``, ``frames``, ``visible``: ``{"left": [[first, last], ...],
"right": [...]}`` inclusive frame ranges where that hand of the kept person is in view (a hand
mostly hidden, only fingertips showing, counts as not visible), and ``"either"``: ranges where one
hand is in view and nobody names its side (no person in view: its slot is MediaPipe's guess, and a
change of slot counts as a side swap), ``truth``: ``"ntu-sample"``,
``"composite-b"`` or null (whose wrists name the sides), ``note``: how it was annotated.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dev_clips  # noqa: E402

from bharnet.video.extract_config import ExtractConfig  # noqa: E402
from bharnet.video.hand_files import HandTrack  # noqa: E402
from bharnet.video.hands import extract_hands  # noqa: E402
from bharnet.video.landmarker import REUSABLE  # noqa: E402
from bharnet.video.preview import write_contact_sheet  # noqa: E402

HERE = Path(__file__).resolve().parent
NTU_WRISTS = (6, 10)  # NTU joints: left wrist, right wrist


def visible_mask(ranges: dict[str, list[list[int]]], frames: int) -> tuple[np.ndarray, np.ndarray]:
    """(T, 2) bool per named hand and (T,) bool "one hand, side not named", from the annotation's
    inclusive ranges."""
    mask, either = np.zeros((frames, 2), dtype=bool), np.zeros(frames, dtype=bool)
    for side, name in enumerate(("left", "right")):
        for first, last in ranges.get(name, []):
            mask[first:last + 1, side] = True
    for first, last in ranges.get("either", []):
        either[first:last + 1] = True
    return mask, either


def truth_wrists(kind: str | None, shared: Path, frames: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(T, 2, 2) pixels of the kept person's wrists (left, right) and of another person's, or None."""
    if kind is None:
        return None, None
    ntu = shared / "data" / "ntu-sample"
    if kind == "ntu-sample":
        from bharnet.video.hand_files import read_ntu_color

        body = next(iter(read_ntu_color(ntu / f"{dev_clips.SAMPLE}.skeleton").values())).astype(float)
        body[(body == 0).all(axis=-1)] = np.nan
        return body[:frames, list(NTU_WRISTS)], None
    a, b = dev_clips.person_a_b(ntu, frames)
    return b[:frames, list(NTU_WRISTS)], a[:frames, list(NTU_WRISTS)]


def score(track: HandTrack, visible: tuple[np.ndarray, np.ndarray], kept: np.ndarray | None,
          other: np.ndarray | None) -> dict:
    """The numbers of one clip (see the module docstring)."""
    n = min(len(visible[0]), track.frames)
    has = ~track.missing[:n]
    vis, either = visible[0][:n], visible[1][:n]
    wrist = track.keypoints[:n, :, 0, :2] * np.array([track.width, track.height])
    size = np.ptp(track.keypoints[:n, :, :, :2] * np.array([track.width, track.height]), axis=2).max(axis=-1)
    swaps = 0
    wrong = np.zeros_like(has)
    for t in range(n):
        for s in (0, 1):
            if not has[t, s]:
                continue
            if kept is not None and np.isfinite(kept[t]).all():
                own, cross = np.linalg.norm(wrist[t, s] - kept[t, s]), np.linalg.norm(wrist[t, s] - kept[t, 1 - s])
                if other is not None and np.isfinite(other[t]).all():
                    near_other = np.linalg.norm(wrist[t, s] - other[t], axis=-1).min()
                    wrong[t, s] = near_other < 0.5 * min(own, cross) and min(own, cross) > 2 * size[t, s]
                swaps += int(cross < 0.5 * own and own > size[t, s] and not wrong[t, s])
            elif kept is None and vis[t, 1 - s] and not vis[t, s] and not has[t, 1 - s]:
                swaps += 1
    swaps += slot_changes(has, either)
    has = has & ~wrong  # another person's hand is no find of the kept person's
    found_either = int((has.any(axis=1) & either).sum())
    found = int((has & vis).sum()) + found_either
    visible = int(vis.sum() + either.sum())
    extra = int((has & ~vis).sum()) - found_either  # an unnamed hand's find is not an extra one
    return {"frames": n, "visible": visible, "found": found, "recall": round(found / max(visible, 1), 3),
            "recall_left_right": [round(float((has & vis)[:, s].sum() / max(vis[:, s].sum(), 1)), 3) for s in (0, 1)],
            "found_not_visible": extra, "side_swaps": swaps, "other_person": int(wrong.sum()),
            "source": track.source}


def slot_changes(has: np.ndarray, either: np.ndarray) -> int:
    """Where one hand is visible and its side is not named: the times its slot changes between
    frames where exactly one slot has a hand (each slot should follow one hand)."""
    last = None
    changes = 0
    for t in np.flatnonzero(either):
        if has[t].sum() == 1:
            slot = int(np.flatnonzero(has[t])[0])
            changes += int(last is not None and slot != last)
            last = slot
    return changes


def run_clip(name: str, note: dict, shared: Path, workdir: Path, preview: Path | None) -> dict:
    video = note["video"]
    if video.startswith("build:"):
        kind = video.split(":", 1)[1]
        path = workdir / f"{kind}.avi"
        if not path.exists():
            dev_clips.build_crossing(shared / "data" / "ntu-sample", path, behind=kind.endswith("behind"))
    else:
        path = shared / video
    skeleton = shared / note["skeleton"] if note.get("skeleton") else None
    models = shared / "models"
    config = ExtractConfig(mirrored=note.get("mirrored"))
    with REUSABLE.session():
        cpu = time.process_time()
        track = extract_hands(path, models / "hand_landmarker.task", skeleton=skeleton,
                              pose_model=models / "pose_landmarker_full.task", config=config)
        cpu = time.process_time() - cpu
    if preview is not None:
        preview.mkdir(parents=True, exist_ok=True)
        write_contact_sheet(path, track, preview / f"{name}.png")
    kept, other = truth_wrists(note.get("truth"), shared, track.frames)
    result = score(track, visible_mask(note["visible"], note["frames"]), kept, other)
    result["fps_cpu"] = round(track.frames / cpu, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=HERE.parents[0].parent / "shared")
    parser.add_argument("--only", nargs="*", help="clip names (annotation file stems)")
    parser.add_argument("--preview", type=Path, help="write a contact sheet per clip into this folder")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    parser.add_argument("--clips", type=Path, help="where the built clips are kept (default: a temporary folder)")
    args = parser.parse_args()
    notes = {p.stem: json.loads(p.read_text()) for p in sorted((HERE / "hands_devset").glob("*.json"))}
    if args.only:
        notes = {k: v for k, v in notes.items() if k in args.only}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        clips = args.clips or Path(tmp)
        clips.mkdir(parents=True, exist_ok=True)
        for name, note in notes.items():
            results[name] = r = run_clip(name, note, args.shared, clips, args.preview)
            if not args.json:
                print(f"{name:28s} recall {r['recall']:.3f} (left {r['recall_left_right'][0]:.3f}, right "
                      f"{r['recall_left_right'][1]:.3f}; {r['found']}/{r['visible']})  found where not visible "
                      f"{r['found_not_visible']}  side swaps {r['side_swaps']}  other person {r['other_person']}  "
                      f"{r['fps_cpu']} frames/s CPU  source={r['source']}", flush=True)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
