"""Shared fixtures. Real data lives in ``../shared`` beside the checkout (absent on a user's
machine): tests that need it take the ``shared`` fixture and skip with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    """``../shared`` beside the checkout; skips the test when it is absent."""
    if not (SHARED / "data").is_dir():
        pytest.skip(f"real data folder {SHARED} is absent (it sits beside the checkout in CI)")
    return SHARED
