"""Your own gestures as training data: labelled clips from a camera (or any source), written as the
custom format's videos (``<label>_NNN.mp4`` and ``labels.csv``, see :mod:`bharnet.io.custom`), so
that ``record`` -> ``prepare custom --videos`` -> ``train`` -> ``live`` is one loop.

Each clip is written beside its final name and renamed when complete, and its ``labels.csv`` row is
added (atomically) only then: an interrupted run leaves the clips it finished and no half clip.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path

from bharnet.core.atomic import write_text
from bharnet.core.errors import UserError
from bharnet.core.outputs import check_output_folder, holds_only
from bharnet.video.decode import iter_frames
from bharnet.video.landmarker import PoseLandmarker
from bharnet.video.models import resolve_pose_model
from bharnet.video.overlay import Overlay, OverlayWriter, Preview, draw_overlay
from bharnet.video.people import pose_people
from bharnet.video.source import CapturedFrame, open_source

__all__ = ["record_clips", "clip_split", "person_in_view", "HAND_ONLY_HINT"]

#: what to train when the clips show a hand but no person
HAND_ONLY_HINT = ("no person in view (a hand alone?): train the hand expert with "
                  "src/bharnet/configs/recipes/hand-gestures-cpu.yaml; gestures-cpu.yaml reads the body too")

_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]*$")


def clip_split(number: int) -> str:
    """The default split of clip ``number`` (from 1): every fifth is ``test``, the others ``train``."""
    return "test" if number % 5 == 0 else "train"


#: what a custom folder of recorded clips holds
CLIP_FILES = ("*.mp4", "labels.csv")


def record_clips(source: str | int, label: str, out: str | Path, *, seconds: float = 3.0, count: int = 10,
                 countdown: float = 3.0, split: str | None = None, display: bool = True,
                 log: Callable[[str], None] = lambda msg: None) -> list[Path]:
    """Record ``count`` clips of ``seconds`` of ``label`` from ``source`` into ``out``, each after a
    ``countdown`` (shown in the preview window where a display exists). Returns the clips written;
    stops early, keeping the finished clips, when the source ends or on Ctrl-C."""
    if not _LABEL.match(label):
        raise UserError(f"--label {label!r}: use letters, digits, spaces, '_', '.' or '-'")
    if seconds <= 0 or count < 1 or countdown < 0:
        raise UserError("--seconds must be positive, --count at least 1, --countdown not negative")
    sources = [source] if Path(str(source)).exists() else []
    out = check_output_folder(out, flag="--out", inputs=sources, ours=holds_only(*CLIP_FILES))
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with open_source(source) as frames:
        preview = Preview(f"bharnet record: {label}", display)
        stream = iter(frames)
        try:
            for k in range(count):
                number = _next_number(out, label)
                log(f"clip {k + 1} of {count} ({_stem(label)}_{number:03d}): starts in {countdown:g} s, "
                    f"lasts {seconds:g} s")
                if not _count_down(stream, frames.fps, countdown, preview, f"{label} #{number}"):
                    break
                clip = _record_one(stream, frames.fps, seconds, preview, out / f"{_stem(label)}_{number:03d}.mp4")
                if clip is None:
                    log(f"the source ended during clip {number}: that clip was not kept")
                    break
                _add_row(out, clip.stem, label, split or clip_split(number))
                written.append(clip)
                log(f"recorded {clip}")
            if written and person_in_view(written[0]) is False:
                log(HAND_ONLY_HINT)
        except KeyboardInterrupt:
            log("interrupted: the clips recorded so far are kept")
        finally:
            preview.close()
    return written


def person_in_view(clip: str | Path, frames: int = 15, pose_model: str | Path | None = None) -> bool | None:
    """Whether MediaPipe's pose landmarker sees a person (a visible wrist) in the first ``frames``
    frames of ``clip``; None when no pose model is at hand (nothing is downloaded for this)."""
    try:
        model = resolve_pose_model(pose_model, download=False)
    except UserError:
        return None
    with PoseLandmarker(model, num_poses=1) as pose:
        return any(pose_people(pose, frame, t, mirrored=False) for t, frame in enumerate(islice(iter_frames(clip),
                                                                                                 frames)))


def _stem(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", label)


def _next_number(out: Path, label: str) -> int:
    """One more than the highest number of ``label``'s clips already in ``out`` (1 when none)."""
    pattern = re.compile(rf"^{re.escape(_stem(label))}_(\d+)$")
    numbers = [int(m.group(1)) for p in out.iterdir() if (m := pattern.match(p.stem))]
    return max(numbers, default=0) + 1


def _count_down(stream: Iterator[CapturedFrame], fps: float, seconds: float, preview: Preview, what: str) -> bool:
    """Show the countdown over ``seconds`` of frames; False when the source ended or the user quit."""
    for k in range(round(seconds * fps)):
        frame = next(stream, None)
        if frame is None:
            return False
        left = seconds - k / fps
        if not preview.show(draw_overlay(frame.image, Overlay(note=f"{what} in {left:.0f}"))):
            return False
    return True


def _record_one(stream: Iterator[CapturedFrame], fps: float, seconds: float, preview: Preview,
                path: Path) -> Path | None:
    """Write ``seconds`` of frames to ``path``; None (and no file) when the source ends first."""
    with OverlayWriter(path, fps) as writer:
        for _ in range(max(1, round(seconds * fps))):
            frame = next(stream, None)
            if frame is None:
                writer.abort()
                return None
            writer.write(frame.image)
            preview.show(draw_overlay(frame.image, Overlay(note=f"recording {path.stem}")))
    return path


def _add_row(out: Path, name: str, label: str, split: str) -> None:
    """Add ``name,label,split`` to ``out/labels.csv`` (written whole, atomically)."""
    path = out / "labels.csv"
    old = path.read_text() if path.exists() else "name,label,split\n"
    if old and not old.endswith("\n"):
        old += "\n"
    row = io.StringIO()
    csv.writer(row, lineterminator="\n").writerow([name, label, split])
    write_text(path, old + row.getvalue())
