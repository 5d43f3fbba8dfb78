"""Northwestern-UCLA (the JSON files of CTR-GCN's ``all_sqe`` folder) into a store."""

from __future__ import annotations

import os
from pathlib import Path

from bharnet.core.errors import UserError
from bharnet.core.layouts import get_layout
from bharnet.core.sequence import Sequence
from bharnet.io.ucla import UCLA_CLASSES, list_ucla, read_ucla
from bharnet.store.convert import run_conversion
from bharnet.store.packed import StoreWriter

__all__ = ["prepare_ucla"]


def _read_ucla_list(path: str) -> list[Sequence]:
    return [read_ucla(path)]


def prepare_ucla(raw: str | os.PathLike, out: str | os.PathLike, *, workers: int = 1, strict: bool = False,
                 progress: bool | None = None):
    """Convert the N-UCLA JSON folder ``raw`` into the store ``out``; returns a :class:`PrepareSummary`."""
    try:
        files = list_ucla(raw)
    except FileNotFoundError as err:
        raise UserError(str(err)) from None
    with StoreWriter(out, body_layout=get_layout("ucla20").name, num_persons=1, classes=UCLA_CLASSES,
                     source={"dataset": "nw-ucla", "raw": str(Path(raw).resolve())}) as writer:
        summary = run_conversion([str(f) for f in files], _read_ucla_list, writer, key=lambda s: Path(s).name,
                                 workers=workers, strict=strict, title="N-UCLA", progress=progress)
    summary.store = Path(out)
    return summary
