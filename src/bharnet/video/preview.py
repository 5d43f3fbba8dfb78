"""A contact sheet of a video's hand keypoints, for people to judge them by eye.

One PNG per video: at the top, per hand, a timeline strip over all frames (green found, yellow
interpolated, red missing; ticks at the sampled frames); below, for evenly sampled frames, the
person's area with both hands drawn and a close-up of each hand's place. A missing hand's
close-up, framed in red, shows the region that was searched for it in that frame (outlined; the
one of the nearest frame searched when the search skipped that frame, and so labelled), so that a
reviewer can tell a hand that was missed from one that is not in view. Without the regions (a
track read back from its file) it says so instead of guessing a place.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bharnet.core.atomic import atomic_file
from bharnet.core.layouts import HAND21
from bharnet.video.decode import iter_frames
from bharnet.video.hand_files import HandTrack

TILE = 160  # pixels of one picture of the sheet
FOUND, FILLED, MISSING = (40, 170, 60), (230, 190, 30), (210, 40, 40)  # RGB
SIDE_COLOURS = ((60, 160, 255), (255, 100, 200))  # left, right
SIDE_NAMES = ("left", "right")


def hand_states(track: HandTrack) -> np.ndarray:
    """(T, 2) per frame and hand: 0 found, 1 interpolated, 2 missing."""
    return np.where(track.missing, 2, np.where(track.interpolated, 1, 0))


def sample_frames(num_frames: int, count: int) -> list[int]:
    """``count`` frame indices spread evenly over the video (all of them when it is shorter)."""
    if num_frames <= count:
        return list(range(num_frames))
    return sorted({int(round(x)) for x in np.linspace(0, num_frames - 1, count)})


def contact_sheet(video: str | Path, track: HandTrack, samples: int = 12, columns: int = 3) -> np.ndarray:
    """The sheet as an RGB image (see the module docstring)."""
    import cv2

    pixels = track.keypoints[..., :2] * [track.width, track.height]  # (T, 2, 21, 2)
    states = hand_states(track)
    regions = track.extra.get("regions")
    if regions is None:
        regions = np.full((track.frames, 2, 3), np.nan)
    picked = sample_frames(track.frames, samples)
    context = _context_box(pixels, ~track.missing, track.width, track.height)
    cells = []
    wanted = set(picked)
    for t, frame in enumerate(iter_frames(video)):
        if t in wanted and t < track.frames:
            cells.append(_cell(frame, t, pixels, states, regions, context))
        if t >= picked[-1]:
            break
    width = columns * 3 * TILE
    rows = [np.hstack(cells[i:i + columns] + [np.full_like(cells[0], 255)] * (columns - len(cells[i:i + columns])))
            for i in range(0, len(cells), columns)]
    header = _header(Path(video).name, track, states, picked, width)
    sheet = np.vstack([header, *rows]) if rows else header
    cv2.rectangle(sheet, (0, 0), (sheet.shape[1] - 1, sheet.shape[0] - 1), (0, 0, 0), 1)
    return sheet


def write_contact_sheet(video: str | Path, track: HandTrack, path: str | Path, samples: int = 12) -> Path:
    """Write :func:`contact_sheet` as a PNG at ``path`` (atomically)."""
    import cv2

    sheet = contact_sheet(video, track, samples)
    ok, png = cv2.imencode(".png", cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError(f"{path}: PNG encoding failed")
    with atomic_file(path) as f:
        f.write(png.tobytes())
    return Path(path)


def _context_box(pixels: np.ndarray, seen: np.ndarray, width: int, height: int) -> tuple[float, float, float]:
    """A square (x0, y0, side) around every hand position of the video, with a margin; the whole
    frame when no hand was found."""
    points = pixels[seen].reshape(-1, 2)
    if not len(points):
        side = float(max(width, height))
        return (width - side) / 2, (height - side) / 2, side
    lo, hi = points.min(axis=0), points.max(axis=0)
    side = float(max((hi - lo).max() * 1.6, 0.25 * height))
    centre = (lo + hi) / 2
    return centre[0] - side / 2, centre[1] - side / 2, side


def _crop(frame: np.ndarray, x0: float, y0: float, side: float) -> np.ndarray:
    import cv2

    s = TILE / side
    matrix = np.array([[s, 0.0, -s * x0], [0.0, s, -s * y0]])
    return cv2.warpAffine(frame, matrix, (TILE, TILE), flags=cv2.INTER_AREA, borderValue=(255, 255, 255))


def _draw_hand(tile: np.ndarray, points: np.ndarray, x0: float, y0: float, side: float, colour) -> None:
    import cv2

    s = TILE / side
    p = [(int(round((x - x0) * s)), int(round((y - y0) * s))) for x, y in points]
    for a, b in HAND21.edges:
        cv2.line(tile, p[a], p[b], colour, 1, cv2.LINE_AA)
    for q in p:
        cv2.circle(tile, q, 2, colour, -1, cv2.LINE_AA)


def searched_region(regions: np.ndarray, t: int, side: int) -> tuple[int, np.ndarray] | None:
    """The frame nearest ``t`` (``t`` itself first) where a region was searched for hand ``side``,
    and that region (x0, y0, side); None when none was. ``regions`` (T, 2, 3), NaN where none."""
    searched = np.flatnonzero(np.isfinite(regions[:, side]).all(axis=-1))
    if not len(searched):
        return None
    u = int(searched[np.argmin(np.abs(searched - t))])
    return u, regions[u, side]


def _cell(frame: np.ndarray, t: int, pixels: np.ndarray, states: np.ndarray, regions: np.ndarray,
          context: tuple[float, float, float]) -> np.ndarray:
    """One sampled frame: the person's area with both hands, then each hand's close-up."""
    import cv2

    x0, y0, side = context
    tile = _crop(frame, x0, y0, side)
    for s in (0, 1):
        if states[t, s] < 2:
            _draw_hand(tile, pixels[t, s], x0, y0, side, SIDE_COLOURS[s])
    cv2.putText(tile, f"t={t}", (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    tiles = [tile]
    for s in (0, 1):
        tiles.append(_close_up(frame, t, s, pixels, states, regions))
    cell = np.hstack(tiles)
    cv2.rectangle(cell, (0, 0), (cell.shape[1] - 1, cell.shape[0] - 1), (255, 255, 255), 2)
    return cell


def _close_up(frame: np.ndarray, t: int, side: int, pixels: np.ndarray, states: np.ndarray,
              regions: np.ndarray) -> np.ndarray:
    """A hand's close-up in frame ``t``: found or interpolated, around its landmarks (drawn); missing,
    the region searched for it (see :func:`searched_region`), outlined, or a blank tile saying that
    no region is known."""
    import cv2

    state = int(states[t, side])
    colour = (FOUND, FILLED, MISSING)[state]
    note = ""
    if state < 2:
        where = pixels[t, side]
        lo, hi = where.min(axis=0), where.max(axis=0)
        size = float(max((hi - lo).max() * 2.5, 0.06 * frame.shape[0]))
        x0, y0 = (lo + hi) / 2 - size / 2
        tile = _crop(frame, x0, y0, size)
        _draw_hand(tile, where, x0, y0, size, SIDE_COLOURS[side])
    elif (found := searched_region(regions, t, side)) is None:
        tile, note = np.full((TILE, TILE, 3), 235, np.uint8), "(no region known)"
    else:
        u, (rx, ry, rside) = found
        size = rside * 1.25  # the region with a margin around it
        x0, y0 = rx - (size - rside) / 2, ry - (size - rside) / 2
        tile = _crop(frame, x0, y0, size)
        s = TILE / size
        corner = (int(round((rx - x0) * s)), int(round((ry - y0) * s)))
        cv2.rectangle(tile, corner, (corner[0] + int(round(rside * s)), corner[1] + int(round(rside * s))),
                      MISSING, 1, cv2.LINE_AA)
        note = "(region searched)" if u == t else f"(region searched at t={u})"
    label = f"{SIDE_NAMES[side]}: " + ("found", "interpolated", "MISSED")[state]
    cv2.rectangle(tile, (0, 0), (TILE - 1, TILE - 1), colour, 4)
    cv2.putText(tile, label, (6, TILE - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.42, colour, 1, cv2.LINE_AA)
    if note:  # on a white strip: the region's outline runs under it
        (width, _), _ = cv2.getTextSize(note, cv2.FONT_HERSHEY_SIMPLEX, 0.36, 1)
        cv2.rectangle(tile, (4, 5), (8 + width, 20), (255, 255, 255), -1)
        cv2.putText(tile, note, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.36, colour, 1, cv2.LINE_AA)
    return tile


def _header(name: str, track: HandTrack, states: np.ndarray, picked: list[int], width: int) -> np.ndarray:
    """Title, per-hand counts and the two timeline strips."""
    import cv2

    header = np.full((40 + 2 * 26, width, 3), 255, np.uint8)
    cv2.putText(header, f"{name}  {track.frames} frames  source={track.source}", (8, 18),
                cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(header, "green found   yellow interpolated   red missing   ticks: frames shown below", (8, 34),
                cv2.FONT_HERSHEY_SIMPLEX, 0.4, (80, 80, 80), 1, cv2.LINE_AA)
    left, right = 150, width - 10
    xs = np.linspace(left, right, track.frames + 1)
    for side in (0, 1):
        y = 44 + 26 * side
        found, filled, missing = (int((states[:, side] == k).sum()) for k in (0, 1, 2))
        cv2.putText(header, f"{SIDE_NAMES[side]} {found}/{filled}/{missing}", (8, y + 13),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.4, SIDE_COLOURS[side], 1, cv2.LINE_AA)
        for t in range(track.frames):
            colour = (FOUND, FILLED, MISSING)[int(states[t, side])]
            cv2.rectangle(header, (int(xs[t]), y), (max(int(xs[t + 1]) - 1, int(xs[t])), y + 16), colour, -1)
        for t in picked:
            cx = int((xs[t] + xs[t + 1]) / 2)
            cv2.line(header, (cx, y + 17), (cx, y + 21), (0, 0, 0), 1)
    return header
