"""The live loop (:func:`run_live`): frames from a source, a two-stage per-frame extractor (the one
``bharnet predict`` also runs, :mod:`bharnet.video.stream`) and a classifier of windows, whatever
the source, the extractor and the model are; ``bharnet live`` runs it with a checkpoint
(:mod:`bharnet.workflows.live`).

Four threads, joined by one-place mailboxes (:class:`bharnet.video.source.LatestSlot`):
capture -> frames -> pose -> hands (the calling thread; it also draws) -> windows -> network. The
pose of frame k+1 runs while the hands of frame k are searched, so the two use two cores. When the
extraction falls behind the source, frames are dropped at the first mailbox (before any work is
spent on them); when the network falls behind the stride, stale windows are dropped at the last.
Nothing queues without bound, so a decision's latency (from the capture of the window's last
frame) stays bounded. While the network decides, the extraction holds off new work for up to a
frame's time, so that the decision gets the cores first.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np

from bharnet.core.words import plural
from bharnet.video.source import CapturedFrame, LatestSlot
from bharnet.video.stream import FrameMarks

__all__ = ["Decision", "LiveStats", "Extractor", "StageClock", "run_live", "no_decision"]


@dataclass(frozen=True)
class Decision:
    """One classification of the window ending at ``time`` (seconds into the source) and starting
    at ``start``: its top classes, ``latency_ms`` from the capture of its last frame, and the
    number of ``frames`` it held."""

    time: float
    start: float
    top: list[tuple[str, float]]
    latency_ms: float
    frames: int

    def as_dict(self) -> dict:
        d = asdict(self)
        d["top"] = [[name, round(p, 4)] for name, p in self.top]
        d["latency_ms"] = round(self.latency_ms, 1)
        for key in ("time", "start"):
            d[key] = round(d[key], 3)
        return d


@dataclass
class LiveStats:
    """What a run did: frames read from the source, processed and dropped; windows sent to the
    network, decided and dropped (stale); seconds of wall time; each decision's latency; mean
    milliseconds per stage."""

    frames_read: int = 0
    frames_processed: int = 0
    frames_dropped: int = 0
    windows: int = 0
    windows_dropped: int = 0
    decisions: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # of the whole process, all threads (MediaPipe's and the network's too)
    latencies_ms: list[float] = field(default_factory=list)
    stage_ms: dict[str, float] = field(default_factory=dict)
    window_frames: int = 0  # the frames of a whole window at the source's rate

    @property
    def fps(self) -> float:
        return self.frames_processed / self.seconds if self.seconds > 0 else 0.0

    def latency_percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")

    def summary(self) -> dict:
        return {"frames_read": self.frames_read, "frames_processed": self.frames_processed,
                "frames_dropped": self.frames_dropped, "windows": self.windows,
                "windows_dropped": self.windows_dropped, "decisions": self.decisions,
                "seconds": round(self.seconds, 2), "fps": round(self.fps, 2),
                "cpu_ms_per_frame": round(1e3 * self.cpu_seconds / max(self.frames_processed, 1), 1),
                "latency_ms_p50": round(self.latency_percentile(50), 1),
                "latency_ms_p95": round(self.latency_percentile(95), 1),
                "stage_ms": {k: round(v, 2) for k, v in self.stage_ms.items()}}


def no_decision(stats: LiveStats, source: str) -> str | None:
    """Why a run that made no decision made none, for the user; None when it made some."""
    if stats.decisions:
        return None
    if stats.frames_read < stats.window_frames:
        return (f"{source}: {plural(stats.frames_read, 'frame')}, shorter than the {stats.window_frames}-frame "
                "window: no decision")
    return f"{source}: no decision in {plural(stats.windows, 'window')} (nobody in view?)"


class Extractor(Protocol):
    """The per-frame part in two stages (:class:`bharnet.video.stream.StreamExtractor`): ``locate``
    (the pose) runs one frame ahead of ``find_hands``, in its own thread; ``window(frames)``
    snapshots the last frames done."""

    def locate(self, image: np.ndarray, index: int) -> Any: ...

    def find_hands(self, image: np.ndarray, located: Any) -> FrameMarks: ...

    def window(self, frames: int | None = None) -> Any: ...


class StageClock:
    """Mean milliseconds per named stage, safe to add to from several threads."""

    def __init__(self) -> None:
        self._sum: dict[str, float] = {}
        self._count: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, name: str, seconds: float) -> None:
        with self._lock:
            self._sum[name] = self._sum.get(name, 0.0) + seconds
            self._count[name] = self._count.get(name, 0) + 1

    def means_ms(self) -> dict[str, float]:
        with self._lock:
            return {k: 1e3 * self._sum[k] / self._count[k] for k in self._sum}


def run_live(source: Iterable[CapturedFrame], fps: float, extractor: Extractor,
             classify: Callable[[Any], np.ndarray | None], classes: list[str], *, window_seconds: float = 3.0,
             stride_seconds: float = 0.5, top: int = 3,
             on_decision: Callable[[Decision], None] | None = None,
             on_frame: Callable[[CapturedFrame, FrameMarks, Decision | None, float], bool | None] | None = None,
             clock: StageClock | None = None) -> LiveStats:
    """Run the live loop until the source ends, ``on_frame`` returns False or Ctrl-C.

    ``classify`` takes a window of ``extractor`` (its last ``window_seconds``) and returns class
    probabilities, or None when there is nothing to classify (nobody in view). A window is sent
    after each ``stride_seconds`` of source time (frame k ends at ``(k + 1) / fps``).
    ``on_frame(frame, marks, last decision, processing fps)`` draws; ``on_decision`` reports.
    """
    loop = _Loop(source, fps, extractor, classify, classes, window_seconds, stride_seconds, top, on_decision)
    return loop.run(on_frame, clock or StageClock())


class _Loop:
    """The threads of :func:`run_live` and what they share: capture -> ``frames`` -> pose ->
    ``located`` -> hands (the calling thread) -> ``windows`` -> network."""

    def __init__(self, source: Iterable[CapturedFrame], fps: float, extractor: Extractor,
                 classify: Callable[[Any], np.ndarray | None], classes: list[str], window_seconds: float,
                 stride_seconds: float, top: int, on_decision: Callable[[Decision], None] | None) -> None:
        self.source, self.fps, self.extractor, self.classify, self.classes = source, fps, extractor, classify, classes
        self.window_frames = max(1, round(window_seconds * fps))
        self.stride_seconds, self.top, self.on_decision = stride_seconds, top, on_decision
        self.frames: LatestSlot[CapturedFrame] = LatestSlot()
        self.located: LatestSlot[tuple[CapturedFrame, Any]] = LatestSlot()
        self.windows: LatestSlot[tuple[Any, CapturedFrame]] = LatestSlot()
        self.stats = LiveStats(window_frames=self.window_frames)
        self.latest: Decision | None = None
        self.stop = threading.Event()
        # set while no decision is being made: the extraction holds off new work for a decision,
        # at most ``hold`` seconds (a slow network costs a frame or so, never its whole time)
        self.idle = threading.Event()
        self.idle.set()
        self.hold = 1.0 / fps
        self.failure: list[BaseException] = []
        # a file read as fast as frames are taken (not paced like a camera) drops nothing: throughput
        self.lossless = getattr(source, "paced", True) is False

    def run(self, on_frame: Callable[..., bool | None] | None, clock: StageClock) -> LiveStats:
        threads = [threading.Thread(target=self._capture, name="bharnet-capture", daemon=True),
                   threading.Thread(target=self._locate, name="bharnet-pose", daemon=True),
                   threading.Thread(target=self._decide, name="bharnet-network", daemon=True)]
        for thread in threads:
            thread.start()
        start, cpu_start = time.perf_counter(), time.process_time()
        try:
            self._hands(on_frame, start)
        except KeyboardInterrupt:
            pass  # Ctrl-C is how a camera session ends: finish as if the source had
        finally:
            self.stop.set()
            self.frames.close()  # releases a capture or a pose stage waiting for its item to be taken
            self.located.close()
            self.windows.close()
            threads[2].join()
            self.stats.seconds = time.perf_counter() - start
            self.stats.cpu_seconds = time.process_time() - cpu_start
            for thread in threads[:2]:
                thread.join(timeout=5.0)
        self.stats.frames_dropped = self.frames.dropped
        self.stats.windows_dropped = self.windows.dropped
        self.stats.stage_ms = clock.means_ms()
        if self.failure:
            raise self.failure[0]
        return self.stats

    def _capture(self) -> None:
        try:
            for frame in self.source:
                self.stats.frames_read += 1
                self.frames.put(frame, wait=self.lossless)
                if self.stop.is_set():
                    break
        except BaseException as err:  # noqa: BLE001 - handed to the main thread
            self.failure.append(err)
        finally:
            self.frames.close()

    def _locate(self) -> None:
        try:
            while not self.stop.is_set() and (frame := self.frames.get()) is not None:
                self.idle.wait(self.hold)
                # waits for the hands of the previous frame: frames are dropped before the pose, not after
                self.located.put((frame, self.extractor.locate(frame.image, frame.index)), wait=True)
        except BaseException as err:  # noqa: BLE001 - handed to the main thread
            self.failure.append(err)
        finally:
            self.located.close()

    def _hands(self, on_frame: Callable[..., bool | None] | None, start: float) -> None:
        """The calling thread: the hands of each located frame, a window every stride, drawing."""
        next_due = self.stride_seconds
        recent: deque[float] = deque()  # when the frames of the last second were done
        while not self.stop.is_set() and (item := self.located.get()) is not None:
            frame, where = item
            marks = self.extractor.find_hands(frame.image, where)
            self.stats.frames_processed += 1
            end = (frame.index + 1) / self.fps
            if end + 1e-9 >= next_due:
                self.idle.clear()
                self.windows.put((self.extractor.window(self.window_frames), frame))
                self.stats.windows += 1
                self.idle.wait(self.hold)
                next_due = (np.floor(end / self.stride_seconds + 1e-9) + 1) * self.stride_seconds
            now = time.perf_counter()
            recent.append(now)
            while recent[0] < now - 1.0:
                recent.popleft()
            rate = len(recent) / min(1.0, max(now - start, 1e-3))
            if on_frame is not None and on_frame(frame, marks, self.latest, rate) is False:
                return

    def _decide(self) -> None:
        while (job := self.windows.get()) is not None:
            window, last = job
            try:
                probs = self.classify(window)
            except BaseException as err:  # noqa: BLE001 - handed to the main thread
                self.failure.append(err)
                self.stop.set()
                return
            finally:
                self.idle.set()
            if probs is None:
                continue
            decision = Decision(time=(last.index + 1) / self.fps, start=_window_start(window, self.fps),
                                top=[(self.classes[k], float(probs[k])) for k in np.argsort(-probs)[:self.top]],
                                latency_ms=1e3 * (time.perf_counter() - last.captured),
                                frames=_window_frames(window))
            self.stats.decisions += 1
            self.stats.latencies_ms.append(decision.latency_ms)
            self.latest = decision
            if self.on_decision is not None:
                self.on_decision(decision)


def _window_start(state: Any, fps: float) -> float:
    indices = getattr(state, "indices", None)
    return float(indices[0]) / fps if indices is not None and len(indices) else 0.0


def _window_frames(state: Any) -> int:
    indices = getattr(state, "indices", None)
    return int(len(indices)) if indices is not None else 0
