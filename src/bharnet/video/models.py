"""MediaPipe's ``.task`` model files: their table, and finding (or fetching) one.

Order of search for each model: the explicit path (``--hand-model`` / ``--pose-model``), the
environment variable (``BHARNET_HAND_MODEL`` / ``BHARNET_POSE_MODEL``), the cache folder
(``$BHARNET_CACHE/models`` or ``~/.cache/bharnet/models``), then a download from MediaPipe's
model storage into the cache, verified against a pinned SHA-256 (:mod:`bharnet.core.model_files`).
"""

from __future__ import annotations

import os
from pathlib import Path

from bharnet.core.model_files import ModelFile, Opener, find_model_file

_STORAGE = "https://storage.googleapis.com/mediapipe-models"

# Versioned URLs ("/1/", not "/latest/") so that the pinned checksum keeps matching.
HAND_MODEL = ModelFile(
    name="MediaPipe hand model",
    filename="hand_landmarker.task",
    url=f"{_STORAGE}/hand_landmarker/hand_landmarker/float16/1/hand_landmarker.task",
    sha256="fbc2a30080c3c557093b5ddfc334698132eb341044ccee322ccf8bcf3607cde1",
    env="BHARNET_HAND_MODEL",
    option="--hand-model",
    usage="--hand-model PATH",
)
# The checksum is that of the offline copy this project was tested with; see docs/hands.md.
POSE_MODEL = ModelFile(
    name="MediaPipe pose model",
    filename="pose_landmarker_full.task",
    url=f"{_STORAGE}/pose_landmarker/pose_landmarker_full/float16/1/pose_landmarker_full.task",
    sha256="c11c6463fcd97d1637544cc95e436f535d4dce67d16ce845ec84f899c80b0eb4",
    env="BHARNET_POSE_MODEL",
    option="--pose-model",
    usage="--pose-model PATH",
)
# The light pose model: no offline copy was checked here, so no checksum is pinned and it is never
# downloaded; give it with --pose-model PATH, $BHARNET_POSE_LITE_MODEL or in the cache.
POSE_LITE_MODEL = ModelFile(
    name="MediaPipe pose-lite model",
    filename="pose_landmarker_lite.task",
    url=f"{_STORAGE}/pose_landmarker/pose_landmarker_lite/float16/1/pose_landmarker_lite.task",
    sha256="",
    env="BHARNET_POSE_LITE_MODEL",
    option="--pose-model",
    usage="--pose-model PATH",
)
#: the model files by kind ("hand", "pose", "pose-lite")
MODELS = {"hand": HAND_MODEL, "pose": POSE_MODEL, "pose-lite": POSE_LITE_MODEL}
#: ``--pose-model`` names: the pose landmarker's sizes
POSE_SIZES = {"full": "pose", "lite": "pose-lite"}


def resolve_model(kind: str, path: str | os.PathLike | None = None, download: bool = True,
                  opener: Opener | None = None) -> Path:
    """Return the path of the ``kind`` ("hand" or "pose") model, downloading it when allowed.

    Raises :class:`~bharnet.core.errors.UserError` naming every place looked at when none has it.
    """
    return find_model_file(MODELS[kind], path, download=download, opener=opener)


def resolve_pose_model(choice: str | os.PathLike | None = None, download: bool = True) -> Path:
    """The pose landmarker by size ("full", the default, or "lite") or by path."""
    if choice is None or str(choice) in POSE_SIZES:
        return resolve_model(POSE_SIZES[str(choice or "full")], None, download)
    return resolve_model("pose", choice, download)
