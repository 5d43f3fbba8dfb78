"""The rich console every command prints its tables and summaries with.

Rich cuts a table to 80 columns when the output is not a terminal ("body-…"): in a log or a pipe
names must come out whole, so there the width is that of the longest line rather than 80.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["LOG_WIDTH", "console"]

#: columns of a console that writes to a file or a pipe: wide enough for any table, never wrapped
LOG_WIDTH = 1000


def console(stderr: bool = False) -> Console:
    """A console on stdout (or stderr): a terminal's own width, else ``LOG_WIDTH`` columns unless
    ``$COLUMNS`` says otherwise."""
    from rich.console import Console  # rich is imported when something is printed, not at start-up

    terminal = Console(stderr=stderr)
    if terminal.is_terminal or "COLUMNS" in os.environ:
        return terminal
    return Console(stderr=stderr, width=LOG_WIDTH)
