"""The hands development set's scoring (benchmarks/hands_recall.py): which inputs run, how a find is
judged, and the spread reported over the inputs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="module")
def recall():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "hands_recall.py"
    spec = importlib.util.spec_from_file_location("hands_recall", path)
    module = importlib.util.module_from_spec(spec)
    before = list(sys.path)
    try:
        spec.loader.exec_module(module)  # it puts benchmarks/ on the path, for its dev_clips
    finally:
        sys.path[:] = before
    return module


def _numbers(recall: float, swaps: int = 0, other: int = 0, second: float | None = None) -> dict:
    out = {"recall": recall, "side_swaps": swaps, "other_person": other, "elsewhere": 1, "found_not_visible": 0}
    if second is not None:
        out["second"] = {**_numbers(second), "elsewhere": 0}
    return out


def test_built_clips_run_on_every_encoding_and_the_others_once(recall) -> None:
    notes = {"walk_in": {"video": "build:walk_in"}, "cup": {"video": "data/media/cup.mp4"}}
    assert [(threads, name) for threads, name, _ in recall.inputs(notes, [1, 2, 4])] == [
        (1, "walk_in"), (1, "cup"), (2, "walk_in"), (4, "walk_in")]
    assert [(threads, name) for threads, name, _ in recall.inputs(notes, [4])] == [(4, "walk_in"), (4, "cup")]


def test_a_find_is_judged_by_the_wrist_it_is_nearest(recall) -> None:
    kept = np.array([[100.0, 100.0], [300.0, 100.0]])  # left, right wrist
    other = np.array([[600.0, 100.0], [700.0, 100.0]])
    reach = 40.0
    assert recall.classify(np.array([110.0, 95.0]), 0, kept, other, reach) == "own"
    assert recall.classify(np.array([295.0, 100.0]), 0, kept, other, reach) == "swap"
    assert recall.classify(np.array([690.0, 110.0]), 1, kept, other, reach) == "other"
    assert recall.classify(np.array([450.0, 100.0]), 1, kept, other, reach) == "elsewhere"
    assert recall.classify(np.array([110.0, 95.0]), 0, np.full((2, 2), np.nan), other, reach) == "unknown"


def test_the_summary_gives_the_spread_and_names_the_inputs_below_the_target(recall) -> None:
    results = {"a": _numbers(0.95, second=0.99), "a.threads4": _numbers(0.85, swaps=1, other=3, second=0.93),
               "cup": _numbers(1.0)}
    numbers = recall.summary(results)
    assert numbers["inputs"] == 3
    assert numbers["recall_mean"] == pytest.approx(0.933, abs=1e-3)
    assert (numbers["recall_min"], numbers["lowest"]) == (0.85, "a.threads4")
    assert numbers["below_target"] == ["a.threads4"]
    assert (numbers["side_swaps"], numbers["other_person"], numbers["elsewhere"]) == (1, 3, 3)
    assert numbers["second"]["inputs"] == 2 and numbers["second"]["lowest"] == "a.threads4"
    assert numbers["second"]["below_target"] == []
    assert "below 0.90: a.threads4" in recall.summary_line(numbers, "kept person")
