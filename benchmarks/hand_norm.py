"""Which hand normalisation serves which gestures: one table per kind x model x ``data.hand_norm``.

    PYTHONPATH=src python benchmarks/hand_norm.py [--out DIR] [--seeds 1 2 3] [--epochs 16] [--samples 1500]
        [--kinds motion shape body+hand video] [--shared ../shared]

Three kinds of BodyHand-Synth (docs/synthetic.md), each a store with unseen test actors, and one
of real video:

- ``motion``: the ``hand-only`` preset, one pointing hand drawing circles, stars, ticks, swipes and
  taps close to the camera, no body: only the hand's path tells the classes apart;
- ``shape``: the ten hand-shape classes (OK, V, thumb up, fist, count, grasp, ...), one arm motion;
- ``body+hand``: the ``hand-dominant`` preset (hand shapes at three arm positions, a noisy body);
- ``video``: cup.mp4's real hand moved along five drawn paths (``moved_clips.py``: 240 clips of
  40 frames, 135 train, 35 val, 70 test), through ``prepare custom --videos`` (MediaPipe), no
  body; trained for 100 epochs (``--video-epochs``): 800 steps, as many as 12.5 of the others.

Two models from scratch on each (the hand expert alone; ``joint``, body and hand streams trained
together with the complementary loss), tiny (DeGCN, 8 base channels, 16-frame windows), one
thread. The default budget, 1500 samples per kind (about 1020 train, 180 val, 300 test) and 16
epochs (about 3 minutes of one core a hand-expert run), is the cheapest of those tried (8, 10, 16
epochs) at which the hand expert has converged on the shape classes and its seeds agree (93.0-94.0 %
for ``wrist``): at 10 epochs a seed that started slowly was still climbing at the last epoch (71-90 %
over three seeds); at 500 samples and 12 epochs the shape classes stayed at 10-51 %. Each cell is the test top-1
of the checkpoint best on val, mean over the seeds and their range ("diverged" where training ended
in NaN weights); the ``auto`` column (the default) is the run of what it settles on for that
kind's store, named in brackets. Prints a Markdown table, then the seconds it took. ``--out DIR`` keeps the stores
and each run's result, so a rerun (more seeds, other models) continues where it stopped.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

from bharnet.data.transforms import HAND_NORMS
from bharnet.data.view import AUTO_HAND_NORM
from bharnet.engine.config import make_config
from bharnet.engine.evaluate import test_checkpoint
from bharnet.engine.fit import fit, settle_hand_norm
from bharnet.store.custom import prepare_custom
from bharnet.synth.store import write_synth_store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from moved_clips import write_moved_clips  # noqa: E402

HAND_SHAPES = ("ok_sign", "victory_sign", "thumb_up", "thumb_down", "fist", "point", "call_me", "count", "grasp",
               "pinch")
KINDS = {"motion": {"preset": "hand-only"}, "shape": {"classes": HAND_SHAPES},
         "body+hand": {"preset": "hand-dominant"}, "video": None}
MODELS = ("hand-expert", "joint")
ORDER = ("wrist", "sample", "none", "wrist+traj", AUTO_HAND_NORM)
VIDEO_CLIPS_PER_CLASS = 48
assert set(ORDER) == {*HAND_NORMS, AUTO_HAND_NORM}


def _store(root: Path, kind: str, samples: int, shared: Path) -> Path:
    path = root / "stores" / kind
    if path.exists():
        return path
    if kind == "video":
        clips = write_moved_clips(root / "moved-clips", shared, per_class=VIDEO_CLIPS_PER_CLASS)
        models = shared / "models"
        prepare_custom(clips, path, videos=True, pose_model=models / "pose_landmarker_full.task",
                       hand_model=models / "hand_landmarker.task", progress=False)
    else:
        write_synth_store(path, num_samples=samples, seed=0, max_frames=80, **KINDS[kind])
    return path


def _settled(store: Path) -> str:
    """What the default, ``auto``, settles on for a store: its run is that normalisation's."""
    return settle_hand_norm(make_config({"data": {"store": str(store)}})).data.hand_norm


def _run(root: Path, store: Path, model: str, norm: str, seed: int, epochs: int) -> float | None:
    name = f"{store.name}-{model}-{norm}-{seed}"
    done = root / "results" / f"{name}.json"
    if done.exists():  # a rerun continues where it stopped
        return json.loads(done.read_text())["top1"]
    cfg = make_config({
        "name": name, "out_dir": str(root / "runs"), "seed": seed,
        "data": {"store": str(store), "val_split": "val", "window": 16, "hand_norm": norm, "batch_size": 16,
                 "num_workers": 0, "eval_batch_size": 64},
        "model": {"name": model, "base_channels": 8, "attention": {"heads": 2, "head_dim": 8, "nb_features": 16}},
        "optim": {"lr": 0.05, "warmup_epochs": 1},
        "trainer": {"max_epochs": epochs, "accelerator": "cpu", "devices": 1, "enable_progress_bar": False,
                    "log_every_n_steps": 50},
    })
    try:
        top1 = test_checkpoint(fit(cfg, resume=False, quiet=True)["best"], device="cpu")["top1"]
    except ValueError as err:  # training diverged (NaN weights): a result too
        print(f"{name}: diverged ({err})", file=sys.stderr)
        top1 = None
    done.parent.mkdir(parents=True, exist_ok=True)
    done.write_text(json.dumps({"top1": top1}))
    return top1


def _cell(values: list[float | None]) -> str:
    if None in values:
        return f"diverged ({values.count(None)} of {len(values)})"
    mean = 100 * sum(values) / len(values)
    if len(values) == 1:
        return f"{mean:.1f}"
    return f"{mean:.1f} ({100 * min(values):.0f}-{100 * max(values):.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="where stores and runs go (default: a temporary folder)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--epochs", type=int, default=16)
    parser.add_argument("--video-epochs", type=int, default=100,
                        help="the video kind's: its 135 training clips make 8 steps an epoch, the others' 64")
    parser.add_argument("--samples", type=int, default=1500, help="per kind: train, val and test together")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--norms", nargs="+", default=list(ORDER), choices=list(ORDER))
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared",
                        help="the shared folder (cup.mp4 and the MediaPipe models) for the video kind")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.out or Path(tmp)
        print(f"| kind | model | {' | '.join(args.norms)} |\n|---|---|{'---|' * len(args.norms)}")
        for kind in args.kinds:
            store = _store(root, kind, args.samples, args.shared)
            auto = _settled(store)
            concrete = {norm: auto if norm == AUTO_HAND_NORM else norm for norm in args.norms}
            epochs = args.video_epochs if kind == "video" else args.epochs
            for model in args.models:
                cells = [_cell([_run(root, store, model, concrete[norm], s, epochs) for s in args.seeds])
                         + (f" (`{auto}`)" if norm == AUTO_HAND_NORM else "") for norm in args.norms]
                print(f"| {kind} | {model} | {' | '.join(cells)} |", flush=True)
    print(f"\n{len(args.seeds)} seed(s) {args.seeds}, {args.epochs} epochs ({args.video_epochs} for the video "
          f"kind), {args.samples} samples per synthetic kind; "
          f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
