"""Find (or fetch) a published model file: MediaPipe's ``.task`` files, the ImageNet ResNet-18.

Each file is looked for in one order: the path the user gave, the environment variable that may
point at a copy, the cache folder (``$BHARNET_CACHE/models`` or ``~/.cache/bharnet/models``),
then, where the caller allows it and a checksum is pinned, a download into the cache verified
against that checksum. Callers keep their own table of :class:`ModelFile` records.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bharnet.core.atomic import atomic_file
from bharnet.core.errors import UserError

Opener = Callable[[str], BinaryIO]


@dataclass(frozen=True)
class ModelFile:
    """One published model file, and how a user points at a copy of it."""

    #: what messages call it: "MediaPipe hand model", "ImageNet ResNet-18 weights"
    name: str
    #: its name in the cache
    filename: str
    url: str
    #: the hex SHA-256, or its leading digits; "" pins none, and then it is never downloaded
    sha256: str
    #: the environment variable that may name a copy
    env: str
    #: how a given path is named when it is missing: "--hand-model", "ResNet-18 weights"
    option: str
    #: how the error's fix says to give a path: "--hand-model PATH", "the file's path"
    usage: str
    #: a last fix the error suggests, such as how to allow the download
    hint: str = ""


def cache_dir() -> Path:
    """The model cache folder: ``$BHARNET_CACHE/models`` or ``~/.cache/bharnet/models``."""
    root = os.environ.get("BHARNET_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "bharnet") / "models"


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _open_url(url: str) -> BinaryIO:
    return urllib.request.urlopen(url, timeout=60)  # noqa: S310 - the URL is one of ours


def download_model_file(file: ModelFile, dest_dir: Path, opener: Opener | None = None,
                        url: str | None = None) -> Path:
    """Download ``file`` into ``dest_dir`` atomically and verify its checksum.

    ``opener`` (a function URL -> readable binary file) and ``url`` exist for tests and mirrors.
    A file whose checksum differs is deleted and reported, never kept.
    """
    url = url or file.url
    dest = dest_dir / file.filename
    try:
        with atomic_file(dest) as out, (opener or _open_url)(url) as src:
            digest = hashlib.sha256()
            for chunk in iter(lambda: src.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
            if not file.sha256 or not digest.hexdigest().startswith(file.sha256):  # raised inside: discarded
                raise UserError(
                    f"downloaded {url} has SHA-256 {digest.hexdigest()}, expected {file.sha256}; the file was "
                    f"discarded. Download a {file.name} you trust and pass it with {file.usage} or "
                    f"{file.env}=PATH."
                )
    except OSError as err:
        raise UserError(f"could not download the {file.name} from {url}: {err}") from err
    return dest


def find_model_file(file: ModelFile, path: str | os.PathLike | None, *, download: bool,
                    opener: Opener | None = None) -> Path:
    """The path of ``file``: ``path`` when given, else the environment variable, the cache, or (with
    ``download`` and a pinned checksum) a verified download into the cache. Raises
    :class:`UserError` naming every place looked at when none has it."""
    if path is not None:
        given = Path(path).expanduser()
        if not given.is_file():
            raise UserError(f"{file.option} {given}: no such file")
        return given
    looked: list[str] = []
    env = os.environ.get(file.env)
    if env:
        named = Path(env).expanduser()
        if named.is_file():
            return named
        looked.append(f"{file.env}={named} (no such file)")
    else:
        looked.append(f"{file.env} (not set)")
    cached = cache_dir() / file.filename
    if cached.is_file():
        return cached
    looked.append(f"{cached} (absent)")
    if download and file.sha256:
        try:
            return download_model_file(file, cache_dir(), opener=opener)
        except UserError as err:
            looked.append(f"download: {err}")
    if not file.sha256:
        looked.append("download: none without a pinned checksum")
    fixes = [f"pass {file.usage}", f"set {file.env}=PATH", f"put {file.filename} (from {file.url}) in {cache_dir()}",
             *([file.hint] if file.hint else [])]
    raise UserError(f"no {file.name} found. Looked at: " + "; ".join(looked)
                    + f". Fix: {', '.join(fixes[:-1])}, or {fixes[-1]}.")
