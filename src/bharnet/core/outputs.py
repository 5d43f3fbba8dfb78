"""Where a command's results go, checked before any work starts.

A command may run for hours over a user's only copy of a data set, so its output locations are
checked first, and the rules are the same for every command:

- an output file is never a folder, never one of the command's inputs, and an existing file is
  replaced only when bharnet wrote it (``ours`` recognises it: a scores file, an ONNX file or a
  video with bharnet's mark);
- an output folder is never a file, never an input nor a folder holding an input, and an existing
  folder that is not empty must be one the command wrote (``ours``): bharnet never deletes or
  mixes its results into a folder of the user's;
- the nearest existing folder on the way must be writable (missing folders are created when the
  results are written).

Every rule broken is a :class:`~bharnet.core.errors.UserError` naming the flag and the path.
"""

from __future__ import annotations

import fnmatch
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from bharnet.core.errors import UserError

__all__ = ["WRITTEN_BY", "check_output_file", "check_output_folder", "holds_only", "unique_outputs"]

#: the mark bharnet leaves in the metadata of files whose format has some (videos, ONNX graphs), so
#: that a later run knows it may replace them
WRITTEN_BY = "written by bharnet"

#: temporary files of :func:`bharnet.core.atomic.atomic_file`: a run interrupted mid-write leaves none,
#: but a killed one may
PART_FILES = ".*.part"


def check_output_file(path: str | os.PathLike, *, flag: str, inputs: Iterable[str | os.PathLike] = (),
                      ours: Callable[[Path], bool] | None = None) -> Path:
    """``path`` as a file the command may write (see the module docstring); ``ours(path)`` says
    whether an existing file was written by this command and may be replaced."""
    path = Path(path)
    where = f"{flag} {path}" if flag else str(path)
    if path.is_dir():
        raise UserError(f"{where}: is a folder; give a file name")
    if any(_same(path, item) for item in inputs):
        raise UserError(f"{where}: is an input of this command; give another file name")
    if path.exists() and not (ours is not None and _safely(ours, path)):
        raise UserError(f"{where}: exists and was not written by bharnet; remove it or give another name "
                        "(bharnet replaces only files it wrote)")
    _check_writable(path.parent, where)
    return path


def check_output_folder(path: str | os.PathLike, *, flag: str, inputs: Iterable[str | os.PathLike] = (),
                        ours: Callable[[Path], bool] | None = None) -> Path:
    """``path`` as a folder the command may write into (see the module docstring); ``ours(path)``
    says whether an existing, non-empty folder holds only what this command writes."""
    path = Path(path)
    where = f"{flag} {path}" if flag else str(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"{where}: is a file, not a folder; give a folder name")
    for item in inputs:
        if _same(path, item) or _inside(Path(item), path):
            raise UserError(f"{where}: holds the input {item}; give a folder of its own for the results")
    if path.is_dir() and any(path.iterdir()) and not (ours is not None and _safely(ours, path)):
        raise UserError(f"{where}: is a folder with files bharnet did not write ({_example_entry(path, ours)}); "
                        "give a new or empty folder")
    _check_writable(path, where)
    return path


class holds_only:  # noqa: N801 - used as a function: ``ours=holds_only("*.npz")``
    """A folder test for :func:`check_output_folder`: every entry's name matches one of the glob
    ``patterns`` (a command's own kinds of files; interrupted writes' temporary files always do)."""

    def __init__(self, *patterns: str) -> None:
        self.patterns = (*patterns, PART_FILES)

    def foreign(self, folder: Path) -> list[str]:
        """The names in ``folder`` that match none of the patterns, sorted."""
        return sorted(entry.name for entry in folder.iterdir()
                      if not any(fnmatch.fnmatchcase(entry.name, p) for p in self.patterns))

    def __call__(self, folder: Path) -> bool:
        return not self.foreign(folder)


def unique_outputs(outputs: dict[Path, Path], flag: str = "--out") -> None:
    """Refuse (before any work) inputs whose outputs would be one file: ``outputs`` maps each input
    to its output path."""
    seen: dict[Path, Path] = {}
    for source, target in outputs.items():
        if target in seen:
            raise UserError(f"{flag}: {seen[target]} and {source} would both write {target}; give them in "
                            "separate runs with different output folders, or rename one")
        seen[target] = source


def _check_writable(folder: Path, where: str) -> None:
    """The nearest existing folder at or above ``folder`` must be a folder one may create files in
    (probed with an unnamed temporary file: permissions, read-only and virtual file systems alike)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UserError(f"{where}: {existing} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        raise UserError(f"{where}: cannot write in {existing} ({err.strerror or err})") from None


def _same(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    return Path(a).resolve() == Path(b).resolve()


def _inside(item: Path, folder: Path) -> bool:
    """Whether ``item`` lies under ``folder``."""
    return Path(folder).resolve() in Path(item).resolve().parents


def _safely(test: Callable[[Path], bool], path: Path) -> bool:
    try:
        return bool(test(path))
    except Exception:  # noqa: BLE001 - a file the test cannot even read is not one bharnet wrote
        return False


def _example_entry(folder: Path, ours: Callable[[Path], bool] | None) -> str:
    """One of the entries that make ``folder`` not the command's (any one where ``ours`` cannot say)."""
    names = ours.foreign(folder) if isinstance(ours, holds_only) else sorted(e.name for e in folder.iterdir())
    return names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more"
