"""The validation split a run selects on when the data set has none of its own.

``data.val_split=auto`` (the default) takes the store's ``val`` split when it has one; otherwise a
seeded slice of the training split is held out (``data.val_fraction``, 10 % by default) and the
model trains on the rest. The slice takes whole groups (subjects, sessions) when the sample names
say what a group is, so that validation, like the test split, sees people or recordings the model
never trained on: NTU / PKU-style names (``S001C002P003R001A013``: subject ``P003``) and N-UCLA
names (``a01_s03_e00_v02``: subject ``s03``) are recognised, and ``data.val_group`` (a regular
expression whose first group, or whole match, names a sample's group) sets any other rule.
Without groups the slice is stratified by class. Model selection, calibration and fusion weights
then never look at the test split.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from bharnet.core.errors import UserError

__all__ = ["AUTO", "holdout_split", "sample_groups"]

#: the split name that asks for the store's ``val`` split or a held-out slice of train
AUTO = "auto"
_KNOWN_GROUPS = (r"S\d{3}C\d{3}(P\d{3})R\d{3}A\d{3}", r"a\d+_(s\d+)_e\d+_v\d+")


def sample_groups(names: Sequence[str], pattern: str | None = None) -> np.ndarray | None:
    """Each sample's group: by ``pattern`` (first group or whole match of ``re.search``), else by a
    known naming scheme that every name follows; ``None`` when no rule applies."""
    if pattern is not None:
        try:
            rule = re.compile(pattern)
        except re.error as err:
            raise UserError(f"data.val_group {pattern!r} is not a regular expression: {err}") from None
        groups = []
        for name in names:
            match = rule.search(name)
            if match is None:
                raise UserError(f"data.val_group {pattern!r} does not match sample {name!r}")
            groups.append(match.group(1) if rule.groups else match.group(0))
        return np.asarray(groups)
    for scheme in _KNOWN_GROUPS:
        matches = [re.fullmatch(scheme, name) for name in names]
        if names and all(matches):
            return np.asarray([m.group(1) for m in matches])
    return None


def holdout_split(indices: np.ndarray, labels: np.ndarray, groups: np.ndarray | None, fraction: float,
                  seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split ``indices`` (of a training split) into (train, val): about ``fraction`` of the samples,
    whole ``groups`` at a time when given (at least one group stays on each side), else per class.
    ``labels`` and ``groups`` are indexed like the store (by the values of ``indices``)."""
    if not 0 < fraction < 1:
        raise UserError(f"data.val_fraction must lie in (0, 1), got {fraction}")
    rng = np.random.default_rng([seed, 0x5A1])
    indices = np.asarray(indices)
    if groups is not None and len(np.unique(groups[indices])) >= 2:
        unique = rng.permutation(np.unique(groups[indices]))
        sizes = np.array([np.sum(groups[indices] == g) for g in unique])
        # the fewest leading groups that reach the fraction, one group at least, never all of them
        take = min(len(unique) - 1, max(1, int(np.searchsorted(np.cumsum(sizes), fraction * len(indices)) + 1)))
        val = np.isin(groups[indices], unique[:take])
    else:
        val = np.zeros(len(indices), bool)
        for c in np.unique(labels[indices]):
            members = rng.permutation(np.flatnonzero(labels[indices] == c))
            n = int(round(fraction * len(members))) if len(members) > 1 else 0
            val[members[: max(n, 1 if len(members) > 1 else 0)]] = True
    return indices[~val], indices[val]
