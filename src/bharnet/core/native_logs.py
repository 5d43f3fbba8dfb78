"""Native libraries' log lines kept off the user's terminal.

MediaPipe, LiteRT and absl write from C++ straight to file descriptor 2: about 80 INFO / WARNING
lines for one short video, more per worker process, and no Python setting reaches all of them. So
while a command runs, fd 2 goes to a temporary file and Python's own ``sys.stderr`` (our messages,
warnings, progress bars, tracebacks) is moved to a copy of the real stderr. When the command ends,
the lines of that file that are not such chatter (errors, anything unknown) are passed on.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["is_chatter", "native_logs_held"]

# LiteRT / TFLite ("INFO: [file.cc:12] ...", "WARNING: ..."), glog / absl ("I0000 00:00:..."; "W1206 ...")
_CHATTER = re.compile(r"^(?:(?:INFO|WARNING|VERBOSE\d*): |[IW]\d{4} \d\d:\d\d:\d\d)")


def is_chatter(line: str) -> bool:
    """Whether ``line`` is a native library's INFO or WARNING log line (errors are not)."""
    return bool(_CHATTER.match(line))


def _writes_to_fd2(stream) -> bool:  # noqa: ANN001 - any file-like object
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError):  # a captured or replaced stream
        return False


@contextmanager
def native_logs_held() -> Iterator[None]:
    """Within the block, what native code writes to fd 2 is held in a temporary file; Python's
    ``sys.stderr`` still reaches the real stderr (a forked child keeps both; a spawned one writes
    all to fd 2, so its Python messages come out at the end). At the end the held lines that are
    not :func:`is_chatter` are written to ``sys.stderr``."""
    sys.stderr.flush()
    real = os.dup(2)
    original = sys.stderr
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        if _writes_to_fd2(original):
            # left open afterwards: a handler made within the block (a library's logger) may still write
            sys.stderr = open(real, "w", buffering=1, encoding=original.encoding,  # noqa: SIM115
                              errors=original.errors, closefd=False)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(real, 2)
            if sys.stderr is original:
                os.close(real)
            sys.stderr = original
            _pass_on(held)


def _pass_on(held) -> None:  # noqa: ANN001 - a binary file
    """Write the held lines that are not chatter to ``sys.stderr``, line by line (a night's run may
    have held many)."""
    held.seek(0)
    for raw in held:
        line = raw.decode(errors="replace").rstrip("\n")
        if not is_chatter(line):
            print(line, file=sys.stderr)
    sys.stderr.flush()
