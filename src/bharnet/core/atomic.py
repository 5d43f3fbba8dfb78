"""Atomic file writes: a reader (or a resumed run) never sees half a file.

Everything the project writes goes to a temporary file in the destination's folder and is
renamed over the destination once complete (a rename within one file system is atomic); an
error or an interrupt leaves the destination as it was and no temporary file behind. Files get
the usual permissions (those ``open`` gives under the user's umask, not ``mkstemp``'s 0600).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from bharnet.core.jsontext import json_text

__all__ = ["atomic_file", "atomic_path", "write_text", "write_json"]


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """``with atomic_path(path) as part: write(part)``: a temporary name beside ``path`` (for writers
    that take a file name) that becomes ``path`` when the block ends without an error (the folder is
    created when missing)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """``with atomic_file(path) as f: f.write(...)``: a binary file that becomes ``path`` when the
    block ends without an error (the folder is created when missing)."""
    with atomic_path(path) as tmp, open(tmp, "xb") as f:
        yield f


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_file(path) as f:
        f.write(text.encode())
    return Path(path)


def write_json(path: str | os.PathLike, obj: object, indent: int | None = 1) -> Path:
    """:func:`write_text` of ``obj`` as JSON."""
    return write_text(path, json_text(obj, indent=indent))
