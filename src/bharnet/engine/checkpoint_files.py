"""What a path given as a checkpoint is when it is not one: a folder (and the checkpoints in it),
a file of another kind told by its first bytes, or a PyTorch file holding something else, so
that the message names what was found and never suggests loading it in a way that runs code."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from bharnet.core.words import plural

__all__ = ["folder_message", "foreign_file_kind", "describe_contents"]

#: the start of PyTorch's legacy (non-zip) format: a pickled magic number, protocol 2
_LEGACY_TORCH = b"\x80\x02\x8a\x0a"
_MAGIC = (
    (b"\x93NUMPY", "a NumPy array file (.npy)"),
    (b"\x89HDF", "an HDF5 file (Keras or another program's weights?)"),
    (b"RIFF", "a RIFF file (an AVI video?)"),
    (b"\x1aE\xdf\xa3", "a Matroska / WebM video"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x89PNG", "a PNG image"),
)


def folder_message(path: Path) -> str:
    """``path`` is a folder: say so, and name the checkpoint it most likely meant."""
    found = _checkpoints_in(path)
    hint = f"; did you mean {found[0]}?" if found else " (and holds no .ckpt file)"
    return f"{path} is a folder, not a checkpoint file{hint}"


def _checkpoints_in(folder: Path) -> list[Path]:
    """The checkpoints of a run folder (``checkpoints/best.ckpt`` first) or of a checkpoints folder."""
    try:
        found = [p for sub in (folder / "checkpoints", folder) if sub.is_dir()
                 for p in sorted(sub.glob("*.ckpt")) if p.is_file()]
    except OSError:
        return []
    return sorted(found, key=lambda p: (p.parent != folder / "checkpoints", p.name != "best.ckpt",
                                        p.name != "last.ckpt"))


def foreign_file_kind(path: Path) -> str | None:
    """What the file is when its first bytes show it is not a PyTorch file; None when it may be one
    (a zip with a pickle inside, the legacy format, or a zip too damaged to list, which loading
    then reports as truncated)."""
    with open(path, "rb") as f:
        head = f.read(512)
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    if head.startswith(_LEGACY_TORCH):
        return None
    if head.startswith(b"\x80"):
        return "a Python pickle, not a PyTorch file (bharnet loads no pickles: they can run code)"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[4:8] == b"ftyp":
        return "an MP4 / MOV video"
    if path.suffix.lower() == ".onnx":
        return "an ONNX model (what `bharnet export` writes), not a training checkpoint"
    text = _text_start(head)
    if text is not None:
        return f"a text file (it starts with {text!r})"
    return f"unknown content (it starts with the bytes {head[:8].hex(' ')}), not a PyTorch file"


def _zip_kind(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None  # cut short or damaged: loading it says so
    if any(n.endswith("data.pkl") for n in names):
        return None
    if names and all(n.endswith(".npy") for n in names):
        arrays = ", ".join(n.removesuffix(".npy") for n in names[:5])
        return f"a NumPy .npz archive (arrays {arrays}), not a PyTorch file"
    example = f", e.g. {names[0]}" if names else ""
    return f"a ZIP archive of {plural(len(names), 'file')}{example}, not a PyTorch file"


def _text_start(head: bytes) -> str | None:
    """The first line of ``head`` when it reads as text (UTF-8, printable); None otherwise."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start < len(head) - 3:  # not just a character cut at the end of the 512 bytes
            return None
        text = head[:err.start].decode("utf-8")
    if not all(c.isprintable() or c in "\t\r\n" for c in text):
        return None
    lines = text.strip().splitlines()
    return lines[0][:40] if lines else ""


def describe_contents(obj: Any) -> str:
    """What a PyTorch file holds, for a file that loaded but is not a bharnet checkpoint."""
    import torch

    if isinstance(obj, torch.Tensor):
        return f"a single tensor of shape {tuple(obj.shape)}"
    if isinstance(obj, dict):
        keys = [str(k) for k in obj]
        if keys and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return (f"a plain state dict of {plural(len(keys), 'tensor')} (e.g. {keys[0]}), without the config and "
                    "store description that `bharnet train` saves with the weights")
        shown = ", ".join(keys[:5]) + (", ..." if len(keys) > 5 else "")
        return f"a dict with the keys {shown or 'none'}, no state_dict"
    return f"a {type(obj).__name__}, not a dict of weights"
