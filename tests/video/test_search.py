"""The hand search on generated frames: regions, the fallback, the hand-over to tracking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bharnet.video.body_guide import BodyGuide
from bharnet.video.crops import BODY_ANCHORS
from bharnet.video.frame_hands import _distinct_hands
from bharnet.video.landmarker import HandDetection, HandLandmarker
from bharnet.video.search import (
    Hand,
    HandSearch,
    Region,
    SearchConfig,
    confirmed,
    continuing,
    hand_cues,
    same_hand,
    trailing_misses,
)


def test_region_cut_and_to_frame_are_exact_inverses():
    frame = np.zeros((300, 400, 3), np.uint8)
    frame[120, 250] = 255  # one bright pixel, centre at (250.5, 120.5) in pixel-edge coordinates
    region = Region(x0=200.0, y0=90.0, side=64.0)
    crop = region.cut(frame, 256)  # upsampled 4x: the pixel covers crop pixels 202..205 x 122..125
    ys, xs = np.nonzero(crop[..., 0] > 0)
    centre = np.array([[(xs.mean() + 0.5) / 256, (ys.mean() + 0.5) / 256, 0.25]])
    back = region.to_frame(centre)
    np.testing.assert_allclose(back[0, :2], [250.5, 120.5], atol=1e-6)
    assert back[0, 2] == 0.25 * 64  # z scales with x


def test_region_outside_the_frame_is_black():
    frame = np.full((50, 50, 3), 7, np.uint8)
    crop = Region.around(np.array([0.0, 0.0]), 20).cut(frame, 20)
    assert (crop[:10, :10] == 0).all() and (crop[10:, 10:] == 7).all()


def test_hand_cues_from_a_body():
    from bharnet.video.crops import BODY_ANCHORS

    ntu = BODY_ANCHORS["ntu25"]
    body = np.full((25, 2), np.nan)
    body[ntu.wrist[1]], body[ntu.elbow[1]] = [100, 100], [100, 40]
    body[list(ntu.hand[1])] = [[100, 110], [100, 130], [110, 110]]
    cues = hand_cues(body, ntu)
    assert np.isnan(cues[0]).all()  # the left wrist is unknown
    np.testing.assert_allclose(cues[1], [[100, 100], [102.5, 112.5], [100, 40]])


def test_same_hand_and_confirmation():
    hand = np.random.default_rng(0).uniform(0, 40, (21, 3))
    assert same_hand(hand, hand + 5) and not same_hand(hand, hand + 100)
    present = np.array([[True, True], [False, True], [True, False], [True, False]])
    new = np.array([[True, True], [False, False], [True, False], [False, False]])
    centres = np.zeros((4, 2, 2))
    sizes = np.full((4, 2), 10.0)
    # left: new at 0 with no neighbour -> dropped; new at 2 confirmed by 3. right: new at 0, seen at 1
    kept = confirmed(present, new, centres, sizes)
    assert kept.tolist() == [[False, True], [False, True], [True, False], [True, False]]


def _square_hand(centre: tuple[float, float], size: float) -> Hand:
    """A stand-in hand: 21 landmarks spread over a square of ``size`` around ``centre``."""
    grid = np.linspace(-0.5, 0.5, 21)
    marks = np.stack([centre[0] + size * grid, centre[1] + size * grid[::-1], np.zeros(21)], axis=1)
    return Hand(marks, 0.9, "tracked")


def test_a_hand_followed_back_continues_the_last_one():
    last = _square_hand((100, 100), 40)
    near, far, big = _square_hand((120, 100), 40), _square_hand((200, 100), 40), _square_hand((110, 100), 100)
    assert continuing([far, near], last, None) is near
    assert continuing([far], last, None) is None  # further than a hand's size away
    assert continuing([far], last, None, reach=3) is far  # but three frames apart it may have moved that far
    assert continuing([big], last, None) is None  # a hand of another size is not this one
    assert continuing([near], last, other=_square_hand((122, 101), 40)) is None  # that is the other side's hand
    assert trailing_misses([near, None, None]) == 2 and trailing_misses([None, near]) == 0 and trailing_misses([]) == 0


# ----------------------------------------------------------------------------------------------
# with MediaPipe's hand landmarker on the real hand photo


@pytest.fixture(scope="module")
def small_hand(hand_image) -> np.ndarray:
    cv2 = pytest.importorskip("cv2")
    pytest.importorskip("mediapipe")
    return cv2.resize(hand_image, (96, 72), interpolation=cv2.INTER_AREA)


def _frame(hand: np.ndarray, x: int, y: int, size: tuple[int, int] = (720, 1280)) -> np.ndarray:
    frame = np.full((*size, 3), 200, np.uint8)
    frame[y:y + hand.shape[0], x:x + hand.shape[1]] = hand
    return frame


def _cues(x: float, y: float, elbow: tuple[float, float] | None = None) -> np.ndarray:
    """The body says: right hand centred at (x, y) (wrist 30 px left of it, elbow 150 px), left
    hand far away."""
    cues = np.full((2, 3, 2), np.nan)
    cues[1] = [[x - 30, y], [x, y], elbow or (x - 150, y + 50)]
    cues[0] = [[100, 600], [110, 600], [100, 500]]
    return cues


def _misplaced(x: int, y: int) -> np.ndarray:
    """The body puts the hand 110 px left of the real one (centre (x + 48, y + 36)), the elbow beyond
    it: the first region (2.5 x 40 px) misses the hand, the one between hand and elbow holds it."""
    cx, cy = x + 48, y + 36
    return _cues(cx - 110, cy, elbow=(cx + 110, cy))


def test_fallback_finds_a_hand_the_body_misplaces_and_hands_it_over(small_hand, hand_model: Path):
    x, y = 700, 300
    frames = [_frame(small_hand, x, y) for _ in range(3)]
    cues = _misplaced(x, y)
    with HandSearch(hand_model, SearchConfig(fallback=(6.0,)), fps=30) as search:
        first = search.step(frames[0], 0, cues, scale=40.0)
        assert first[0] is None and first[1] is not None and first[1].how == "fallback"
        second = search.step(frames[1], 1, cues, scale=40.0)
        assert second[1] is not None and second[1].how == "handover"  # tracked from where the fallback found it
        third = search.step(frames[2], 2, cues, scale=40.0)
        assert third[1] is not None and third[1].how == "tracked"
    wrist = third[1].landmarks[0, :2]
    assert x - 10 <= wrist[0] <= x + 96 and y - 10 <= wrist[1] <= y + 72


def test_without_fallback_the_misplaced_hand_is_missed(small_hand, hand_model: Path):
    x, y = 700, 300
    with HandSearch(hand_model, SearchConfig(fallback=()), fps=30) as search:
        found = search.step(_frame(small_hand, x, y), 0, _misplaced(x, y), scale=40.0)
    assert found == [None, None]


def test_one_call_per_hand_tries_the_body_region_and_the_fallback_on_successive_frames(small_hand, hand_model: Path,
                                                                                        monkeypatch):
    calls = []
    detect = HandLandmarker.detect
    monkeypatch.setattr(HandLandmarker, "detect", lambda self, *a: calls.append(1) or detect(self, *a))
    x, y = 700, 300
    hand = _frame(small_hand, x, y)
    frames = [hand, hand, hand, np.full_like(hand, 200), hand]  # the hand leaves for a frame, and comes back
    with HandSearch(hand_model, SearchConfig(fallback=(6.0,), one_call_per_hand=True), fps=30) as search:
        per_frame = []
        found = []
        for t, frame in enumerate(frames):
            calls.clear()
            found.append(search.step(frame, t, _misplaced(x, y), scale=40.0)[1])
            per_frame.append(len(calls))
    assert found[0] is None  # the body's region, which misses it
    assert found[1] is not None and found[1].how == "fallback"  # the fallback's turn
    assert found[2] is not None and found[2].how == "handover"
    assert found[3] is None
    assert found[4] is not None and found[4].how == "fallback"  # what found it last time goes first
    assert max(per_frame) == 2  # one call per hand (the left hand's region is searched too)


def test_a_moving_hand_is_followed_and_keeps_its_side(small_hand, hand_model: Path):
    # the hand moves 6 px a frame; the body cue stays where it was at the start (a stale skeleton)
    cues = _cues(648, 336)
    with HandSearch(hand_model, fps=30) as search:
        hows, wrists = [], []
        for t in range(12):
            x = 600 + 6 * t
            found = search.step(_frame(small_hand, x, 300), t, cues, scale=40.0)
            assert found[0] is None and found[1] is not None
            region = search.regions[1]  # the region searched, for the contact sheet
            assert region.x0 < found[1].centre[0] < region.x0 + region.side
            hows.append(found[1].how)
            wrists.append(found[1].landmarks[0, 0] - x)
    assert hows[0] == "body" and all(h == "tracked" for h in hows[1:])
    wrists = np.array(wrists)
    assert np.median(np.abs(wrists - np.median(wrists))) < 3  # the landmarks move with the hand
    assert np.ptp(wrists) < 16  # the frame where the region shifts is off by a few pixels


def test_trace_back_follows_a_hand_into_earlier_frames(small_hand, hand_model: Path):
    frames = [_frame(small_hand, 600 + 5 * t, 300) for t in range(6)]
    with HandSearch(hand_model, fps=30) as search:
        found = search.step(frames[5], 0, _cues(625 + 48, 336), scale=40.0)[1]
        assert found is not None
        back = search.trace_back(frames[5], frames[4::-1], found, [None] * 5)
    assert len(back) == 5
    for k, hand in enumerate(back):  # frame 4 - k has the hand at x = 600 + 5 (4 - k)
        assert isinstance(hand, Hand)
        assert abs(hand.landmarks[0, 0] - found.landmarks[0, 0] + 5 * (k + 1)) < 6


def test_trace_back_goes_on_over_a_frame_without_the_hand_and_stops_after_a_few(small_hand, hand_model: Path):
    blank = np.full((720, 1280, 3), 200, np.uint8)
    with_hand = [_frame(small_hand, 600 + 4 * t, 300) for t in range(8)]
    # newest first: frame 6 hidden (a blank), then frames 5 and 4, then blanks from frame 3 on
    frames = [blank, with_hand[5], with_hand[4], blank, blank, blank, with_hand[0]]
    with HandSearch(hand_model, SearchConfig(back_misses=3), fps=30) as search:
        found = search.step(with_hand[7], 0, _cues(628 + 48, 336), scale=40.0)[1]
        assert found is not None
        back = search.trace_back(with_hand[7], frames, found, [None] * len(frames))
    # the blank frame 6 is skipped, 5 and 4 found; three blanks in a row end it before frame 0
    assert [hand is not None for hand in back] == [False, True, True]
    for k, x in ((1, 600 + 4 * 5), (2, 600 + 4 * 4)):
        assert abs(back[k].landmarks[0, 0] - found.landmarks[0, 0] + (600 + 28 - x)) < 8


@pytest.mark.parametrize("redetect_lost", [SearchConfig.redetect_lost, 0])  # the default, and off
def test_a_hand_the_tracker_loses_is_found_again_where_it_was(small_hand, hand_model: Path, monkeypatch,
                                                                redetect_lost: int):
    # the hand stays put; the body puts it far away (no region of the body's finds it); in frame 2
    # MediaPipe's tracking loses it (as it does a fist around a mug)
    x, y = 700, 300
    frames = [_frame(small_hand, x, y) for _ in range(4)]
    cues = _misplaced(x, y)
    with HandSearch(hand_model, SearchConfig(fallback=(), redetect_lost=redetect_lost), fps=30) as search:
        search.step(frames[0], 0, _cues(x + 48, y + 36), scale=40.0)  # found where the body put it then
        assert search.step(frames[1], 1, cues, scale=40.0)[1].how == "tracked"
        tracker = search._slots[1].landmarker
        with monkeypatch.context() as patched:
            patched.setattr(tracker, "detect", lambda image, t: [])
            lost = search.step(frames[2], 2, cues, scale=40.0)[1]
        after = search.step(frames[3], 3, cues, scale=40.0)[1]
    if redetect_lost:
        assert lost is not None and abs(lost.centre[0] - (x + 48)) < 20  # palm detection around it
        assert after is not None and after.how == "handover"  # and the tracker takes it over
    else:
        assert lost is None and after is None  # searched only where the body puts it


def test_redetection_takes_the_followed_hand_not_the_other_one(small_hand, hand_model: Path):
    # two hands side by side; the one followed was last seen at the left one's place
    frame = np.full((720, 1280, 3), 200, np.uint8)
    frame[300:372, 560:656] = small_hand
    frame[300:372, 680:776] = small_hand
    with HandSearch(hand_model, fps=30) as search:
        left = search.redetect(frame, _square_hand((608, 336), 90), 300, other=None)
        assert left is not None and abs(left.centre[0] - 608) < 30
        theirs = Hand(left.landmarks, 0.9, "tracked")
        right = search.redetect(frame, _square_hand((660, 336), 90), 300, other=theirs, reach=2)
    assert right is not None and abs(right.centre[0] - 728) < 30  # the other hand is left out


def test_a_hand_at_another_persons_wrist_is_theirs():
    cues = np.full((1, 2, 3, 2), np.nan)
    cues[0, :, 0] = [[100.0, 300.0], [200.0, 300.0]]  # this person's wrists (left, right)
    others = np.array([[[[400.0, 300.0], [330.0, 310.0]]]])  # (T=1, K=1, 2, 2)
    guide = BodyGuide(cues, scale=80.0, others=others)
    own = guide.cues(0, np.zeros((4, 4, 3)))
    assert guide.foreign(0, np.array([335.0, 305.0]), 1, own)  # at the other's right wrist
    assert not guide.foreign(0, np.array([205.0, 300.0]), 1, own)  # at this person's own wrist
    assert not guide.foreign(0, np.array([600.0, 300.0]), 1, own)  # near nobody's
    assert guide.foreign(0, np.array([395.0, 300.0]), 0, None)  # this person unseen: at another's wrist


def test_where_this_persons_wrist_is_only_placed_a_hand_at_anothers_wrist_is_theirs():
    # the searched person is behind the other one: their wrist is placed (filled), not seen, and
    # happens to lie by the other's wrist; a hand there is the other's
    body = np.full((2, 33, 2), np.nan)
    pose = BODY_ANCHORS["pose33"]
    body[:, list(pose.shoulders)] = [[300.0, 100.0], [380.0, 100.0]]
    body[:, list(pose.elbow)] = [[300.0, 200.0], [380.0, 200.0]]
    body[:, list(pose.wrist)] = [[310.0, 300.0], [370.0, 300.0]]
    seen = body.copy()
    seen[1, list(pose.wrist)] = np.nan  # frame 1: the wrists are placed there, not seen
    others = [np.full((2, 33, 2), np.nan)]
    others[0][:, list(pose.wrist)] = [[330.0, 300.0], [430.0, 300.0]]
    guide = BodyGuide.of_body(body, pose, others, seen)
    hand = np.array([320.0, 300.0])  # halfway between the two wrists
    assert not guide.foreign(0, hand, 0, guide.cues(0, np.zeros((4, 4, 3))))
    assert guide.foreign(1, hand, 0, guide.cues(1, np.zeros((4, 4, 3))))


def test_a_placed_wrist_is_where_its_hand_was_found_moved_with_the_body():
    pose = BODY_ANCHORS["pose33"]
    body = np.full((3, 33, 2), np.nan)
    body[:, list(pose.shoulders)] = [[[300.0, 100.0], [380.0, 100.0]], [[290.0, 100.0], [370.0, 100.0]],
                                     [[280.0, 100.0], [360.0, 100.0]]]  # walking left, 10 px a frame
    body[:, list(pose.wrist)] = [[310.0, 300.0], [370.0, 300.0]]
    seen = body.copy()
    seen[2, pose.wrist[0]] = np.nan  # frame 2: the left wrist is only placed (the line between)
    guide = BodyGuide.of_body(body, pose, seen=seen)
    found = [(0, np.array([[330.0, 320.0], [335.0, 340.0]])), (0, np.array([[0.0, 0.0], [0.0, 0.0]]))]
    cues = guide.with_hands_found(2, guide.cues(2, np.zeros((4, 4, 3))), found)
    np.testing.assert_allclose(cues[0, :2], [[310.0, 320.0], [315.0, 340.0]])  # found, 20 px left since
    np.testing.assert_allclose(cues[1, 0], [370.0, 300.0])  # seen: as the pose model sees it
    assert guide.with_hands_found(2, guide.cues(2, np.zeros((4, 4, 3))), [None, None])[0, 0, 0] == 310.0


def test_one_hand_returned_twice_counts_once():
    rng = np.random.default_rng(0)
    hand = rng.uniform(0.4, 0.5, (21, 3))
    other = hand + [0.3, 0.0, 0.0]
    dets = [HandDetection(hand, 0.6, "Left"), HandDetection(hand + 0.002, 0.9, "Right"),
            HandDetection(other, 0.8, "Left")]
    kept = _distinct_hands(dets)
    assert [d.score for d in kept] == [0.9, 0.8]
