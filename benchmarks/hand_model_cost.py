"""What one hand costs: MediaPipe's hand landmarker call against the landmark model inside its task
file run directly through LiteRT, one hand per call and two hands in one call. Run pinned to one
core and say the machine's load (``uptime``) with the numbers:

    pip install ai-edge-litert   # not a dependency of bharnet: only this measurement needs it
    taskset -c 0 python benchmarks/hand_model_cost.py [--shared ../shared] [--calls 100]

MediaPipe runs in VIDEO mode over cup.mp4 (a large hand in every frame, so that after the first
frame it follows the hand with the landmark model alone, as the hand search does); LiteRT runs the
task file's ``hand_landmarks_detector.tflite`` (224x224 input) on the same frames resized. Prints
ms of CPU time per hand for each: what a landmark runner of our own could save per call, and what
batching both hands of a frame saves.
"""

from __future__ import annotations

import argparse
import sys
import time
import zipfile
from pathlib import Path

import cv2
import numpy as np

from bharnet.video.decode import iter_frames
from bharnet.video.landmarker import HandLandmarker

LANDMARK_MODEL = "hand_landmarks_detector.tflite"


def cpu_ms_per_call(fn, calls: int) -> float:
    fn(0)  # warm up (and, for MediaPipe, find the hand once)
    start = time.process_time()
    for k in range(1, calls + 1):
        fn(k)
    return 1000 * (time.process_time() - start) / calls


def litert_runner(task: Path, batch: int):
    from ai_edge_litert.interpreter import Interpreter

    with zipfile.ZipFile(task) as z:
        model = z.read(LANDMARK_MODEL)
    interpreter = Interpreter(model_content=model, num_threads=1)
    entry = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(entry["index"], [batch, *entry["shape"][1:]])
    interpreter.allocate_tensors()

    def run(images: np.ndarray) -> None:
        interpreter.set_tensor(entry["index"], images)
        interpreter.invoke()

    return run, tuple(int(v) for v in entry["shape"][1:3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared")
    parser.add_argument("--calls", type=int, default=100, help="timed calls per runner")
    args = parser.parse_args()
    task = args.shared / "models" / "hand_landmarker.task"
    video = args.shared / "data" / "media" / "cup.mp4"
    for path in (task, video):
        if not path.exists():
            print(f"{path}: not found (give --shared, the folder with models/ and data/)", file=sys.stderr)
            return 2
    try:
        import ai_edge_litert  # noqa: F401
    except ImportError:
        print("ai-edge-litert is not installed: pip install ai-edge-litert (only this measurement needs it)",
              file=sys.stderr)
        return 2
    frames = [f for _, f in zip(range(args.calls + 1), iter_frames(video), strict=False)]
    calls = len(frames) - 1
    with HandLandmarker(task, video=True, num_hands=1) as mediapipe:
        found = []
        mp_ms = cpu_ms_per_call(lambda k: found.append(bool(mediapipe.detect(frames[k], k))), calls)
    one, size = litert_runner(task, 1)
    two, _ = litert_runner(task, 2)
    inputs = np.stack([cv2.resize(f, size[::-1]) for f in frames]).astype(np.float32) / 255.0
    one_ms = cpu_ms_per_call(lambda k: one(inputs[k:k + 1]), calls)
    pairs = np.stack([inputs, np.roll(inputs, 1, axis=0)], axis=1)  # two hands a call
    two_ms = cpu_ms_per_call(lambda k: two(pairs[k]), calls) / 2
    print(f"{calls} calls, one thread; MediaPipe found the hand in {sum(found)} of {len(found)} frames")
    print(f"MediaPipe HandLandmarker (VIDEO mode, following the hand): {mp_ms:.1f} ms a hand")
    print(f"landmark model through LiteRT, one hand a call:            {one_ms:.1f} ms a hand")
    print(f"landmark model through LiteRT, two hands a call:           {two_ms:.1f} ms a hand")
    return 0


if __name__ == "__main__":
    sys.exit(main())
