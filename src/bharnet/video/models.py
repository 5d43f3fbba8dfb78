"""Find (or fetch) MediaPipe's ``.task`` model files.

Order of search for each model: the explicit path (``--hand-model`` / ``--pose-model``), the
environment variable (``BHARNET_HAND_MODEL`` / ``BHARNET_POSE_MODEL``), the cache folder
(``$BHARNET_CACHE/models`` or ``~/.cache/bharnet/models``), then a download from MediaPipe's
model storage into the cache, verified against a pinned SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bharnet.core.atomic import atomic_file
from bharnet.core.errors import UserError

_STORAGE = "https://storage.googleapis.com/mediapipe-models"


@dataclass(frozen=True)
class ModelSpec:
    """One MediaPipe model file: where it is published and the checksum it must have."""

    kind: str
    filename: str
    url: str
    sha256: str
    env: str
    flag: str


# Versioned URLs ("/1/", not "/latest/") so that the pinned checksum keeps matching.
HAND_MODEL = ModelSpec(
    kind="hand",
    filename="hand_landmarker.task",
    url=f"{_STORAGE}/hand_landmarker/hand_landmarker/float16/1/hand_landmarker.task",
    sha256="fbc2a30080c3c557093b5ddfc334698132eb341044ccee322ccf8bcf3607cde1",
    env="BHARNET_HAND_MODEL",
    flag="--hand-model",
)
# The checksum is that of the offline copy this project was tested with; see docs/hands.md.
POSE_MODEL = ModelSpec(
    kind="pose",
    filename="pose_landmarker_full.task",
    url=f"{_STORAGE}/pose_landmarker/pose_landmarker_full/float16/1/pose_landmarker_full.task",
    sha256="c11c6463fcd97d1637544cc95e436f535d4dce67d16ce845ec84f899c80b0eb4",
    env="BHARNET_POSE_MODEL",
    flag="--pose-model",
)
# The light pose model: no offline copy was checked here, so no checksum is pinned and it is never
# downloaded; give it with --pose-model PATH, $BHARNET_POSE_LITE_MODEL or in the cache.
POSE_LITE_MODEL = ModelSpec(
    kind="pose-lite",
    filename="pose_landmarker_lite.task",
    url=f"{_STORAGE}/pose_landmarker/pose_landmarker_lite/float16/1/pose_landmarker_lite.task",
    sha256="",
    env="BHARNET_POSE_LITE_MODEL",
    flag="--pose-model",
)
MODELS = {spec.kind: spec for spec in (HAND_MODEL, POSE_MODEL, POSE_LITE_MODEL)}
#: ``--pose-model`` names: the pose landmarker's sizes
POSE_SIZES = {"full": "pose", "lite": "pose-lite"}

Opener = Callable[[str], BinaryIO]


def cache_dir() -> Path:
    """The model cache folder: ``$BHARNET_CACHE/models`` or ``~/.cache/bharnet/models``."""
    root = os.environ.get("BHARNET_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "bharnet") / "models"


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _open_url(url: str) -> BinaryIO:
    return urllib.request.urlopen(url, timeout=60)  # noqa: S310 - the URL is one of ours


def download_model(spec: ModelSpec, dest_dir: Path, opener: Opener | None = None, url: str | None = None) -> Path:
    """Download ``spec`` into ``dest_dir`` atomically and verify its checksum.

    ``opener`` (a function URL -> readable binary file) and ``url`` exist for tests and mirrors.
    A file whose checksum differs is deleted and reported, never kept.
    """
    url = url or spec.url
    dest = dest_dir / spec.filename
    try:
        with atomic_file(dest) as out, (opener or _open_url)(url) as src:
            digest = hashlib.sha256()
            for chunk in iter(lambda: src.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
            if digest.hexdigest() != spec.sha256:  # raised inside the block: the file is discarded
                raise UserError(
                    f"downloaded {url} has SHA-256 {digest.hexdigest()}, expected {spec.sha256}; the file was "
                    f"discarded. Download a {spec.kind} model you trust and pass it with {spec.flag} PATH or "
                    f"{spec.env}=PATH."
                )
    except OSError as err:
        raise UserError(f"could not download the {spec.kind} model from {url}: {err}") from err
    return dest


def resolve_model(kind: str, path: str | os.PathLike | None = None, download: bool = True,
                  opener: Opener | None = None) -> Path:
    """Return the path of the ``kind`` ("hand" or "pose") model, downloading it when allowed.

    Raises :class:`UserError` naming every place looked at when none has it.
    """
    spec = MODELS[kind]
    looked: list[str] = []
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise UserError(f"{spec.flag} {p}: no such file")
        return p
    env = os.environ.get(spec.env)
    if env:
        p = Path(env).expanduser()
        if p.is_file():
            return p
        looked.append(f"{spec.env}={p} (no such file)")
    else:
        looked.append(f"{spec.env} (not set)")
    cached = cache_dir() / spec.filename
    if cached.is_file():
        return cached
    looked.append(f"{cached} (absent)")
    if download and spec.sha256:
        try:
            return download_model(spec, cache_dir(), opener=opener)
        except UserError as err:
            looked.append(f"download: {err}")
    if not spec.sha256:
        looked.append("download: none without a pinned checksum")
    raise UserError(
        f"no MediaPipe {spec.kind} model found. Looked at: " + "; ".join(looked)
        + f". Fix: pass {spec.flag} PATH, set {spec.env}=PATH, or put {spec.filename} (from {spec.url}) "
        f"in {cache_dir()}."
    )


def resolve_pose_model(choice: str | os.PathLike | None = None, download: bool = True) -> Path:
    """The pose landmarker by size ("full", the default, or "lite") or by path."""
    if choice is None or str(choice) in POSE_SIZES:
        return resolve_model(POSE_SIZES[str(choice or "full")], None, download)
    return resolve_model("pose", choice, download)
