"""Speed of ``bharnet live`` on a file source: frames per second through pose + both hands, and the
p50 / p95 decision latency (from the capture of a window's last frame to its decision).

    python benchmarks/live_speed.py CHECKPOINT [--source FILE] [--seconds 30] [--stride 0.5]
        [--window 3] [--backend auto|onnx|eager] [--pose-model full|lite|PATH] [--people N]
        [--hand-search live|full] [--render OUT.mp4]

Without ``--source`` the NTU sample video (../shared/data/ntu-sample, one person) is scaled and padded
to 640x480 and looped to ``--seconds``. Two runs: the file played at its frame rate (as a camera;
frames the pipeline cannot keep up with are dropped) and the file read as fast as the pipeline takes
frames (its throughput). Prints the machine load, then per run: fps, drops, latency and the mean
milliseconds of each stage (pose, follow, hands per frame; assemble, inputs, network per decision).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
NTU_VIDEO = SHARED / "data" / "ntu-sample" / "S001C001P001R001A001_rgb.avi"


def one_person_640x480(seconds: float, out: Path) -> Path:
    """The NTU sample (1920x1080) scaled to 640x360, padded to 640x480 and looped."""
    import cv2

    from bharnet.video.decode import iter_frames, probe_video, write_video

    if not NTU_VIDEO.is_file():
        sys.exit(f"{NTU_VIDEO} is absent: give --source FILE (640x480, one person)")
    fps = probe_video(NTU_VIDEO).fps
    frames = []
    for image in iter_frames(NTU_VIDEO):
        canvas = np.zeros((480, 640, 3), np.uint8)
        canvas[60:420] = cv2.resize(image, (640, 360), interpolation=cv2.INTER_AREA)
        frames.append(canvas)
    loops = int(np.ceil(seconds * fps / len(frames)))
    # forwards then backwards, so the loop has no jump
    cycle = frames + frames[::-1]
    return write_video(out, (cycle * loops)[:round(seconds * fps)], fps=fps)


def mirrored(args: argparse.Namespace) -> bool | None:
    """The NTU sample is a mirror image (Kinect colour); a given source is told by its name."""
    return True if args.source is None else None


def run(checkpoint: str, source: Path, paced: bool, args: argparse.Namespace) -> dict:
    from bharnet.workflows.live import live

    stats = live(checkpoint, str(source), window_seconds=args.window, stride_seconds=args.stride, top=3,
                 render=args.render if paced else None, display=False, pose_model=args.pose_model,
                 backend=args.backend, paced=paced, mirrored=mirrored(args), people=args.people,
                 hand_search=args.hand_search)
    return stats.summary()


def cpu_per_stage(checkpoint: str, source: Path, args: argparse.Namespace, frames: int = 300) -> dict:
    """CPU milliseconds (the whole process, so MediaPipe's own threads count) of each stage, run
    one after the other on ``frames`` frames: what a frame and a decision cost whatever the load;
    and in how many of these frames the network gets a left and a right hand (found, or filled
    into a short gap)."""
    from bharnet.video.decode import iter_frames, probe_video
    from bharnet.video.landmarker import REUSABLE
    from bharnet.workflows.live import LiveRecognizer

    recognizer = LiveRecognizer(checkpoint, pose_model=args.pose_model, backend=args.backend, mirrored=mirrored(args),
                                people=args.people, hand_search=args.hand_search)
    fps = probe_video(source).fps
    cost = {"pose": 0.0, "hands": 0.0, "decision": 0.0}
    with REUSABLE.session():
        stream = recognizer.stream(fps, frames / fps, source.name)  # keeps them all, to count their hands
        done = 0
        for index, image in enumerate(iter_frames(source)):
            if index == frames:
                break
            done += 1
            began = time.process_time()
            located = stream.locate(image, index)
            posed = time.process_time()
            stream.find_hands(image, located)
            cost["pose"] += posed - began
            cost["hands"] += time.process_time() - posed
        frames = done  # fewer when the source is shorter
        skeleton = recognizer.skeleton(stream.window())
        window = stream.window(round(args.window * fps))
    hands = [0, 0] if skeleton is None else (skeleton.hand_conf.max(axis=2) > 0).sum(axis=0).tolist()
    repeats = 10
    began = time.process_time()
    for _ in range(repeats):
        recognizer.classify(window)
    cost["decision"] = (time.process_time() - began) / repeats * frames
    return ({f"{k}_cpu_ms": round(1e3 * v / frames, 1) for k, v in cost.items()}
            | {"frames": frames, "frames_with_left_right_hand": hands})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("--source", type=Path)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--window", type=float, default=3.0)
    parser.add_argument("--stride", type=float, default=0.5)
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--pose-model")
    parser.add_argument("--people", type=int, help="people the pose landmarker follows (default: the checkpoint's)")
    parser.add_argument("--hand-search", default="live", help="live or full (HAND_SEARCHES of bharnet.video.search)")
    parser.add_argument("--render", type=Path)
    args = parser.parse_args()
    offline = (("BHARNET_HAND_MODEL", "hand_landmarker.task"), ("BHARNET_POSE_MODEL", "pose_landmarker_full.task"))
    for env, name in offline:
        if (SHARED / "models" / name).is_file():  # the offline copies, unless the environment names others
            os.environ.setdefault(env, str(SHARED / "models" / name))
    with tempfile.TemporaryDirectory() as tmp:
        source = args.source or one_person_640x480(args.seconds, Path(tmp) / "one-person-640x480.mp4")
        from bharnet.video.decode import probe_video

        info = probe_video(source)
        print(f"source: {source.name if args.source else 'NTU sample at 640x480'} {info.width}x{info.height}, "
              f"{info.frames} frames at {info.fps:g} fps; load average {os.getloadavg()[0]:.2f} on "
              f"{os.cpu_count()} cores")
        print("cpu per stage (one after the other; a decision's cost is per decision): "
              + json.dumps(cpu_per_stage(args.checkpoint, source, args)))
        for paced in (True, False):
            summary = run(args.checkpoint, source, paced, args)
            print(f"{'at its frame rate' if paced else 'as fast as taken'}: " + json.dumps(summary))
        print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
