"""The rules for output locations (core/outputs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bharnet.core.errors import UserError
from bharnet.core.outputs import check_output_file, check_output_folder, holds_only, unique_outputs


def test_a_new_folder_under_missing_ones_is_fine_and_nothing_is_created(tmp_path: Path) -> None:
    out = check_output_folder(tmp_path / "a" / "b", flag="--out")
    assert out == tmp_path / "a" / "b" and list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_taken_only_empty_or_holding_the_commands_files(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    check_output_folder(tmp_path / "out", flag="--out")  # empty
    (tmp_path / "out" / "a.npz").write_bytes(b"")
    (tmp_path / "out" / ".a.npz.123.abcd.part").write_bytes(b"")  # a killed run's temporary file
    check_output_folder(tmp_path / "out", flag="--out", ours=holds_only("*.npz"))
    (tmp_path / "out" / "paper.pdf").write_bytes(b"")
    with pytest.raises(UserError, match=r"--out .*out: is a folder with files bharnet did not write \(paper.pdf\)"):
        check_output_folder(tmp_path / "out", flag="--out", ours=holds_only("*.npz"))


def test_a_folder_is_never_an_input_nor_holds_one(tmp_path: Path) -> None:
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "a.mp4").write_bytes(b"")
    for inputs in ([tmp_path / "clips"], [tmp_path / "clips" / "a.mp4"]):
        with pytest.raises(UserError, match="holds the input"):
            check_output_folder(tmp_path / "clips", flag="--out", inputs=inputs, ours=holds_only("*"))
    check_output_folder(tmp_path / "clips" / "hands", flag="--out", inputs=[tmp_path / "clips"])  # inside is fine


def test_a_file_output_replaces_only_what_bharnet_wrote(tmp_path: Path) -> None:
    target = tmp_path / "x.bin"
    check_output_file(target, flag="--out")
    target.write_bytes(b"mine")
    with pytest.raises(UserError, match="exists and was not written by bharnet"):
        check_output_file(target, flag="--out", ours=lambda p: p.read_bytes() == b"ours")
    target.write_bytes(b"ours")
    check_output_file(target, flag="--out", ours=lambda p: p.read_bytes() == b"ours")
    with pytest.raises(UserError, match="is an input"):
        check_output_file(target, flag="--out", inputs=[tmp_path / "." / "x.bin"], ours=lambda p: True)


def test_a_test_that_cannot_read_the_file_means_not_ours(tmp_path: Path) -> None:
    (tmp_path / "x").write_bytes(b"")

    def broken(path: Path) -> bool:
        raise RuntimeError("unreadable")

    with pytest.raises(UserError, match="not written by bharnet"):
        check_output_file(tmp_path / "x", flag="--out", ours=broken)


def test_places_nobody_may_write_are_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError, match="file is a file, not a folder"):
        check_output_folder(tmp_path / "file" / "sub", flag="--out")
    with pytest.raises(UserError, match="cannot write in /proc"):
        check_output_file(Path("/proc/bharnet/x.onnx"), flag="--onnx")


def test_two_inputs_with_one_output_are_named() -> None:
    unique_outputs({Path("a/x.mp4"): Path("o/x.npz"), Path("b/y.mp4"): Path("o/y.npz")})
    with pytest.raises(UserError, match=r"a/x.mp4 and b/x.avi would both write o/x.npz"):
        unique_outputs({Path("a/x.mp4"): Path("o/x.npz"), Path("b/x.avi"): Path("o/x.npz")})
