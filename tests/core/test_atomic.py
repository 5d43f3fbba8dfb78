import os

import pytest

from bharnet.core.atomic import atomic_file, write_json


def test_files_get_the_permissions_of_any_file_the_user_writes(tmp_path):
    umask = os.umask(0o022)
    try:
        path = write_json(tmp_path / "a.json", {"x": 1})
        assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600
    finally:
        os.umask(umask)


def test_an_error_leaves_the_destination_as_it_was_and_nothing_behind(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_file(tmp_path / "a.bin") as f:
        f.write(b"half")
        raise RuntimeError
    assert (tmp_path / "a.bin").read_bytes() == b"old" and os.listdir(tmp_path) == ["a.bin"]
