"""Atomic file writes: a reader (or a resumed run) never sees half a file. Files get the usual
permissions (those ``open`` gives, under the user's umask)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["replacing", "write_text", "write_json"]


@contextmanager
def replacing(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; when the block ends without an error it
    replaces ``path`` (a rename), otherwise it is removed and ``path`` stays as it was."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with open(tmp, mode) as f:
            yield f
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    with replacing(path, "w") as f:
        f.write(text)
    return Path(path)


def write_json(path: str | os.PathLike, obj: object, indent: int | None = 1) -> Path:
    """:func:`write_text` of ``obj`` as JSON."""
    return write_text(path, json.dumps(obj, indent=indent))
