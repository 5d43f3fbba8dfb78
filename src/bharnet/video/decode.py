"""Read video files frame by frame (PyAV, imported lazily)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bharnet.core.errors import UserError

#: file endings treated as videos when a folder is given
VIDEO_SUFFIXES = (".avi", ".mp4", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")


@dataclass(frozen=True)
class VideoInfo:
    """Size and rate of a video stream; ``frames`` is the container's count (0 when unknown)."""

    width: int
    height: int
    fps: float
    frames: int


def _open(path: Path):
    import av  # lazy: only video work needs PyAV

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as err:
        raise UserError(f"{path}: cannot open as a video ({err})") from err
    if not container.streams.video:
        container.close()
        raise UserError(f"{path}: has no video stream")
    return container


def probe_video(path: str | Path) -> VideoInfo:
    """Width, height, frame rate and frame count of the first video stream of ``path``."""
    with _open(Path(path)) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or 0
        return VideoInfo(int(stream.width), int(stream.height), float(rate), int(stream.frames or 0))


def short_decode(path: str | Path, decoded: int, listed: int | None = None) -> str | None:
    """The warning for a video that decoded to fewer frames than its container lists (``listed``;
    None: probe the file), a truncated or damaged file where decoding stopped, naming it; None when
    it is whole or its container does not say. Callers add what the short read means for them."""
    promised = probe_video(path).frames if listed is None else listed
    if promised and decoded < promised:
        return (f"{path}: {decoded} of the {promised} frames its container lists could be decoded (a truncated or "
                "damaged file?)")
    return None


def iter_frames(path: str | Path, step: int = 1) -> Iterator[np.ndarray]:
    """Yield the frames of ``path`` in decoding order as RGB ``uint8`` arrays (H, W, 3); with
    ``step`` > 1 only frames 0, step, 2 step, ... (every frame is decoded, as the codec needs, but
    only those are converted).

    Raises :class:`UserError` when the file cannot be opened or decoding fails before any frame.
    A stream that breaks after some frames ends there (truncated files are common).
    """
    import av

    path = Path(path)
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        count = 0
        try:
            for frame in container.decode(stream):
                count += 1
                if (count - 1) % step == 0:
                    yield frame.to_ndarray(format="rgb24")
        except av.error.FFmpegError as err:
            if count == 0:
                raise UserError(f"{path}: cannot decode video ({err})") from err
    if count == 0:
        raise UserError(f"{path}: no decodable frame")


def write_video(path: str | Path, frames: list[np.ndarray] | np.ndarray, fps: float = 30.0,
                codec: str = "mpeg4", threads: int | None = None, container_format: str | None = None) -> Path:
    """Write RGB frames (T, H, W, 3) to ``path`` (used to make test clips and examples).
    ``threads``: the encoder's threads (None: the codec's choice, which follows the CPUs this
    process may use; the encoded pixels differ with it, so a clip that must be the same
    everywhere, such as a benchmark's, gives 1). ``container_format`` (e.g. ``"avi"``): where the
    name's suffix does not say it (a temporary name, :func:`~bharnet.core.atomic.atomic_path`)."""
    import av

    path = Path(path)
    frames = list(frames)
    height, width = frames[0].shape[:2]
    with av.open(str(path), mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=int(round(fps)))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if codec == "mpeg4":
            stream.bit_rate = 8_000_000
        if threads is not None:
            stream.codec_context.thread_count = threads
        for image in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image, dtype=np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
