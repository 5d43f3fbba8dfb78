"""Readers of the source formats, one module per format: pure functions from files to
:class:`bharnet.core.sequence.Sequence` records (``read_*``, ``list_*``), plus the BodyHand-Synth
generator. Writing stores is :mod:`bharnet.store`'s job; video is :mod:`bharnet.video`'s."""


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
