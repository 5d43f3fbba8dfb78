"""Class subsets on which accuracy is reported separately (hand-intensive actions).

NTU-Hand 11 / 27 are the hand-intensive subsets of NTU60 / NTU120 named by the journal
extension of BHaRNet. Its lists are not public; these are our reconstruction (NTU action ids
A1..A120, stored 0-based), to be replaced by the official lists when they appear.

A subset can also come from a file: JSON ``{"name": [ids or class names]}`` or ``[ids]``, or
a text file with one class per line (a 0-based index, an NTU id such as ``A011``, or a class
name). The synthetic store's ``class_groups`` (``{"body": [...], "hand": [...], "mixed":
[...]}``), carried in a scores file's meta, give one subset per group.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from bharnet.core.errors import UserError

__all__ = ["NTU60_HAND11", "NTU120_HAND27", "BUILTIN_SUBSETS", "load_subsets", "default_subsets", "parse_class"]

_HAND11_A_IDS = (11, 12, 13, 28, 29, 30, 31, 32, 33, 34, 39)
_HAND27_EXTRA_A_IDS = (67, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 81, 82, 83, 84, 120)

#: NTU60 hand-intensive classes (0-based): reading, writing, tear up paper, phone call, play with
#: phone/tablet, typing, point with finger, selfie, check time, rub two hands, put palms together
NTU60_HAND11: tuple[int, ...] = tuple(a - 1 for a in _HAND11_A_IDS)
#: NTU120 hand-intensive classes (0-based): the 11 above plus hush, thumb up/down, OK sign,
#: victory sign, staple book, counting money, cutting nails, cutting paper, snapping fingers,
#: open bottle, toss coin, fold paper, ball up paper, magic cube, rock-paper-scissors
NTU120_HAND27: tuple[int, ...] = NTU60_HAND11 + tuple(a - 1 for a in _HAND27_EXTRA_A_IDS)

#: built-in subsets by name, with the number of classes they need
BUILTIN_SUBSETS: dict[str, tuple[tuple[int, ...], int]] = {
    "ntu60-hand11": (NTU60_HAND11, 60),
    "ntu120-hand27": (NTU120_HAND27, 120),
}


def parse_class(token: str | int, classes: Sequence[str], where: str) -> int:
    """One class given as a 0-based index, an NTU id (``A011`` = index 10) or a class name."""
    if isinstance(token, int):
        index = token
    else:
        text = str(token).strip()
        if re.fullmatch(r"\d+", text):
            index = int(text)
        elif re.fullmatch(r"[Aa]\d+", text):
            index = int(text[1:]) - 1
        elif text in classes:
            index = list(classes).index(text)
        else:
            raise UserError(f"{where}: {text!r} is neither a class index, an NTU id (A011) nor a class name")
    if not 0 <= index < len(classes):
        raise UserError(f"{where}: class {token!r} is outside the {len(classes)} classes")
    return index


def _from_file(path: Path, classes: Sequence[str]) -> dict[str, list[int]]:
    if not path.is_file():
        raise UserError(f"{path}: no such subset file (built-in subsets: {', '.join(BUILTIN_SUBSETS)})")
    text = path.read_text()
    if path.suffix.lower() == ".json":
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as err:
            raise UserError(f"{path}: not valid JSON ({err})") from err
        groups = obj if isinstance(obj, dict) else {path.stem: obj}
    else:
        lines = [line.split("#")[0].strip() for line in text.splitlines()]
        groups = {path.stem: [line for line in lines if line]}
    out = {}
    for name, members in groups.items():
        if not isinstance(members, list) or not members:
            raise UserError(f"{path}: subset {name!r} must be a non-empty list of classes")
        out[str(name)] = sorted({parse_class(m, classes, str(path)) for m in members})
    return out


def load_subsets(specs: Sequence[str], classes: Sequence[str]) -> dict[str, list[int]]:
    """Resolve subset specs (a built-in name or a file) to ``{name: sorted class indices}``."""
    out: dict[str, list[int]] = {}
    for spec in specs:
        if spec in BUILTIN_SUBSETS:
            ids, needed = BUILTIN_SUBSETS[spec]
            if len(classes) != needed:
                raise UserError(f"subset {spec} is for {needed} classes; these scores have {len(classes)}")
            out[spec] = list(ids)
        else:
            out.update(_from_file(Path(spec), classes))
    return out


def default_subsets(meta: dict, num_classes: int) -> dict[str, list[int]]:
    """Subsets that apply without being asked: the store's ``class_groups`` from the meta, and
    NTU-Hand 11 / 27 when the dataset is NTU with 60 / 120 classes."""
    out: dict[str, list[int]] = {}
    for group, ids in (meta.get("class_groups") or {}).items():
        ids = sorted(int(i) for i in ids if 0 <= int(i) < num_classes)
        if ids:
            out[f"group:{group}"] = ids
    dataset = str(meta.get("dataset", "")).lower()
    if "ntu" in dataset:
        for name, (ids, needed) in BUILTIN_SUBSETS.items():
            if needed == num_classes:
                out[name] = list(ids)
    return out
