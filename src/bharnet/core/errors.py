"""Errors a user can cause. The command line prints their message, never a traceback."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input (a file, a setting, a missing model): the message
    names the file or setting and says what is wrong."""
