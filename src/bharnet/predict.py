"""Action recognition on a video: its skeleton from the RGB frames (:mod:`bharnet.io.rgb`, in the
checkpoint's body layout), then the checkpoint over sliding windows.

The windows go through a temporary store and the checkpoint's own dataset view, so a window is
prepared exactly as the test samples of its training were (centring, resampling, modality, hand
normalisation).
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .errors import UserError
from .io.rgb import VIDEO_BODY_LAYOUTS, VideoSkeleton, read_video_skeleton
from .sequence import Sequence

__all__ = ["Window", "VideoPrediction", "video_windows", "predict_video"]


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


def _write_windows(path: Path, meta: dict, spans: list[tuple[int, int]], skeleton: VideoSkeleton) -> None:
    from .store import StoreWriter

    arrays = ("hands",) if skeleton.hands is not None else ()
    with StoreWriter(path, body_layout=meta["body_layout"], num_persons=meta["num_persons"], channels=3,
                     arrays=arrays, classes=meta.get("classes")) as writer:
        for start, end in spans:
            window = slice(start, end)
            writer.add(Sequence(name=f"{start:06d}", label=0, body=skeleton.body[window],
                                hands=None if skeleton.hands is None else skeleton.hands[window],
                                hand_conf=None if skeleton.hand_conf is None else skeleton.hand_conf[window]))


def predict_video(checkpoint: str | Path, video: str | Path, *, clip_seconds: float = 3.0,
                  stride_seconds: float = 1.0, top: int = 5, pose_model: str | Path | None = None,
                  hand_model: str | Path | None = None, device: str | None = None) -> VideoPrediction:
    """Classify ``video`` with a trained checkpoint over windows of ``clip_seconds`` every
    ``stride_seconds``. The MediaPipe model files come from the paths given, the environment, the
    cache or a download (:func:`bharnet.hands.models.resolve_model`); the network runs on
    ``device`` (default: the GPU when there is one)."""
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
    skeleton = read_video_skeleton(video, pose, hand, body_layout=meta["body_layout"],
                                   num_persons=meta["num_persons"], require_body="body" in streams)
    fps, num_frames = skeleton.fps, len(skeleton.body)
    spans = video_windows(num_frames, max(1, round(clip_seconds * fps)), max(1, round(stride_seconds * fps)))
    with tempfile.TemporaryDirectory(prefix="bharnet-predict-") as tmp:
        store = Path(tmp) / "windows"
        _write_windows(store, meta, spans, skeleton)
        data_cfg = {**module.config["data"], "store": str(store), "num_workers": 0}
        data = SkeletonDataModule(data_cfg, streams, seed=module.config["seed"])
        loader = torch.utils.data.DataLoader(data.dataset(None), batch_size=data_cfg["eval_batch_size"])
        _, _, logits = predict(module, loader, device=device)
    probs = torch.softmax(torch.from_numpy(logits["logits"]), dim=1).numpy()
    classes = meta.get("classes") or [str(k) for k in range(meta["num_classes"])]

    def ranked(p: np.ndarray) -> list[tuple[str, float]]:
        return [(classes[k], float(p[k])) for k in np.argsort(-p)[:top]]

    windows = [Window(start / fps, end / fps, ranked(p)) for (start, end), p in zip(spans, probs, strict=True)]
    hand_conf = skeleton.hand_conf
    frames_with_hand = int((hand_conf.max(axis=(1, 2)) > 0).sum()) if hand_conf is not None else 0
    return VideoPrediction(str(video), str(checkpoint), num_frames, float(fps), skeleton.person, frames_with_hand,
                           ranked(probs.mean(axis=0)), windows)
