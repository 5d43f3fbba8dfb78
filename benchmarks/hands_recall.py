"""Recall of the hand extraction on the development set: every real clip at hand, each with an
annotation of which hands of the kept person are visible in which frames
(``benchmarks/hands_devset/<clip>.json``, made by looking at contact sheets).

    OMP_NUM_THREADS=1 taskset -c 0 python benchmarks/hands_recall.py [--shared ../shared] [--only NAME ...]
        [--preview DIR] [--json] [--frames] [--clips DIR] [--encoder-threads N ...] [--frame-step N]

Per input it prints: the recall of visible hands (frames where an annotated visible hand is found
or interpolated, over the frames where it is visible), finds where the hand is not visible, side
swaps, finds on another person, finds elsewhere, and frames per second of this process's CPU time
(run it pinned to one core: the per-core rate); with ``--frames``, per hand, what was found in each
frame (:func:`frame_codes`). Then the spread over all inputs (:func:`summary`): mean and lowest
recall, the inputs below 90%, the wrong finds added up. ``--encoder-threads 1 2 4`` scores the
composites on three encodings of the same frames (``walk_in.threads4``: the pose model's detections
follow the encoded pixels, so these are three takes of one scene), the other clips once.

Where the clip has the kept person's true wrists (the NTU sample and the composites: the pose
landmarker's wrists on the sample alone, moved with her in a composite), each find is judged by
where its wrist is: within half her shoulder width of her wrist on its side it is hers (only these
count toward the recall); at her other wrist, a side swap; at the other person's wrist, theirs;
anywhere else, a find elsewhere. Without true wrists, a side swap is a frame where one hand is
visible and only the other slot has a hand, or (one hand, side not named) a change of its slot.

An annotation file: ``video`` (a path under the shared folder, or ``build:<clip>``, a composite made by
``dev_clips.py``), ``skeleton`` (NTU skeleton used by the
extraction, or null), ``mirrored``, ``frames``, ``visible``: ``{"left": [[first, last], ...],
"right": [...]}`` inclusive frame ranges where that hand of the kept person is in view (a hand
mostly hidden, only fingertips showing, counts as not visible), and ``"either"``: ranges where one
hand is in view and nobody names its side (no person in view: its slot is MediaPipe's guess, and a
change of slot counts as a side swap), ``truth``: ``"ntu-sample"``, ``"composite-b"`` or null
(whose wrists are the truth), ``note``: how it was annotated, and optionally ``second``: the
second most active person's ``truth`` (``"composite-a"``), ``visible`` and ``note``, scored on
``extract-hands --people 2``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dev_clips  # noqa: E402

from bharnet.video.extract_config import ExtractConfig  # noqa: E402
from bharnet.video.hand_files import HandTrack  # noqa: E402
from bharnet.video.hands import extract_hands, extract_people_hands  # noqa: E402
from bharnet.video.landmarker import REUSABLE  # noqa: E402
from bharnet.video.preview import write_contact_sheet  # noqa: E402

HERE = Path(__file__).resolve().parent
#: the share of the kept person's visible hands each input should reach
TARGET = 0.9


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


def truth_wrists(kind: str | None, clip: str, shared: Path, workdir: Path
                 ) -> tuple[np.ndarray | None, np.ndarray | None, float]:
    """(T, 2, 2) pixels of the kept person's wrists (left, right), of another person's (or None),
    and the distance (pixels) within which a found wrist is at a true one: half her shoulder width.
    The wrists are the pose landmarker's on the NTU sample alone (``dev_clips.sample_wrists``),
    moved with her in a composite; None, None when the clip has no truth."""
    if kind is None:
        return None, None, np.nan
    cache = workdir / "sample_wrists.npz"
    if not cache.exists():
        wrists, width = dev_clips.sample_wrists(shared / "data" / "ntu-sample",
                                                shared / "models" / "pose_landmarker_full.task")
        np.savez(cache, wrists=wrists, width=width)
    saved = np.load(cache)
    wrists, reach = saved["wrists"], 0.5 * float(saved["width"])
    if kind == "ntu-sample":
        return wrists, None, reach
    a, b = dev_clips.a_and_b(wrists, clip)
    return (b, a, reach) if kind == "composite-b" else (a, b, reach)


def classify(wrist: np.ndarray, side: int, kept: np.ndarray, other: np.ndarray | None, reach: float) -> str:
    """What a hand found in slot ``side`` with its wrist at ``wrist`` is: ``"own"`` (at the kept
    person's wrist of that side), ``"swap"`` (at their other wrist), ``"other"`` (at another
    person's wrist) or ``"elsewhere"``; ``"unknown"`` where the kept person's wrists are not known
    (out of the window)."""
    if not np.isfinite(kept).all():
        return "unknown"
    own, cross = (float(np.linalg.norm(wrist - kept[k])) for k in (side, 1 - side))
    if own <= reach and own <= cross:
        return "own"
    if cross <= reach:
        return "swap"
    if other is not None and np.isfinite(other).all() and np.linalg.norm(other - wrist, axis=-1).min() <= reach:
        return "other"
    return "elsewhere"


def score(track: HandTrack, visible: tuple[np.ndarray, np.ndarray], kept: np.ndarray | None,
          other: np.ndarray | None, reach: float = np.nan) -> dict:
    """The numbers of one clip (see the module docstring)."""
    kinds = find_kinds(track, visible, kept, other, reach)
    n = len(kinds)
    has = ~track.missing[:n]
    vis, either = visible[0][:n], visible[1][:n]
    right = has & (kinds != "swap") & (kinds != "other") & (kinds != "elsewhere")
    found_either = int((right.any(axis=1) & either).sum())
    found = int((right & vis).sum()) + found_either
    visible_count = int(vis.sum() + either.sum())
    extra = int((right & ~vis).sum()) - found_either  # an unnamed hand's find is not an extra one
    return {"frames": n, "visible": visible_count, "found": found,
            "recall": round(found / max(visible_count, 1), 3),
            "recall_left_right": [round(float((right & vis)[:, s].sum() / max(vis[:, s].sum(), 1)), 3) for s in (0, 1)],
            "found_not_visible": extra, "side_swaps": int((kinds == "swap").sum()) + slot_changes(has, either),
            "other_person": int((kinds == "other").sum()), "elsewhere": int((kinds == "elsewhere").sum()),
            "source": track.source}


def find_kinds(track: HandTrack, visible: tuple[np.ndarray, np.ndarray], kept: np.ndarray | None,
               other: np.ndarray | None, reach: float = np.nan) -> np.ndarray:
    """(T, 2) per frame and hand what the hand found is (:func:`classify`), "" where none is. Without
    the kept person's wrists only side swaps are known: a hand alone in the other slot than the
    visible one's; any other find is ""."""
    n = min(len(visible[0]), track.frames)
    has, vis = ~track.missing[:n], visible[0][:n]
    wrist = track.keypoints[:n, :, 0, :2] * np.array([track.width, track.height])
    kinds = np.full(has.shape, "", dtype=object)
    if kept is not None:
        for t, s in zip(*np.nonzero(has), strict=True):
            kinds[t, s] = classify(wrist[t, s], s, kept[t], None if other is None else other[t], reach)
    else:
        kinds[has & np.roll(vis, 1, axis=1) & ~vis & ~np.roll(has, 1, axis=1)] = "swap"
    return kinds


#: one character per frame and hand (``--frames``)
FRAME_CODES = {"own": "o", "swap": "S", "other": "X", "elsewhere": "E", "unknown": "?"}


def frame_codes(track: HandTrack, visible: tuple[np.ndarray, np.ndarray], kept: np.ndarray | None,
                other: np.ndarray | None, reach: float = np.nan) -> list[str]:
    """Per hand (left, right) a line of one character per frame (:func:`find_kinds`): ``o`` the kept
    person's hand found (where the clip has no true wrists, any hand but a side swap), ``n`` found
    where the annotation says it is not visible, ``S`` at their other wrist (a side swap), ``X`` at
    the other person's, ``E`` elsewhere, ``?`` not known (their wrists out of the window), ``.``
    visible and missed (a hand whose side is not named: missed in both slots), blank neither; and a
    ruler of tens."""
    kinds = find_kinds(track, visible, kept, other, reach)
    n = len(kinds)
    lines = []
    for side in (0, 1):
        codes = []
        for t in range(n):
            vis = visible[0][t, side] or (visible[1][t] and bool(track.missing[t].all()))
            if track.missing[t, side]:
                codes.append("." if vis else " ")
                continue
            kind = kinds[t, side] or "own"
            codes.append("n" if kind == "own" and not (vis or visible[1][t]) else FRAME_CODES[kind])
        lines.append("".join(codes))
    lines.append("".join(str(t // 10 % 10) if t % 10 == 0 else " " for t in range(n)))
    return lines


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


def run_clip(name: str, note: dict, shared: Path, workdir: Path, preview: Path | None, threads: int = 1,
             frame_step: int = 1) -> dict:
    video = note["video"]
    clip = built_clip(note)
    if clip:
        path = workdir / (f"{clip}.avi" if threads == 1 else f"{clip}.threads{threads}.avi")
        if not path.exists():
            dev_clips.build_clip(shared / "data" / "ntu-sample", path, clip, threads)
    else:
        path = shared / video
    skeleton = shared / note["skeleton"] if note.get("skeleton") else None
    models = shared / "models"
    config = ExtractConfig(mirrored=note.get("mirrored"), frame_step=frame_step)
    with REUSABLE.session():
        cpu = time.process_time()
        track = extract_hands(path, models / "hand_landmarker.task", skeleton=skeleton,
                              pose_model=models / "pose_landmarker_full.task", config=config)
        cpu = time.process_time() - cpu
    if preview is not None:
        preview.mkdir(parents=True, exist_ok=True)
        write_contact_sheet(path, track, preview / f"{name}.png")
    kept, other, reach = truth_wrists(note.get("truth"), clip, shared, workdir)
    visible = visible_mask(note["visible"], note["frames"])
    result = score(track, visible, kept, other, reach)
    result["fps_cpu"] = round(track.frames / cpu, 1)
    result["frames_codes"] = frame_codes(track, visible, kept, other, reach)
    if frame_step > 1:
        with REUSABLE.session():
            full = extract_hands(path, models / "hand_landmarker.task", skeleton=skeleton,
                                 pose_model=models / "pose_landmarker_full.task", config=replace(config, frame_step=1))
        result["px_from_full_rate"] = landmark_error(track, full)
    if "second" in note:
        result["second"] = score_second(path, note, clip, skeleton, config, shared, workdir)
    return result


def landmark_error(track: HandTrack, full: HandTrack) -> dict:
    """How far (pixels) the landmarks of ``track`` (a frame step) lie from those found at every
    frame, over the frames where both have the hand: median and 95th percentile of all 21, and the
    frames compared."""
    n = min(track.frames, full.frames)
    both = ~track.missing[:n] & ~full.missing[:n]
    scale = np.array([track.width, track.height])
    gap = np.linalg.norm((track.keypoints[:n, ..., :2] - full.keypoints[:n, ..., :2]) * scale, axis=-1)[both]
    if not gap.size:
        return {"median": None, "p95": None, "frames": 0}
    return {"median": round(float(np.median(gap)), 1), "p95": round(float(np.percentile(gap, 95)), 1),
            "frames": int(both.sum())}


def score_second(path: Path, note: dict, clip: str, skeleton: Path | None, config: ExtractConfig, shared: Path,
                 workdir: Path) -> dict | None:
    """The second most active person's numbers (``extract-hands --people 2``), against the
    annotation's ``second``; None when only one person is found."""
    models = shared / "models"
    with REUSABLE.session():
        tracks = extract_people_hands(path, models / "hand_landmarker.task", skeleton=skeleton,
                                      pose_model=models / "pose_landmarker_full.task", config=replace(config, people=2))
    if len(tracks) < 2:
        return None
    second = note["second"]
    kept, other, reach = truth_wrists(second["truth"], clip, shared, workdir)
    return score(tracks[1], visible_mask(second["visible"], note["frames"]), kept, other, reach)


def inputs(notes: dict[str, dict], encodings: list[int]) -> list[tuple[int, str, dict]]:
    """(encoder threads, clip name, annotation) of each input: a built clip on every encoding, any
    other clip once."""
    return [(threads, name, note) for k, threads in enumerate(encodings) for name, note in notes.items()
            if k == 0 or built_clip(note)]


def built_clip(note: dict) -> str:
    """The composite an annotation's ``video`` names (``build:<clip>``, made by ``dev_clips.py``), or
    "" for a file of the shared folder."""
    video = note["video"]
    return video.split(":", 1)[1] if video.startswith("build:") else ""


def summary(results: dict[str, dict]) -> dict:
    """The spread over the inputs scored (``results``: per input label, :func:`run_clip`'s numbers):
    the kept person's mean and lowest recall, the inputs below :data:`TARGET`, the wrong finds added
    up, and the second person's mean and lowest recall where scored (``second``)."""
    def spread(scores: dict[str, dict]) -> dict:
        lowest = min(scores, key=lambda k: scores[k]["recall"])
        return {"inputs": len(scores), "recall_mean": round(float(np.mean([r["recall"] for r in scores.values()])), 3),
                "recall_min": scores[lowest]["recall"], "lowest": lowest,
                "below_target": [k for k, r in scores.items() if r["recall"] < TARGET],
                **{key: sum(r[key] for r in scores.values())
                   for key in ("side_swaps", "other_person", "elsewhere", "found_not_visible")}}

    out = spread(results)
    second = {k: r["second"] for k, r in results.items() if r.get("second")}
    if second:
        out["second"] = spread(second)
    return out


def summary_line(numbers: dict, who: str) -> str:
    below = ", ".join(numbers["below_target"]) or "none"
    return (f"{who} over {numbers['inputs']} inputs: recall mean {numbers['recall_mean']:.3f}, lowest "
            f"{numbers['recall_min']:.3f} ({numbers['lowest']}); below {TARGET:.2f}: {below}; side swaps "
            f"{numbers['side_swaps']}, on another person {numbers['other_person']}, elsewhere {numbers['elsewhere']}, "
            f"found where not visible {numbers['found_not_visible']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=HERE.parents[0].parent / "shared")
    parser.add_argument("--only", nargs="*", help="clip names (annotation file stems)")
    parser.add_argument("--preview", type=Path, help="write a contact sheet per clip into this folder")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    parser.add_argument("--clips", type=Path, help="where the built clips are kept (default: a temporary folder)")
    parser.add_argument("--frame-step", type=int, default=1,
                        help="look for hands in every N-th frame (ExtractConfig.frame_step); also prints how far "
                             "the landmarks lie from those found at every frame")
    parser.add_argument("--frames", action="store_true",
                        help="also print, per clip and hand, what was found in each frame (see frame_codes)")
    parser.add_argument("--encoder-threads", type=int, nargs="+", default=[1],
                        help="encode the built clips with this many threads: another encoding of the same clips "
                             "(the pose model's detections follow the pixels; default 1); several values score "
                             "the built clips on each, the others once")
    args = parser.parse_args()
    notes = {p.stem: json.loads(p.read_text()) for p in sorted((HERE / "hands_devset").glob("*.json"))}
    if args.only:
        notes = {k: v for k, v in notes.items() if k in args.only}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        clips = args.clips or Path(tmp)
        clips.mkdir(parents=True, exist_ok=True)
        for threads, name, note in inputs(notes, args.encoder_threads):
            label = f"{name}.threads{threads}" if threads != 1 and built_clip(note) else name
            results[label] = r = run_clip(label, note, args.shared, clips, args.preview, threads, args.frame_step)
            if not args.json:
                print(f"{label:34s} recall {r['recall']:.3f} (left {r['recall_left_right'][0]:.3f}, right "
                      f"{r['recall_left_right'][1]:.3f}; {r['found']}/{r['visible']})  found where not visible "
                      f"{r['found_not_visible']}  side swaps {r['side_swaps']}  other person {r['other_person']}  "
                      f"elsewhere {r['elsewhere']}  "
                      + (f"px from full rate {r['px_from_full_rate']}  " if "px_from_full_rate" in r else "") +
                      f"{r['fps_cpu']} frames/s CPU  source={r['source']}", flush=True)
                if args.frames:
                    for hand, line in zip(("  left ", "  right", "       "), r["frames_codes"], strict=True):
                        print(f"{hand} {line}", flush=True)
                if r.get("second"):
                    q = r["second"]
                    print(f"{'  second person':34s} recall {q['recall']:.3f} (left {q['recall_left_right'][0]:.3f}, "
                          f"right {q['recall_left_right'][1]:.3f}; {q['found']}/{q['visible']})  found where not "
                          f"visible {q['found_not_visible']}  side swaps {q['side_swaps']}  other person "
                          f"{q['other_person']}  elsewhere {q['elsewhere']}", flush=True)
    numbers = summary(results)
    if args.json:
        if not args.frames:
            for r in results.values():
                r.pop("frames_codes")
        print(json.dumps({"inputs": results, "summary": numbers}))
    else:
        print(summary_line(numbers, "kept person"))
        if "second" in numbers:
            print(summary_line(numbers["second"], "second person"))


if __name__ == "__main__":
    main()
