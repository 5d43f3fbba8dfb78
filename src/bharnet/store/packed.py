"""The packed dataset store: written once by streaming, memory-mapped to read.

Layout of a store directory (format version 1)::

    meta.json        format, version, layouts, persons M, channels C, classes, splits, arrays, counts
    offsets.npy      int64 (N + 1,): sample i owns frames offsets[i]:offsets[i+1]
    labels.npy       int64 (N,)
    has_hands.npy    bool (N,): False where a sample got an all-missing hand stream
    names.json       list of N sample names
    splits.json      {split name: [sample indices]}
    rejected.json    [{"source": ..., "problem": ...}]: inputs that were reported and skipped
    body.npy         float32 (F, M, V, C)   F = total frames of all samples
    body_conf.npy    float32 (F, M, V)      optional
    hands.npy        float32 (F, 2, 21, 3)  optional: left, right MediaPipe hand
    hand_conf.npy    float32 (F, 2, 21)     optional, present with hands; 0 = missing
    color_xy.npy     float32 (F, M, V, 2)   optional: RGB pixel position of each body joint

Every ``.npy`` is a plain NumPy file: ``np.load(path, mmap_mode="r")`` reads it without
copying. While writing, frames are appended to raw files in ``<store>.partial/``; a
checkpoint records how many bytes are committed, so an interrupted conversion resumes
from its last checkpoint, and the finished store appears under its name only at the end
(an atomic rename), so a half-written store never reads as complete.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from bharnet.core.atomic import write_json
from bharnet.core.errors import UserError
from bharnet.core.interrupts import save_npy
from bharnet.core.layouts import get_layout
from bharnet.core.outputs import check_output_folder, holds_only
from bharnet.core.sequence import HAND_JOINTS, Sequence

__all__ = ["StoreWriter", "SkeletonStore", "StoreError", "FORMAT", "VERSION", "is_store", "check_store_destination"]

FORMAT = "bharnet-store"
VERSION = 1
OPTIONAL_ARRAYS = ("body_conf", "hands", "color_xy")
_CHUNK_BYTES = 16 << 20
#: what a conversion in progress keeps in ``<store>.partial/``, and what a store holds
_PARTIAL_FILES = ("*.raw", "samples.jsonl", "sources.txt", "rejected.jsonl", "state.json", "build")
_STORE_FILES = ("*.npy", "*.json")
_META_KEYS = ("arrays", "num_samples", "num_frames", "num_classes", "body_layout", "num_persons", "num_joints",
              "channels")


class StoreError(UserError):
    """A store that is missing, incomplete, damaged or not a bharnet store."""


def _damaged(file: Path, problem: str) -> StoreError:
    return StoreError(f"{file}: {problem}; the store is damaged: prepare it again with `bharnet prepare ...` "
                      "(or restore the folder from a copy)")


def _frame_shapes(num_persons: int, num_joints: int, channels: int) -> dict[str, tuple[int, ...]]:
    return {
        "body": (num_persons, num_joints, channels),
        "body_conf": (num_persons, num_joints),
        "hands": (2, HAND_JOINTS, 3),
        "hand_conf": (2, HAND_JOINTS),
        "color_xy": (num_persons, num_joints, 2),
    }


def is_store(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a finished bharnet store (its ``meta.json`` says so)."""
    try:
        return json.loads((Path(path) / "meta.json").read_text()).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _is_ours(path: Path) -> bool:
    """Whether ``path`` is a store, a conversion's partial folder or what is left of either after an
    interrupted deletion (it holds nothing but their kinds of files)."""
    return is_store(path) or (path.is_dir() and holds_only(*_PARTIAL_FILES, *_STORE_FILES)(path))


def check_store_destination(path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = (),
                            flag: str = "--out") -> Path:
    """``path`` as where a store may be written, before any work: absent, an empty folder or a
    bharnet store (which the new one replaces), never a file, an input or a folder of the user's;
    its ``.partial`` / ``.removing`` neighbours, when present, must be this module's own."""
    path = check_output_folder(path, flag=flag, inputs=inputs, ours=is_store)
    for suffix in (".partial", ".removing", ".partial.removing"):
        neighbour = path.with_name(path.name + suffix)
        if neighbour.exists() and not _is_ours(neighbour):
            raise StoreError(f"{flag} {path}: {neighbour} exists and is not a bharnet store's; move it away "
                             "or give another name")
    return path


class StoreWriter:
    """Stream :class:`Sequence` records into a new store.

    >>> with StoreWriter("out/ucla", body_layout="ucla20", num_persons=1, classes=names) as w:
    ...     for seq in sequences:
    ...         w.add(seq)
    ...         w.source_done(seq.name)

    ``source_done`` marks an input as finished (it may have given zero, one or many
    samples); ``done_sources`` lists those of an interrupted earlier run after the last
    checkpoint, so a reader skips them when it resumes. ``reject`` records an input that
    was reported and skipped.
    """

    def __init__(self, path: str | os.PathLike, *, body_layout: str, num_persons: int, channels: int = 3,
                 arrays: Iterable[str] = (), classes: list[str] | None = None, hand_layout: str = "hand21",
                 source: dict | None = None, checkpoint_seconds: float = 5.0) -> None:
        self.path = check_store_destination(path, flag="")
        self.partial = self.path.with_name(self.path.name + ".partial")
        self.arrays = ["body", *[a for a in OPTIONAL_ARRAYS if a in set(arrays)]]
        unknown = set(arrays) - set(OPTIONAL_ARRAYS)
        if unknown:
            raise ValueError(f"unknown store arrays {sorted(unknown)}; optional arrays are {OPTIONAL_ARRAYS}")
        if "hands" in self.arrays:
            self.arrays.append("hand_conf")
        layout = get_layout(body_layout)
        self.meta = {
            "format": FORMAT, "version": VERSION, "body_layout": layout.name,
            "hand_layout": hand_layout if "hands" in self.arrays else None,
            "num_persons": num_persons, "num_joints": layout.num_joints, "channels": channels,
            "classes": list(classes) if classes is not None else None, "arrays": self.arrays,
            "source": source or {},
        }
        self._shapes = _frame_shapes(num_persons, layout.num_joints, channels)
        self._checkpoint_seconds = checkpoint_seconds
        self._last_checkpoint = time.monotonic()
        #: name -> input of every sample written; a name may occur once in a store
        self.sample_sources: dict[str, str] = {}
        #: why an earlier run's partial folder could not be resumed (it was started over), if so
        self.restarted: str | None = None
        try:
            self._resume_or_start()
        except OSError as err:  # e.g. a folder the user may not write to
            raise self._write_failed(err) from None

    # -- lifecycle -------------------------------------------------------------------------
    def _resume_or_start(self) -> None:
        for leftover in (self._retired(self.partial), self._retired(self.path)):
            if _is_ours(leftover):  # a finished run interrupted while deleting: finish that
                shutil.rmtree(leftover)
        state = self._resumable_state()
        if state is None:
            if self.partial.exists():
                shutil.rmtree(self.partial)
            self.partial.mkdir(parents=True)
            files = [f"{a}.raw" for a in self.arrays] + ["samples.jsonl", "sources.txt", "rejected.jsonl"]
            for name in files:
                (self.partial / name).touch()
            state = {"meta": self.meta, "sizes": {name: 0 for name in files}, "num_samples": 0}
            write_json(self.partial / "state.json", state, indent=None)
        for name, size in state["sizes"].items():  # drop what was written after the last checkpoint
            with open(self.partial / name, "r+b") as f:
                f.truncate(size)
        self._state = state
        self._files = {name: open(self.partial / name, "ab") for name in state["sizes"]}  # noqa: SIM115
        self._committed = dict(state["sizes"])
        self.done_sources: set[str] = set((self.partial / "sources.txt").read_text().split("\n")) - {""}
        for line in (self.partial / "samples.jsonl").read_text().splitlines():
            record = json.loads(line)
            self.sample_sources[record["name"]] = record.get("source", record["name"])
        #: (input, problem) of every input an interrupted earlier run rejected (the store lists them)
        rejects = (self.partial / "rejected.jsonl").read_text().splitlines()
        self.resumed_rejects: list[tuple[str, str]] = [(r["source"], r["problem"]) for r in map(json.loads, rejects)]
        self.num_samples: int = state["num_samples"]
        self._committed_samples = self.num_samples

    def _resumable_state(self) -> dict | None:
        """The checkpoint of an interrupted earlier run, or None (nothing to resume, or a partial
        folder too damaged to trust: it is started over, which only costs time)."""
        state_path = self.partial / "state.json"
        if not state_path.exists():
            return None
        try:
            state = json.loads(state_path.read_text())
            sizes = state["sizes"]
            short = [n for n, size in sizes.items() if (self.partial / n).stat().st_size < size]
        except (OSError, ValueError, KeyError, TypeError) as err:
            self.restarted = f"{self.partial} could not be resumed ({err}); started over"
            return None
        if short:
            self.restarted = f"{self.partial / short[0]} is shorter than its checkpoint; started over"
            return None
        if state["meta"] != self.meta:
            raise StoreError(f"{self.partial} was started with other settings; delete it to start over")
        return state

    @staticmethod
    def _retired(path: Path) -> Path:
        """Where a folder goes (atomically) before it is deleted, so that an interruption never
        leaves half a folder under a name a later run reads."""
        return path.with_name(path.name + ".removing")

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self.finish()
            except OSError as err:
                raise self._write_failed(err) from None
            return
        try:
            self.checkpoint()
            self._close_files()
        except OSError:
            pass  # e.g. the disk is still full: the previous checkpoint stands
        if isinstance(exc, OSError):
            raise self._write_failed(exc) from None

    def _write_failed(self, err: OSError) -> StoreError:
        return StoreError(f"{err.filename or self.partial}: cannot write ({err.strerror or err}); the inputs finished "
                          "so far are kept: free some space (or fix the folder's permissions) and run the same "
                          "command again to resume")

    # -- writing ---------------------------------------------------------------------------
    def add(self, seq: Sequence, source: str | None = None) -> None:
        """Append one sample; raises ``ValueError`` (naming the problem) if it does not fit or
        its name is taken. ``source``: the input it came from (named when a later one repeats
        the name)."""
        m, v, c = self._shapes["body"]
        seq.validate(m, v, c)
        self.check_name(seq.name)
        t = seq.num_frames
        has_hands = seq.hands is not None
        for name in self.arrays:
            value = getattr(seq, name)
            if value is None:  # an optional array this sample lacks: zeros (confidence 0 = missing)
                value = np.zeros((t, *self._shapes[name]), np.float32)
            self._files[f"{name}.raw"].write(np.ascontiguousarray(value, dtype=np.float32).tobytes())
        source = str(source) if source is not None else seq.name
        record = {"name": seq.name, "label": int(seq.label), "frames": t, "splits": sorted(seq.splits),
                  "has_hands": has_hands, "source": source}
        self._files["samples.jsonl"].write((json.dumps(record) + "\n").encode())
        self.sample_sources[seq.name] = source
        self.num_samples += 1

    def check_name(self, name: str) -> None:
        """``ValueError`` if a sample of this name is in the store already."""
        if name in self.sample_sources:
            raise ValueError(f"duplicate sample name {name!r} (already in the store, from "
                             f"{self.sample_sources[name]})")

    def reject(self, source: str, problem: str) -> None:
        """Record an input that was reported and skipped."""
        line = json.dumps({"source": str(source), "problem": problem}) + "\n"
        self._files["rejected.jsonl"].write(line.encode())

    def source_done(self, source: str) -> None:
        """Mark an input finished (everything written for it is complete); checkpoints every
        few seconds."""
        self._files["sources.txt"].write(f"{source}\n".encode())
        self.done_sources.add(str(source))
        self._commit()
        if time.monotonic() - self._last_checkpoint > self._checkpoint_seconds:
            self.checkpoint()

    def _commit(self) -> None:
        """Everything written so far belongs to finished inputs: a checkpoint may record it."""
        self._committed = {name: f.tell() for name, f in self._files.items()}
        self._committed_samples = self.num_samples

    def checkpoint(self) -> None:
        """Make every finished input survive an interruption. Bytes of an input still being
        written (an interruption inside ``add``) are not recorded, so a resumed run drops them."""
        for f in self._files.values():
            f.flush()
            os.fsync(f.fileno())
        self._state["sizes"] = dict(self._committed)
        self._state["num_samples"] = self._committed_samples
        write_json(self.partial / "state.json", self._state, indent=None)
        self._last_checkpoint = time.monotonic()

    def _close_files(self) -> None:
        for f in self._files.values():
            f.close()

    def finish(self) -> Path:
        """Pack the raw files into the final store and move it into place atomically."""
        self._commit()
        self.checkpoint()
        self._close_files()
        records = [json.loads(line) for line in (self.partial / "samples.jsonl").read_text().splitlines()]
        rejected = [json.loads(line) for line in (self.partial / "rejected.jsonl").read_text().splitlines()]
        frames = np.array([r["frames"] for r in records], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(frames)]).astype(np.int64)
        build = self.partial / "build"
        if build.exists():
            shutil.rmtree(build)
        build.mkdir()
        for name in self.arrays:
            _raw_to_npy(self.partial / f"{name}.raw", build / f"{name}.npy", (int(offsets[-1]), *self._shapes[name]))
        save_npy(build / "offsets.npy", offsets)
        save_npy(build / "labels.npy", np.array([r["label"] for r in records], dtype=np.int64))
        save_npy(build / "has_hands.npy", np.array([r["has_hands"] for r in records], dtype=bool))
        splits: dict[str, list[int]] = {}
        for i, r in enumerate(records):
            for s in r["splits"]:
                splits.setdefault(s, []).append(i)
        (build / "names.json").write_text(json.dumps([r["name"] for r in records]))
        (build / "splits.json").write_text(json.dumps(splits))
        (build / "rejected.json").write_text(json.dumps(rejected, indent=1))
        labels = [r["label"] for r in records]
        num_classes = len(self.meta["classes"]) if self.meta["classes"] else (max(labels) + 1 if labels else 0)
        meta = {**self.meta, "num_samples": len(records), "num_frames": int(offsets[-1]),
                "num_classes": num_classes, "splits": {k: len(v) for k, v in splits.items()},
                "num_rejected": len(rejected)}
        (build / "meta.json").write_text(json.dumps(meta, indent=1))
        # renames only until the new store is in place: an interruption leaves either the old
        # store or the new one under the name, and the partial folder whole or gone
        old = self._retired(self.path)
        if self.path.exists():
            check_store_destination(self.path, flag="")  # still a store (or empty) since the start
            os.replace(self.path, old)
        os.replace(build, self.path)
        os.replace(self.partial, self._retired(self.partial))
        for leftover in (old, self._retired(self.partial)):
            if leftover.exists():  # an old store or this run's partial folder
                shutil.rmtree(leftover)
        return self.path


def _raw_to_npy(raw: Path, out: Path, shape: tuple[int, ...]) -> None:
    """Write an ``.npy`` header, then stream the raw float32 bytes behind it in chunks: memory
    stays bounded whatever the data set's size (no writable memory map whose pages count as
    resident)."""
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)), "fortran_order": False, "shape": shape}
    expected = int(np.prod(shape)) * 4
    if raw.stat().st_size != expected:
        raise StoreError(f"{raw}: {raw.stat().st_size} bytes, expected {expected} for shape {shape}")
    with open(out, "wb") as dst, open(raw, "rb") as src:
        np.lib.format.write_array_header_1_0(dst, header)
        shutil.copyfileobj(src, dst, length=_CHUNK_BYTES)


class SkeletonStore:
    """Read a store. Arrays are memory-mapped on first use in each process (safe with
    DataLoader workers, whatever their start method)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        meta_path = self.path / "meta.json"
        partial = self.path.with_name(self.path.name + ".partial")
        hint = (f" ({partial} exists: the conversion did not finish; run it again to resume)"
                if partial.exists() else " (a store is made by `bharnet prepare ...`)")
        if not self.path.is_dir():
            raise StoreError(f"{self.path}: no such folder{hint}")
        if not meta_path.exists():
            raise StoreError(f"{self.path} is not a bharnet store: no meta.json{hint}")
        self.meta = self._json("meta.json", dict)
        if self.meta.get("format") != FORMAT:
            raise StoreError(f"{meta_path}: not a bharnet store (format {self.meta.get('format')!r})")
        if self.meta.get("version") != VERSION:
            raise StoreError(f"{meta_path}: store format version {self.meta.get('version')}, "
                             f"this bharnet reads {VERSION}")
        missing = [k for k in _META_KEYS if k not in self.meta]
        if missing:
            raise _damaged(meta_path, f"no {', '.join(missing)}")
        n = self.meta["num_samples"]
        self.offsets = self._npy("offsets.npy", (n + 1,))
        self.labels = self._npy("labels.npy", (n,))
        self.has_hands = self._npy("has_hands.npy", (n,))
        self.names: list[str] = self._json("names.json", list, length=n)
        self.splits: dict[str, np.ndarray] = {
            k: np.asarray(v, dtype=np.int64) for k, v in self._json("splits.json", dict).items()
        }
        self._maps: dict[str, np.ndarray] = {}
        self._check_consistent()

    def _json(self, name: str, kind: type, length: int | None = None):
        file = self.path / name
        try:
            value = json.loads(file.read_text())
        except FileNotFoundError:
            raise _damaged(file, "missing") from None
        except (OSError, ValueError) as err:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise _damaged(file, f"not valid JSON ({err})") from None
        if not isinstance(value, kind):
            raise _damaged(file, f"expected a JSON {kind.__name__}, found {type(value).__name__}")
        if length is not None and len(value) != length:
            raise _damaged(file, f"{len(value)} entries, meta.json says {length} samples")
        return value

    def _npy(self, name: str, shape: tuple[int, ...], mmap: bool = False) -> np.ndarray:
        file = self.path / name
        try:
            array = np.load(file, mmap_mode="r" if mmap else None, allow_pickle=False)
        except FileNotFoundError:
            raise _damaged(file, "missing") from None
        except (OSError, ValueError, EOFError) as err:  # a truncated or overwritten file
            raise _damaged(file, f"not a readable .npy file ({err})") from None
        if array.shape != shape:
            raise _damaged(file, f"shape {array.shape}, expected {shape} from meta.json")
        return array

    def _check_consistent(self) -> None:
        """Every array is whole and agrees with the others: damage is found here, not while training."""
        offsets = self.offsets
        frames = self.meta["num_frames"]
        if len(offsets) and (offsets[0] != 0 or offsets[-1] != frames or (np.diff(offsets) < 0).any()):
            raise _damaged(self.path / "offsets.npy", f"not increasing from 0 to the {frames} frames of meta.json")
        for split, indices in self.splits.items():
            if len(indices) and (indices.min() < 0 or indices.max() >= len(self.labels)):
                raise _damaged(self.path / "splits.json", f"split {split!r} names samples the store lacks")
        shapes = _frame_shapes(self.meta["num_persons"], self.meta["num_joints"], self.meta["channels"])
        for name in self.meta["arrays"]:
            self._maps[name] = self._npy(f"{name}.npy", (frames, *shapes[name]), mmap=True)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_maps": {}}

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def classes(self) -> list[str]:
        return self.meta["classes"] or [str(i) for i in range(self.num_classes)]

    @property
    def num_classes(self) -> int:
        return int(self.meta["num_classes"])

    @property
    def body_layout(self) -> str:
        return self.meta["body_layout"]

    def has(self, array: str) -> bool:
        return array in self.meta["arrays"]

    def array(self, name: str) -> np.ndarray:
        """The whole memory-mapped per-frame array ``name`` (no copy)."""
        if name not in self._maps:
            if not self.has(name):
                raise KeyError(f"{self.path} has no {name!r} array (it has {', '.join(self.meta['arrays'])})")
            shapes = _frame_shapes(self.meta["num_persons"], self.meta["num_joints"], self.meta["channels"])
            self._maps[name] = self._npy(f"{name}.npy", (self.meta["num_frames"], *shapes[name]), mmap=True)
        return self._maps[name]

    def frames(self, name: str, index: int) -> np.ndarray:
        """Array ``name`` of sample ``index`` as a memory-mapped view, shape ``(T, ...)``."""
        return self.array(name)[self.offsets[index]:self.offsets[index + 1]]

    def split(self, name: str | None) -> np.ndarray:
        """Indices of a split (``None``: every sample)."""
        if name is None or name == "all":
            return np.arange(len(self))
        if name not in self.splits:
            raise KeyError(f"{self.path} has no split {name!r}; it has: {', '.join(sorted(self.splits)) or 'none'}")
        return self.splits[name]

    def __getitem__(self, index: int) -> Sequence:
        arrays = {name: np.asarray(self.frames(name, index)) for name in self.meta["arrays"]}
        if "hands" in arrays and not self.has_hands[index]:
            arrays["hands"] = arrays["hand_conf"] = None
        split_names = frozenset(k for k, v in self.splits.items() if index in v)
        return Sequence(name=self.names[index], label=int(self.labels[index]), splits=split_names, **arrays)

    @property
    def rejected(self) -> list[dict]:
        return self._json("rejected.json", list)
