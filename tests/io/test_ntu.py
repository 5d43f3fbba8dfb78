
import numpy as np
import pytest

from bharnet.cli import main
from bharnet.io.ntu import NTU_CLASSES, clean_bodies, missing_skeletons, ntu_splits, read_skeleton
from bharnet.store.ntu import prepare_ntu
from bharnet.store.packed import SkeletonStore

from .fixtures import ntu_body, ntu_name, ntu_text, write_ntu


def test_conformance_with_the_ntu_authors_conversion(shared):
    path = shared / "data" / "ntu-sample" / "S001C001P001R001A001.skeleton"
    oracle = np.load(f"{path}.npy", allow_pickle=True).item()
    skel = read_skeleton(path)
    assert skel.num_frames == 103 and len(skel.bodies) == 1
    body = next(iter(skel.bodies.values()))
    np.testing.assert_allclose(body.xyz, oracle["skel_body0"], atol=1e-6)
    np.testing.assert_array_equal(skel.bodies_per_frame, oracle["nbodys"])
    rows = [line.split() for line in path.read_text().splitlines() if len(line.split()) == 12]
    np.testing.assert_allclose(body.color_xy.reshape(-1, 2), np.array(rows, float)[:, 5:7], atol=1e-6)
    np.testing.assert_allclose(body.orientation.reshape(-1, 4), np.array(rows, float)[:, 7:11], atol=1e-9)
    assert body.body_id == "72057594037931101"
    assert body.info["lean_x"][0] == pytest.approx(0.02764709) and body.info["tracking_state"][0] == 2


def test_every_field_and_absent_frames(tmp_path):
    rng = np.random.default_rng(1)
    a, b = ntu_body(rng, 5), ntu_body(rng, 3)
    frames = [[("11", a[0])], [("11", a[1]), ("22", b[0])], [], [("22", b[1]), ("11", a[2])],
              [("11", a[3]), ("22", b[2])], [("11", a[4])]]
    path = tmp_path / "S001C001P001R001A050.skeleton"
    path.write_text(ntu_text(frames))
    skel = read_skeleton(path)
    assert skel.num_frames == 6 and list(skel.bodies) == ["11", "22"]
    np.testing.assert_array_equal(skel.bodies_per_frame, [1, 2, 0, 2, 2, 1])
    body_a, body_b = skel.bodies["11"], skel.bodies["22"]
    np.testing.assert_array_equal(body_a.frames, [0, 1, 3, 4, 5])
    np.testing.assert_array_equal(body_b.frames, [1, 3, 4])
    np.testing.assert_allclose(body_a.xyz[body_a.frames], a[..., 0:3], atol=1e-6)
    np.testing.assert_allclose(body_b.depth_xy[body_b.frames], b[..., 3:5], atol=1e-4)
    np.testing.assert_allclose(body_b.color_xy[body_b.frames], b[..., 5:7], atol=1e-4)
    np.testing.assert_allclose(body_a.orientation[body_a.frames], a[..., 7:11], atol=1e-6)
    np.testing.assert_array_equal(body_a.tracking[body_a.frames], a[..., 11])
    assert np.isnan(body_b.xyz[[0, 2, 5]]).all() and np.isnan(body_a.xyz[2]).all()
    assert body_a.info["lean_y"][0] == pytest.approx(0.05745083) and np.isnan(body_a.info["lean_y"][2])


@pytest.mark.parametrize("edit, problem", [
    (lambda lines: lines[:40], "truncated"),
    (lambda lines: lines[:5] + ["0.1 0.2 abc 1 2 3 4 5 6 7 8 2"] + lines[6:], "line 6: non-numeric field 'abc'"),
    (lambda lines: lines[:3] + ["24"] + lines[4:], "line 4: joint count 24, expected 25"),
    (lambda lines: ["0"], "line 1: zero frames"),
    (lambda lines: lines[:5] + ["0.1 0.2 0.3 1 2 3 4 5 6 7 8"] + lines[6:], "line 6: a joint line has 12 fields"),
    (lambda lines: lines[:2] + ["7 0 1 1"] + lines[3:], "line 3: a body line has 10 fields"),
    (lambda lines: ["x"] + lines[1:], "line 1: expected the frame count"),
    (lambda lines: lines + ["1"], "unexpected data after the last"),
])
def test_malformed_files_name_file_and_line(tmp_path, edit, problem):
    good = ntu_text([[("5", ntu_body(np.random.default_rng(0), 1)[0])]] * 3).split("\r\n")[:-1]
    path = tmp_path / "S001C001P001R001A001.skeleton"
    path.write_text("\n".join(edit(good)) + "\n")
    with pytest.raises(ValueError, match="S001C001P001R001A001.skeleton") as err:
        read_skeleton(path)
    assert problem in str(err.value)


def _file(tmp_path, frames):
    path = tmp_path / "S001C001P001R001A050.skeleton"
    path.write_text(ntu_text(frames))
    return read_skeleton(path)


def test_cleaning_short_and_noisy_bodies_dropped(tmp_path):
    rng = np.random.default_rng(2)
    main_body = ntu_body(rng, 30, move=0.2)
    short = ntu_body(rng, 11, x0=1.0)
    noisy = ntu_body(rng, 30, x0=-1.0)
    noisy[..., 0] *= 10  # x-spread far above 0.8 * y-spread in every frame
    frames = [[("1", main_body[t]), ("3", noisy[t])] + ([("2", short[t])] if t < 11 else []) for t in range(30)]
    cleaned = clean_bodies(_file(tmp_path, frames), center=False)
    assert cleaned.actors == [["1"], []]
    assert "11 frames" in cleaned.dropped["2"] and "noisy" in cleaned.dropped["3"]
    np.testing.assert_allclose(cleaned.xyz[:, 0], main_body[..., 0:3], atol=1e-6)
    assert (cleaned.xyz[:, 1] == 0).all()


def test_cleaning_actors_by_motion_and_overlap(tmp_path):
    rng = np.random.default_rng(3)
    calm = ntu_body(rng, 40, move=0.01)
    lively = ntu_body(rng, 40, x0=1.0, move=0.6)
    later = ntu_body(rng, 15, x0=2.0, move=0.05)
    # frames 0-39: calm and lively; frames 40-54: only `later`, who does not overlap actor 1 in time;
    # frames 55-56: nobody at all (dropped)
    frames = [[("c", calm[t]), ("l", lively[t])] for t in range(40)] + [[("z", later[t])] for t in range(15)]
    frames += [[], []]
    cleaned = clean_bodies(_file(tmp_path, frames), center=False)
    assert cleaned.actors == [["l", "z"], ["c"]]
    assert len(cleaned.xyz) == 55
    np.testing.assert_allclose(cleaned.xyz[:40, 0], lively[..., :3], atol=1e-6)
    np.testing.assert_allclose(cleaned.xyz[40:, 0], later[..., :3], atol=1e-6)
    np.testing.assert_allclose(cleaned.xyz[:40, 1], calm[..., :3], atol=1e-6)
    assert (cleaned.xyz[40:, 1] == 0).all()
    np.testing.assert_allclose(cleaned.color_xy[:40, 1], calm[..., 5:7], atol=1e-4)


def test_cleaning_drops_frames_without_actors_and_centres(tmp_path):
    rng = np.random.default_rng(4)
    a = ntu_body(rng, 30, move=0.6)  # the most motion: actor 1
    b = ntu_body(rng, 25, x0=1.0, move=0.3)
    c = ntu_body(rng, 14, x0=1.0, move=0.01)
    # b overlaps a, c overlaps both a and b: c is discarded, and frames 30-33 hold only c -> dropped
    frames = [[("a", a[t]), ("b", b[t])] if t < 25 else [("a", a[t])] for t in range(30)]
    frames = [f + ([("c", c[t - 20])] if t >= 20 else []) for t, f in enumerate(frames)] + \
        [[("c", c[t])] for t in range(10, 14)]
    cleaned = clean_bodies(_file(tmp_path, frames), center=True)
    assert cleaned.dropped["c"] == "overlaps both actors" and len(cleaned.xyz) == 30
    np.testing.assert_allclose(cleaned.xyz[0, 0, 1], 0, atol=1e-12)
    np.testing.assert_allclose(cleaned.xyz[:, 0], a[..., :3] - a[0, 1, :3], atol=1e-6)
    np.testing.assert_allclose(cleaned.xyz[:25, 1], b[..., :3] - a[0, 1, :3], atol=1e-6)
    assert (cleaned.xyz[25:, 1] == 0).all()


def test_splits_and_missing_lists():
    assert ntu_splits("S001C001P001R001A001", "ntu60") == {"xsub_train", "xview_test"}
    assert ntu_splits("S002C003P003R001A001", "ntu60") == {"xsub_test", "xview_train"}
    assert ntu_splits("S020C001P045R001A100", "ntu120") == {"xsub_train", "xset_train"}
    assert ntu_splits("S021C001P044R001A100", "ntu120") == {"xsub_test", "xset_test"}
    assert len(missing_skeletons("ntu60")) == 302 and len(missing_skeletons("ntu120")) == 535
    assert "S001C002P005R002A008" in missing_skeletons("ntu60")


def test_prepare_ntu_store(tmp_path):
    written = write_ntu(tmp_path / "raw", num_files=8)
    (tmp_path / "raw" / "S001C002P005R002A008.skeleton").write_text("on the missing list: never read")
    (tmp_path / "raw" / "S018C001P001R001A001.skeleton").write_text("an NTU120 setup: not part of ntu60")
    summary = prepare_ntu(tmp_path / "raw", tmp_path / "store", workers=2, center=False)
    assert summary.samples == 8 and not summary.rejected and len(summary.skipped) == 2
    store = SkeletonStore(tmp_path / "store")
    assert store.classes == NTU_CLASSES[:60] and store.body_layout == "ntu25" and store.has("color_xy")
    for i, name in enumerate(store.names):
        bodies = written[name]
        assert store.labels[i] == int(name[-3:]) - 1
        assert store.frames("body", i).shape == (40, 2, 25, 3)
        np.testing.assert_allclose(store.frames("body", i)[:, 0], bodies[0][..., :3], atol=1e-5)
        np.testing.assert_allclose(store.frames("color_xy", i)[:, 0], bodies[0][..., 5:7], atol=1e-3)
        assert frozenset(k for k, v in store.splits.items() if i in v) == ntu_splits(name, "ntu60")


def test_prepare_ntu120_and_centring(tmp_path):
    write_ntu(tmp_path / "raw", num_files=3)
    prepare_ntu(tmp_path / "raw", tmp_path / "store", benchmark="ntu120")
    store = SkeletonStore(tmp_path / "store")
    assert store.num_classes == 120 and set(store.splits) <= {"xsub_train", "xsub_test", "xset_train", "xset_test"}
    np.testing.assert_allclose(store.frames("body", 0)[0, 0, 1], 0, atol=1e-6)


def test_bad_files_reported_and_strict(tmp_path, capsys):
    write_ntu(tmp_path / "raw", num_files=3)
    (tmp_path / "raw" / ntu_name(action=2, subject=9)).with_suffix(".skeleton").write_text("2\n1\n")
    (tmp_path / "raw" / ntu_name(action=130)).with_suffix(".skeleton").write_text("1\n0\n")
    (tmp_path / "raw" / "notanntuname.skeleton").write_text("1\n0\n")
    summary = prepare_ntu(tmp_path / "raw", tmp_path / "store")
    problems = dict(summary.rejected)
    assert "truncated" in problems["S001C001P009R001A002.skeleton"]
    assert "unknown label A130" in problems["S001C001P001R001A130.skeleton"]
    assert "not an NTU sample name" in problems["notanntuname.skeleton"]
    assert len(SkeletonStore(tmp_path / "store")) == 3
    assert "S001C001P009R001A002.skeleton" in capsys.readouterr().err
    argv = ["prepare", "ntu", "--skeletons", str(tmp_path / "raw"), "--out", str(tmp_path / "s2"), "--strict"]
    assert main(argv) == 2


def _fake_hands(monkeypatch, fn):
    monkeypatch.setattr("bharnet.store.ntu.load_hands", fn)


def test_hands_joined_to_kept_frames(tmp_path, monkeypatch):
    written = write_ntu(tmp_path / "raw", num_files=2, frames=20)
    names = sorted(written)
    track = np.random.default_rng(5).normal(size=(20, 2, 21, 3)).astype(np.float32)

    def load_hands(hands_dir, sample_name):
        assert hands_dir == str(tmp_path / "hands")
        return (track, np.ones((20, 2, 21), np.float32)) if sample_name == names[0] else None

    _fake_hands(monkeypatch, load_hands)
    (tmp_path / "hands").mkdir()
    prepare_ntu(tmp_path / "raw", tmp_path / "store", hands=tmp_path / "hands", workers=1)
    store = SkeletonStore(tmp_path / "store")
    first, second = store.names.index(names[0]), store.names.index(names[1])
    assert store.has("hands") and store.has_hands[first] and not store.has_hands[second]
    np.testing.assert_allclose(store.frames("hands", first), track)
    assert (store.frames("hand_conf", second) == 0).all()


def test_prepare_real_sample(shared, tmp_path):
    path = shared / "data" / "ntu-sample" / "S001C001P001R001A001.skeleton"
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / path.name).symlink_to(path)
    prepare_ntu(tmp_path / "raw", tmp_path / "store", center=False)
    store = SkeletonStore(tmp_path / "store")
    oracle = np.load(f"{path}.npy", allow_pickle=True).item()["skel_body0"]
    assert store.names == ["S001C001P001R001A001"] and store.labels[0] == 0 and store.classes[0] == "drink water"
    np.testing.assert_allclose(store.frames("body", 0)[:, 0], oracle, atol=1e-6)
    assert (store.frames("body", 0)[:, 1] == 0).all()
    assert set(store.splits) == {"xsub_train", "xview_test"}
