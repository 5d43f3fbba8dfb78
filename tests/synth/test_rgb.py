"""BodyHand-Synth in colour: object pairs move alike, the frames show the object, the store gets images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bharnet.core.sequence import Sequence
from bharnet.store.packed import SkeletonStore
from bharnet.store.rgb import RoiArray
from bharnet.synth.generate import generate_batch
from bharnet.synth.objects import OBJECT_CLASSES, OBJECTS, RGB_CLASSES, select_classes
from bharnet.synth.render import FRAME_H, FRAME_W, SYNTH_ROI, project_body, render_st_roi
from bharnet.synth.store import write_synth_rgb_store
from bharnet.synth.variation import Variation
from bharnet.video.st_roi import ROI_PARTS, cell_centre


def test_the_classes_of_an_object_pair_have_the_same_skeletons() -> None:
    var = Variation()
    for a, b in (OBJECT_CLASSES[:2], OBJECT_CLASSES[2:]):
        x, y = (generate_batch(c, 3, (4, 0, 9), var) for c in (a, b))
        np.testing.assert_array_equal(x.body, y.body)
        np.testing.assert_array_equal(x.hands, y.hands)
        assert OBJECTS[a.name] != OBJECTS[b.name]


def _sample(cls_index: int) -> Sequence:
    b = generate_batch(RGB_CLASSES[cls_index], 1, (1, 2, 3), Variation(second_person=0.0, hand_missing=0.0,
                                                                       dropout=0.0))
    t = int(b.frames[0])
    return Sequence(name="s", label=cls_index, body=b.body[0, :t], hands=b.hands[0, :t], hand_conf=b.hand_conf[0, :t])


def test_the_right_hand_band_shows_the_held_objects_colour() -> None:
    rng = np.random.default_rng(0)
    right = ROI_PARTS.index("right_hand")
    for name in ("hold_red_cup", "hold_blue_cup"):
        index = [c.name for c in RGB_CLASSES].index(name)
        image = render_st_roi(_sample(index), RGB_CLASSES[index], rng)
        colour = np.array(OBJECTS[name][1])
        hits = 0
        for k in range(SYNTH_ROI.segments):
            x, y = cell_centre(right, k, config=SYNTH_ROI)
            patch = image[int(y) - 4:int(y) + 5, int(x) - 4:int(x) + 5].reshape(-1, 3).astype(int)
            hits += (np.abs(patch - colour).max(1) < 40).any()
        assert hits >= 3, name  # held in front of the body in most of the chosen frames


def test_projection_puts_the_body_in_the_frame() -> None:
    xy = project_body(_sample(0).body)
    person = xy[:, 0]
    assert ((person >= 0) & (person <= [FRAME_W, FRAME_H])).mean() > 0.9
    assert np.isnan(xy[:, 1]).all()  # no second person in this sample


def test_store_with_images_and_a_class_subset(tmp_path: Path) -> None:
    names = ["squat", "ok_sign", "hold_red_cup", "hold_blue_cup"]
    classes = select_classes(names)
    out = write_synth_rgb_store(tmp_path / "s", num_samples=24, seed=0, classes=classes)
    store = SkeletonStore(out)
    assert store.classes == names
    assert store.meta["source"]["class_groups"]["object"] == [2, 3]
    rois = RoiArray(out)
    assert rois.size == SYNTH_ROI.size and rois.present.all()
    assert rois.image(0).shape == (SYNTH_ROI.size, SYNTH_ROI.size, 3) and rois.image(0).std() > 5
    with pytest.raises(ValueError, match="unknown BodyHand-Synth classes"):
        select_classes(["juggling"])


def test_the_images_do_not_depend_on_how_many_processes_render_them(tmp_path: Path, monkeypatch) -> None:
    import bharnet.synth.store as synth_store

    classes = select_classes(["squat", "hold_red_cup", "hold_blue_cup"])
    monkeypatch.setattr(synth_store, "_ROI_CHUNK", 4)  # 12 samples: three tasks
    arrays = []
    for cores in (1, 2):
        monkeypatch.setattr(synth_store, "usable_cores", lambda cores=cores: cores)
        out = write_synth_rgb_store(tmp_path / f"cores{cores}", num_samples=12, seed=3, classes=classes)
        arrays.append(np.load(out / "rgb_roi.npy"))
    np.testing.assert_array_equal(*arrays)
    assert arrays[0].std() > 5
