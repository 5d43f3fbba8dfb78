"""ST-ROI images kept with a store: a side array beside the skeleton arrays.

Files in the store folder (written after the store itself, each atomically)::

    rgb_roi.npy    uint8 (N, S, S, 3): sample i's ST-ROI image (zeros where it has none)
    has_rgb.npy    bool (N,): False where no image was found for the sample
    rgb_roi.json   {"size": S, "found": ..., "missing": [names], "source": ...}

Memory-mapped to read, like every store array. :func:`attach_rois` fills it from a folder of
per-video PNG files (``bharnet extract-roi``), matched by sample name; :func:`write_rois` from
images in memory (BodyHand-Synth).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bharnet.core.atomic import write_json
from bharnet.core.errors import UserError
from bharnet.core.interrupts import save_npy
from bharnet.video.roi_files import RoiSummary, read_roi, run_roi_extraction

__all__ = ["ROI_ARRAY", "has_rois", "roi_size", "write_rois", "attach_rois", "add_rois_from_videos", "RoiArray"]

ROI_ARRAY, ROI_MASK, ROI_META = "rgb_roi.npy", "has_rgb.npy", "rgb_roi.json"


def has_rois(store: str | Path) -> bool:
    """Whether the store folder has ST-ROI images."""
    return (Path(store) / ROI_META).is_file()


def roi_size(store: str | Path) -> int:
    """The side of the store's ST-ROI images."""
    return int(json.loads((Path(store) / ROI_META).read_text())["size"])


def write_rois(store: str | Path, names: list[str], image_of: Callable[[int, str], np.ndarray | None], size: int,
               source: dict | None = None) -> dict:
    """Write the side array: ``image_of(i, name)`` gives sample i's ``(size, size, 3)`` uint8 image or
    None. Streams into a temporary ``.npy`` then renames it, so a reader never sees half an array."""
    store = Path(store)
    tmp = store / (ROI_ARRAY + ".partial")
    array = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(len(names), size, size, 3))
    present = np.zeros(len(names), bool)
    for i, name in enumerate(names):
        image = image_of(i, name)
        if image is not None:
            array[i] = image
            present[i] = True
    array.flush()
    del array
    os.replace(tmp, store / ROI_ARRAY)
    mask_tmp = store / (ROI_MASK + ".partial.npy")
    save_npy(mask_tmp, present)
    os.replace(mask_tmp, store / ROI_MASK)
    meta = {"size": size, "found": int(present.sum()),
            "missing": [n for n, p in zip(names, present, strict=True) if not p], "source": source or {}}
    write_json(store / ROI_META, meta)
    return meta


def attach_rois(store: str | Path, roi_dir: str | Path, size: int | None = None) -> dict:
    """Give a finished store the ST-ROI PNGs of ``roi_dir`` (``<sample name>.png``); samples without a
    PNG get none (``has_rgb`` False) and are listed under ``missing``. Returns the meta."""
    store, roi_dir = Path(store), Path(roi_dir)
    if not (store / "names.json").is_file():
        raise UserError(f"{store} is not a bharnet store (no names.json)")
    if not roi_dir.is_dir():
        raise UserError(f"{roi_dir}: no such folder of ST-ROI images")
    names = json.loads((store / "names.json").read_text())
    found = {p.stem: p for p in roi_dir.glob("*.png")}
    if size is None:
        if not found:
            raise UserError(f"{roi_dir} holds no .png ST-ROI image")
        size = read_roi(next(iter(found.values()))).shape[0]
    return write_rois(store, names, lambda i, name: read_roi(found[name], size) if name in found else None,
                      size, source={"folder": str(roi_dir)})


class RoiArray:
    """Read a store's ST-ROI images (memory-mapped on first use in each process)."""

    def __init__(self, store: str | Path) -> None:
        self.path = Path(store)
        if not has_rois(self.path):
            raise UserError(f"{self.path} has no ST-ROI images ({ROI_META}); add them with `bharnet prepare ... "
                            "--rgb` or `bharnet attach-roi`")
        self.size = roi_size(self.path)
        self.present = np.load(self.path / ROI_MASK)
        self._images: np.ndarray | None = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_images": None}

    def image(self, index: int) -> np.ndarray:
        """Sample ``index``'s image ``(S, S, 3)`` uint8 (zeros where it has none)."""
        if self._images is None:
            self._images = np.load(self.path / ROI_ARRAY, mmap_mode="r")
        return np.array(self._images[index])  # a copy: torch wants writable arrays


def add_rois_from_videos(store: str | Path, videos: list[str | Path], roi_dir: str | Path,
                         skeletons: str | Path | None = None, pose_model: str | Path | None = None,
                         workers: int = 1) -> tuple[RoiSummary, dict]:
    """Build the ST-ROI PNG of every video into ``roi_dir`` (resumable: existing PNGs are kept), then
    attach them to ``store``. Returns the extraction summary and the attached images' meta."""
    summary = run_roi_extraction(videos, roi_dir, skeletons=skeletons, workers=workers, pose_model=pose_model)
    return summary, attach_rois(store, roi_dir)
