"""Readers of the source formats, one module per format: pure functions from files to
:class:`bharnet.core.sequence.Sequence` records (``read_*``, ``list_*``). Writing stores is
:mod:`bharnet.store`'s job; video is :mod:`bharnet.video`'s; the built-in BodyHand-Synth is
:mod:`bharnet.synth`'s."""


def check_keypoints(shape: tuple[int, ...], *, persons_axis: int, persons: int, joints: int, channels: int,
                    what: str) -> None:
    """Raise ``ValueError`` naming ``what`` when a 4-D keypoint array (persons on ``persons_axis``,
    then joints and channels last) does not fit a store of ``persons`` x ``joints`` x ``channels``."""
    order = "(T, M, V, C)" if persons_axis == 1 else "(M, T, V, C)"
    if len(shape) != 4:
        raise ValueError(f"{what} has shape {tuple(shape)}, expected {order}")
    m, (v, c) = shape[persons_axis], shape[2:]
    if v != joints or c != channels:
        raise ValueError(f"{what}: {v} joints x {c} channels, the layout has {joints} x {channels}")
    if m > persons:
        raise ValueError(f"{what}: {m} persons, the store keeps {persons}")


def load_numpy(path, names: tuple[str, ...] | None = None):
    """A ``.npy`` file as an array, or the arrays of a ``.npz`` file as a dict (those in ``names``,
    default all), read whole and without pickles. Raises ``ValueError`` naming the file when it is
    not a readable NumPy file: a damaged file fails inside zipfile, zlib, numpy's header parser or
    the OS in many ways, and each is the same problem to the user."""
    import zipfile
    from pathlib import Path

    import numpy as np

    path = Path(path)
    try:
        if path.suffix != ".npz":
            return np.asarray(np.load(path, allow_pickle=False))
        with np.load(path, allow_pickle=False) as archive:
            return {k: np.asarray(archive[k]) for k in archive.files if names is None or k in names}
    except MemoryError:
        raise ValueError(f"{path.name}: its header asks for more memory than there is (a damaged file?)") from None
    except (Exception, zipfile.BadZipFile) as err:  # noqa: BLE001 - see the docstring
        raise ValueError(f"{path.name}: not a readable {path.suffix} file ({type(err).__name__}: {err})") from None
