"""`bharnet live`: a video file played at its frame rate stands in for the camera."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from bharnet.cli import main
from bharnet.engine.fit import fit
from bharnet.video.live_loop import no_decision, run_live
from bharnet.video.source import LatestSlot, open_source
from bharnet.video.stream import FrameMarks

pytest.importorskip("cv2")
av = pytest.importorskip("av")

pytestmark = pytest.mark.integration  # trains, MediaPipe

FPS = 10.0


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A generated 2-second video: 20 frames at 10 fps, a square moving across."""
    from bharnet.video.decode import write_video

    frames = np.zeros((20, 48, 64, 3), np.uint8)
    for t in range(20):
        frames[t, 10:30, 3 * t:3 * t + 10] = 255
    return write_video(tmp_path_factory.mktemp("live") / "clip.mp4", frames, fps=FPS)


class FakeExtractor:
    """Stands in for the landmarkers; ``delay`` seconds of work per frame."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay, self.indices = delay, []

    def locate(self, image, index):
        if self.delay:
            time.sleep(self.delay)
        return index

    def find_hands(self, image, located):
        self.indices.append(located)
        return FrameMarks(None, np.zeros((2, 21, 2)), np.zeros(2, bool))

    def window(self, frames=None):
        return type("Window", (), {"indices": np.array(self.indices[-frames:])})()


def classify_after(delay: float):
    def classify(state):
        time.sleep(delay)
        return np.array([0.7, 0.2, 0.1])
    return classify


def test_a_file_source_plays_at_its_frame_rate(clip):
    with open_source(str(clip)) as source:
        assert source.kind == "file" and source.paced and source.fps == pytest.approx(FPS)
        frames = list(source)
    assert [f.index for f in frames] == list(range(20)) and frames[0].image.shape == (48, 64, 3)
    # frame k is delivered no earlier than k / fps after the first
    assert all(f.captured - frames[0].captured >= f.index / FPS - 0.02 for f in frames)


def test_decisions_come_at_the_stride_with_latencies(clip):
    decisions = []
    with open_source(str(clip)) as source:
        stats = run_live(source, source.fps, FakeExtractor(), classify_after(0.0), ["a", "b", "c"],
                         window_seconds=1.0, stride_seconds=0.5, top=2, on_decision=decisions.append)
    assert stats.frames_read == 20 and stats.frames_processed + stats.frames_dropped == 20
    # a window after every 0.5 s of the source: 0.5, 1.0, 1.5, 2.0 (a dropped frame delays it by a frame)
    assert len(decisions) == stats.decisions == stats.windows == 4
    for k, decision in enumerate(decisions, 1):
        assert 0.5 * k <= decision.time < 0.5 * k + 0.5
        assert decision.top == [("a", 0.7), ("b", 0.2)] and decision.latency_ms > 0
    line = json.loads(json.dumps(decisions[0].as_dict()))
    assert set(line) == {"time", "start", "top", "latency_ms", "frames"}
    assert stats.summary()["latency_ms_p95"] >= stats.summary()["latency_ms_p50"] > 0


def test_a_slow_model_drops_stale_windows_instead_of_queueing_them(clip):
    decisions = []
    with open_source(str(clip)) as source:
        stats = run_live(source, source.fps, FakeExtractor(), classify_after(0.45), ["a", "b", "c"],
                         window_seconds=1.0, stride_seconds=0.1, on_decision=decisions.append)
    # 20 windows offered; each was decided or replaced by a newer one while the model was busy
    assert stats.windows >= 18 and stats.windows_dropped > 0
    assert stats.decisions + stats.windows_dropped == stats.windows
    assert stats.decisions < stats.windows / 2
    # each decision is about the newest window offered while the model was busy, not a queued one
    assert [d.time for d in decisions] == sorted(d.time for d in decisions)


def test_a_slow_extraction_drops_frames_instead_of_queueing_them(clip):
    extractor = FakeExtractor(delay=0.25)  # 4 frames per second of a 10 fps source
    with open_source(str(clip)) as source:
        stats = run_live(source, source.fps, extractor, classify_after(0.0), ["a", "b", "c"],
                         window_seconds=1.0, stride_seconds=0.5)
    assert stats.frames_read == 20 and stats.frames_dropped > 0
    assert stats.frames_processed + stats.frames_dropped == 20
    assert extractor.indices == sorted(extractor.indices)  # always the newest frame, in order


def test_the_latest_slot_keeps_one_item():
    slot: LatestSlot[int] = LatestSlot()
    for k in range(5):
        slot.put(k)
    slot.close()
    assert slot.get() == 4 and slot.get() is None and slot.dropped == 4 and slot.taken == 1


def _strict_json(line: str):
    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")
    return json.loads(line, parse_constant=refuse)


def test_a_source_shorter_than_the_window_says_no_decision_and_exits_1(clip, monkeypatch, capsys):
    import bharnet.workflows.live as live_workflow

    with open_source(str(clip)) as source:  # 20 frames; nobody to classify in its short windows
        stats = run_live(source, source.fps, FakeExtractor(), lambda window: None, ["a", "b", "c"],
                         window_seconds=3.0, stride_seconds=0.5)
    assert stats.decisions == 0 and stats.window_frames == 30
    assert no_decision(stats, "clip.mp4") == "clip.mp4: 20 frames, shorter than the 30-frame window: no decision"
    monkeypatch.setattr(live_workflow, "live", lambda checkpoint, source, **options: stats)  # the command's import
    assert main(["live", "x.ckpt", "--source", str(clip), "--json", "--no-display"]) == 1
    captured = capsys.readouterr()
    summary = _strict_json(captured.out)["summary"]  # no decision: no latency, null rather than NaN
    assert summary["latency_ms_p50"] is None and summary["decisions"] == 0
    assert f"{clip}: 20 frames, shorter than the 30-frame window: no decision" in captured.err
    assert main(["live", "x.ckpt", "--source", str(clip), "--no-display"]) == 1
    assert "0 decisions, no latency" in capsys.readouterr().err


def test_a_source_with_nobody_in_view_says_so(clip):
    with open_source(str(clip)) as source:
        stats = run_live(source, source.fps, FakeExtractor(), lambda window: None, ["a", "b", "c"],
                         window_seconds=1.0, stride_seconds=0.5)
    assert no_decision(stats, "clip.mp4") == "clip.mp4: no decision in 4 windows (nobody in view?)"


def test_sources_that_cannot_be_opened_are_named(tmp_path, capsys):
    assert main(["live", str(tmp_path / "x.ckpt"), "--source", str(tmp_path / "none.mp4"), "--no-display"]) == 2
    err = capsys.readouterr().err
    assert "none.mp4: no such video file" in err or "x.ckpt not found" in err


@pytest.fixture(scope="module")
def hand_expert(make_sequence, tiny_config, write_store, tmp_path_factory):
    root = tmp_path_factory.mktemp("live-ckpt")
    write_store(root / "s", [make_sequence(i, frames=20) for i in range(12)])
    return fit(tiny_config(root / "s", root, name="hand", model={"name": "hand-expert"},
                           trainer={"max_epochs": 1}), quiet=True)["last"]


@pytest.mark.slow  # about 20 s of MediaPipe on a 2-core machine, plus a training
def test_live_on_real_video_with_the_checkpoint(hand_expert, cup_clip, hand_model, pose_model, tmp_path, capsys):
    """cup.mp4 (every 4th frame, 6.75 fps, 8 s) as the camera: MediaPipe per frame, the network every second."""
    render = tmp_path / "overlay.mp4"
    argv = ["live", str(hand_expert), "--source", str(cup_clip), "--json", "--window", "2", "--stride", "1",
            "--render", str(render), "--no-display", "--backend", "eager", "--hand-model", str(hand_model),
            "--pose-model", str(pose_model)]
    assert main(argv) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    decisions, summary = lines[:-1], lines[-1]["summary"]
    assert summary["frames_read"] == 55 and summary["decisions"] == len(decisions) >= 1
    assert all(d["latency_ms"] > 0 and len(d["top"]) == 3 and d["top"][0][0] in "abc" for d in decisions)
    with av.open(str(render)) as video:
        assert sum(1 for _ in video.decode(video=0)) == summary["frames_processed"]
    assert not list(tmp_path.glob(".*partial*"))


def test_a_camera_is_the_same_source_with_an_index(monkeypatch, clip):
    """No camera here: a camera index goes through the very code a file does, only
    cv2.VideoCapture gets the index (here answered by the file)."""
    import cv2

    from bharnet.video import source as source_module

    opened = []
    real = cv2.VideoCapture

    def capture(target):
        opened.append(target)
        return real(str(clip))

    monkeypatch.setattr(cv2, "VideoCapture", capture)
    with source_module.open_source("0") as camera:
        assert camera.kind == "camera" and not camera.paced  # a camera paces itself
        assert len(list(camera)) == 20
    assert opened == [0]


@pytest.mark.slow  # the ONNX export takes about ten seconds
def test_onnx_runtime_gives_the_probabilities_of_pytorch(hand_expert, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from bharnet.engine.checkpoints import load_checkpoint
    from bharnet.tools.benchmark import make_inputs
    from bharnet.workflows.predict import Network

    monkeypatch.setenv("BHARNET_CACHE", str(tmp_path))
    module = load_checkpoint(hand_expert)
    inputs = make_inputs(module.model, 3, int(module.config["data"]["window"]))
    messages = []
    onnx = Network(module, hand_expert, "onnx", log=messages.append)
    assert onnx.backend == "onnx" and len(list((tmp_path / "onnx").glob("*.onnx"))) == 1  # exported once, cached
    assert messages[0].startswith(f"exporting {hand_expert} to ONNX") and messages[1].startswith("exported in")
    np.testing.assert_allclose(onnx(inputs), Network(module, hand_expert, "eager", "cpu")(inputs), atol=1e-4)


def test_people_and_hand_search_of_live(hand_expert, hand_model, pose_model):
    from bharnet.core.errors import UserError
    from bharnet.workflows.live import HAND_SEARCHES, LiveRecognizer

    models = {"hand_model": hand_model, "pose_model": pose_model, "backend": "eager"}
    recognizer = LiveRecognizer(hand_expert, **models)
    assert recognizer.config.num_poses == recognizer.meta["num_persons"]
    assert recognizer.config.search == HAND_SEARCHES["live"]  # bounded work per frame
    assert LiveRecognizer(hand_expert, hand_search="full", **models).config.search.trace_back > 0
    assert LiveRecognizer(hand_expert, people=1, **models).config.num_poses == 1
    with pytest.raises(UserError, match="--people must be at least 1"):
        LiveRecognizer(hand_expert, people=0, **models)
