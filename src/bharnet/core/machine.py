"""What the machine gives this process: the CPU cores it may run on, and how its memory is reused."""

from __future__ import annotations

import ctypes
import os
import platform

#: glibc's ``mallopt`` parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: freed blocks up to this size stay in the process (a full-size DeGCN's largest activation at batch 16
#: is 26 MiB); some glibc versions refuse thresholds over 32 MiB, the fallback
_KEEP_UP_TO, _KEEP_UP_TO_FALLBACK = 1 << 30, 32 << 20
_INT_MAX = (1 << 31) - 1
#: set it to 0 to leave the C allocator as it is
KEEP_FREED_MEMORY_ENV = "BHARNET_KEEP_FREED_MEMORY"

_kept = False


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the OS has one, else every
    logical core); at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def keep_freed_memory() -> bool:
    """Let glibc keep the large blocks PyTorch frees, so that the next step reuses them.

    By default glibc gives blocks over a (moving) threshold back to the OS when they are freed, and
    trims the top of its heap; each training or inference step then asks for its activations
    anew, and the OS maps them in one zeroed 4 KiB page at a time. On a CPU that cost a third of a
    DeGCN inference step (docs/performance.md). Raising both thresholds keeps freed blocks in the
    process, as jemalloc and tcmalloc do: the resident memory stays at its high-water mark instead
    of shrinking between steps. Nothing is changed off glibc, where the user tuned glibc through
    ``MALLOC_*`` variables or preloaded another allocator, or with ``BHARNET_KEEP_FREED_MEMORY=0``.
    Returns whether the thresholds were set.
    """
    global _kept
    if os.environ.get(KEEP_FREED_MEMORY_ENV, "1") == "0" or platform.libc_ver()[0] != "glibc":
        return False
    if os.environ.get("LD_PRELOAD") or any(k.startswith("MALLOC_") for k in os.environ):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    # setting either threshold stops glibc's own adjustment of both, so both are set
    mmap = libc.mallopt(_M_MMAP_THRESHOLD, _KEEP_UP_TO) or libc.mallopt(_M_MMAP_THRESHOLD, _KEEP_UP_TO_FALLBACK)
    _kept = _kept or bool(mmap and libc.mallopt(_M_TRIM_THRESHOLD, _INT_MAX))
    return _kept


def freed_memory_kept() -> bool:
    """Whether :func:`keep_freed_memory` has tuned this process's allocator (what speed figures depend on)."""
    return _kept
