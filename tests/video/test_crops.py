import numpy as np

from bharnet.video.crops import BODY_ANCHORS, body_scale

NTU = BODY_ANCHORS["ntu25"]


def test_body_scale_is_the_larger_of_shoulders_and_forearm():
    body = np.full((5, 25, 2), np.nan)
    body[:, 4], body[:, 8] = [0, 0], [100, 0]  # shoulder width 100
    body[:, NTU.wrist[0]], body[:, NTU.elbow[0]] = [0, 100], [0, 30]  # forearm 70
    assert body_scale(body, NTU) == 100
    body[:, NTU.elbow[0]] = [0, -50]  # forearm 150
    assert body_scale(body, NTU) == 150
    assert np.isnan(body_scale(np.full((3, 25, 2), np.nan), NTU))
