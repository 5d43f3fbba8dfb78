"""Actions from a camera, live: frames from a source, the frame-by-frame extraction that ``bharnet
predict`` also runs (:mod:`bharnet.video.stream`), and the checkpoint on a sliding window every
stride through its own test view (:func:`bharnet.workflows.predict.window_inputs`), on the threads
of the live loop (:mod:`bharnet.video.live_loop`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bharnet.core.errors import UserError
from bharnet.core.outputs import check_output_file
from bharnet.engine.inference import stack_inputs
from bharnet.video.extract_config import ExtractConfig
from bharnet.video.landmarker import REUSABLE
from bharnet.video.live_loop import Decision, LiveStats, StageClock, run_live
from bharnet.video.overlay import Overlay, OverlayWriter, Preview, draw_overlay, written_by_overlay
from bharnet.video.search import HAND_SEARCHES
from bharnet.video.sides import is_mirrored
from bharnet.video.skeleton import VideoSkeleton, window_skeleton
from bharnet.video.source import CapturedFrame, open_source
from bharnet.video.stream import FrameMarks, StreamExtractor, StreamWindow
from bharnet.workflows.predict import Recognizer, window_inputs

__all__ = ["LiveRecognizer", "live", "frame_overlay"]


class LiveRecognizer(Recognizer):
    """A checkpoint ready for live use (``options``: those of
    :class:`bharnet.workflows.predict.Recognizer`; ``backend`` "auto" by default: ONNX Runtime
    where installed), and the window assembly of its body layout. ``people``: how many people the
    pose landmarker follows (default: as many as the checkpoint's samples hold). MediaPipe runs its
    person detector on every frame while fewer people than that are in view, so one person costs
    about 17 ms of CPU a frame when it looks for one and 30 ms when it looks for two.
    ``hand_search``: a key of :data:`HAND_SEARCHES`."""

    def __init__(self, checkpoint: str | Path, *, backend: str = "auto", people: int | None = None,
                 hand_search: str = "live", **options) -> None:
        super().__init__(checkpoint, backend=backend, **options)
        if "rgb" in self.streams:
            raise UserError(f"{checkpoint}: live recognition takes skeleton checkpoints; this one has an RGB "
                            "stream (use bharnet predict on a recorded video)")
        people = int(self.meta["num_persons"]) if people is None else people
        if people < 1:
            raise UserError(f"--people must be at least 1, not {people}")
        if hand_search not in HAND_SEARCHES:
            raise UserError(f"--hand-search must be one of {', '.join(HAND_SEARCHES)}, not {hand_search!r}")
        self.config = ExtractConfig(mirrored=self.mirrored, num_poses=people, search=HAND_SEARCHES[hand_search])
        self.clock = StageClock()

    def skeleton(self, window: StreamWindow) -> VideoSkeleton | None:
        """The skeleton of ``window``; None when there is nothing to classify (nobody, or nobody and
        no hand for a hands-only checkpoint)."""
        if len(window.indices) == 0:
            return None
        try:
            return window_skeleton(window, body_layout=self.meta["body_layout"], num_persons=self.meta["num_persons"],
                                   require_body="body" in self.streams, config=self.config)
        except UserError:  # nobody in view: no decision
            return None

    def classify(self, window: StreamWindow) -> np.ndarray | None:
        """Class probabilities of ``window`` (None: nobody and no hand in view)."""
        began = time.perf_counter()
        skeleton = self.skeleton(window)
        if skeleton is None:
            return None
        assembled = time.perf_counter()
        inputs = stack_inputs(window_inputs(self.view, skeleton, [(0, len(skeleton.body))]))
        prepared = time.perf_counter()
        probs = self.network(inputs)[0]
        done = time.perf_counter()
        self.clock.add("assemble", assembled - began)
        self.clock.add("inputs", prepared - assembled)
        self.clock.add("network", done - prepared)
        return probs

    def stream(self, fps: float, window_seconds: float, source: str = "") -> StreamExtractor:
        """The extraction of a stream at ``fps``, keeping ``window_seconds`` (use inside
        ``REUSABLE.session()``); ``source`` names it (NTU RGB+D files are mirror images)."""
        return StreamExtractor(self.pose_model, self.hand_model, fps=fps, mirrored=is_mirrored(source, self.mirrored),
                               keep=max(1, round(window_seconds * fps)), config=self.config, clock=self.clock)


def frame_overlay(marks: FrameMarks, decision: Decision | None, fps: float | None, top: int = 3) -> Overlay:
    """The overlay of one live frame."""
    note = "" if decision is None else f"{decision.latency_ms:.0f} ms"
    return Overlay(body=marks.body, hands=marks.hands, hand_found=marks.hand_found,
                   top=tuple(decision.top[:top]) if decision else (), fps=fps, note=note)


def live(checkpoint: str | Path, source: str | int = 0, *, window_seconds: float = 3.0, stride_seconds: float = 0.5,
         top: int = 3, render: str | Path | None = None, display: bool = True, max_seconds: float | None = None,
         on_decision: Callable[[Decision], None] | None = None, paced: bool | None = None,
         log: Callable[[str], None] = lambda message: None, **options) -> LiveStats:
    """Recognise actions from ``source`` (camera index, URL or file played at its rate) with
    ``checkpoint`` until the source ends, ``max_seconds`` pass or the user quits the window; the
    overlay goes to a window where a display exists and to ``render`` (an MP4) when given.
    ``paced``: play a file at its frame rate (the default) or hand frames over as fast as they are
    taken (to measure throughput). ``log`` gets the messages for the user (the one-time ONNX export,
    a display that cannot be opened); ``options``: those of :class:`LiveRecognizer`."""
    if window_seconds <= 0 or stride_seconds <= 0:
        raise UserError("--window and --stride must be positive")
    if render is not None:
        sources = [source, checkpoint] if Path(str(source)).exists() else [checkpoint]
        check_output_file(render, flag="--render", inputs=sources, ours=written_by_overlay)
    recognizer = LiveRecognizer(checkpoint, log=log, **options)
    with open_source(source, paced) as frames, REUSABLE.session():
        stream = recognizer.stream(frames.fps, window_seconds, frames.spec)
        preview = Preview(f"bharnet live: {Path(str(checkpoint)).name}", display)
        if display and not preview.enabled:
            log(f"no overlay window: {preview.reason}")
        writer = OverlayWriter(render, frames.fps) if render is not None else None
        deadline = None if max_seconds is None else time.perf_counter() + max_seconds

        def on_frame(frame: CapturedFrame, marks: FrameMarks, decision: Decision | None, rate: float) -> bool:
            if writer is None and not preview.enabled:
                return deadline is None or time.perf_counter() < deadline
            image = draw_overlay(frame.image, frame_overlay(marks, decision, rate, top), top)
            if writer is not None:
                writer.write(image, frame.index)
            return preview.show(image) and (deadline is None or time.perf_counter() < deadline)

        try:
            stats = run_live(frames, frames.fps, stream, recognizer.classify, recognizer.classes,
                             window_seconds=window_seconds, stride_seconds=stride_seconds, top=top,
                             on_decision=on_decision, on_frame=on_frame, clock=recognizer.clock)
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        finally:
            preview.close()
        if writer is not None:
            writer.close()
    if display and preview.reason and preview.reason != "no display":
        log(f"no overlay window: {preview.reason}")
    return stats
