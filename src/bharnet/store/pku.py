"""PKU-MMD v1 into a store of trimmed clips, with the cross-subject split where it is given."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from bharnet.core.errors import UserError
from bharnet.io.pku import PKU_CLASSES, read_pku_sample, read_split_file
from bharnet.store.convert import run_conversion
from bharnet.store.packed import StoreWriter

__all__ = ["prepare_pku"]


def prepare_pku(skeletons: str | os.PathLike, labels: str | os.PathLike, out: str | os.PathLike, *,
                splits_dir: str | os.PathLike | None = None, workers: int = 1, strict: bool = False,
                progress: bool | None = None):
    """Convert PKU-MMD v1 (skeleton and label folders) into a store of trimmed clips."""
    for folder, what in ((skeletons, "skeleton"), (labels, "label")):
        if not Path(folder).is_dir():
            raise UserError(f"{folder}: no such folder (expected the PKU-MMD {what} files)")
    files = sorted(Path(skeletons).glob("*.txt"))
    if not files:
        raise UserError(f"{skeletons}: no .txt skeleton files")
    if splits_dir is None and (Path(skeletons).resolve().parent / "Split" / "cross-subject.txt").is_file():
        splits_dir = Path(skeletons).resolve().parent / "Split"  # the download's layout
    xsub = None
    if splits_dir is not None:
        split_file = Path(splits_dir) / "cross-subject.txt"
        try:
            xsub = read_split_file(split_file)
        except (OSError, ValueError) as err:
            raise UserError(f"{split_file}: {err}") from None
    convert = functools.partial(read_pku_sample, labels_dir=str(labels), xsub=xsub)
    source = {"dataset": "pku-mmd-v1", "raw": str(Path(skeletons).resolve()),
              "cross_subject": "official list" if xsub else "not given"}
    with StoreWriter(out, body_layout="ntu25", num_persons=2, classes=PKU_CLASSES, source=source) as writer:
        summary = run_conversion([str(f) for f in files], convert, writer, key=lambda s: Path(s).name,
                                 workers=workers, strict=strict, title="PKU-MMD", progress=progress)
    if xsub is None:
        summary.notes.append("no cross-subject split written: give --splits DIR (the data set's Split folder, "
                             "with cross-subject.txt)")
    summary.store = Path(out)
    return summary
