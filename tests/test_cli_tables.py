"""Tables printed to a file or a pipe (a log) keep whole names: rich would cut them to 80 columns."""

from __future__ import annotations

import pytest
from rich.table import Table

import bharnet.workflows.predict as predict_workflow
from bharnet.cli import main
from bharnet.core.console import LOG_WIDTH, console
from bharnet.workflows.predict import VideoPrediction, Window

#: class names that cannot be wrapped at a space
NAMES = [f"drink_water_from_a_cup_with_the_left_hand_{i}" for i in range(5)]


@pytest.fixture(autouse=True)
def _no_columns(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)


def test_a_console_on_a_pipe_is_as_wide_as_a_log_line(capsys) -> None:
    table = Table("variant", "top-1")
    for name in NAMES:
        table.add_row(name * 3, "91.25%")
    screen = console()
    screen.print(table)
    out = capsys.readouterr().out
    assert screen.width == LOG_WIDTH and "…" not in out
    assert all(name * 3 in out for name in NAMES)


def test_predict_prints_whole_class_names_when_its_output_is_captured(tmp_path, capsys, monkeypatch) -> None:
    top = [(name, 0.2) for name in NAMES]
    result = VideoPrediction(video="a_video_with_a_rather_long_file_name_taken_in_the_kitchen.mp4",
                             checkpoint="m.ckpt", frames=90, fps=30.0, person="0", frames_with_hand=90, top=top,
                             windows=[Window(0.0, 3.0, top)])
    monkeypatch.setattr(predict_workflow, "predict_video", lambda *args, **kwargs: result)
    (tmp_path / "m.ckpt").write_bytes(b"")
    (tmp_path / "v.mp4").write_bytes(b"")
    assert main(["predict", str(tmp_path / "m.ckpt"), str(tmp_path / "v.mp4")]) == 0
    out = capsys.readouterr().out
    assert "…" not in out and result.video in out
    assert all(f"{name} (0.20)" in out for name in NAMES), out
