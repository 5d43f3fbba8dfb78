"""Counts in messages: "1 clip", "2 clips"."""

from __future__ import annotations

__all__ = ["plural"]


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``count`` and ``noun`` in the form the count takes (``plural_form``: default noun + "s")."""
    return f"{count} {noun if count == 1 else plural_form or noun + 's'}"
