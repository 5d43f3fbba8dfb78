import numpy as np

from bharnet.video.crops import BODY_ANCHORS, Box, CropConfig, body_scale, crop_side, cut, hand_boxes, to_frame

NTU = BODY_ANCHORS["ntu25"]


def test_cut_and_map_back_are_inverse():
    frame = np.zeros((100, 200, 3), dtype=np.uint8)
    frame[40, 150] = 255
    box = Box.around(160, 45, 40)  # reaches outside nothing; the bright pixel is inside
    crop = cut(frame, box)
    assert crop.shape == (40, 40, 3)
    y, x = np.argwhere(crop[..., 0] == 255)[0]
    norm = np.array([[(x + 0.5) / 40, (y + 0.5) / 40, 0.1]])
    back = to_frame(norm, box)
    np.testing.assert_allclose(back[0, :2], [150.5, 40.5])
    assert back[0, 2] == 0.1 * 40


def test_cut_pads_outside_the_frame():
    frame = np.full((50, 50, 3), 7, dtype=np.uint8)
    crop = cut(frame, Box.around(0, 0, 20))
    assert crop.shape == (20, 20, 3)
    assert (crop[:10, :10] == 0).all() and (crop[10:, 10:] == 7).all()


def test_crop_side_from_body_scale_with_clamps():
    body = np.full((5, 25, 2), np.nan)
    body[:, 4], body[:, 8] = [0, 0], [100, 0]  # shoulder width 100
    body[:, NTU.wrist[0]], body[:, NTU.elbow[0]] = [0, 100], [0, 30]  # forearm 70
    assert body_scale(body, NTU) == 100
    cfg = CropConfig(factor=2.5, min_frac=0.15, max_frac=0.5)
    assert crop_side(100, 1080, cfg) == 250
    assert crop_side(10, 1080, cfg) == 0.15 * 1080
    assert crop_side(1000, 1080, cfg) == 540
    assert crop_side(float("nan"), 1080, cfg) == 540


def test_close_hands_share_one_crop():
    far = hand_boxes(np.array([[100.0, 100.0], [500.0, 100.0]]), 100, 1920, 1080)
    near = hand_boxes(np.array([[100.0, 100.0], [130.0, 100.0]]), 100, 1920, 1080)
    one = hand_boxes(np.array([[100.0, 100.0], [np.nan, np.nan]]), 100, 1920, 1080)
    outside = hand_boxes(np.array([[-500.0, 100.0], [100.0, 100.0]]), 100, 1920, 1080)
    assert len(far) == 2 and len(near) == 1 and len(one) == 1 and len(outside) == 1
    assert near[0].side == 130
