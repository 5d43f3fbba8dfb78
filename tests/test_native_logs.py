"""Native libraries' log lines (MediaPipe, LiteRT, absl) are held back unless --verbose; our own
messages and the native errors still reach stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bharnet.cli import build_parser
from bharnet.core.native_logs import is_chatter

pytestmark = pytest.mark.integration  # MediaPipe in processes

ROOT = Path(__file__).resolve().parents[1]

# lines MediaPipe 0.10 printed for one short video (tests/conftest.py's cup_clip)
CHATTER = [
    "INFO: [environment.cc:36] Creating LiteRT environment with options",
    "WARNING: [model_load.cc:402] Sparsity tensors may not yet be fully supported.",
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
    "WARNING: Logging before InitGoogle() is written to STDERR",
    "W0000 00:00:1796542999.785868    6846 landmark_projection_calculator.cc:81] Using NORM_RECT without ...",
    "I1206 07:42:16.000000    6846 gl_context.cc:357] GL version: 3.2",
]
KEPT = ["E0000 00:00:1796542999.785868    6846 graph.cc:12] Could not open model file", "WARNING:root:ours",
        "Traceback (most recent call last):", "bharnet extract-hands: error: no videos in x"]


def _run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                          **kwargs)


def test_chatter_is_info_and_warning_lines_of_native_code() -> None:
    assert all(is_chatter(line) for line in CHATTER)
    assert not any(is_chatter(line) for line in KEPT)


def test_held_native_lines_are_dropped_and_the_rest_comes_through() -> None:
    script = ("import os, sys\n"
              "from bharnet.core.native_logs import native_logs_held\n"
              "with native_logs_held():\n"
              f"    os.write(2, {chr(10).join([*CHATTER, KEPT[0], ''])!r}.encode())\n"
              "    print('ours, within', file=sys.stderr)\n"
              "print('ours, after', file=sys.stderr)\n")
    proc = _run("-c", script)
    assert proc.returncode == 0
    lines = proc.stderr.splitlines()  # the filter passes lines on beside our own: their order may vary
    assert sorted(lines[:2]) == sorted(["ours, within", KEPT[0]]) and lines[2:] == ["ours, after"], lines


def test_a_native_error_before_a_crash_is_shown() -> None:
    script = ("import os\n"
              "from bharnet.core.native_logs import native_logs_held\n"
              "with native_logs_held():\n"
              f"    os.write(2, {(CHATTER[0] + chr(10) + KEPT[0] + chr(10))!r}.encode())\n"
              "    os.abort()\n")
    proc = _run("-c", script)
    assert proc.returncode != 0 and proc.stderr.splitlines() == [KEPT[0]], proc.stderr


def test_verbose_goes_before_or_after_the_command() -> None:
    parser = build_parser()
    for argv in (["--verbose", "extract-hands", "v.mp4", "--out", "o"], ["extract-hands", "v.mp4", "--out", "o",
                                                                          "--verbose"]):
        args = parser.parse_args(argv)
        assert args.verbose and args.holds_native_logs
    assert not parser.parse_args(["extract-hands", "v.mp4", "--out", "o"]).verbose
    assert not parser.parse_args(["prepare", "ntu", "--skeletons", "s", "--out", "o", "--verbose"]).__dict__.get(
        "holds_native_logs")  # no MediaPipe: nothing to hold


def _extract_hands(cup_clip: Path, tmp_path: Path, hand_model: Path, pose_model: Path, *flags: str) -> list[str]:
    proc = _run("-m", "bharnet", "extract-hands", str(cup_clip), "--out", str(tmp_path / "hands"), "--hand-model",
                str(hand_model), "--pose-model", str(pose_model), *flags)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "frames with a hand" in proc.stdout
    return proc.stderr.splitlines()


def test_extract_hands_prints_no_native_log_lines(cup_clip, hand_model, pose_model, tmp_path) -> None:
    lines = _extract_hands(cup_clip, tmp_path, hand_model, pose_model)
    assert not [line for line in lines if is_chatter(line)] and len(lines) < 5, lines


@pytest.mark.slow  # another 10 s of MediaPipe
def test_verbose_shows_them(cup_clip, hand_model, pose_model, tmp_path) -> None:
    lines = _extract_hands(cup_clip, tmp_path, hand_model, pose_model, "--verbose", "--no-progress")
    assert len([line for line in lines if is_chatter(line)]) > 10, lines
