"""Fault tests: every command that writes, pointed at a place it must not write.

Each case ends before any work with one line naming the flag and the path, exit code 2, no
traceback, and the user's files exactly as they were (every file of the test's folder hashed
before and after). The inputs are placeholders (a checkpoint of random bytes, an empty video): a
command that looked at them before its outputs would fail with another message, so each case
also shows that the outputs are checked first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bharnet.cli import main
from tests.io.fixtures import write_custom

UNWRITABLE = Path("/proc/bharnet-nowhere")  # not even root may create files there


def _tree(root: Path) -> dict[str, str]:
    """Every file and folder under ``root`` -> a hash of its bytes ("dir" for folders)."""
    return {str(p.relative_to(root)): "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))}


@pytest.fixture
def user(tmp_path: Path) -> Path:
    """A user's folder: inputs of every kind, a folder of their own files and a file of theirs."""
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "good.mp4").write_bytes(b"not really a video")
    (tmp_path / "clips" / "labels.csv").write_text("name,label,split\ngood,wave,train\n")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "good.mp4").write_bytes(b"another video of the same name")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("months of work")
    (tmp_path / "notes.txt").write_text("a file of the user's")
    (tmp_path / "model.ckpt").write_bytes(np.random.default_rng(0).bytes(256))
    (tmp_path / "scores.npz").write_bytes(b"placeholder scores")
    (tmp_path / "data.npz").write_bytes(b"placeholder import")
    return tmp_path


# command -> (argv for an output path, the flag named in the message); ``{o}`` is the output
# path, ``{u}`` the user's folder
FOLDER_OUTPUTS: dict[str, tuple[str, ...]] = {
    "prepare custom": ("prepare", "custom", "{u}/clips", "--videos", "--out", "{o}"),
    "prepare ucla": ("prepare", "ucla", "--raw", "{u}/clips", "--out", "{o}"),
    "prepare ntu": ("prepare", "ntu", "--skeletons", "{u}/clips", "--out", "{o}"),
    "prepare pku": ("prepare", "pku", "--skeletons", "{u}/clips", "--labels", "{u}/clips", "--out", "{o}"),
    "prepare import": ("prepare", "import", "{u}/data.npz", "--out", "{o}"),
    "extract-hands": ("extract-hands", "{u}/clips", "--out", "{o}"),
    "extract-hands --preview": ("extract-hands", "{u}/clips", "--out", "{u}/fresh", "--preview", "{o}"),
    "extract-roi": ("extract-roi", "{u}/clips", "--out", "{o}"),
    "predict": ("predict", "{u}/model.ckpt", "{u}/clips", "--out", "{o}"),
    "record": ("record", "--label", "wave", "--source", "{u}/clips/good.mp4", "--out", "{o}", "--no-display"),
    "ensemble": ("ensemble", "{u}/scores.npz", "--out", "{o}"),
    "report": ("report", "{u}/scores.npz", "--out", "{o}"),
    "robustness": ("robustness", "{u}/scores.npz", "--out", "{o}"),
    "demo": ("demo", "--quick", "--out", "{o}"),
    "ablate": ("ablate", "dataset=ucla", "--out", "{o}"),
    "reproduce": ("reproduce", "ntu60-xsub/bharnet-e", "--out", "{o}"),
    "train": ("train", "dataset=ucla", "model=body-expert", "out_dir={o.parent}", "name={o.name}"),
}
FILE_OUTPUTS: dict[str, tuple[str, ...]] = {
    "test": ("test", "{u}/model.ckpt", "--out", "{o}"),
    "export": ("export", "{u}/model.ckpt", "--onnx", "{o}"),
    "predict --render": ("predict", "{u}/model.ckpt", "{u}/clips/good.mp4", "--render", "{o}"),
    "live --render": ("live", "{u}/model.ckpt", "--source", "{u}/clips/good.mp4", "--render", "{o}", "--no-display"),
}
# a file output's own input, which it must never overwrite
FILE_INPUT = {"test": "model.ckpt", "export": "model.ckpt", "predict --render": "clips/good.mp4",
              "live --render": "clips/good.mp4"}
# commands whose input folder may also be named as the output
READS_CLIPS = [c for c, argv in FOLDER_OUTPUTS.items() if "{u}/clips" in argv and "--source" not in argv]


def _run(argv: tuple[str, ...], user: Path, out: Path, capsys) -> tuple[int, str]:
    args = [a.format(u=user, o=out) for a in argv]
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.err + captured.out


def _refused(argv: tuple[str, ...], user: Path, out: Path, capsys, expect: str) -> None:
    before = _tree(user)
    code, text = _run(argv, user, out, capsys)
    assert code == 2, text
    assert "error:" in text and expect in text, text
    assert "Traceback" not in text
    assert len(text.strip().splitlines()) == 1, text  # one line, before any work
    assert _tree(user) == before


FAULTS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "a folder of the user's": (lambda u: u / "mine", "did not write"),
    "a regular file": (lambda u: u / "notes.txt", "is a file"),
    "an unwritable place": (lambda u: UNWRITABLE / "out", "cannot write"),
    "under a file": (lambda u: u / "notes.txt" / "out", "is a file"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("command", list(FOLDER_OUTPUTS))
def test_a_folder_output_that_is_not_the_commands_is_refused_first(command, fault, user, capsys):
    where, expect = FAULTS[fault]
    _refused(FOLDER_OUTPUTS[command], user, where(user), capsys, expect)


@pytest.mark.parametrize("command", READS_CLIPS)
def test_the_input_folder_is_never_an_output(command, user, capsys):
    _refused(FOLDER_OUTPUTS[command], user, user / "clips", capsys, "input")


FILE_FAULTS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "a folder": (lambda u: u / "mine", "is a folder"),
    "a file of the user's": (lambda u: u / "notes.txt", "not written by bharnet"),
    "an unwritable place": (lambda u: UNWRITABLE / "out.bin", "cannot write"),
    "under a file": (lambda u: u / "notes.txt" / "out.bin", "is a file"),
}


@pytest.mark.parametrize("fault", list(FILE_FAULTS))
@pytest.mark.parametrize("command", list(FILE_OUTPUTS))
def test_a_file_output_that_is_not_the_commands_is_refused_first(command, fault, user, capsys):
    where, expect = FILE_FAULTS[fault]
    _refused(FILE_OUTPUTS[command], user, where(user), capsys, expect)


@pytest.mark.parametrize("command", list(FILE_OUTPUTS))
def test_a_file_output_is_never_its_own_input(command, user, capsys):
    _refused(FILE_OUTPUTS[command], user, user / FILE_INPUT[command], capsys, "input")


@pytest.mark.parametrize("command", ["extract-hands", "extract-roi", "predict"])
def test_two_inputs_of_one_name_are_refused_before_any_work(command, user, capsys):
    argv = list(FOLDER_OUTPUTS[command])
    argv[argv.index("{u}/clips")] = "{u}/clips/good.mp4"
    argv.insert(argv.index("{u}/clips/good.mp4") + 1, "{u}/other/good.mp4")
    _refused(tuple(argv), user, user / "results", capsys, "would both write")
    assert not (user / "results").exists()


@pytest.mark.parametrize("command", ["extract-hands", "extract-roi", "predict"])
def test_a_folder_without_videos_is_nothing_to_do(command, user, capsys):
    argv = [a.replace("{u}/clips", "{u}/mine") for a in FOLDER_OUTPUTS[command]]
    _refused(tuple(argv), user, user / "results", capsys, "no video files")


def test_prepare_writes_under_missing_folders_and_replaces_only_its_own_store(tmp_path, capsys):
    write_custom(tmp_path / "custom", n=4, frames=8)
    out = tmp_path / "new" / "deeper" / "store"
    argv = ["prepare", "custom", str(tmp_path / "custom"), "--layout", "coco17", "--out", str(out),
            "--workers", "1", "--no-progress"]
    assert main(argv) == 0, capsys.readouterr().err
    assert (out / "meta.json").is_file()
    assert main(argv) == 0, capsys.readouterr().err  # a store it wrote: replaced
    assert sorted(p.name for p in out.parent.iterdir()) == ["store"]  # no partial or retired folder left


def test_prepare_refuses_a_partial_folder_it_did_not_leave(tmp_path, capsys):
    write_custom(tmp_path / "custom", n=4, frames=8)
    (tmp_path / "store.partial").mkdir()
    (tmp_path / "store.partial" / "draft.txt").write_text("the user's")
    before = _tree(tmp_path)
    code = main(["prepare", "custom", str(tmp_path / "custom"), "--layout", "coco17", "--out",
                 str(tmp_path / "store"), "--workers", "1", "--no-progress"])
    assert code == 2
    assert "store.partial exists and is not a bharnet store's" in capsys.readouterr().err
    assert _tree(tmp_path) == before
