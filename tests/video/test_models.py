import hashlib
import io
from dataclasses import replace
from pathlib import Path

import pytest

from bharnet.core.errors import UserError
from bharnet.core.model_files import cache_dir, download_model_file, sha256_of
from bharnet.video import models
from bharnet.video.models import HAND_MODEL, resolve_model


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("BHARNET_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("BHARNET_HAND_MODEL", raising=False)
    monkeypatch.delenv("BHARNET_POSE_MODEL", raising=False)


def _fake(tmp_path: Path, content: bytes = b"model bytes") -> tuple[Path, str]:
    path = tmp_path / "src.task"
    path.write_bytes(content)
    return path, hashlib.sha256(content).hexdigest()


def test_explicit_path_then_env_then_cache(tmp_path, monkeypatch):
    explicit, _ = _fake(tmp_path)
    assert resolve_model("hand", explicit, download=False) == explicit
    with pytest.raises(UserError, match="--hand-model"):
        resolve_model("hand", tmp_path / "nope.task", download=False)
    monkeypatch.setenv("BHARNET_HAND_MODEL", str(explicit))
    assert resolve_model("hand", download=False) == explicit
    monkeypatch.delenv("BHARNET_HAND_MODEL")
    cached = cache_dir() / HAND_MODEL.filename
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")
    assert resolve_model("hand", download=False) == cached


def test_missing_model_error_names_every_place(tmp_path, monkeypatch):
    monkeypatch.setenv("BHARNET_POSE_MODEL", str(tmp_path / "gone.task"))

    def offline(url):
        raise OSError("network unreachable")

    with pytest.raises(UserError) as err:
        resolve_model("pose", opener=offline)
    text = str(err.value)
    for place in ("BHARNET_POSE_MODEL", str(cache_dir()), "network unreachable", "--pose-model",
                  "storage.googleapis.com"):
        assert place in text


def test_download_from_file_url_verifies_checksum(tmp_path):
    src, digest = _fake(tmp_path)
    spec = replace(HAND_MODEL, sha256=digest)
    dest = download_model_file(spec, tmp_path / "dl", url=src.as_uri())
    assert dest.read_bytes() == b"model bytes" and sha256_of(dest) == digest
    bad = replace(HAND_MODEL, sha256="0" * 64)
    with pytest.raises(UserError, match="expected 0000"):
        download_model_file(bad, tmp_path / "dl2", url=src.as_uri())
    assert list((tmp_path / "dl2").iterdir()) == []  # nothing half-written or unverified is left


def test_resolve_downloads_into_cache(tmp_path, monkeypatch):
    content = b"official file"
    monkeypatch.setitem(models.MODELS, "hand", replace(HAND_MODEL, sha256=hashlib.sha256(content).hexdigest()))
    seen = []

    def opener(url):
        seen.append(url)
        return io.BytesIO(content)

    path = resolve_model("hand", opener=opener)
    assert path == cache_dir() / HAND_MODEL.filename and path.read_bytes() == content
    assert seen == [HAND_MODEL.url] and HAND_MODEL.url.startswith("https://storage.googleapis.com/mediapipe-models/")
    assert resolve_model("hand", opener=opener) == path and len(seen) == 1  # cached now


def test_pinned_checksums_match_the_shared_copies(shared):
    assert sha256_of(shared / "models" / "hand_landmarker.task") == models.HAND_MODEL.sha256
    assert sha256_of(shared / "models" / "pose_landmarker_full.task") == models.POSE_MODEL.sha256
