"""NTU RGB+D 60 / 120 ``.skeleton`` files: the parser, the field's standard cleaning, the benchmarks.

The text format (Kinect v2): the frame count; per frame the body count, then per body a line of
10 fields (bodyID, clipedEdges, handLeftConfidence, handLeftState, handRightConfidence,
handRightState, isRestricted, leanX, leanY, trackingState), the joint count (25) and 25 lines of
12 fields (x, y, z, depthX, depthY, colorX, colorY, orientationW, orientationX, orientationY,
orientationZ, trackingState).

:func:`read_skeleton` parses every field; :func:`clean_bodies` applies the cleaning of the SGN /
CTR-GCN preprocessing (noisy bodies, the two main actors, missing frames, centring);
:func:`list_ntu` lists a benchmark's files and :func:`read_ntu_sample` reads one as a labelled
:class:`~bharnet.core.sequence.Sequence` with the official splits.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from bharnet.core.sequence import Sequence
from bharnet.io.textnum import tokenize_numbers

__all__ = [
    "NTU_CLASSES", "BODY_FIELDS", "JOINT_FIELDS", "BodyTrack", "SkeletonFile", "read_skeleton", "CleanedSkeleton",
    "clean_bodies", "parse_ntu_name", "ntu_splits", "missing_skeletons", "list_ntu", "read_ntu_sample",
]

JOINTS = 25
#: the per-body line, after the body ID
BODY_FIELDS = ("clipped_edges", "hand_left_confidence", "hand_left_state", "hand_right_confidence",
               "hand_right_state", "is_restricted", "lean_x", "lean_y", "tracking_state")
#: the 12 fields of a joint line
JOINT_FIELDS = ("x", "y", "z", "depth_x", "depth_y", "color_x", "color_y", "orientation_w", "orientation_x",
                "orientation_y", "orientation_z", "tracking_state")

# the official action names, A001..A120
NTU_CLASSES = [
    "drink water", "eat meal/snack", "brushing teeth", "brushing hair", "drop", "pickup", "throw", "sitting down",
    "standing up (from sitting position)", "clapping", "reading", "writing", "tear up paper", "wear jacket",
    "take off jacket", "wear a shoe", "take off a shoe", "wear on glasses", "take off glasses", "put on a hat/cap",
    "take off a hat/cap", "cheer up", "hand waving", "kicking something",
    "put something inside pocket / take out something from pocket", "hopping (one foot jumping)", "jump up",
    "make a phone call/answer phone", "playing with phone/tablet", "typing on a keyboard",
    "pointing to something with finger", "taking a selfie", "check time (from watch)", "rub two hands together",
    "nod head/bow", "shake head", "wipe face", "salute", "put the palms together", "cross hands in front (say stop)",
    "sneeze/cough", "staggering", "falling", "touch head (headache)", "touch chest (stomachache/heart pain)",
    "touch back (backache)", "touch neck (neckache)", "nausea or vomiting condition",
    "use a fan (with hand or paper)/feeling warm", "punching/slapping other person", "kicking other person",
    "pushing other person", "pat on back of other person", "point finger at the other person",
    "hugging other person", "giving something to other person", "touch other person's pocket", "handshaking",
    "walking towards each other", "walking apart from each other",
    "put on headphone", "take off headphone", "shoot at the basket", "bounce ball", "tennis bat swing",
    "juggling table tennis balls", "hush (quite)", "flick hair", "thumb up", "thumb down", "make ok sign",
    "make victory sign", "staple book", "counting money", "cutting nails", "cutting paper (using scissors)",
    "snapping fingers", "open bottle", "sniff (smell)", "squat down", "toss a coin", "fold paper", "ball up paper",
    "play magic cube", "apply cream on face", "apply cream on hand back", "put on bag", "take off bag",
    "put something into a bag", "take something out of a bag", "open a box", "move heavy objects", "shake fist",
    "throw up cap/hat", "hands up (both hands)", "cross arms", "arm circles", "arm swings", "running on the spot",
    "butt kicks (kick backward)", "cross toe touch", "side kick", "yawn", "stretch oneself", "blow nose",
    "hit other person with something", "wield knife towards other person", "knock over other person (hit with body)",
    "grab other person's stuff", "shoot at other person with a gun", "step on foot", "high-five",
    "cheers and drink", "carry something with other person", "take a photo of other person",
    "follow other person", "whisper in other person's ear", "exchange things with other person",
    "support somebody with hand", "finger-guessing game (playing rock-paper-scissors)",
]

# official cross-subject training subjects (NTU60; NTU120 adds the second row)
_XSUB60_TRAIN = {1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38}
_XSUB120_TRAIN = _XSUB60_TRAIN | {45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82, 83, 84,
                                  85, 86, 89, 91, 92, 93, 94, 95, 97, 98, 100, 103}
_XVIEW_TRAIN_CAMERAS = {2, 3}
_NAME = re.compile(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})$")
BENCHMARKS = {"ntu60": (17, 60), "ntu120": (32, 120)}  # last setup, number of classes

# cleaning thresholds of the SGN / CTR-GCN preprocessing
NOISE_LENGTH = 11
NOISE_SPREAD = 0.8
NOISE_SPREAD_RATIO = 0.69754


# ---------------------------------------------------------------------------------------------
# parsing


@dataclass
class BodyTrack:
    """One body (by its Kinect body ID) over all frames of a file; NaN where it is absent."""

    body_id: str
    xyz: np.ndarray           # (T, 25, 3) metres
    depth_xy: np.ndarray      # (T, 25, 2) depth-image pixels
    color_xy: np.ndarray      # (T, 25, 2) colour-image pixels
    orientation: np.ndarray   # (T, 25, 4) quaternion w, x, y, z
    tracking: np.ndarray      # (T, 25) joint tracking state (0 not tracked, 1 inferred, 2 tracked)
    info: dict[str, np.ndarray]  # per frame (T,): the body line's fields, BODY_FIELDS
    present: np.ndarray       # (T,) bool

    @property
    def frames(self) -> np.ndarray:
        """Indices of the frames where this body appears."""
        return np.flatnonzero(self.present)


@dataclass
class SkeletonFile:
    """A parsed ``.skeleton`` file."""

    name: str
    num_frames: int
    bodies_per_frame: np.ndarray  # (T,) int
    bodies: dict[str, BodyTrack] = field(default_factory=dict)  # in order of first appearance


def _fail(path: Path, line: int, problem: str) -> ValueError:
    return ValueError(f"{path.name}, line {line}: {problem}")


def read_skeleton(path: str | os.PathLike) -> SkeletonFile:
    """Parse every field of an NTU ``.skeleton`` file.

    Raises ``ValueError`` naming the file and line for a truncated file, a non-numeric field, a
    joint count other than 25, a line with the wrong number of fields, or zero frames.
    """
    path = Path(path)
    buf = path.read_bytes()
    tokens = tokenize_numbers(buf)
    values = tokens.values
    if len(tokens) == 0:
        raise ValueError(f"{path.name}: empty file (zero frames)")
    # line structure: the index of each line's first token and how many tokens it holds
    first_token = tokens.line_first[:-1]
    per_line = np.diff(tokens.line_first)
    lines_with_tokens = np.flatnonzero(per_line)  # blank lines are skipped
    bad = set(tokens.bad.tolist())
    # per non-blank line: its token count and first value (NaN for a non-numeric token); the walk
    # below (only for a file the bulk check rejects) takes them as plain lists: it touches single
    # items, which NumPy arrays serve slowly
    count_arr = per_line[lines_with_tokens]
    first_arr = values[first_token[lines_with_tokens]]
    counts: list[int] = []
    firsts: list[float] = []
    lines: list[int] = []

    def integer(p: int, what: str) -> int:
        """The whole number alone on non-blank line ``p``."""
        value = firsts[p]
        if counts[p] != 1 or not value >= 0 or value != int(value):
            li = lines[p]
            text = buf.split(b"\n", li + 1)[li].decode(errors="replace").strip()
            raise _fail(path, li + 1, f"expected {what} (one whole number), got {text!r}")
        return int(value)

    def joint_lines_of(body_pos: list[int]) -> np.ndarray:
        pos = (np.asarray(body_pos, np.int64)[:, None] + 2 + np.arange(JOINTS)).ravel()
        return lines_with_tokens[pos[pos < len(lines_with_tokens)]]

    def joint_line_error(body_pos: list[int]) -> ValueError | None:
        """The first joint line (of the bodies read so far) that does not hold 12 fields."""
        if not body_pos:
            return None
        joint_lines = joint_lines_of(body_pos)
        wrong = joint_lines[per_line[joint_lines] != 12]
        if len(wrong) == 0:
            return None
        return _fail(path, int(wrong[0]) + 1, f"a joint line has 12 fields, this one has {per_line[wrong[0]]}")

    def walk() -> tuple[int, list[int], list[int]]:
        """Frame by frame: slower than the bulk check, but names the first problem."""
        nonlocal counts, firsts, lines
        counts, firsts, lines = count_arr.tolist(), first_arr.tolist(), lines_with_tokens.tolist()
        body_pos: list[int] = []  # position in ``lines`` of each (frame, body) body line
        try:
            num_frames = integer(0, "the frame count")
            if num_frames == 0:
                raise _fail(path, lines[0] + 1, "zero frames")
            bodies_per_frame = []
            p = 1
            for t in range(num_frames):
                if p >= len(lines):
                    raise ValueError(f"{path.name}: truncated: the file ends at line {lines[-1] + 1}, "
                                     f"before frame {t + 1} of {num_frames}")
                nb = integer(p, "a body count")
                bodies_per_frame.append(nb)
                p += 1
                for _ in range(nb):
                    if p + 2 + JOINTS > len(lines):
                        raise ValueError(f"{path.name}: truncated: the file ends at line {lines[-1] + 1}, "
                                         f"inside frame {t + 1} of {num_frames}")
                    if counts[p] != 10:
                        raise _fail(path, lines[p] + 1, f"a body line has 10 fields, this one has {counts[p]}")
                    nj = integer(p + 1, "a joint count")
                    if nj != JOINTS:
                        raise _fail(path, lines[p + 1] + 1, f"joint count {nj}, expected {JOINTS}")
                    body_pos.append(p)
                    p += 2 + JOINTS
            if p < len(lines):
                raise _fail(path, lines[p] + 1, f"unexpected data after the last of {num_frames} frames")
        except ValueError as err:
            # a joint line with a missing or extra field earlier in the file explains what followed it
            raise (joint_line_error(body_pos[:-1]) or err) from None
        return num_frames, bodies_per_frame, body_pos

    structure = _well_formed_structure(count_arr, first_arr) or walk()
    num_frames, bodies_per_frame, body_pos = structure
    joint_lines = joint_lines_of(body_pos) if body_pos else np.zeros(0, np.int64)
    wrong = joint_lines[per_line[joint_lines] != 12]
    if len(wrong):
        raise _fail(path, int(wrong[0]) + 1, f"a joint line has 12 fields, this one has {per_line[wrong[0]]}")
    body_lines_arr = lines_with_tokens[np.asarray(body_pos, np.int64)]
    body_lines = body_lines_arr.tolist()
    body_frames = np.repeat(np.arange(num_frames), bodies_per_frame)
    bad -= set(first_token[body_lines_arr].tolist())  # body IDs are names, not numbers
    if bad:
        i = min(bad)
        raise _fail(path, tokens.line_of(i) + 1, f"non-numeric field {tokens.text(i)!r}")
    skel = SkeletonFile(path.name.split(".")[0], num_frames, np.asarray(bodies_per_frame, np.int64))
    if not body_lines:
        return skel
    # the ID token of each body line; its 9 fields follow, then the joint count and the 25 x 12
    # joint values without a gap (token indices skip blank lines): rows of sliding windows (views)
    id_tokens = first_token[body_lines_arr]
    joints = sliding_window_view(values, JOINTS * 12)[id_tokens + 11].reshape(-1, JOINTS, 12)
    info = sliding_window_view(values, 9)[id_tokens + 1]
    rows_of: dict[str, list[int]] = {}  # body ID -> its rows, in order of first appearance
    for row, i in enumerate(id_tokens.tolist()):
        rows_of.setdefault(tokens.text(i), []).append(row)
    for body_id, rows in rows_of.items():
        t = body_frames[rows]  # ascending: frames come in file order
        if (np.diff(t) == 0).any():
            raise _fail(path, int(body_lines_arr[rows[0]]) + 1, f"body {body_id} appears twice in one frame")
        if len(t) == num_frames:
            full, body_info = joints[rows], info[rows]
        else:
            full = np.full((num_frames, JOINTS, 12), np.nan)
            full[t] = joints[rows]
            body_info = np.full((num_frames, 9), np.nan)
            body_info[t] = info[rows]
        present = np.zeros(num_frames, bool)
        present[t] = True
        skel.bodies[body_id] = BodyTrack(
            body_id=body_id, xyz=full[..., 0:3], depth_xy=full[..., 3:5], color_xy=full[..., 5:7],
            orientation=full[..., 7:11], tracking=full[..., 11],
            info={name: body_info[:, k] for k, name in enumerate(BODY_FIELDS)}, present=present,
        )
    return skel


def _well_formed_structure(counts: np.ndarray, firsts: np.ndarray) -> tuple[int, list[int], list[int]] | None:
    """The frame structure of a well-formed file from the token count and first value of each
    non-blank line, checked with array operations: (frames, bodies per frame, position of each
    body line), or None when anything is off (the caller then walks the file to name the problem)."""
    if len(counts) == 0 or counts[0] != 1 or not firsts[0] >= 1 or firsts[0] != int(firsts[0]):
        return None
    num_frames = int(firsts[0])
    body = np.flatnonzero(counts == 10)
    single = counts == 1
    single[0] = False
    joint_counts = body + 1
    single[joint_counts[joint_counts < len(counts)]] = False
    heads = np.flatnonzero(single)  # the body-count line of each frame
    if len(heads) != num_frames:
        return None
    nb = firsts[heads]
    if not (nb >= 0).all() or (nb != np.floor(nb)).any():
        return None
    nb = nb.astype(np.int64)
    nxt = heads + 1 + (2 + JOINTS) * nb
    if (nxt[:-1] != heads[1:]).any() or nxt[-1] != len(counts):
        return None
    expected = (np.repeat(heads + 1, nb) + (2 + JOINTS) * (np.arange(nb.sum()) - np.repeat(np.cumsum(nb) - nb, nb)))
    if len(expected) != len(body) or (expected != body).any():
        return None
    if len(body) and ((counts[body + 1] != 1) | (firsts[body + 1] != JOINTS)).any():
        return None
    return num_frames, nb.tolist(), body.tolist()


# ---------------------------------------------------------------------------------------------
# cleaning


@dataclass
class CleanedSkeleton:
    """The two actors after cleaning: ``xyz`` (T', 2, 25, 3), ``color_xy`` (T', 2, 25, 2), zeros where
    an actor is absent; ``frames`` maps each kept frame to its index in the file."""

    xyz: np.ndarray
    color_xy: np.ndarray
    frames: np.ndarray
    actors: list[list[str]]  # body IDs per actor
    dropped: dict[str, str]  # body ID -> why it was dropped


def _motion(xyz: np.ndarray) -> float:
    """The SGN motion measure: the summed variance of x, y, z over all joints of all given frames."""
    return float(np.sum(np.var(xyz.reshape(-1, 3), axis=0)))


def clean_bodies(skel: SkeletonFile, *, center: bool = True) -> CleanedSkeleton:
    """The standard NTU cleaning (SGN / CTR-GCN ``get_raw_denoised_data`` + ``seq_transformation``).

    Frames without any body are dropped. With one body ID it is the actor. With several: bodies of
    <= 11 frames are dropped; a frame of a body is noisy when its x-spread exceeds 0.8 times its
    y-spread, and a body whose noisy-frame ratio is >= 0.69754 is dropped while more than one
    remains (otherwise its motion is re-measured over its clean frames); actor 1 is the body with
    the most motion, each other body (by decreasing motion) joins actor 1 when it does not overlap
    actor 1's frame span, else actor 2 when it does not overlap actor 2's, else is discarded; frames
    where both actors are missing are dropped. ``center`` subtracts joint 2 (spine middle) of
    actor 1's first frame (missing actors stay zero).

    One deliberate difference: a body's frames are where the file puts them; the reference code
    assumes each body's frames are consecutive and shifts a body that vanishes and reappears.
    """
    valid = np.flatnonzero(skel.bodies_per_frame > 0)
    if len(valid) == 0 or not skel.bodies:
        raise ValueError(f"{skel.name}: no body in any of its {skel.num_frames} frames")
    tracks = {bid: _compact(b, valid) for bid, b in skel.bodies.items()}
    dropped: dict[str, str] = {}
    if len(tracks) == 1:
        order = list(tracks)
        motion = {}
    else:
        motion = {bid: _motion(tr[0][tr[2]]) for bid, tr in tracks.items()}
        for bid, (_, _, present) in list(tracks.items()):
            if present.sum() <= NOISE_LENGTH:
                dropped[bid] = f"{present.sum()} frames (<= {NOISE_LENGTH})"
                del tracks[bid]
        if not tracks:
            raise ValueError(f"{skel.name}: every body lasts <= {NOISE_LENGTH} frames")
        for bid, (xyz, _, present) in list(tracks.items()):
            if len(tracks) == 1:
                break
            body = xyz[present]
            spread_x = body[..., 0].max(1) - body[..., 0].min(1)
            spread_y = body[..., 1].max(1) - body[..., 1].min(1)
            clean = spread_x <= NOISE_SPREAD * spread_y
            noisy = len(body) - int(clean.sum())
            if noisy == 0:
                continue
            ratio = noisy / len(body)
            if ratio >= NOISE_SPREAD_RATIO:
                dropped[bid] = f"noisy-frame ratio {ratio:.3f} (>= {NOISE_SPREAD_RATIO})"
                del tracks[bid]
            else:
                motion[bid] = min(motion[bid], _motion(body[clean]))
        order = sorted(tracks, key=lambda b: motion[b], reverse=True)  # stable: ties keep file order
    n = len(valid)
    xyz = np.zeros((n, 2, JOINTS, 3))
    color = np.zeros((n, 2, JOINTS, 2))
    actors: list[list[str]] = [[], []]
    spans = [None, (0, 0)]  # actor 2 starts with the reference code's virtual span [0, 0]
    for rank, bid in enumerate(order):
        body_xyz, body_color, present = tracks[bid]
        t = np.flatnonzero(present)
        start, end = int(t[0]), int(t[-1])
        if rank == 0 or min(spans[0][1], end) - max(spans[0][0], start) <= 0:
            slot = 0
        elif min(spans[1][1], end) - max(spans[1][0], start) <= 0:
            slot = 1
        else:
            dropped[bid] = "overlaps both actors"
            continue
        xyz[t, slot] = body_xyz[t]
        color[t, slot] = body_color[t]
        actors[slot].append(bid)
        spans[slot] = (start, end) if spans[slot] is None or rank == 0 else \
            (min(start, spans[slot][0]), max(end, spans[slot][1]))
    keep = np.arange(n)
    if len(skel.bodies) > 1:
        keep = np.flatnonzero(np.any(xyz != 0, axis=(1, 2, 3)))
    xyz, color = xyz[keep], color[keep]
    if center and len(xyz):
        xyz = _center(xyz)
    return CleanedSkeleton(xyz=xyz, color_xy=color, frames=valid[keep], actors=actors, dropped=dropped)


def _compact(body: BodyTrack, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A body's xyz, colour and presence over the frames that have any body."""
    return body.xyz[valid], body.color_xy[valid], body.present[valid]


def _center(xyz: np.ndarray) -> np.ndarray:
    """Subtract joint 2 (spine middle) of actor 1 in its first non-zero frame; missing actors stay zero."""
    missing = ~np.any(xyz != 0, axis=(2, 3))  # (T, 2)
    first = int(np.argmax(~missing[:, 0])) if (~missing[:, 0]).any() else 0
    out = xyz - xyz[first, 0, 1]
    out[missing] = 0.0
    return out


# ---------------------------------------------------------------------------------------------
# names, splits, the missing-skeleton list


def parse_ntu_name(name: str) -> dict[str, int]:
    """``S001C002P003R002A013`` -> ``{"setup": 1, "camera": 2, "subject": 3, "replication": 2, "action": 13}``."""
    match = _NAME.match(name)
    if match is None:
        raise ValueError(f"{name!r} is not an NTU sample name (SsssCcccPpppRrrrAaaa)")
    keys = ("setup", "camera", "subject", "replication", "action")
    return dict(zip(keys, map(int, match.groups()), strict=True))


def ntu_splits(name: str, benchmark: str = "ntu60") -> frozenset[str]:
    """The official split memberships of a sample: X-Sub and X-View (NTU60) or X-Sub and X-Set (NTU120)."""
    f = parse_ntu_name(name)
    if benchmark == "ntu60":
        xsub = "xsub_train" if f["subject"] in _XSUB60_TRAIN else "xsub_test"
        return frozenset({xsub, "xview_train" if f["camera"] in _XVIEW_TRAIN_CAMERAS else "xview_test"})
    if benchmark == "ntu120":
        xsub = "xsub_train" if f["subject"] in _XSUB120_TRAIN else "xsub_test"
        return frozenset({xsub, "xset_train" if f["setup"] % 2 == 0 else "xset_test"})
    raise ValueError(f"unknown NTU benchmark {benchmark!r} (ntu60 or ntu120)")


@functools.cache
def missing_skeletons(benchmark: str = "ntu120") -> frozenset[str]:
    """The official lists of samples with missing skeletons (NTU60: 302 names, NTU120: 535)."""
    text = resources.files("bharnet.io.resources").joinpath("ntu_samples_with_missing_skeletons.txt").read_text()
    names = frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))
    if benchmark == "ntu120":
        return names
    last_setup = BENCHMARKS[benchmark][0]
    return frozenset(n for n in names if parse_ntu_name(n)["setup"] <= last_setup)


# ---------------------------------------------------------------------------------------------
# conversion


def read_ntu_sample(path: str, *, benchmark: str = "ntu60", center: bool = True) -> list[Sequence]:
    """One ``.skeleton`` file -> one cleaned, labelled :class:`Sequence` (M=2, ntu25); its
    ``source_frames`` are the file's frames that cleaning kept."""
    name = Path(path).name.split(".")[0]
    fields = parse_ntu_name(name)
    num_classes = BENCHMARKS[benchmark][1]
    if not 1 <= fields["action"] <= num_classes:
        raise ValueError(f"unknown label A{fields['action']:03d} ({benchmark} has A001..A{num_classes:03d})")
    cleaned = clean_bodies(read_skeleton(path), center=center)
    if len(cleaned.frames) == 0:
        raise ValueError("no frame left after cleaning")
    return [Sequence(name=name, label=fields["action"] - 1, body=cleaned.xyz.astype(np.float32),
                     color_xy=cleaned.color_xy.astype(np.float32), splits=ntu_splits(name, benchmark),
                     source_frames=np.asarray(cleaned.frames))]


def list_ntu(skeletons: str | os.PathLike, benchmark: str = "ntu60") -> tuple[list[Path], int, int]:
    """The ``.skeleton`` files of a benchmark in a folder, sorted: (files, skipped as known missing,
    skipped as outside the benchmark)."""
    folder = Path(skeletons)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder (expected the NTU .skeleton files)")
    last_setup, num_classes = BENCHMARKS[benchmark]
    missing = missing_skeletons(benchmark)
    files, n_missing, n_outside = [], 0, 0
    for path in sorted(folder.glob("*.skeleton")):
        name = path.name.split(".")[0]
        match = _NAME.match(name)
        if match and (int(match.group(1)) > last_setup or num_classes < int(match.group(5)) <= 120):
            n_outside += 1
        elif name in missing:
            n_missing += 1
        else:
            files.append(path)  # a malformed name is reported by the reader
    if not files and not n_missing:
        raise FileNotFoundError(f"{folder}: no .skeleton files of {benchmark}")
    return files, n_missing, n_outside


