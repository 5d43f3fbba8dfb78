"""Many videos, one output file each: the batch machinery that ``extract-hands`` and ``extract-roi``
share. Videos are found in files and folders and sorted by name; shard ``I/N`` takes video k of
that list when k mod N = I, so N shards cover every video exactly once on any machine; a video
whose output exists is skipped (resume); a video that fails comes back as a reason and the run
goes on; ``workers`` > 1 runs the videos in that many processes. Before any work, the output
folders are checked (:mod:`bharnet.core.outputs`), and two videos whose outputs would be one file
are refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from bharnet.core.errors import UserError
from bharnet.core.outputs import check_output_folder, holds_only, unique_outputs
from bharnet.video.decode import VIDEO_SUFFIXES
from bharnet.video.hand_files import sample_name


@dataclass(frozen=True)
class VideoJob:
    """One video to process and where its result goes."""

    video: Path
    out: Path
    skeleton: Path | None
    preview: Path | None = None  # where a picture of the result goes (PNG), if wanted


@dataclass
class RunSummary:
    """What a run did: ``failed`` maps a video to the reason it was skipped; :meth:`add` counts a
    video done (runs that count more override it)."""

    videos: int = 0
    done: int = 0
    skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, result: dict) -> None:
        self.done += 1


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` -> (I, N) with 0 <= I < N (shards count from 0)."""
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise UserError(f"--shard {text!r}: expected I/N, e.g. 0/4") from None
    if n < 1 or not 0 <= i < n:
        raise UserError(f"--shard {text!r}: need 0 <= I < N")
    return i, n


def find_videos(inputs: Iterable[str | Path]) -> list[Path]:
    """Video files named in ``inputs`` (files, or folders searched recursively), sorted by name;
    none at all is an error (nothing to do)."""
    inputs = list(map(Path, inputs))
    found: set[Path] = set()
    for item in inputs:
        if item.is_dir():
            found.update(p for p in item.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
        elif item.is_file():
            found.add(item)
        else:
            raise UserError(f"{item}: no such file or folder")
    if not found:
        raise UserError(f"no video files in {', '.join(map(str, inputs))} (looked for "
                        f"{' '.join(sorted(VIDEO_SUFFIXES))})")
    return sorted(found, key=lambda p: (p.name, str(p)))


def check_out_folders(inputs: Iterable[str | Path], folders: dict[str, tuple[str | Path | None, tuple[str, ...]]]
                      ) -> None:
    """Check each output folder before any work (:func:`bharnet.core.outputs.check_output_folder`):
    ``folders`` maps a flag to (its folder or None, the file patterns written there); one folder
    named by two flags may hold both kinds."""
    inputs = list(inputs)
    by_folder: dict[Path, tuple[str, Path, list[str]]] = {}
    for flag, (folder, patterns) in folders.items():
        if folder is not None:
            by_folder.setdefault(Path(folder).resolve(), (flag, Path(folder), []))[2].extend(patterns)
    for flag, folder, patterns in by_folder.values():
        check_output_folder(folder, flag=flag, inputs=inputs, ours=holds_only(*patterns))


def skeleton_files(skeletons: str | Path | None) -> dict[str, Path]:
    """NTU sample name -> its ``.skeleton`` file, for every one under the folder ``skeletons``."""
    if skeletons is None:
        return {}
    if not Path(skeletons).is_dir():
        raise UserError(f"--skeletons {skeletons}: no such folder")
    return {p.name[: -len(".skeleton")]: p for p in Path(skeletons).rglob("*.skeleton")}


def plan_videos(inputs: Iterable[str | Path], out_path: Callable[[Path], Path], skeletons: str | Path | None = None,
                shard: tuple[int, int] = (0, 1), preview_path: Callable[[Path], Path] | None = None
                ) -> list[VideoJob]:
    """The jobs of shard ``I`` of ``N`` (see the module docstring): each video with its output
    ``out_path(video)``, its skeleton file (by sample name) and, with ``preview_path``, its picture."""
    index = skeleton_files(skeletons)
    videos = find_videos(inputs)
    unique_outputs({v: out_path(v) for v in videos})  # over every shard: they share the folder
    if preview_path is not None:
        unique_outputs({v: preview_path(v) for v in videos}, flag="--preview")
    i, n = shard
    return [VideoJob(v, out_path(v), index.get(sample_name(v)), None if preview_path is None else preview_path(v))
            for v in videos[i::n]]


def pending(jobs: list[VideoJob], summary: RunSummary) -> list[VideoJob]:
    """The jobs whose output does not exist yet; ``summary`` counts the videos and those skipped."""
    todo = [j for j in jobs if not j.out.exists()]
    summary.videos, summary.skipped = len(jobs), len(jobs) - len(todo)
    return todo


def guarded(work: Callable[[VideoJob], dict], job: VideoJob) -> dict:
    """``work(job)`` (a dict with ``"ok": True``), or, when it fails, ``{"video", "ok": False,
    "reason"}``: one bad video must not end a long run."""
    try:
        return work(job)
    except UserError as err:
        return {"video": str(job.video), "ok": False, "reason": str(err)}
    except Exception as err:  # noqa: BLE001 - one bad video must not end a long run
        return {"video": str(job.video), "ok": False, "reason": f"{type(err).__name__}: {err}"}


def run_jobs(jobs: list[VideoJob], work: Callable[[VideoJob], dict], workers: int = 1,
             initializer: Callable[[], None] | None = None,
             session: Callable[[], AbstractContextManager] = nullcontext) -> Iterator[dict]:
    """Yield ``guarded(work, job)`` for each job as it finishes. With ``workers`` > 1, in that many
    processes (``work`` must then be picklable, e.g. a ``functools.partial`` of a module-level
    function), each started by ``initializer``; in this process, all inside one ``session()``."""
    if workers <= 1:
        with session():
            for job in jobs:
                yield guarded(work, job)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn: MediaPipe's native threads do not survive fork
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=initializer) as pool:
        for future in as_completed([pool.submit(guarded, work, job) for job in jobs]):
            yield future.result()


def collect(results: Iterable[dict], summary: RunSummary, start: float) -> RunSummary:
    """Count ``results`` into ``summary`` (done or failed) and set its ``seconds`` since ``start``
    (a ``time.perf_counter()`` reading)."""
    for result in results:
        if result["ok"]:
            summary.add(result)
        else:
            summary.failed[result["video"]] = result["reason"]
    summary.seconds = time.perf_counter() - start
    return summary
