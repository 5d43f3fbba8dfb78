"""Thin wrappers around MediaPipe's Tasks landmarkers (imported lazily), and the landmarkers a
process keeps from one video to the next (:data:`REUSABLE`).

Why two running modes: crops move with the body from frame to frame, and MediaPipe's VIDEO mode
tracks a hand in image coordinates from the previous frame, which a moving crop invalidates; so
hands on crops run in IMAGE mode (palm detection on every crop, cheap because a crop is small).
Whole frames (the fallback when no body is found) run in VIDEO mode, where tracking helps: on
cup.mp4 VIDEO mode finds the hand in 217/217 frames, IMAGE mode in 85%. The pose landmarker on
whole frames runs in IMAGE mode when it looks for more than one person (see :class:`PoseLandmarker`),
in VIDEO mode for one person and on one person's box.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bharnet.video.sides import pose_to_convention


@dataclass(frozen=True)
class HandDetection:
    """One hand: ``landmarks`` (21, 3) with x, y normalised to the image given and z as MediaPipe
    gives it (relative to the wrist, about the units of x); ``score`` the handedness classifier's
    score (the Tasks API exposes no presence score; every returned hand passed presence >= the
    threshold); ``label`` MediaPipe's "Left"/"Right" (unreliable, used only without a body)."""

    landmarks: np.ndarray
    score: float
    label: str


def _vision():
    # MediaPipe's native logging is chatty on stderr; keep only errors unless the user chose otherwise.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    _ignore_sigprof()
    return mp, BaseOptions, vision


def _ignore_sigprof() -> None:
    """MediaPipe's threads run CPU-time timers that send SIGPROF; MediaPipe sets the signal to be
    ignored once, when it loads. Lightning's Trainer restores at its end the dispositions it found
    at its start, which un-ignores the signal if MediaPipe was loaded in between, and the next
    landmarker then kills the process ("Profiling timer expired"). So ignore it before every task."""
    if hasattr(signal, "SIGPROF") and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGPROF, signal.SIG_IGN)


def _timestamp_ms(frame_index: int, fps: float) -> int:
    # From the frame index, never the container: container timestamps can go backwards.
    step = max(1, int(round(1000.0 / fps))) if fps and fps > 0 else 33
    return frame_index * step


class _Landmarker:
    """A MediaPipe task; in VIDEO mode it stamps frames from their index, always rising, so that
    one landmarker can serve video after video (:meth:`restart`): making one costs ~0.1 s."""

    fps: float = 30.0

    def __init__(self) -> None:
        self._task = None
        self._offset_ms = 0
        self._last_ms = -1

    def _stamp(self, frame_index: int) -> int:
        self._last_ms = max(self._offset_ms + _timestamp_ms(frame_index, self.fps), self._last_ms + 1)
        return self._last_ms

    def _forget(self) -> None:
        # an empty image: what it tracked is lost, and the next frame is searched afresh
        self._task.detect_for_video(self._image(np.zeros((32, 32, 3), np.uint8)), self._stamp_next())

    def _stamp_next(self) -> int:
        self._last_ms += 1
        return self._last_ms

    def restart(self, fps: float) -> None:
        """Get ready for another video (frame indices from 0 again, at ``fps``)."""
        self._forget()
        self.fps = fps
        self._offset_ms = self._last_ms + 1000

    def _image(self, rgb: np.ndarray):
        return self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb, dtype=np.uint8))

    def close(self) -> None:
        if self._task is not None:
            self._task.close()
            self._task = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class HandLandmarker(_Landmarker):
    """MediaPipe hand landmarker. ``video=True`` for whole frames of one video (give ``frame_index``)."""

    def __init__(self, model_path: str | Path, video: bool = False, num_hands: int = 2,
                 min_confidence: float = 0.5, fps: float = 30.0, min_tracking: float | None = None) -> None:
        super().__init__()
        self._mp, BaseOptions, vision = _vision()
        self.video, self.fps = video, fps
        # presence and tracking gate a hand followed from the previous frame (VIDEO mode)
        follow = min_confidence if min_tracking is None else min_tracking
        mode = vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE
        options = vision.HandLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path)), running_mode=mode, num_hands=num_hands,
            min_hand_detection_confidence=min_confidence, min_hand_presence_confidence=follow,
            min_tracking_confidence=follow)
        self._task = vision.HandLandmarker.create_from_options(options)

    def forget(self) -> None:
        """VIDEO mode: drop the hands being tracked (MediaPipe follows a hand in image coordinates,
        which a new region invalidates), by showing it an empty image."""
        if self.video and self._last_ms >= 0:
            self._forget()

    def detect(self, rgb: np.ndarray, frame_index: int = 0) -> list[HandDetection]:
        """Hands in one RGB image (H, W, 3)."""
        image = self._image(rgb)
        if self.video:
            result = self._task.detect_for_video(image, self._stamp(frame_index))
        else:
            result = self._task.detect(image)
        out = []
        for marks, cats in zip(result.hand_landmarks, result.handedness, strict=True):
            arr = np.array([(m.x, m.y, m.z) for m in marks], dtype=np.float64)
            out.append(HandDetection(arr, float(cats[0].score), str(cats[0].category_name)))
        return out


@dataclass(frozen=True)
class PoseDetection:
    """One person: ``image`` (33, 3) with x, y normalised to the frame and z (depth, about the
    units of x, relative to the hips), ``visibility`` (33,) and ``world`` (33, 3) in metres with
    the origin between the hips (x right, y down, z away from the camera)."""

    image: np.ndarray
    visibility: np.ndarray
    world: np.ndarray

    def in_convention(self, mirrored: bool) -> PoseDetection:
        """This person with sides named as in NTU's skeletons (:mod:`bharnet.video.sides`), given
        whether the frame was a mirror image."""
        image, world, visibility = pose_to_convention(self.image, self.world, self.visibility, mirrored)
        return PoseDetection(image, visibility, world)


class PoseLandmarker(_Landmarker):
    """MediaPipe pose landmarker over the frames of one video. ``video=True``: VIDEO mode, each
    person followed from the previous frame; False: IMAGE mode, people detected afresh in every
    frame (of two people in contact, VIDEO mode often follows one and stops seeing the other until
    well after they part: on the crossing composite of the hand development set it sees fewer than
    two people in 54 of 103 frames, IMAGE mode in 34; see docs/hands.md)."""

    def __init__(self, model_path: str | Path, num_poses: int = 2, min_confidence: float = 0.5,
                 fps: float = 30.0, video: bool = True) -> None:
        super().__init__()
        self._mp, BaseOptions, vision = _vision()
        self.fps, self.video = fps, video
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path)),
            running_mode=vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE,
            num_poses=num_poses, min_pose_detection_confidence=min_confidence,
            min_pose_presence_confidence=min_confidence, min_tracking_confidence=min_confidence)
        self._task = vision.PoseLandmarker.create_from_options(options)

    def restart(self, fps: float) -> None:
        if self.video:
            super().restart(fps)
        self.fps = fps

    def detect(self, rgb: np.ndarray, frame_index: int) -> list[PoseDetection]:
        """The people in one frame."""
        frame = self._image(rgb)
        if self.video:
            result = self._task.detect_for_video(frame, self._stamp(frame_index))
        else:
            result = self._task.detect(frame)
        people = []
        for marks, world in zip(result.pose_landmarks, result.pose_world_landmarks, strict=True):
            image = np.array([(m.x, m.y, m.z, m.visibility or 0.0) for m in marks], dtype=np.float64)
            people.append(PoseDetection(image[:, :3], image[:, 3], np.array([(m.x, m.y, m.z) for m in world])))
        return people


class Reusable:
    """Landmarkers kept for the next video while a :meth:`session` lasts (a batch run, a worker
    process): making one costs ~0.1 s of CPU, as much as a few frames of work, and a video needs
    several. They are closed when the outermost session ends: MediaPipe's threads must not outlive
    the extraction (a process forked later, e.g. by a data loader, would inherit them mid-work)."""

    def __init__(self) -> None:
        self._items: dict[tuple, object] = {}
        self._registered = False
        self._depth = 0
        self.new_video()

    @contextmanager
    def session(self) -> Iterator[Reusable]:
        """``with REUSABLE.session():`` landmarkers made inside are kept until the outermost one ends."""
        self._depth += 1
        try:
            yield self
        finally:
            self._depth -= 1
            if self._depth == 0:
                self.close()

    def get(self, key: tuple, fps: float, make: Callable[[], object]):
        """The landmarker of ``key``, made by ``make`` the first time; the first time in a video
        (see :meth:`new_video`) one used before is restarted at ``fps``."""
        item = self._items.get(key)
        if item is None:
            item = self._items[key] = make()
            self._close_at_exit()
        elif key not in self._in_video:
            item.restart(fps)
        self._in_video.add(key)
        return item

    def _close_at_exit(self) -> None:
        # MediaPipe closes a task through a thread pool that the interpreter shuts down before
        # atexit runs; the threading module's own exit hooks run earlier, the last registered
        # first, so registering after MediaPipe has loaded closes the landmarkers in time.
        if not self._registered:
            register = getattr(threading, "_register_atexit", atexit.register)
            register(self.close)
            self._registered = True

    def new_video(self) -> None:
        """The next calls of :meth:`get` are for a new video."""
        self._in_video: set[tuple] = set()

    def close(self) -> None:
        for item in self._items.values():
            item.close()
        self._items.clear()


#: the landmarkers of this process
REUSABLE = Reusable()
