"""One lookup for every published model file: given path, environment variable, cache, download."""

import hashlib
import io
import os

import pytest

from bharnet.core.errors import UserError
from bharnet.core.machine import usable_cores
from bharnet.core.model_files import ModelFile, cache_dir, find_model_file

CONTENT = b"published weights"
WEIGHTS = ModelFile(name="test weights", filename="w-1234.pth", url="https://example.org/w-1234.pth",
                    sha256=hashlib.sha256(CONTENT).hexdigest()[:8], env="BHARNET_TEST_WEIGHTS",
                    option="test weights", usage="the file's path", hint="allow the download")


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("BHARNET_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("BHARNET_TEST_WEIGHTS", raising=False)


def _serve(seen: list[str], content: bytes = CONTENT):
    def opener(url):
        seen.append(url)
        return io.BytesIO(content)
    return opener


def test_without_download_the_error_names_each_place_and_each_fix():
    seen: list[str] = []
    with pytest.raises(UserError) as err:
        find_model_file(WEIGHTS, None, download=False, opener=_serve(seen))
    assert seen == []  # never fetched unless allowed
    assert str(err.value) == (
        f"no test weights found. Looked at: BHARNET_TEST_WEIGHTS (not set); {cache_dir() / 'w-1234.pth'} (absent). "
        f"Fix: pass the file's path, set BHARNET_TEST_WEIGHTS=PATH, put w-1234.pth (from {WEIGHTS.url}) in "
        f"{cache_dir()}, or allow the download.")


def test_a_pinned_prefix_of_the_checksum_is_checked_on_download(tmp_path):
    seen: list[str] = []
    path = find_model_file(WEIGHTS, None, download=True, opener=_serve(seen))
    assert path == cache_dir() / "w-1234.pth" and path.read_bytes() == CONTENT and seen == [WEIGHTS.url]
    path.unlink()
    with pytest.raises(UserError, match=r"has SHA-256 \w+, expected " + WEIGHTS.sha256) as err:
        find_model_file(WEIGHTS, None, download=True, opener=_serve(seen, b"something else"))
    assert "Fix: pass the file's path" in str(err.value)
    assert not path.exists()  # an unverified download is never kept


def test_no_download_without_a_pinned_checksum(monkeypatch):
    seen: list[str] = []
    unpinned = ModelFile(**{**WEIGHTS.__dict__, "sha256": ""})
    with pytest.raises(UserError, match="download: none without a pinned checksum"):
        find_model_file(unpinned, None, download=True, opener=_serve(seen))
    assert seen == []


def test_a_given_path_and_the_environment_come_first(tmp_path, monkeypatch):
    own = tmp_path / "own.pth"
    own.write_bytes(b"x")
    assert find_model_file(WEIGHTS, own, download=False) == own
    with pytest.raises(UserError, match=r"^test weights \S*gone.pth: no such file$"):
        find_model_file(WEIGHTS, tmp_path / "gone.pth", download=True)
    monkeypatch.setenv("BHARNET_TEST_WEIGHTS", str(own))
    assert find_model_file(WEIGHTS, None, download=False) == own


def test_usable_cores_is_a_positive_count():
    assert 1 <= usable_cores() <= (os.cpu_count() or 1)
