"""BodyHand-Synth in colour: the frames a camera would see, and their ST-ROI images.

Each sample's skeletons are drawn into small frames (limbs and head of every person, the fingers of
every detected hand) on a backdrop of the sample's own tint, with the held object of an object
class (:mod:`bharnet.synth.objects`) at the right hand; the ST-ROI image
(:mod:`bharnet.video.st_roi`) is cut from them exactly as from a real video, with the joints'
projected pixel positions. Only the frames the image needs are drawn.
"""

from __future__ import annotations

import numpy as np

from bharnet.core.layouts import HAND21, NTU25
from bharnet.core.sequence import Sequence
from bharnet.synth.camera import FOCAL, IMAGE_W, project
from bharnet.synth.classes import SynthClass
from bharnet.synth.objects import OBJECTS
from bharnet.video.st_roi import RoiConfig, build_st_roi, plan_st_roi

__all__ = ["FRAME_W", "FRAME_H", "SYNTH_ROI", "project_body", "render_frame", "render_st_roi"]

#: frames are drawn at a quarter of the Kinect's 1920 x 1080
FRAME_W, FRAME_H = 480, 270
#: small ST-ROI images (24 px cells, 120 x 120): a CPU trains on thousands in seconds
SYNTH_ROI = RoiConfig(cell=24, size=120)


def project_body(body: np.ndarray) -> np.ndarray:
    """Camera-space joints ``(T, M, V, 3)`` -> frame pixels ``(T, M, V, 2)``; NaN for absent persons."""
    xy = project(body.astype(np.float64)) * np.array([FRAME_W, FRAME_H])
    xy[(body == 0).all(-1)] = np.nan
    return xy


def _points(xy: np.ndarray) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in xy]


def render_frame(body_xy: np.ndarray, body_z: np.ndarray, hands: np.ndarray | None, hand_conf: np.ndarray | None,
                 style: dict, obj: tuple | None) -> np.ndarray:
    """One frame ``(FRAME_H, FRAME_W, 3)`` uint8: persons ``body_xy`` ``(M, 25, 2)`` pixels (depth
    ``body_z`` (M, 25) metres), hands ``(2, 21, 3)`` image-normalised, the held object of ``obj``."""
    from PIL import Image, ImageDraw  # Pillow comes with matplotlib; imported only when drawing

    image = Image.new("RGB", (FRAME_W, FRAME_H), style["backdrop"])
    draw = ImageDraw.Draw(image)
    px_per_m = FOCAL * FRAME_W / IMAGE_W
    for m in range(len(body_xy)):
        if np.isnan(body_xy[m]).all():
            continue
        depth = float(np.nanmedian(body_z[m]))
        limb = max(2, int(round(0.07 * px_per_m / depth)))
        for child, parent in NTU25.edges:
            draw.line(_points(body_xy[m, [child, parent]]), fill=style["clothes"][m], width=limb)
        hx, hy = body_xy[m, NTU25.index("head")]
        r = 0.11 * px_per_m / depth
        draw.ellipse((hx - r, hy - r, hx + r, hy + r), fill=style["skin"])
    if hands is not None:
        for h in range(2):
            if hand_conf[h].max() <= 0:
                continue
            pts = hands[h, :, :2] * np.array([FRAME_W, FRAME_H])
            for child, parent in HAND21.edges:
                draw.line(_points(pts[[child, parent]]), fill=style["skin"], width=1)
    if obj is not None:
        _draw_object(draw, obj, px_per_m)
    return np.asarray(image)


def _draw_object(draw, obj: tuple, px_per_m: float) -> None:  # noqa: ANN001 (a PIL ImageDraw)
    (shape, colour, (width, height)), (cx, cy), depth = obj
    w, h = width * px_per_m / depth / 2, height * px_per_m / depth / 2
    box = (cx - w, cy - h, cx + w, cy + h)
    if shape == "ball":
        draw.ellipse(box, fill=colour)
    else:
        draw.rectangle(box, fill=colour)


def _right_hand_centre(hands: np.ndarray | None, hand_conf: np.ndarray | None, body_xy: np.ndarray) -> np.ndarray:
    if hands is not None and hand_conf[1].max() > 0:
        return hands[1, :, :2].mean(0) * np.array([FRAME_W, FRAME_H])
    return body_xy[0, NTU25.index("right_hand")]


def _style(rng: np.random.Generator) -> dict:
    tint = rng.uniform(60, 150) + rng.uniform(-25, 25, 3)
    return {"backdrop": tuple(int(v) for v in np.clip(tint, 0, 255)),
            "clothes": [tuple(int(v) for v in rng.uniform(20, 235, 3)) for _ in range(2)],
            "skin": tuple(int(v) for v in rng.uniform([150, 100, 70], [240, 190, 160]))}


def render_st_roi(seq: Sequence, cls: SynthClass, rng: np.random.Generator,
                  config: RoiConfig = SYNTH_ROI) -> np.ndarray:
    """The ST-ROI image of one BodyHand-Synth sample of class ``cls``: only the chosen frames are drawn."""
    xy = project_body(seq.body)
    rows, centres, side = plan_st_roi(xy, "ntu25", FRAME_H, config)
    style = _style(rng)
    frames = []
    for t in rows:
        hands = None if seq.hands is None else seq.hands[t]
        conf = None if seq.hand_conf is None else seq.hand_conf[t]
        obj = None
        if cls.name in OBJECTS:
            depth = float(seq.body[t, 0, NTU25.index("right_hand"), 2])
            obj = (OBJECTS[cls.name], _right_hand_centre(hands, conf, xy[t]), max(depth, 0.5))
        frames.append(render_frame(xy[t], seq.body[t, :, :, 2], hands, conf, style, obj))
    return build_st_roi(frames, centres, side, config)
