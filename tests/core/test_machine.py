"""The process's allocator tuning: applied where it is ours to tune, and only there."""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import sys

import pytest

from bharnet.core.machine import KEEP_FREED_MEMORY_ENV

GLIBC = platform.libc_ver()[0] == "glibc"


def _applied_in_fresh_process(**env: str) -> bool:
    """What ``keep_freed_memory`` returns in a new interpreter with the given variables (and no other
    allocator settings), so that this test process keeps its own allocator."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "LD_PRELOAD"}
    clean.pop(KEEP_FREED_MEMORY_ENV, None)
    code = ("from bharnet.core.machine import freed_memory_kept, keep_freed_memory as keep\n"
            "print(freed_memory_kept(), keep(), freed_memory_kept())")
    out = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True,
                         check=True)
    before, applied, after = out.stdout.split()
    assert before == "False" and applied == after
    return applied == "True"


@pytest.mark.skipif(not GLIBC, reason="the thresholds are glibc's")
def test_freed_memory_is_kept_on_glibc_by_default():
    assert _applied_in_fresh_process()


def test_the_user_can_leave_the_allocator_alone():
    assert not _applied_in_fresh_process(**{KEEP_FREED_MEMORY_ENV: "0"})


def test_an_allocator_the_user_tuned_is_left_alone():
    assert not _applied_in_fresh_process(MALLOC_ARENA_MAX="2")


def test_the_command_tunes_its_own_process_only(monkeypatch):
    from bharnet import cli

    calls = []
    monkeypatch.setattr(cli, "keep_freed_memory", lambda: calls.append(1))
    with pytest.raises(SystemExit):
        cli.main(["--version"])  # called with arguments: a caller's process
    assert calls == []
    monkeypatch.setattr(sys, "argv", ["bharnet", "--version"])
    handler = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(SystemExit):
            cli.main()  # the entry point (which ignores Ctrl-C once the command has ended)
    finally:
        signal.signal(signal.SIGINT, handler)
    assert calls == [1]
