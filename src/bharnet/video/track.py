"""Who is who over time: left/right assignment, the most active person, continuity ("sort") and
gap interpolation. Pure NumPy on pixel positions; no model here."""

from __future__ import annotations

import itertools
import warnings
from collections import deque

import numpy as np

from bharnet.video.crops import HandAnchors, body_scale, frame_scales


def best_matching(cost: np.ndarray, gate: float = np.inf) -> list[tuple[int, int]]:
    """Pairs (row, col) of a one-to-one matching of the small ``cost`` matrix that matches as many
    pairs under ``gate`` as possible, then has the least total cost. Brute force: sizes here are <= 4."""
    rows, cols = cost.shape
    best: tuple[int, float, list[tuple[int, int]]] = (0, 0.0, [])
    n = min(rows, cols)
    for chosen_rows in itertools.combinations(range(rows), n):
        for perm in itertools.permutations(range(cols), n):
            pairs = [(r, c) for r, c in zip(chosen_rows, perm, strict=True) if cost[r, c] < gate]
            total = float(sum(cost[r, c] for r, c in pairs))
            if len(pairs) > best[0] or (len(pairs) == best[0] and total < best[1]):
                best = (len(pairs), total, pairs)
    return best[2]


def assign_sides(hand_wrists: np.ndarray, body_wrists: np.ndarray, gate: float = np.inf) -> dict[int, int]:
    """Map detection index -> side (0 left, 1 right) by nearness of each detected hand's wrist
    (K, 2) to the body's wrists (2, 2); a body wrist that is NaN takes no hand."""
    if len(hand_wrists) == 0:
        return {}
    cost = np.linalg.norm(hand_wrists[:, None, :] - body_wrists[None, :, :], axis=-1)
    cost = np.where(np.isnan(cost), np.inf, cost)
    return dict(best_matching(cost, gate))


def motion_energy(body: np.ndarray, anchors: HandAnchors) -> float:
    """How active a person is: the sum over frames of the squared frame-to-frame displacement of
    both wrists, in units of the person's median shoulder width (so that a person near the
    camera does not win by size). ``body`` is (T, J, 2) pixels, NaN where absent."""
    wrists = body[:, list(anchors.wrist)]
    step = np.diff(wrists, axis=0)
    energy = np.nansum((step ** 2).sum(axis=-1))
    shoulders = np.linalg.norm(body[:, anchors.shoulders[0]] - body[:, anchors.shoulders[1]], axis=-1)
    scale = np.nanmedian(shoulders) if np.isfinite(shoulders).any() else 1.0
    return float(energy / max(scale, 1e-6) ** 2)


def most_active(bodies: list[np.ndarray], anchors: HandAnchors) -> int:
    """Index of the most active body (largest :func:`motion_energy`); ties go to the one seen in
    more frames. ``bodies`` must not be empty."""
    return by_activity(bodies, anchors)[0]


def by_activity(bodies: list[np.ndarray], anchors: HandAnchors) -> list[int]:
    """Indices of ``bodies``, the most active first (as :func:`most_active` ranks them)."""
    def key(i: int) -> tuple[float, int]:
        return motion_energy(bodies[i], anchors), int(np.isfinite(bodies[i][:, anchors.wrist[0], 0]).sum())

    return sorted(range(len(bodies)), key=key, reverse=True)


class PeopleTracker:
    """Links the unordered people of each frame to tracks, one frame at a time (:meth:`add`).

    Each track has a constant-velocity model of its shoulder centre. A person is matched to the
    track whose predicted centre is nearest, in units of the track's size (max of shoulder width
    and forearm), within ``gate`` plus ``gate_growth`` per frame the track went unseen (at most
    ``max_growth`` more): a person behind another comes out where their motion took them. An
    eighth of that growth is added to the cost, so that of two tracks a person is about as near
    to, the one seen more recently takes them (of two people in contact, the one in view is most likely the
    one seen a moment ago). A person within the gate of two tracks (in contact, where a detection
    may mix the two) never speeds the matched track up: its velocity stays as it was, so that when
    two people part each track goes on the way it was going, unless the mean step over its last
    detections (:data:`CONTACT_RUN` frames back at least) is slower: a person who stopped against
    another is seen to have stopped.
    A track unseen for more than ``max_age`` frames (:func:`track_age`) is not continued; its
    prediction moves for at most :data:`COAST` frames. Track ids count from 0 in order of
    appearance.

    A track that drops out of view in a frame where its predicted centre lies inside the box of a
    person seen in that frame (the box around their landmarks) is held as hidden behind that
    person, as long as its prediction stays inside their box: it takes only a detection that no
    track in view takes, so that the one detection the pose model returns for two people who
    overlap stays with the one in front, whichever of the two it is (unless it fits the hidden
    track at less than half the cost), and the one behind comes back to its track where it comes
    out. Two people who drop out of view in the same frame where one's predicted centre lies in the
    other's box (the pose model lost both where they overlap, as in a hug) are held there alike,
    still: neither's motion is known, and coasting on would carry one through the other and give
    it the other's next detection. The frames from the one where a track went behind someone until
    it is seen again are :meth:`hidden`."""

    def __init__(self, anchors: HandAnchors, max_age: int = 60, gate: float = 2.0, gate_growth: float = 0.1,
                 max_growth: float = 2.0) -> None:
        self.anchors, self.max_age, self.gate = anchors, max_age, gate
        self.gate_growth, self.max_growth = gate_growth, max_growth
        self._tracks: list[_Track] = []
        self._hidden: dict[int, list[int]] = {}
        self._t = -1

    def _measure(self, person: np.ndarray) -> tuple[np.ndarray, float]:
        shoulders = person[list(self.anchors.shoulders), :2]
        finite = np.isfinite(shoulders).all(axis=-1)
        centre = shoulders[finite].mean(axis=0) if finite.any() else np.nanmean(person[:, :2], axis=0)
        return centre, _size(person, self.anchors)

    def add(self, people: list[np.ndarray]) -> list[int]:
        """The track id of each person (a (J, D) array whose first two columns are pixels) of the
        next frame."""
        self._t += 1
        t = self._t
        alive = [k for k, track in enumerate(self._tracks) if t - track.last <= self.max_age]
        found = [self._measure(p) for p in people]
        cost = np.full((len(people), len(alive)), _FAR)
        for i, (centre, _) in enumerate(found):
            for j, k in enumerate(alive):
                track = self._tracks[k]
                d = np.linalg.norm(centre - track.predict(t)) / track.size
                unseen = self.gate_growth * (t - track.last - 1)
                if d < self.gate + min(unseen, self.max_growth):
                    cost[i, j] = d + min(unseen, self.max_growth) / 8
        pairs = self._match(cost, [self._tracks[k].hidden_by is None for k in alive])
        ids = []
        for i, (centre, size) in enumerate(found):
            if i in pairs:
                k = alive[pairs[i]]
                contact = int((cost[i] < _FAR).sum()) > 1
                self._tracks[k].update(t, centre, size, contact=contact)
            else:
                self._tracks.append(_Track(t, centre, size if np.isfinite(size) else 1.0))
                k = len(self._tracks) - 1
            self._tracks[k].box = _box(people[i])
            ids.append(k)
        self._hold_hidden(t, alive)
        return ids

    @staticmethod
    def _match(cost: np.ndarray, in_view: list[bool], clearly: float = 0.5) -> dict[int, int]:
        """Detection -> column of ``cost``: the tracks in view first, then the hidden ones take
        what is left. A detection that a hidden track fits at less than ``clearly`` x the cost of
        a track in view is withheld from that one (the pose model lost the one in front a moment,
        and the one held hidden was in front)."""
        cost = np.nan_to_num(cost, nan=_FAR)
        hidden = [j for j, v in enumerate(in_view) if not v]
        first = cost.copy()
        if hidden:
            best_hidden = cost[:, hidden].min(axis=1, keepdims=True)
            first[(best_hidden < clearly * cost) & (cost < _FAR)] = _FAR
        pairs: dict[int, int] = {}
        for stage, table in ((True, first), (False, cost)):
            cols = [j for j, v in enumerate(in_view) if v == stage]
            rows = [i for i in range(len(cost)) if i not in pairs]
            if cols and rows:
                sub = table[np.ix_(rows, cols)]
                pairs.update({rows[r]: cols[c] for r, c in best_matching(sub, gate=_FAR)})
        return pairs

    def _hold_hidden(self, t: int, alive: list[int]) -> None:
        """Mark each track of ``alive`` that drops out of view in frame ``t`` with its predicted
        centre inside the box of a person seen in ``t``, or of one who drops out in ``t`` too, as
        hidden behind that person (:meth:`_covering`; a frame with nobody seen is otherwise the
        pose model's miss, no evidence of one behind another); it stays hidden while its
        prediction is inside that person's box."""
        for k in alive:
            track = self._tracks[k]
            if track.last == t:
                track.hidden_by, track.went_behind = None, False
                continue
            where = track.predict(t + 1)
            if t == track.last + 1:
                track.hidden_by = self._covering(k, where, t)
                if track.hidden_by is not None and self._tracks[track.hidden_by].last != t:
                    track.velocity = np.zeros(2)  # lost together: neither's motion is known
            elif track.hidden_by is not None and not _inside(where, self._tracks[track.hidden_by].box):
                track.hidden_by = None
            # gone behind someone: behind them until seen again, although the prediction (which
            # stops after COAST frames) may leave their box
            track.went_behind = track.went_behind or track.hidden_by is not None
            if track.went_behind:
                self._hidden.setdefault(k, []).append(t)

    def _covering(self, k: int, where: np.ndarray, t: int) -> int | None:
        """The person whose box holds track ``k``'s predicted centre ``where`` as ``k`` drops out
        in frame ``t``: one seen in ``t``, else one who drops out in ``t`` too (two people whom the
        pose model loses at once where they overlap, as in a hug, are still there together)."""
        for last in (t, t - 1):
            for j, other in enumerate(self._tracks):
                if j != k and other.last == last and other.box is not None and _inside(where, other.box):
                    return j
        return None

    def hidden_now(self, k: int) -> bool:
        """Whether track ``k`` is unseen in the last frame added, behind another person."""
        track = self._tracks[k]
        return track.last != self._t and track.went_behind

    def hidden(self, k: int) -> list[int]:
        """The frames where track ``k`` was unseen after going behind another person."""
        return list(self._hidden.get(k, []))


_FAR = 1e9  # the cost of a pair outside the gate

#: frames over which an unseen track's predicted centre goes on moving
COAST = 15
#: frames of a track's detections over which its velocity is measured while in contact with another
CONTACT_RUN = 8


class _Track:
    """One person's shoulder centre, velocity (pixels a frame) and size, as last seen."""

    def __init__(self, t: int, centre: np.ndarray, size: float) -> None:
        self.last, self.centre, self.size = t, centre, max(size, 1.0)
        self.velocity = np.zeros(2)
        self.box: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1 of the last detection
        self.hidden_by: int | None = None  # the track this one is held hidden behind
        self.went_behind = False  # went behind someone since it was last seen
        self._seen: deque[tuple[int, np.ndarray]] = deque([(t, centre)], maxlen=2 * CONTACT_RUN)

    def predict(self, t: int) -> np.ndarray:
        return self.centre + self.velocity * min(t - self.last, COAST)

    def update(self, t: int, centre: np.ndarray, size: float, contact: bool) -> None:
        if np.isfinite(centre).all():
            self._seen.append((t, centre))
            if not contact:
                step = (centre - self.centre) / max(t - self.last, 1)
                self.velocity = 0.5 * self.velocity + 0.5 * step
            elif t - self._seen[0][0] >= CONTACT_RUN:
                # in contact a detection may mix the two people, so it never speeds a track up; but
                # over a run of frames the mean step says whether the person has stopped
                run = (centre - self._seen[0][1]) / (t - self._seen[0][0])
                if np.linalg.norm(run) < np.linalg.norm(self.velocity):
                    self.velocity = run
            self.centre = centre
        if np.isfinite(size) and size > 0:
            self.size = 0.8 * self.size + 0.2 * size
        self.last = t


def _box(person: np.ndarray) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) around the seen landmarks of a (J, D) person, None when none is seen."""
    xy = person[:, :2][np.isfinite(person[:, :2]).all(axis=-1)]
    return None if not len(xy) else (*xy.min(axis=0), *xy.max(axis=0))


def _inside(point: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    return bool(box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3])


def distinct_people(people: list[np.ndarray], anchors: HandAnchors, overlap: float = 0.25) -> list[np.ndarray]:
    """``people`` (each (J, D), pixels first) without repeats: a detection whose landmarks lie
    mostly (the median) within ``overlap`` x its size of an earlier one's is the same person seen
    twice, its arms guessed two ways (a pose model asked for two people can return one of two
    people in contact twice); so is one whose shoulder centre lies that near an earlier one's (two
    people cannot stand in one place: where one is right behind the other, only the one in front
    is seen, and the second detection is theirs, legs or arms guessed another way)."""
    kept: list[np.ndarray] = []
    for person in people:
        size = _size(person, anchors)
        if not any(_same_place(person, other, overlap * size, anchors) for other in kept):
            kept.append(person)
    return kept


def _same_place(person: np.ndarray, other: np.ndarray, tol: float, anchors: HandAnchors) -> bool:
    if np.nanmedian(np.linalg.norm(person[:, :2] - other[:, :2], axis=-1)) < tol:
        return True
    shoulders = list(anchors.shoulders)
    return bool(np.linalg.norm(person[shoulders, :2].mean(axis=0) - other[shoulders, :2].mean(axis=0)) < tol)


def _size(person: np.ndarray, anchors: HandAnchors) -> float:
    """How large one (J, D) person (pixels first) is, in pixels (:func:`~bharnet.video.crops.frame_scales`)."""
    return float(frame_scales(person[None], anchors)[0])


def fill_body_gaps(body: np.ndarray, max_gap: int) -> np.ndarray:
    """``body`` (T, J, 2) with each joint's runs of at most ``max_gap`` unseen frames between two
    seen ones filled linearly: where the pose model loses a wrist for a moment (a hand crossing
    another person, low visibility) the hand search still knows where to look."""
    body = body.copy()
    for j in range(body.shape[1]):
        idx = np.flatnonzero(np.isfinite(body[:, j]).all(axis=-1))
        for a, b in zip(idx[:-1], idx[1:], strict=True):
            if 1 < b - a <= max_gap + 1:
                w = (np.arange(a + 1, b) - a)[:, None] / (b - a)
                body[a + 1:b, j] = (1 - w) * body[a, j] + w * body[b, j]
    return body


def track_age(fps: float, seconds: float = 2.0) -> int:
    """Frames a person may go unseen (behind another, say) and still continue their track."""
    return max(1, round(seconds * (fps if fps and fps > 0 else 30.0)))


def tracks_of(frames: list[dict[int, np.ndarray]], shape: tuple[int, ...]) -> dict[int, np.ndarray]:
    """Per-frame ``{track id: (J, D) person}`` -> ``{track id: (T, J, D)}`` arrays, NaN where a
    track is not seen, in order of id."""
    ids = sorted({k for people in frames for k in people})
    tracks = {k: np.full((len(frames), *shape), np.nan) for k in ids}
    for t, people in enumerate(frames):
        for k, person in people.items():
            tracks[k][t] = person
    return tracks


def track_people(frames: list[list[np.ndarray]], anchors: HandAnchors, max_age: int = 60) -> list[np.ndarray]:
    """Link per-frame unordered people (each a (J, D) array whose first two columns are pixels) into
    tracks (T, J, D), NaN where a track is not seen (:class:`PeopleTracker`)."""
    return [track for track, _ in link_tracks(frames, anchors, max_age)]


def link_tracks(frames: list[list[np.ndarray]], anchors: HandAnchors, max_age: int = 60
                ) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`track_people`, each track with its (T,) bool mask of the frames where the person was
    out of sight behind another (:meth:`PeopleTracker.hidden`; see :func:`fill_hidden`)."""
    tracker = PeopleTracker(anchors, max_age)
    linked = [dict(zip(tracker.add(people), people, strict=True)) for people in frames]
    shape = next((p.shape for people in frames for p in people), None)
    if shape is None:
        return []
    out = []
    for k, track in tracks_of(linked, shape).items():
        hidden = np.zeros(len(frames), dtype=bool)
        hidden[tracker.hidden(k)] = True
        out.append((track, hidden))
    return exchange_tails(settle_crossings(out, anchors), anchors)


def settle_crossings(tracks: list[tuple[np.ndarray, np.ndarray]], anchors: HandAnchors
                     ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Whole-video repair of who was in front while one person passed another. While two people
    overlap, the pose model returns one detection, the front one's (mixed with the other's at the
    edges of the overlap), and frame by frame a mixture may send it to either track: the one
    behind is then followed in front. Over the video both are known before and after: where track
    ``j`` is unseen between two frames at which it is within :data:`MEETING` sizes of track ``i``,
    and ``i`` is seen in between, each is placed on the line between where it was before and after,
    and the person in front is the one whose line the detections in between follow in most frames
    where the two lines lie half a size or more apart (the one in front stays in front through one
    crossing). If that is ``j``, the detections move to ``j``, but for those nearer ``i``'s line
    where the lines are apart (the one behind showing beside the one in front) and those more
    than half a size from both (mixtures of the two, dropped), and ``i`` is out of sight behind
    ``j`` over the frames it is then unseen (:func:`fill_hidden` places it on its line).

    ``tracks``: (``(T, J, D)`` track, ``(T,)`` hidden mask) pairs; returned the same way."""
    tracks = [(track.copy(), hidden.copy()) for track, hidden in tracks]
    for j, (track_j, hidden_j) in enumerate(tracks):
        seen_j = np.flatnonzero(seen_frames(track_j, anchors))
        for before, after in zip(seen_j[:-1], seen_j[1:], strict=True):
            if after - before < 3:
                continue
            for i, (track_i, hidden_i) in enumerate(tracks):
                decided = _front_detections(track_j, track_i, before, after, anchors) if i != j else None
                if decided is not None:
                    moved, mixed = decided
                    track_j[moved], track_i[moved] = track_i[moved], np.nan
                    track_i[mixed] = np.nan
                    hidden_j[moved] = False
                    hidden_i[before + 1:after] |= ~seen_frames(track_i, anchors)[before + 1:after]
                    break
    return tracks


def _front_detections(track_j: np.ndarray, track_i: np.ndarray, before: int, after: int, anchors: HandAnchors
                      ) -> tuple[np.ndarray, np.ndarray] | None:
    """Where ``track_j`` was in front of ``track_i`` between frames ``before`` and ``after``
    (:func:`settle_crossings`): the frames whose detections on ``i`` are ``j``'s and those that
    mix the two; None where ``i`` was in front, or the two did not cross there."""
    seen_i = np.flatnonzero(seen_frames(track_i, anchors))
    inside = seen_i[(seen_i > before) & (seen_i < after)]
    first, last = seen_i[seen_i <= before], seen_i[seen_i >= after]
    if len(inside) < 3 or not len(first) or not len(last):
        return None
    centres_i, centres_j = shoulder_centres(track_i, anchors), shoulder_centres(track_j, anchors)
    size = _size(track_j[before], anchors)
    ends_i, ends_j = (first[-1], last[0]), (before, after)
    if any(np.linalg.norm(centres_i[a] - centres_j[b]) > MEETING * size for a, b in zip(ends_i, ends_j, strict=True)):
        return None
    line_i, line_j = (_line(centres, *ends, inside) for centres, ends in ((centres_i, ends_i), (centres_j, ends_j)))
    apart = np.linalg.norm(line_i - line_j, axis=-1) >= 0.5 * size
    off_i = np.linalg.norm(centres_i[inside] - line_i, axis=-1)
    off_j = np.linalg.norm(centres_i[inside] - line_j, axis=-1)
    if apart.sum() < 3 or (off_j < off_i)[apart].mean() <= 0.5:
        return None
    beside = apart & (off_i < off_j)
    mixed = ~beside & (off_j > 0.5 * size)
    return inside[~beside & ~mixed], inside[mixed]


def _line(centres: np.ndarray, a: int, b: int, frames: np.ndarray) -> np.ndarray:
    """Points at ``frames`` on the line from ``centres[a]`` (frame ``a``) to ``centres[b]`` (frame ``b``)."""
    w = ((frames - a) / (b - a))[:, None]
    return (1 - w) * centres[a] + w * centres[b]


def exchange_tails(tracks: list[tuple[np.ndarray, np.ndarray]], anchors: HandAnchors
                   ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Whole-video repair of the one swap a frame-by-frame tracker cannot see coming: two people
    meet, the pose model returns one detection mixing the two, then none, and one of them is never
    seen again (the one behind). Which of the two tracks the person still in view continues is
    decided at the meeting on a few pixels; over the video it is plain from their motion before
    it. Where track ``j`` ends for good beside track ``i`` (within :data:`MEETING` sizes) and ``i``'s
    detections after that lie far from where ``i``'s own motion before the meeting takes it
    (median over the next :data:`AFTER` detections, more than half a size) and at less than half
    that distance from where ``j``'s takes it, those detections are ``j``'s: they move to ``j``,
    and ``i`` is out of sight behind ``j`` from then on. "Where a motion takes it" lets the person
    slow down or stop on the way (:func:`_path_distance`): one who walks up to another stops there.

    ``tracks``: (``(T, J, D)`` track, ``(T,)`` hidden mask) pairs; returned the same way."""
    tracks = [(track.copy(), hidden.copy()) for track, hidden in tracks]
    for j, (track_j, hidden_j) in enumerate(tracks):
        seen_j = seen_frames(track_j, anchors)
        if not seen_j.any():
            continue
        end = int(np.flatnonzero(seen_j)[-1])
        for i, (track_i, hidden_i) in enumerate(tracks):
            if i != j and _takes_over(track_i, track_j, end, anchors):
                tail = slice(end + 1, None)
                track_j[tail], track_i[tail] = track_i[tail], np.nan
                hidden_j[tail] &= ~seen_frames(track_j, anchors)[tail]
                hidden_i[tail] = True
                break
    return tracks


#: how near (in sizes) two people are when one of them is last seen, to count as meeting there
MEETING = 2.0
#: detections after the meeting over which the two motions are compared
AFTER = 10


def seen_frames(track: np.ndarray, anchors: HandAnchors) -> np.ndarray:
    """(T,) bool: the frames of a (T, J, D) track (pixels first) where both shoulders are seen."""
    return np.isfinite(track[:, list(anchors.shoulders), 0]).all(axis=1)


def shoulder_centres(track: np.ndarray, anchors: HandAnchors) -> np.ndarray:
    """(T, 2): the midpoint of the shoulders of a (T, J, D) track (pixels first) in each frame, NaN
    where either is unseen: where the person is."""
    return track[:, list(anchors.shoulders), :2].mean(axis=1)


def _motion_before(track: np.ndarray, t: int, anchors: HandAnchors, frames: int = CONTACT_RUN
                   ) -> tuple[np.ndarray, np.ndarray, float] | None:
    """(centre, velocity a frame, size) of ``track`` from its last ``frames`` detections before frame ``t``."""
    seen = np.flatnonzero(seen_frames(track[:t], anchors))[-frames:]
    if len(seen) < 2:
        return None
    centres = shoulder_centres(track, anchors)
    velocity = (centres[seen[-1]] - centres[seen[0]]) / (seen[-1] - seen[0])
    return centres[seen[-1]] + velocity * (t - seen[-1]), velocity, body_scale(track[seen, :, :2], anchors)


def _path_distance(point: np.ndarray, start: np.ndarray, velocity: np.ndarray, frames: int) -> float:
    """Distance from ``point`` to the way from ``start`` on at ``velocity`` for up to ``frames``
    frames (at most :data:`COAST`): anywhere on it, the person having slowed or stopped."""
    step = velocity * min(frames, COAST)
    length2 = float(step @ step)
    along = float(np.clip((point - start) @ step / length2, 0.0, 1.0)) if length2 > 0 else 0.0
    return float(np.linalg.norm(point - (start + along * step)))


def _takes_over(track_i: np.ndarray, track_j: np.ndarray, end: int, anchors: HandAnchors) -> bool:
    """Whether ``track_i``'s detections after ``end``, where ``track_j`` is last seen, are ``j``'s
    (:func:`exchange_tails`)."""
    after = np.flatnonzero(seen_frames(track_i, anchors)[end + 1:])[:AFTER] + end + 1
    meeting = _meeting(track_i, track_j, end, anchors)
    if len(after) < 3 or meeting is None:
        return False
    own, other = _motion_before(track_i, meeting, anchors), _motion_before(track_j, meeting, anchors)
    if own is None or other is None:
        return False
    centres = shoulder_centres(track_i, anchors)
    miss_own = np.median([_path_distance(centres[t], own[0], own[1], t - meeting) for t in after])
    miss_other = np.median([_path_distance(centres[t], other[0], other[1], t - meeting) for t in after])
    return bool(miss_own > 0.5 * own[2] and miss_other < 0.5 * miss_own)


def _meeting(track_i: np.ndarray, track_j: np.ndarray, end: int, anchors: HandAnchors) -> int | None:
    """The frame where the approach that ends with ``track_j`` last seen (frame ``end``) began: of the
    frames up to ``end`` where both are seen, the first of the last run where they are within
    :data:`MEETING` sizes of each other; None when they are not that near at the last of them."""
    both = np.flatnonzero(seen_frames(track_i, anchors)[:end + 1] & seen_frames(track_j, anchors)[:end + 1])
    if not len(both):
        return None
    apart = np.linalg.norm(shoulder_centres(track_i, anchors)[both] - shoulder_centres(track_j, anchors)[both], axis=-1)
    close = apart < MEETING * _size(track_j[end], anchors)
    if not close[-1]:
        return None
    far = np.flatnonzero(~close)
    return int(both[far[-1] + 1] if len(far) else both[0])


#: detections at each end of a hidden run whose median pose places the person there: the last one
#: before they go behind another (and the first after they come out) is often a mixture, an arm of
#: the person in front taken for theirs at the overlap's edge
EDGE_DETECTIONS = 5


def fill_hidden(track: np.ndarray, hidden: np.ndarray, anchors: HandAnchors) -> np.ndarray:
    """``track`` (T, J, 2) with each run of unseen frames that lies between two seen frames and is
    ``hidden`` ((T,) bool) all along filled linearly between the person's pose going in and coming
    out (:class:`_EdgePoses`; NaN where either is): a person behind another goes on between where
    they went in and where they came out, and their hands are looked for there, however long they
    were hidden (the pose model sees only the one in front). A person who never comes out is left
    to :func:`hold_hidden`."""
    return _filled(track, hidden, _EdgePoses(track, anchors))


def _filled(track: np.ndarray, hidden: np.ndarray, poses: _EdgePoses) -> np.ndarray:
    track = track.copy()
    seen = np.flatnonzero(np.isfinite(track.reshape(len(track), -1)).any(axis=1))
    for a, b in itertools.pairwise(seen):
        if b - a > 1 and hidden[a + 1:b].all():
            w = ((np.arange(a + 1, b) - a) / (b - a))[:, None, None]
            track[a + 1:b] = (1 - w) * poses.at(a) + w * poses.at(b, after=True)
    return track


def place_hidden(track: np.ndarray, hidden: np.ndarray, anchors: HandAnchors) -> np.ndarray:
    """``track`` (T, J, 2) with the person placed where they are out of sight behind another
    (``hidden``, (T,) bool): between where they went in and came out (:func:`fill_hidden`), and
    held where last seen when they stay there to the end (:func:`hold_hidden`), each from the poses
    of the detections as given (:class:`_EdgePoses`), not from frames placed by the other."""
    poses = _EdgePoses(track, anchors)
    return _held(_filled(track, hidden, poses), hidden, poses)


def hold_hidden(track: np.ndarray, hidden: np.ndarray, anchors: HandAnchors) -> np.ndarray:
    """``track`` (T, J, 2) with each value still unseen in the ``hidden`` frames ((T,) bool) held at
    the pose the person was last seen in (:class:`_EdgePoses`), or where that value was last seen
    when the pose has none: a person who goes behind another and stays there to the end (two
    people in contact: the pose model, seeing one body where two overlap, may never see the one
    behind again while their hands stay in plain view) most often stands where they stood."""
    return _held(track, hidden, _EdgePoses(track, anchors))


def _held(track: np.ndarray, hidden: np.ndarray, poses: _EdgePoses) -> np.ndarray:
    track = track.copy()
    last = np.full(track.shape[1:], np.nan)  # each value where it was last seen
    held, held_from, seen_last = last, -1, -1
    for t in range(len(track)):
        seen = np.isfinite(track[t])
        if hidden[t] and seen_last >= 0 and not seen.all():
            if held_from != seen_last:
                pose = poses.at(seen_last)
                held, held_from = np.where(np.isfinite(pose), pose, last), seen_last
            track[t][~seen] = held[~seen]
        elif seen.any():
            seen_last = t
        last = np.where(seen, track[t], last)
    return track


class _EdgePoses:
    """The poses of a (T, J, 2) track where the person goes out of sight or comes back, from its
    detections as given (not from frames filled since)."""

    def __init__(self, track: np.ndarray, anchors: HandAnchors) -> None:
        self.track, self.centres = track, shoulder_centres(track, anchors)
        self.with_shoulders = np.flatnonzero(seen_frames(track, anchors))

    def at(self, frame: int, after: bool = False) -> np.ndarray:
        """(J, 2): the pose in ``frame``, where the person goes out of sight after it (or, ``after``,
        comes back into sight): the shoulder centre there, each joint at its median offset from
        the shoulder centre over the :data:`EDGE_DETECTIONS` frames with both shoulders seen up to
        ``frame`` (from ``frame`` on), NaN where it is seen in none; the frame as it is when its
        shoulders are not seen. One mixed detection among them moves no joint."""
        if not np.isfinite(self.centres[frame]).all():
            return self.track[frame]
        frames = self.with_shoulders
        frames = frames[frames >= frame][:EDGE_DETECTIONS] if after else frames[frames <= frame][-EDGE_DETECTIONS:]
        with warnings.catch_warnings():  # a joint unseen in all of them is NaN, as meant
            warnings.simplefilter("ignore", RuntimeWarning)
            offsets = self.track[frames] - self.centres[frames, None]
            return self.centres[frame] + np.nanmedian(offsets, axis=0)


def continuity_swaps(centres: np.ndarray, present: np.ndarray, sizes: np.ndarray | None = None, ratio: float = 0.5,
                     max_age: int = 15) -> np.ndarray:
    """Decide per frame whether the two hand slots should be swapped so that each slot follows one
    hand ("sort"). ``centres`` (T, 2, 2), ``present`` (T, 2) after the body-based assignment.

    A frame is swapped when the other slot's last position explains it better by a clear margin
    (swapped cost < ``ratio`` x kept cost); positions older than ``max_age`` frames do not count.
    A lone hand whose own slot has no recent position moves to the other slot when it lies within
    one hand size (``sizes`` (T, 2), pixels) a frame since of that slot's last position: it is the
    hand last seen there, which a hand can reach at that speed (one hand in view at a time keeps
    its slot; the handedness score that put it in the other flips on a hand seen edge-on).
    Returns ``swap`` (T,) bool. The swaps are decided sequentially, so later frames see corrected slots.
    """
    T = len(centres)
    swap = np.zeros(T, dtype=bool)
    last = [None, None]  # (frame, centre)

    def recent(side: int, t: int) -> np.ndarray | None:
        entry = last[side]
        return entry[1] if entry is not None and t - entry[0] <= max_age else None

    for t in range(T):
        c, p = centres[t], present[t]
        l0, l1 = recent(0, t), recent(1, t)
        if l0 is not None and l1 is not None:
            if p[0] and p[1]:
                keep = np.linalg.norm(c[0] - l0) + np.linalg.norm(c[1] - l1)
                cross = np.linalg.norm(c[0] - l1) + np.linalg.norm(c[1] - l0)
                swap[t] = cross < ratio * keep
            elif p[0] or p[1]:
                s = 0 if p[0] else 1
                own, other = (l0, l1) if s == 0 else (l1, l0)
                swap[t] = np.linalg.norm(c[s] - other) < ratio * np.linalg.norm(c[s] - own)
        elif sizes is not None and p[0] != p[1] and (l0 is None) != (l1 is None):
            s = 0 if p[0] else 1
            other = l1 if s == 0 else l0
            since = t - last[1 - s][0] if other is not None else 0
            swap[t] = other is not None and np.linalg.norm(c[s] - other) < sizes[t, s] * since
        for s in (0, 1):
            src = 1 - s if swap[t] else s
            if p[src]:
                last[s] = (t, c[src])
    return swap


def lone_hand_sides(present: np.ndarray, swapped: np.ndarray, score: np.ndarray, max_age: int = 15) -> np.ndarray:
    """Where no body names the sides: each lone hand followed through the video (a run of one slot's
    frames, ``present`` (T, 2) after :func:`continuity_swaps`, no gap longer than ``max_age``, the
    other slot empty all the while) takes the side the handedness classifier gives it in most of
    its frames, weighted by ``score`` (T, 2), rather than the one of its first frame (``swapped``
    (T,): where continuity moved a hand from the slot its handedness gave it). Two runs of one hand
    either side of a long gap so land in one slot. Returns (T,) bool: where to exchange the slots."""
    flip = np.zeros(len(present), dtype=bool)
    for s in (0, 1):
        idx = np.flatnonzero(present[:, s])
        if not len(idx):
            continue
        breaks = np.flatnonzero(np.diff(idx) > max_age + 1)
        for run in np.split(idx, breaks + 1):
            first, last = run[0], run[-1]
            vote = float(np.sum(np.where(swapped[run], -1.0, 1.0) * score[run, s]))
            if vote < 0 and not present[first:last + 1, 1 - s].any():
                flip[first:last + 1] = True
    return flip


def apply_swaps(swap: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    """Exchange the hand axis (axis 1) of each array at the frames where ``swap`` is true."""
    out = []
    for a in arrays:
        a = a.copy()
        a[swap] = a[swap][:, ::-1]
        out.append(a)
    return out


def interpolate_gaps(values: np.ndarray, present: np.ndarray, max_gap: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Fill runs of at most ``max_gap`` missing frames between two present frames, per hand, by
    linear interpolation; longer gaps and gaps at either end stay missing.

    ``values`` (T, 2, ...) float, ``present`` (T, 2) bool. Returns (filled values, filled mask (T, 2)).
    """
    values = values.copy()
    filled = np.zeros_like(present, dtype=bool)
    for s in range(present.shape[1]):
        idx = np.flatnonzero(present[:, s])
        for a, b in zip(idx[:-1], idx[1:], strict=True):
            gap = b - a - 1
            if 0 < gap <= max_gap:
                w = (np.arange(1, gap + 1) / (gap + 1)).reshape(-1, *([1] * (values.ndim - 2)))
                values[a + 1:b, s] = (1 - w) * values[a, s] + w * values[b, s]
                filled[a + 1:b, s] = True
    return values, filled
