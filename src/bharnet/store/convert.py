"""The conversion loop every dataset format shares: inputs -> readers -> :class:`StoreWriter`.

Readers run in a process pool (one input per task); the parent writes their samples in input
order as they arrive, with a bounded number of tasks in flight so that memory stays flat however
large the data set. An input that fails is reported (a warning naming the input and the problem),
recorded in the store's ``rejected.json`` and skipped; with ``strict`` the first one stops the run
with a :class:`~bharnet.core.errors.UserError`. Inputs an interrupted earlier run finished are skipped
(the writer's ``done_sources``), so running the same command again resumes.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from bharnet.core.errors import UserError
from bharnet.core.interrupts import ctrl_c_deferred, ignore_interrupts
from bharnet.core.machine import usable_cores
from bharnet.core.sequence import Sequence
from bharnet.core.words import plural
from bharnet.store.packed import StoreWriter

__all__ = ["PrepareSummary", "run_conversion", "default_workers"]

#: tasks in flight per worker: enough to keep workers busy, few enough to bound memory
_IN_FLIGHT_PER_WORKER = 4
#: after an interruption, how long workers may take to finish the input in hand before they are ended
_GRACE_SECONDS = 2.0


@dataclass
class PrepareSummary:
    """What a conversion did."""

    store: Path | None = None
    inputs: int = 0
    converted: int = 0
    samples: int = 0
    resumed: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        """A short human-readable report."""
        out = [f"{self.converted} of {plural(self.inputs, 'input')} converted into {plural(self.samples, 'sample')} "
               f"in {self.seconds:.1f} s"]
        if self.resumed:
            out.append(f"{plural(self.resumed, 'input')} already done by an earlier run (resumed)")
        for reason, count in self.skipped.items():
            out.append(f"{plural(count, 'input')} skipped: {reason}")
        if self.rejected:
            out.append(f"{plural(len(self.rejected), 'input')} rejected (listed in rejected.json of the store)")
        out.extend(self.notes)
        if self.store is not None:
            out.append(f"store: {self.store}")
        return out


def default_workers() -> int:
    """One worker per CPU this process may use, at most 8."""
    return min(8, usable_cores())


def _convert_one(convert: Callable[[str], list[Sequence]], source: str) -> tuple[list[Sequence] | None, str | None]:
    """Run a reader on one input; a failure becomes a message instead of stopping the batch."""
    try:
        return list(convert(source)), None
    except (ValueError, OSError, KeyError, IndexError, TypeError, UnicodeDecodeError) as err:
        return None, str(err) or type(err).__name__
    except Exception as err:  # noqa: BLE001 - any reader failure is reported, the batch goes on
        return None, f"{type(err).__name__}: {err}"


def _stop(executor: ProcessPoolExecutor) -> None:
    """End a pool now: queued inputs are dropped, inputs in hand get a short grace (their
    results are not needed; the next run redoes them), then their workers are ended."""
    # the pool's processes: no public way to reach them before Python 3.14's terminate_workers
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + _GRACE_SECONDS
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            process.kill()
            process.join()


class _InProcess:
    """The executor interface without processes (workers <= 1): simple, debuggable, no pickling."""

    def submit(self, fn, *args) -> Future:
        future: Future = Future()
        future.set_result(fn(*args))
        return future

    def shutdown(self, cancel_futures: bool = False) -> None:
        pass


def _submit(executor: ProcessPoolExecutor | _InProcess, convert: Callable[[str], list[Sequence]],
            source: str) -> Future:
    if isinstance(executor, _InProcess):  # runs the reader now: Ctrl-C must reach it
        return executor.submit(_convert_one, convert, source)
    with ctrl_c_deferred():  # a submit may fork a worker, and a Ctrl-C in the fork's hooks is printed and lost
        return executor.submit(_convert_one, convert, source)


def _progress(total: int, title: str, enabled: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    return Progress(TextColumn(f"[bold]{title}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console, disable=not enabled, transient=False)


def run_conversion(sources: Iterable[str], convert: Callable[[str], list[Sequence]], writer: StoreWriter, *,
                   key: Callable[[str], str] | None = None, workers: int = 1, strict: bool = False,
                   title: str = "prepare", progress: bool | None = None,
                   total: int | None = None) -> PrepareSummary:
    """Convert every input with ``convert`` and write its samples with ``writer``.

    ``convert(source)`` returns the samples of one input (zero, one or many) or raises an
    exception whose message says what is wrong (the message should name the position, e.g. the
    line; the input's name is added here). ``convert`` must be picklable (a module-level function
    or a ``functools.partial`` of one) when ``workers > 1``. ``key(source)`` is the name under
    which an input is recorded as done / rejected (default: the source itself). ``writer`` is
    not finished here: the caller does that (``with StoreWriter(...)``).
    """
    key = key or str
    sources = list(sources) if total is None else sources
    total = len(sources) if total is None else total  # type: ignore[arg-type]
    summary = PrepareSummary(inputs=total)
    summary.rejected.extend(writer.resumed_rejects)  # the store lists them: so does the summary (and exit code)
    if writer.restarted:
        summary.notes.append(writer.restarted)
    start = time.monotonic()
    if progress is None:
        progress = sys.stderr.isatty()
    executor = (ProcessPoolExecutor(max_workers=workers, initializer=ignore_interrupts) if workers > 1
                else _InProcess())
    window = workers * _IN_FLIGHT_PER_WORKER if workers > 1 else 1
    pending: deque[tuple[str, Future]] = deque()
    bar = _progress(total, title, progress)
    meta = writer.meta  # validate in the parent before writing: all samples of an input or none
    shape = (meta["num_persons"], meta["num_joints"], meta["channels"])
    try:
        with bar:
            task = bar.add_task(title, total=total)
            todo = iter(sources)
            exhausted = False
            while True:
                while not exhausted and len(pending) < window:
                    source = next(todo, None)
                    if source is None:
                        exhausted = True
                        break
                    name = key(source)
                    if name in writer.done_sources:
                        summary.resumed += 1
                        bar.advance(task)
                        continue
                    pending.append((name, _submit(executor, convert, source)))
                if not pending:
                    break
                name, future = pending.popleft()
                try:
                    sequences, problem = future.result()
                except BrokenProcessPool:
                    raise UserError(f"a reader process died while converting {name} (out of memory? a crash in "
                                    "a native library?); the inputs finished so far are kept: run the same "
                                    "command again to resume, or with --workers 1 to find the input") from None
                if sequences is not None:
                    problem = _check_samples(sequences, shape, writer)
                if problem is not None:
                    _report(name, problem, writer, summary, strict, bar.console)
                else:
                    for seq in sequences:
                        writer.add(seq, source=name)
                    summary.converted += 1
                    summary.samples += len(sequences)
                writer.source_done(name)
                bar.advance(task)
    except BaseException:
        if isinstance(executor, ProcessPoolExecutor):
            _stop(executor)
        raise
    executor.shutdown()
    summary.seconds = time.monotonic() - start
    return summary


def _check_samples(sequences: list[Sequence], shape: tuple[int, int, int], writer: StoreWriter) -> str | None:
    """What is wrong with the samples of one input (all are written or none), or None."""
    names: set[str] = set()
    for seq in sequences:
        try:
            seq.validate(*shape)
            writer.check_name(seq.name)
        except ValueError as err:
            return f"sample {seq.name}: {err}"
        if seq.name in names:
            return f"sample name {seq.name!r} twice in this input"
        names.add(seq.name)
    return None


def _report(name: str, problem: str, writer: StoreWriter, summary: PrepareSummary, strict: bool, console) -> None:
    if problem.startswith(name):  # readers name the file themselves; say it once
        problem = problem[len(name):].lstrip(":, ")
    if strict:
        raise UserError(f"{name}: {problem} (--strict stops at the first bad input; without it bad inputs "
                        "are reported and skipped)")
    writer.reject(name, problem)
    summary.rejected.append((name, problem))
    from rich.markup import escape

    console.print(f"[yellow]warning:[/] {escape(name)}: {escape(problem)} (skipped)", highlight=False)
