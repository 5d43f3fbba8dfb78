"""Action recognition on a video: its skeleton from the RGB frames (:mod:`bharnet.video.skeleton`, in the
checkpoint's body layout), then the checkpoint over sliding windows.

Each window goes through the checkpoint's own test view (:class:`bharnet.data.view.SampleView`),
so it is prepared exactly as the test samples of its training were (centring, resampling,
modality, hand normalisation). A checkpoint with an RGB stream (BHaRNet-M) also gets each window's
ST-ROI image, cut around the pose landmarks of that window.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from bharnet.core.atomic import write_json
from bharnet.core.errors import UserError
from bharnet.core.outputs import check_output_file, check_output_folder, holds_only, unique_outputs
from bharnet.data.view import SampleView, ViewConfig
from bharnet.engine.checkpoints import load_checkpoint
from bharnet.engine.inference import classify, default_device, stack_inputs
from bharnet.engine.module import ActionModule
from bharnet.tools.export import export_onnx, live_graph_path, onnx_session
from bharnet.video.batch import find_videos
from bharnet.video.decode import iter_frames, probe_video, short_decode
from bharnet.video.extract_config import ExtractConfig
from bharnet.video.models import resolve_model, resolve_pose_model
from bharnet.video.overlay import Overlay, OverlayWriter, draw_overlay, written_by_overlay
from bharnet.video.skeleton import VIDEO_BODY_LAYOUTS, VideoSkeleton, read_video_skeleton
from bharnet.video.st_roi import RoiConfig, build_st_roi, plan_st_roi, read_frames_at

__all__ = ["Window", "VideoPrediction", "Recognizer", "VideoPredictor", "BatchSummary", "Network", "video_windows",
           "window_inputs", "window_rois", "render_windows", "skeleton_overlay", "predict_video", "predict_videos"]


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
    frames_with_hand: int | None  # None: the model takes no hands, so none were searched
    top: list[tuple[str, float]]
    windows: list[Window] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # e.g. a truncated video: fewer frames than it lists

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


def window_inputs(view: SampleView, skeleton: VideoSkeleton, spans: list[tuple[int, int]]) -> list[dict]:
    """The model inputs of the ``[start, end)`` frame spans of ``skeleton`` through the checkpoint's
    own test view: the one place where a window becomes model input, for ``predict`` and ``live``."""
    return [view(end - start, **skeleton.arrays(slice(start, end))) for start, end in spans]


class Network:
    """The checkpoint's network as a function of model inputs -> class probabilities ``(N, K)``.
    ``backend``: "eager" (PyTorch on ``device``), "onnx" (ONNX Runtime on the CPU, the graph
    exported once per checkpoint into the cache) or "auto" (ONNX Runtime where it is installed and
    the device is the CPU, eager otherwise)."""

    def __init__(self, module: ActionModule, checkpoint: str | Path, backend: str = "eager",
                 device: str | None = None, threads: int | None = None,
                 log: Callable[[str], None] = lambda message: None) -> None:
        if backend not in ("auto", "eager", "onnx"):
            raise UserError(f"--backend {backend}: choose auto, eager or onnx")
        self.device = device or default_device()
        if backend == "auto":
            backend = "onnx" if self.device == "cpu" and _has_onnxruntime() else "eager"
        self.backend, self.module = backend, module
        self._session = _onnx_session(module, Path(checkpoint), threads, log) if backend == "onnx" else None

    def __call__(self, inputs: dict[str, torch.Tensor]) -> np.ndarray:
        if self._session is not None:  # the graph has batch 1
            names = [i.name for i in self._session.get_inputs()]
            count = len(next(iter(inputs.values())))
            logits = np.concatenate([self._session.run(["logits"], {n: inputs[n][k:k + 1].numpy() for n in names})[0]
                                     for k in range(count)])
        else:
            logits = classify(self.module, inputs, device=self.device)["logits"]
        return torch.softmax(torch.from_numpy(logits), dim=1).numpy()


def _has_onnxruntime() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx", "onnxscript"))


#: what the one-time ONNX export of a checkpoint takes, to tell the user (a hand expert of the default
#: size: 37 s on 2 busy cores)
EXPORT_SECONDS = 40


def _onnx_session(module: ActionModule, checkpoint: Path, threads: int | None,  # noqa: ANN202 - optional dep
                  log: Callable[[str], None]):
    """An ONNX Runtime session of the checkpoint's network, exported once into the model cache
    (keyed by the checkpoint's content)."""
    path = live_graph_path(checkpoint)
    if not path.is_file():
        # the export takes tens of seconds with nothing else to show: say so before, and after
        log(f"exporting {checkpoint} to ONNX for ONNX Runtime, once per checkpoint (about {EXPORT_SECONDS} s; "
            f"`bharnet export` does it ahead; --backend eager skips it) ...")
        result = export_onnx(module.model, path, frames=int(module.config["data"]["window"]), batch=1, check=False)
        log(f"exported in {result['seconds']:.0f} s to {path}; later starts load it")
    return onnx_session(path, threads)


class Recognizer:
    """A checkpoint ready to classify skeletons read from video: its test view, its class names, the
    MediaPipe model files it needs (from the paths given, the environment, the cache or a download,
    :func:`bharnet.video.models.resolve_model`; ``pose_model`` also "full" or "lite") and its network
    (``backend``: :class:`Network`; on ``device``, default the GPU when there is one). Sides follow
    NTU's convention (``mirrored``: whether the frames are mirror images, None to tell by name;
    :mod:`bharnet.video.sides`)."""

    def __init__(self, checkpoint: str | Path, *, pose_model: str | Path | None = None,
                 hand_model: str | Path | None = None, device: str | None = None, mirrored: bool | None = None,
                 backend: str = "eager", threads: int | None = None,
                 log: Callable[[str], None] = lambda message: None) -> None:
        self.checkpoint = str(checkpoint)
        self.module = load_checkpoint(checkpoint)
        self.meta, self.streams = self.module.store_meta, tuple(self.module.streams)
        layout, channels = self.meta["body_layout"], self.meta["channels"]
        if layout not in VIDEO_BODY_LAYOUTS or channels != 3:
            raise UserError(f"{checkpoint}: its body is {layout} with {channels} channels; from a video the pose "
                            f"landmarker gives 3D {' or '.join(VIDEO_BODY_LAYOUTS)} bodies (`bharnet test` runs "
                            "this model on a store of its own kind)")
        self.classes = self.meta.get("classes") or [str(k) for k in range(self.meta["num_classes"])]
        self.device, self.mirrored = device, mirrored
        skeleton_streams = [s for s in self.streams if s != "rgb"]  # the RGB stream is an ST-ROI image
        self.view = SampleView(ViewConfig.of(self.module.config["data"]), layout, skeleton_streams)
        self.pose_model = resolve_pose_model(pose_model)
        self.hand_model = resolve_model("hand", hand_model) if "hand" in self.streams else None
        self.network = Network(self.module, checkpoint, backend, device, threads, log)

    def ranked(self, p: np.ndarray, top: int) -> list[tuple[str, float]]:
        """The ``top`` most probable classes of the probabilities ``p`` (K,), with their probability."""
        return [(self.classes[k], float(p[k])) for k in np.argsort(-p)[:top]]


class VideoPredictor(Recognizer):
    """A checkpoint ready to classify videos over windows of ``clip_seconds`` every
    ``stride_seconds`` (``options``: those of :class:`Recognizer`)."""

    def __init__(self, checkpoint: str | Path, *, clip_seconds: float = 3.0, stride_seconds: float = 1.0,
                 top: int = 5, **options) -> None:
        super().__init__(checkpoint, **options)
        self.clip_seconds, self.stride_seconds, self.top = clip_seconds, stride_seconds, top

    def __call__(self, video: str | Path, render: str | Path | None = None) -> VideoPrediction:
        """Classify ``video``; with ``render``, also write it with the overlay of each frame's window
        (an MP4)."""
        video = _existing(video)
        skeleton = read_video_skeleton(video, self.pose_model, self.hand_model, body_layout=self.meta["body_layout"],
                                       num_persons=self.meta["num_persons"], require_body="body" in self.streams,
                                       config=ExtractConfig(mirrored=self.mirrored))
        fps, num_frames = skeleton.fps, len(skeleton.body)
        spans = video_windows(num_frames, max(1, round(self.clip_seconds * fps)),
                              max(1, round(self.stride_seconds * fps)))
        probs = self._probabilities(skeleton, spans, video)
        windows = [Window(start / fps, end / fps, self._ranked(p))
                   for (start, end), p in zip(spans, probs, strict=True)]
        if render is not None:
            render_windows(video, skeleton, spans, windows, render)
        short = short_decode(video, num_frames, skeleton.listed_frames)
        return VideoPrediction(str(video), self.checkpoint, num_frames, float(fps), skeleton.person,
                               skeleton.frames_with_hand if self.hand_model is not None else None,
                               self._ranked(probs.mean(axis=0)), windows,
                               [f"{short}; the prediction is from those frames"] if short else [])

    def _probabilities(self, skeleton: VideoSkeleton, spans: list[tuple[int, int]], video: Path) -> np.ndarray:
        """Class probabilities ``(windows, K)`` through the checkpoint's own test view."""
        inputs = window_inputs(self.view, skeleton, spans)
        if "rgb" in self.streams:
            for window, image in zip(inputs, window_rois(video, spans, skeleton, self.module.model.image_size),
                                     strict=True):
                window["rgb"] = image.transpose(2, 0, 1).astype(np.float32) / 255.0
        batch_size = int(self.module.config["data"]["eval_batch_size"])
        return np.concatenate([self.network(stack_inputs(inputs[i:i + batch_size]))
                               for i in range(0, len(inputs), batch_size)])

    def _ranked(self, p: np.ndarray) -> list[tuple[str, float]]:
        return self.ranked(p, self.top)


def window_rois(video: Path, spans: list[tuple[int, int]], skeleton: VideoSkeleton, size: int) -> list[np.ndarray]:
    """Each window's ST-ROI image ``(size, size, 3)`` uint8, cut around the pose landmarks of its frames
    (black where nobody is seen); the frames every window needs are decoded in one pass."""
    if skeleton.pixels is None or not np.isfinite(skeleton.pixels).any():
        raise UserError(f"{video}: no person's pixel positions, so no ST-ROI image for the RGB stream")
    config = RoiConfig(size=size)
    height = probe_video(video).height
    plans = {}
    for start, end in spans:
        try:
            plans[start] = plan_st_roi(skeleton.pixels[start:end], "pose33", height, config)
        except ValueError:  # nobody seen in this window
            continue
    frames = read_frames_at(video, np.concatenate([rows + start for start, (rows, _, _) in plans.items()]))
    black = np.zeros((size, size, 3), np.uint8)
    return [build_st_roi([frames[int(start + r)] for r in plans[start][0]], *plans[start][1:], config)
            if start in plans else black for start, _ in spans]


def render_windows(video: Path, skeleton: VideoSkeleton, spans: list[tuple[int, int]], windows: list[Window],
                   out: str | Path, top: int = 3) -> Path:
    """Write ``video`` with the overlay of ``bharnet live`` to ``out``: on each frame its body and
    hands, and the top classes of the window centred nearest to it."""
    centres = np.array([(start + end - 1) / 2 for start, end in spans])
    with OverlayWriter(out, skeleton.fps) as writer:
        for t, image in enumerate(iter_frames(video)):
            window = windows[int(np.argmin(np.abs(centres - t)))]
            note = f"window {window.start:.1f}-{window.end:.1f} s"
            writer.write(draw_overlay(image, skeleton_overlay(skeleton, t, image.shape, window.top[:top], note), top))
    return Path(out)


def skeleton_overlay(skeleton: VideoSkeleton, t: int, shape: tuple[int, ...], top: list[tuple[str, float]],
                  note: str = "") -> Overlay:
    """The overlay of frame ``t`` of a video's skeleton (its first person and the hands)."""
    if t >= len(skeleton.body):
        return Overlay(top=tuple(top), note=note)
    h, w = shape[:2]
    body = skeleton.pixels[t, 0] if skeleton.pixels is not None else None
    hands = None if skeleton.hands is None else skeleton.hands[t, :, :, :2] * np.array([w, h])
    found = None if skeleton.hand_conf is None else (skeleton.hand_conf[t] > 0).any(axis=-1)
    return Overlay(body, hands, found, tuple(top), None, note)


def _existing(video: str | Path) -> Path:
    video = Path(video)
    if not video.is_file():
        raise UserError(f"{video}: no such video file")
    return video


def predict_video(checkpoint: str | Path, video: str | Path, render: str | Path | None = None,
                  **options) -> VideoPrediction:
    """Classify one video (``options``: those of :class:`VideoPredictor`); ``render``: an MP4 of
    the overlay."""
    video = _existing(video)  # before the checkpoint and the model files are looked for
    if render is not None:
        check_output_file(render, flag="--render", inputs=[video, checkpoint], ours=written_by_overlay)
    return VideoPredictor(checkpoint, **options)(video, render)


@dataclass
class BatchSummary:
    """What :func:`predict_videos` did; ``failed`` maps a video to the reason."""

    done: list[VideoPrediction] = field(default_factory=list)
    skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)


def predict_videos(checkpoint: str | Path, inputs: list[str | Path], out: str | Path,
                   **options) -> BatchSummary:
    """Classify every video of ``inputs`` (files, or folders searched recursively) into
    ``out/<video stem>.json``. Videos whose file exists are skipped (resume); one that fails is
    reported and the others go on."""
    out = check_output_folder(out, flag="--out", inputs=[*inputs, checkpoint], ours=holds_only("*.json"))
    targets = {video: out / f"{video.stem}.json" for video in find_videos(inputs)}
    unique_outputs(targets)
    predictor = VideoPredictor(checkpoint, **options)
    summary = BatchSummary()
    for video, target in targets.items():
        if target.exists():
            summary.skipped += 1
            continue
        try:
            result = predictor(video)
        except UserError as err:
            summary.failed[str(video)] = str(err)
            continue
        except Exception as err:  # noqa: BLE001 - one bad video must not end a long run
            summary.failed[str(video)] = f"{type(err).__name__}: {err}"
            continue
        write_json(target, result.as_dict())
        summary.done.append(result)
    return summary
