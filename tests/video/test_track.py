import numpy as np

from bharnet.video.crops import BODY_ANCHORS
from bharnet.video.people import lasting_tracks
from bharnet.video.track import (
    PeopleTracker,
    apply_swaps,
    assign_sides,
    best_matching,
    continuity_swaps,
    distinct_people,
    exchange_tails,
    fill_body_gaps,
    fill_hidden,
    hold_hidden,
    interpolate_gaps,
    link_tracks,
    lone_hand_sides,
    most_active,
    place_hidden,
    settle_crossings,
    track_people,
)

NTU = BODY_ANCHORS["ntu25"]


def test_best_matching_prefers_more_pairs_then_lower_cost():
    cost = np.array([[1.0, 2.0], [1.5, 9.0]])
    assert sorted(best_matching(cost)) == [(0, 1), (1, 0)]
    assert best_matching(cost, gate=1.2) == [(0, 0)]


def test_assign_sides_by_nearest_body_wrist():
    body = np.array([[100.0, 100.0], [300.0, 100.0]])  # left, right wrist
    hands = np.array([[290.0, 110.0], [95.0, 90.0]])
    assert assign_sides(hands, body, gate=50) == {0: 1, 1: 0}
    # a hand far from both wrists is not assigned; a NaN wrist takes nothing
    assert assign_sides(np.array([[700.0, 700.0]]), body, gate=50) == {}
    assert assign_sides(hands, np.array([[np.nan, np.nan], [300.0, 100.0]]), gate=50) == {0: 1}


def _two_hands(T: int = 20) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(T, dtype=float)
    centres = np.stack([np.stack([100 + 2 * t, 200 + 0 * t], -1), np.stack([400 - 2 * t, 210 + 0 * t], -1)], 1)
    return centres, np.ones((T, 2), dtype=bool)


def test_swapped_detections_are_reassigned_by_continuity():
    centres, present = _two_hands()
    swapped = centres.copy()
    swapped[[7, 12]] = swapped[[7, 12]][:, ::-1]  # the body-based assignment got two frames wrong
    swap = continuity_swaps(swapped, present)
    assert np.flatnonzero(swap).tolist() == [7, 12]
    (fixed,) = apply_swaps(swap, swapped)
    np.testing.assert_allclose(fixed, centres)


def test_lone_hand_follows_its_track():
    centres, present = _two_hands()
    present[10:, 1] = False
    centres[10] = centres[10][::-1]  # the left hand alone, put in the right slot
    present[10] = [False, True]
    swap = continuity_swaps(centres, present)
    assert swap[10] and swap.sum() == 1


def test_label_flip_without_history_joins_the_existing_track():
    T = 10
    centres = np.zeros((T, 2, 2))
    centres[:, 0] = centres[:, 1] = np.stack([np.arange(T) * 3.0, np.full(T, 50.0)], -1)
    present = np.zeros((T, 2), dtype=bool)
    present[:5, 0] = True
    present[5:, 1] = True  # the same hand, labelled the other way from frame 5 on
    sizes = np.full((T, 2), 40.0)
    swap = continuity_swaps(centres, present, sizes)
    assert swap[5:].all() and not swap[:5].any()


def test_interpolation_fills_short_gaps_only():
    T = 30
    values = np.zeros((T, 2, 3))
    values[:, 0, 0] = np.arange(T)
    present = np.ones((T, 2), dtype=bool)
    present[5:8, 0] = False  # 3 frames: filled
    present[12:20, 0] = False  # 8 frames: stays missing
    present[:3, 1] = False  # at the start: stays missing
    values[~present] = -1
    out, filled = interpolate_gaps(values, present, max_gap=5)
    assert filled[5:8, 0].all() and filled.sum() == 3
    np.testing.assert_allclose(out[5:8, 0, 0], [5, 6, 7])
    assert (out[12:20, 0] == -1).all() and (out[:3, 1] == -1).all()


def _body(T: int, x: float, wrist_motion: float, rng: np.random.Generator) -> np.ndarray:
    body = np.zeros((T, 25, 2))
    body[:] = rng.uniform(0, 10, (25, 2)) + [x, 500]
    body[:, 4] = [x - 40, 400]
    body[:, 8] = [x + 40, 400]  # shoulders 80 px apart
    body[:, NTU.wrist[0]] += rng.normal(0, wrist_motion, (T, 2))
    body[:, NTU.wrist[1]] += rng.normal(0, wrist_motion, (T, 2))
    return body


def test_most_active_person_is_the_one_whose_wrists_move():
    rng = np.random.default_rng(1)
    calm, busy = _body(40, 300, 0.5, rng), _body(40, 1200, 15, rng)
    assert most_active([calm, busy], NTU) == 1
    # a bigger (nearer) calm person does not win by size
    big_calm = calm * 3
    assert most_active([big_calm, busy], NTU) == 1


def test_track_people_links_unordered_detections():
    rng = np.random.default_rng(2)
    a, b = _body(6, 300, 1, rng), _body(6, 1200, 1, rng)
    frames = [[a[t], b[t]] if t % 2 else [b[t], a[t]] for t in range(6)]
    frames[3] = [b[3]]  # a unseen in one frame
    tracks = track_people(frames, NTU)
    assert len(tracks) == 2
    first = 0 if np.allclose(tracks[0][0], b[0]) else 1
    np.testing.assert_allclose(tracks[first][[0, 1, 2, 4, 5]], b[[0, 1, 2, 4, 5]])
    assert np.isnan(tracks[1 - first][3]).all()


def _walker(T: int, x0: float, vx: float, rng: np.random.Generator) -> np.ndarray:
    """(T, 25, 2) a person whose shoulders (80 px apart) move ``vx`` pixels a frame."""
    body = _body(T, 0, 1, rng)
    body[..., 0] += x0 + vx * np.arange(T)[:, None]
    return body


def _ids_per_person(frames: list[list[np.ndarray]], owners: list[list[str]]) -> dict[str, set[int]]:
    tracker = PeopleTracker(NTU)
    ids: dict[str, set[int]] = {}
    for people, who in zip(frames, owners, strict=True):
        for k, name in zip(tracker.add(people), who, strict=True):
            ids.setdefault(name, set()).add(k)
    return ids


def test_people_crossing_keep_their_tracks_through_contact():
    # a walks across b, who stands still; while they overlap only the one in front (a) is seen
    rng = np.random.default_rng(3)
    T = 60
    a, b = _walker(T, 100, 8, rng), _walker(T, 340, 0, rng)
    frames, owners = [], []
    for t in range(T):
        apart = abs(a[t, 4, 0] - b[t, 4, 0]) > 100
        frames.append([b[t], a[t]] if apart else [a[t]])
        owners.append(["b", "a"] if apart else ["a"])
    ids = _ids_per_person(frames, owners)
    assert len(ids["a"]) == 1 and len(ids["b"]) == 1 and ids["a"] != ids["b"]


def _walks_up_and_stops(seed: int, T: int, speed: float, stop: int, every: int
                        ) -> tuple[list[list[np.ndarray]], list[list[str]]]:
    """a walks at ``speed`` up to b (standing at x = 400) and stops at frame ``stop``; from then on
    the pose model sees a alone, every ``every`` frames, and nobody between."""
    rng = np.random.default_rng(seed)
    a = _walker(T, 100, speed, rng)
    a[stop:, :, 0] = a[stop - 1:stop, :, 0]
    b = _walker(T, 400, 0, rng)
    frames, owners = [], []
    for t in range(T):
        if t < stop:
            frames.append([a[t], b[t]]), owners.append(["a", "b"])
        elif t % every == 0:
            frames.append([a[t]]), owners.append(["a"])
        else:
            frames.append([]), owners.append([])
    return frames, owners


def test_a_person_who_walks_up_to_another_and_stops_keeps_their_track():
    # a stops 60 px from b; while they stand in contact the pose model sees a now and then, and b
    # not at all (behind a); a's track must learn that a stopped, so that a seen again is a, not b
    ids = _ids_per_person(*_walks_up_and_stops(7, T=90, speed=10, stop=20, every=12))
    assert len(ids["a"]) == 1 and len(ids["b"]) == 1 and ids["a"] != ids["b"]


def test_two_people_lost_at_once_where_they_overlap_stay_there_together():
    # a walks fast up to b, stops 12 px from them; the pose model then loses both at once (one blob)
    # and sees a now and then where a stands; a's track must not coast on through b
    frames, owners = _walks_up_and_stops(8, T=80, speed=12, stop=25, every=14)
    ids = _ids_per_person(frames, owners)
    assert len(ids["a"]) == 1 and len(ids["b"]) == 1 and ids["a"] != ids["b"]
    held = {k: h for k, (_, h) in enumerate(link_tracks(frames, NTU))}
    assert held[next(iter(ids["b"]))][25:].all()  # b is held there, out of view, to the end


def _meeting_with_a_mixed_detection(stop_at: float) -> tuple[list[list[np.ndarray]], np.ndarray, np.ndarray]:
    """a walks at 12 px a frame from x = 700 towards b (standing at x = 400) and stops at ``stop_at``
    (reached at frame 20); as they meet the pose model sees b alone (frame 19), then b and one
    detection mixing the two 44 px from b (20), then one nearer b (21), nobody (22-23), and from 24
    on a alone, b behind a, to the end."""
    rng = np.random.default_rng(9)
    T = 50
    a, b = _walker(T, 700, -12, rng), _walker(T, 400, 0, rng)
    a[..., 0] = np.maximum(a[..., 0], a[..., 0] - a[:, [4, 8], 0].mean(axis=1, keepdims=True) + stop_at)

    def at(x: float) -> np.ndarray:
        return b[0] + [x - 400, 0]

    frames = [[a[t], b[t]] for t in range(19)] + [[b[19]], [b[20], at(444)], [at(415)], [], []]
    frames += [[a[t]] for t in range(24, T)]
    return frames, a, b


def test_a_person_who_walks_up_to_another_keeps_their_detections_after_the_meeting():
    # frame by frame, b's track takes a's detections after the meeting (a, predicted on at 12 px a
    # frame, went behind b); over the whole video they are a's: b's motion does not take b to
    # where they are, a's (slowing to a stop) does
    frames, a, _ = _meeting_with_a_mixed_detection(stop_at=454)
    tracker = PeopleTracker(NTU)
    ids = [tracker.add(people) for people in frames]
    assert ids[24] == [ids[0][1]]  # frame by frame, a seen after the meeting goes to b's track
    tracks = link_tracks(frames, NTU)
    walker = next(k for k, (track, _) in enumerate(tracks) if np.allclose(track[0], a[0]))
    track, hidden = tracks[walker]
    np.testing.assert_allclose(track[24:], a[24:])
    assert not hidden[24:].any()
    stander, behind = tracks[1 - walker]
    assert np.isnan(stander[22:]).all() and behind[22:].all()  # b, out of sight behind a from then on


def test_detections_that_the_tracks_own_motion_explains_stay_with_it():
    # the same meeting, the mixed detection of frame 21 nearer a: frame by frame a's track keeps a,
    # and b, never seen again, ends; a's motion takes a where a is seen after: nothing moves
    frames, a, _ = _meeting_with_a_mixed_detection(stop_at=454)
    frames[21] = [a[20]]
    linked = link_tracks(frames, NTU)
    walker = next(k for k, (track, _) in enumerate(linked) if np.allclose(track[0], a[0]))
    np.testing.assert_allclose(linked[walker][0][24:], a[24:])
    untouched = exchange_tails(linked, NTU)
    for (track, hidden), (before, hidden_before) in zip(untouched, linked, strict=True):
        np.testing.assert_array_equal(track, before)
        np.testing.assert_array_equal(hidden, hidden_before)


def _crossing_as_linked(front: str) -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """a walks at 8 px a frame from x = 700 past b (standing at x = 400); while they overlap (frames
    30-45) only the one in ``front`` is seen, and a frame-by-frame linking gave that detection to
    a's track, b's held hidden: ``(a, b, [(a's track, hidden), (b's track, hidden)])``."""
    rng = np.random.default_rng(11)
    T = 80
    a, b = _walker(T, 700, -8, rng), _walker(T, 400, 0, rng)
    overlap = np.zeros(T, dtype=bool)
    overlap[30:46] = True
    track_a, track_b = a.copy(), b.copy()
    track_a[overlap] = (a if front == "a" else b)[overlap]
    track_b[overlap] = np.nan
    return a, b, [(track_a, np.zeros(T, dtype=bool)), (track_b, overlap.copy())]


def test_the_person_in_front_through_a_crossing_is_the_one_whose_path_the_detections_follow():
    # b stood in front: the detections between follow b's line (b still), not a's (700 -> 200)
    a, b, linked = _crossing_as_linked(front="b")
    (track_a, hidden_a), (track_b, hidden_b) = settle_crossings(linked, NTU)
    np.testing.assert_allclose(track_b[30:46], b[30:46])
    assert not hidden_b[30:46].any()
    assert np.isnan(track_a[30:46]).all() and hidden_a[30:46].all()  # a out of sight behind b
    np.testing.assert_allclose(track_a[46:], a[46:])


def test_a_crossing_already_linked_right_is_left_alone():
    _, _, linked = _crossing_as_linked(front="a")
    for (track, hidden), (before, hidden_before) in zip(settle_crossings(linked, NTU), linked, strict=True):
        np.testing.assert_array_equal(track, before)
        np.testing.assert_array_equal(hidden, hidden_before)


def test_a_person_hidden_for_a_second_comes_back_to_their_track():
    rng = np.random.default_rng(4)
    T = 70
    a, b = _walker(T, 100, 3, rng), _walker(T, 900, 0, rng)
    frames = [[a[t], b[t]] if not 20 <= t < 50 else [b[t]] for t in range(T)]
    owners = [["a", "b"] if not 20 <= t < 50 else ["b"] for t in range(T)]
    ids = _ids_per_person(frames, owners)
    assert len(ids["a"]) == 1 and len(ids["b"]) == 1


def test_a_person_detected_twice_counts_once():
    rng = np.random.default_rng(5)
    a, b = _body(1, 300, 1, rng)[0], _body(1, 900, 1, rng)[0]
    twice = a.copy()
    twice[[5, 6, 7]] += 30  # the same person, one arm guessed elsewhere
    kept = distinct_people([a, twice, b], NTU)
    assert len(kept) == 2 and kept[0] is a and kept[1] is b


def test_short_gaps_of_a_joint_are_filled_long_ones_kept():
    body = np.zeros((20, 2, 2))
    body[:, 0, 0] = np.arange(20)
    body[5:8, 0] = np.nan  # 3 frames: filled
    body[10:19, 1] = np.nan  # 9 frames: kept
    filled = fill_body_gaps(body, max_gap=5)
    np.testing.assert_allclose(filled[5:8, 0, 0], [5, 6, 7])
    assert np.isnan(filled[10:19, 1]).all()


def test_a_person_passing_behind_another_keeps_their_track_and_is_placed_between():
    # a walks behind b, who stands still; while they overlap the pose model returns only b, whose
    # detection a's track must not take; a comes back to their own track on b's other side
    rng = np.random.default_rng(6)
    T = 60
    a, b = _walker(T, 100, 8, rng), _walker(T, 340, 0, rng)
    hidden = np.abs(a[:, 4, 0] - b[:, 4, 0]) <= 40  # a within b's outline
    frames = [[b[t]] if hidden[t] else [a[t], b[t]] for t in range(T)]
    owners = [["b"] if hidden[t] else ["a", "b"] for t in range(T)]
    ids = _ids_per_person(frames, owners)
    assert len(ids["a"]) == 1 and len(ids["b"]) == 1 and ids["a"] != ids["b"]
    # over the frames a was hidden, a's track goes on between where a went in and came out
    track_a, held = next((tr, h) for tr, h in link_tracks(frames, NTU) if np.allclose(tr[0], a[0]))
    assert held[hidden].all() and not held[~hidden].any()
    assert np.isnan(track_a[hidden]).all()  # the track itself says where a was seen
    shoulder = fill_hidden(track_a, held, NTU)[hidden, 4, 0]
    tracker = PeopleTracker(NTU)  # frame by frame, a stream knows it while it lasts
    ids = [tracker.add(people) for people in frames[:int(np.flatnonzero(hidden)[0]) + 1]]
    assert tracker.hidden_now(ids[0][0]) and not tracker.hidden_now(ids[-1][0])
    assert np.isfinite(shoulder).all() and (np.diff(shoulder) > 0).all()
    np.testing.assert_allclose(shoulder, a[hidden, 4, 0], atol=1e-6)


def test_another_person_out_of_sight_is_held_where_last_seen():
    rng = np.random.default_rng(11)
    body = _walker(8, 300, 2, rng)
    track = body.copy()
    track[3:6] = np.nan  # behind another person, then seen once more, then behind to the end
    track[7] = np.nan
    track[2, NTU.wrist[1]] = np.nan  # the right wrist unseen in the last frame before
    hidden = np.array([False, False, False, True, True, True, False, True])
    held = hold_hidden(track, hidden, NTU)
    # the shoulders where last seen, each joint at its place on the body then
    np.testing.assert_allclose(held[3:6, 4], np.repeat(body[2:3, 4], 3, axis=0))
    assert np.isfinite(held[3:6]).all()  # the right wrist from the frames before
    np.testing.assert_allclose(held[7, 4], body[6, 4])  # hidden to the end: held where last seen
    np.testing.assert_array_equal(held[~hidden], track[~hidden])  # frames not hidden: as seen
    # a joint unseen in some of the frames the pose is taken over keeps its place on the body; one
    # unseen in all of them is held where it was last seen
    left = NTU.wrist[0]
    track[1:3, left] = np.nan
    np.testing.assert_allclose(hold_hidden(track, hidden, NTU)[3, left], body[0, left] + body[2, 4] - body[0, 4])
    long = _walker(10, 300, 2, rng)
    long[8:] = np.nan
    long[2:8, left] = np.nan
    held = hold_hidden(long, np.arange(10) >= 8, NTU)
    np.testing.assert_allclose(held[8:, left], long[[1, 1], left])


def test_a_detection_without_shoulders_ends_a_hidden_run_as_it_is():
    rng = np.random.default_rng(13)
    a = _walker(12, 100, 4, rng)
    track = a.copy()
    track[3:8] = np.nan
    track[5, 9:] = a[5, 9:]  # seen a moment behind the other person, shoulders hidden
    track[5, [4, 8]] = np.nan
    hidden = np.zeros(12, dtype=bool)
    hidden[[3, 4, 6, 7]] = True
    filled = fill_hidden(track, hidden, NTU)
    np.testing.assert_array_equal(filled[5], track[5])
    # filled on each side of it, each value between its two ends (the shoulders, unseen at one, not)
    np.testing.assert_allclose(filled[[3, 4, 6, 7], 9:], a[[3, 4, 6, 7], 9:], atol=5)  # (wrists jitter)
    assert np.isnan(filled[[3, 4, 6, 7], 4]).all()


def test_a_mixed_detection_at_the_edge_of_a_hidden_run_does_not_place_the_person():
    # the last detection before a goes behind b (and the first after) carries b's right arm: the
    # pose model mixes the two at the overlap's edge. a is placed by the pose of the detections
    # around it, and the mixed wrist places no hand
    rng = np.random.default_rng(12)
    T = 30
    a = _walker(T, 100, 4, rng)
    hidden = np.zeros(T, dtype=bool)
    hidden[10:20] = True
    track = a.copy()
    track[hidden] = np.nan
    right = NTU.wrist[1]
    track[9, right] += [150.0, -80.0]  # b's wrist, going in
    track[20, right] += [-150.0, 60.0]  # and coming out
    filled = fill_hidden(track, hidden, NTU)
    np.testing.assert_allclose(filled[hidden, 4], a[hidden, 4], atol=1e-6)  # the shoulders on a's line
    assert np.abs(filled[hidden, right] - a[hidden, right]).max() < 10  # the wrist where a's is
    held = hold_hidden(track[:15], hidden[:15], NTU)  # behind b to the end
    assert np.abs(held[10:15, right] - a[9, right]).max() < 10


def test_a_person_held_to_the_end_is_held_at_a_pose_the_pose_model_saw():
    # a passes behind b (frames 10-19, placed between), is seen in 20-21 with b's wrist mixed in at
    # 21, and goes behind b again to the end: the pose a is held at comes from a's detections, not
    # from the frames placed between (they carry the mixed wrist of frame 9 too)
    rng = np.random.default_rng(14)
    a = _walker(30, 100, 0, rng)
    track = a.copy()
    hidden = np.zeros(30, dtype=bool)
    hidden[10:20] = hidden[22:] = True
    track[hidden] = np.nan
    right = NTU.wrist[1]
    track[9, right] += [150.0, -80.0]
    track[21, right] += [150.0, -80.0]
    filled = fill_hidden(track, hidden, NTU)
    held = place_hidden(track, hidden, NTU)
    assert np.abs(held[22:, right] - a[21, right]).max() < 10
    np.testing.assert_array_equal(held[10:20], filled[10:20])


def test_two_detections_at_one_shoulder_centre_are_one_person():
    rng = np.random.default_rng(7)
    a = _body(1, 300, 1, rng)[0]
    guessed = a.copy()
    guessed[9:] += 60  # arms and legs guessed far elsewhere, the shoulders where a's are
    assert len(distinct_people([a, guessed], NTU)) == 1


def test_a_lone_hand_takes_the_side_most_of_its_frames_give_it():
    T = 40
    present = np.zeros((T, 2), dtype=bool)
    present[:, 1] = True  # continuity kept the hand in slot 1, where its first frames put it
    swapped = np.ones(T, dtype=bool)  # but the handedness put it in slot 0 in all but the first frames
    swapped[:3] = False
    score = np.full((T, 2), 0.9)
    score[:3] = 0.5
    assert lone_hand_sides(present, swapped, score).all()
    # a hand beside another one is left where it is
    present[:, 0] = True
    assert not lone_hand_sides(present, swapped, score).any()


def test_a_lone_hand_back_after_a_few_frames_keeps_its_slot_though_it_moved():
    T = 20
    centres = np.zeros((T, 2, 2))
    centres[:, 0] = centres[:, 1] = [[100.0, 100.0]] * 10 + [[220.0, 100.0]] * 10  # 3 hand sizes in 5 frames
    present = np.zeros((T, 2), dtype=bool)
    present[:5, 1] = True
    present[10:, 0] = True  # gone for 5 frames, back with the other handedness label
    sizes = np.full((T, 2), 40.0)
    swap = continuity_swaps(centres, present, sizes)
    assert swap[10:].all() and not swap[:10].any()


def test_a_person_counts_when_seen_often_or_steadily_for_a_second():
    T = 100

    def track(seen: np.ndarray) -> np.ndarray:
        out = np.full((T, 33, 2), np.nan)
        out[seen] = 1.0
        return out

    often = np.zeros(T, bool)
    often[::3] = True  # a third of the frames, now and then
    steady = np.zeros(T, bool)
    steady[10:39] = True  # 29 frames in a row (walks in, then lost against another person)
    flicker = np.zeros(T, bool)
    flicker[np.arange(0, 60, 4)] = True  # 15 frames, never more than 8 in a second: hallucinated
    kept = lasting_tracks({0: track(often), 1: track(steady), 2: track(flicker)}, fps=30)
    assert sorted(kept) == [0, 1]
