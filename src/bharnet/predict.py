"""Action recognition on a video: the skeleton and the hands from the RGB frames (MediaPipe), then
a trained checkpoint over sliding windows.

The windows go through a temporary store and the checkpoint's own dataset view, so a window is
prepared exactly as the test samples of its training were (centring, resampling, modality, hand
normalisation). The body comes from the pose landmarker: checkpoints with a ``pose33`` body get its
image landmarks (x, y normalised to the frame, z; what MediaPipe Holistic vectors hold), those with
an ``ntu25`` body get its metric world landmarks turned to Kinect's camera axes and joints. The
hands are those of the most active person, found on crops around its wrists (:mod:`bharnet.hands`).
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .errors import UserError
from .layouts import convert_layout, get_layout
from .sequence import Sequence

__all__ = ["Window", "VideoPrediction", "video_windows", "predict_video"]

#: MediaPipe's world axes (x right, y down, z away) -> Kinect's camera axes (x to the camera's
#: left, y up, z away): a half turn about z, so that left and right joints keep their sides
_TO_KINECT = np.array([-1.0, -1.0, 1.0])
#: body layouts the pose landmarker can give
VIDEO_BODY_LAYOUTS = ("pose33", "ntu25")


@dataclass(frozen=True)
class Window:
    """One window of the video: its time span and its most probable classes."""

    start: float  # seconds
    end: float
    top: list[tuple[str, float]]


@dataclass
class VideoPrediction:
    """The prediction for a whole video: ``top`` from the class probabilities averaged over the
    windows, and each window's own."""

    video: str
    checkpoint: str
    frames: int
    fps: float
    person: str  # the pose track the body and hands come from ("" when nobody was found)
    frames_with_hand: int
    top: list[tuple[str, float]]
    windows: list[Window] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def video_windows(num_frames: int, clip: int, stride: int) -> list[tuple[int, int]]:
    """``[start, end)`` frame spans of ``clip`` frames every ``stride`` frames covering the video
    (the last one ends with it); one span of the whole video when it is shorter than a clip."""
    if num_frames <= clip:
        return [(0, num_frames)]
    starts = list(range(0, num_frames - clip + 1, stride))
    if starts[-1] != num_frames - clip:
        starts.append(num_frames - clip)
    return [(s, s + clip) for s in starts]


def _body_of(track, layout: str) -> np.ndarray:
    """A pose track's body ``(T, V, 3)`` in ``layout``; zeros in frames where it is not seen."""
    body = track.image if layout == "pose33" else convert_layout(track.world * _TO_KINECT, "pose33", layout)
    return np.nan_to_num(body, nan=0.0).astype(np.float32)


def _extract(video: Path, meta: dict, streams: tuple[str, ...], pose_model: Path, hand_model: Path | None):
    """``(body (T, M, V, 3), hands (T, 2, 21, 3) | None, hand_conf | None, person id, fps)``."""
    from .hands.crops import BODY_ANCHORS
    from .hands.extract import ExtractConfig, hands_of_person, pose_tracks
    from .hands.track import most_active
    from .io.video import probe_video

    info = probe_video(video)
    config = ExtractConfig()
    tracks = pose_tracks(video, pose_model, info, config)
    anchors = BODY_ANCHORS["pose33"]
    if not tracks and "body" in streams:
        raise UserError(f"{video}: the pose landmarker finds no person, and this checkpoint needs a body")
    # the most active person first (its hands are the ones kept), then the others as found
    first = most_active([t.pixels for t in tracks], anchors) if tracks else 0
    order = [first] + [i for i in range(len(tracks)) if i != first] if tracks else []
    layout, persons = meta["body_layout"], meta["num_persons"]
    joints = get_layout(layout).num_joints
    body = np.zeros((len(tracks[0].pixels) if tracks else 0, persons, joints, 3), np.float32)
    for slot, i in enumerate(order[:persons]):
        body[:, slot] = _body_of(tracks[i], layout)
    person = f"pose{first}" if tracks else ""
    if "hand" not in streams:
        return body, None, None, person, info.fps
    track = hands_of_person(video, info, hand_model, tracks[first].pixels if tracks else None,
                            anchors if tracks else None, "pose" if tracks else "frame", person, config)
    if not tracks:  # nobody in view (a close-up of a hand): the hands alone set the length
        body = np.zeros((track.frames, persons, joints, 3), np.float32)
    t = min(len(body), track.frames)
    return body[:t], track.keypoints[:t], track.landmark_conf[:t], person, info.fps


def _write_windows(path: Path, meta: dict, spans: list[tuple[int, int]], body: np.ndarray,
                   hands: np.ndarray | None, hand_conf: np.ndarray | None) -> None:
    from .store import StoreWriter

    arrays = ("hands",) if hands is not None else ()
    with StoreWriter(path, body_layout=meta["body_layout"], num_persons=meta["num_persons"], channels=3,
                     arrays=arrays, classes=meta.get("classes")) as writer:
        for start, end in spans:
            window = slice(start, end)
            writer.add(Sequence(name=f"{start:06d}", label=0, body=body[window],
                                hands=None if hands is None else hands[window],
                                hand_conf=None if hand_conf is None else hand_conf[window]))


def predict_video(checkpoint: str | Path, video: str | Path, *, clip_seconds: float = 3.0,
                  stride_seconds: float = 1.0, top: int = 5, pose_model: str | Path | None = None,
                  hand_model: str | Path | None = None) -> VideoPrediction:
    """Classify ``video`` with a trained checkpoint over windows of ``clip_seconds`` every
    ``stride_seconds``. The MediaPipe model files come from the paths given, the environment, the
    cache or a download (:func:`bharnet.hands.models.resolve_model`)."""
    import torch

    from .engine.module import SkeletonDataModule
    from .engine.run import load_checkpoint, predict
    from .hands.models import resolve_model

    video = Path(video)
    if not video.is_file():
        raise UserError(f"{video}: no such video file")
    module = load_checkpoint(checkpoint)
    meta, streams = module.store_meta, tuple(module.streams)
    if meta["body_layout"] not in VIDEO_BODY_LAYOUTS or meta["channels"] != 3:
        raise UserError(f"{checkpoint}: its body is {meta['body_layout']} with {meta['channels']} channels; from a "
                        f"video the pose landmarker gives 3D {' or '.join(VIDEO_BODY_LAYOUTS)} bodies")
    pose = resolve_model("pose", pose_model)
    hand = resolve_model("hand", hand_model) if "hand" in streams else None
    body, hands, hand_conf, person, fps = _extract(video, meta, streams, pose, hand)
    spans = video_windows(len(body), max(1, round(clip_seconds * fps)), max(1, round(stride_seconds * fps)))
    with tempfile.TemporaryDirectory(prefix="bharnet-predict-") as tmp:
        store = Path(tmp) / "windows"
        _write_windows(store, meta, spans, body, hands, hand_conf)
        data_cfg = {**module.config["data"], "store": str(store), "num_workers": 0}
        data = SkeletonDataModule(data_cfg, streams, seed=module.config["seed"])
        loader = torch.utils.data.DataLoader(data.dataset(None), batch_size=data_cfg["eval_batch_size"])
        _, _, logits = predict(module, loader)
    probs = torch.softmax(torch.from_numpy(logits["logits"]), dim=1).numpy()
    classes = meta.get("classes") or [str(k) for k in range(meta["num_classes"])]

    def ranked(p: np.ndarray) -> list[tuple[str, float]]:
        return [(classes[k], float(p[k])) for k in np.argsort(-p)[:top]]

    windows = [Window(start / fps, end / fps, ranked(p)) for (start, end), p in zip(spans, probs, strict=True)]
    frames_with_hand = int((hand_conf.max(axis=(1, 2)) > 0).sum()) if hand_conf is not None else 0
    return VideoPrediction(str(video), str(checkpoint), len(body), float(fps), person, frames_with_hand,
                           ranked(probs.mean(axis=0)), windows)
