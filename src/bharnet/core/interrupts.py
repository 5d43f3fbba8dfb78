"""Ctrl-C held back over a block that must not be cut in two, and left to the parent by pool workers.

Python runs a signal handler at the next bytecode of the main thread, wherever that is: inside an
import (leaving half-initialised modules), or inside the fork hooks that ``os.fork`` runs (where a
``KeyboardInterrupt`` is printed as "Exception ignored" and then lost), or inside numpy's
``tofile`` (which turns it into a ``TypeError``). Within :func:`ctrl_c_deferred` a press is only
recorded; it is delivered when the block ends.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

__all__ = ["ctrl_c_deferred", "ignore_interrupts", "save_npy"]


@contextmanager
def ctrl_c_deferred() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) for the block, then hand a press to the handler that was in place
    (Python's default raises ``KeyboardInterrupt``). Outside the main thread, where Python cannot
    change handlers, the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed and callable(previous):
        previous(signal.SIGINT, None)


def ignore_interrupts() -> None:
    """A process pool's initializer: workers leave Ctrl-C to the parent. A worker interrupted inside
    the pool's queues can leave them half written, and the parent and the other workers then wait
    on them forever."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def save_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    """``np.save(path, array)`` with Ctrl-C held back until the file is written: a press that lands
    in numpy's ``tofile`` comes out as a ``TypeError`` ("expected str, bytes or os.PathLike object,
    not BufferedWriter"), the press lost behind a traceback. For small arrays (milliseconds)."""
    with ctrl_c_deferred():
        np.save(path, array)
