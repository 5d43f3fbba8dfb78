"""Subcommands that train, test and use models: ``train``, ``test``, ``predict``, ``demo``, ``ablate``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    p = subparsers.add_parser("train", help="train the run a YAML config describes",
                              description="Train a model. CONFIG is a YAML run description; KEY=VALUE overrides "
                                          "any setting, e.g. optim.lr=0.05 trainer.devices=2.")
    p.add_argument("config", type=Path)
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    p.add_argument("--no-resume", action="store_true", help="start over even if the run has a last.ckpt")
    p.set_defaults(func=_train)

    p = subparsers.add_parser("test", help="test a checkpoint and write its scores file")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--data", type=Path, help="store to test on (default: the one it was trained on)")
    p.add_argument("--split", help="split name (default: the config's test split)")
    p.add_argument("--out", type=Path, help="scores file to write (.npz)")
    p.add_argument("--perturb", help="robustness test: noise=SIGMA, drop-frames=P or drop-hands=P")
    p.add_argument("--clips", type=int, default=1, help="test-time augmentation: average this many views")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument("--device", help="cpu, cuda, cuda:1, ... (default: the GPU when there is one)")
    p.set_defaults(func=_test)

    p = subparsers.add_parser(
        "predict", help="classify the actions of videos with a trained checkpoint",
        description="Body (MediaPipe pose) and hands (MediaPipe hands on crops around the wrists) from each video, "
                    "then the checkpoint on windows of --clip seconds every --stride seconds (see docs/predict.md).")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("videos", nargs="+", metavar="VIDEO", help="video files or folders of videos")
    p.add_argument("--out", type=Path, help="folder for one <video>.json per video (needed for several videos; "
                                            "existing files are kept: a rerun resumes)")
    p.add_argument("--clip", type=float, default=3.0, help="window length in seconds (default 3)")
    p.add_argument("--stride", type=float, default=1.0, help="seconds between windows (default 1)")
    p.add_argument("--top", type=int, default=5, help="classes listed per window (default 5)")
    p.add_argument("--json", action="store_true", help="print the prediction (or the batch summary) as JSON")
    p.add_argument("--device", help="where the network runs: cpu, cuda, ... (default: the GPU when there is one)")
    p.add_argument("--hand-model", help="MediaPipe hand_landmarker.task (default: $BHARNET_HAND_MODEL, cache, "
                                        "download)")
    p.add_argument("--pose-model", help="MediaPipe pose_landmarker_full.task (default: $BHARNET_POSE_MODEL, cache, "
                                        "download)")
    mirror = p.add_mutually_exclusive_group()
    mirror.add_argument("--mirrored", dest="mirrored", action="store_true", default=None,
                        help="the videos are mirror images (default: NTU RGB+D videos are, others are not); "
                             "decides which side is the person's left")
    mirror.add_argument("--not-mirrored", dest="mirrored", action="store_false")
    p.set_defaults(func=_predict)

    p = subparsers.add_parser("demo", help="the whole method on BodyHand-Synth in minutes, no download")
    p.add_argument("--quick", action="store_true", help="smaller data and models: about 2 minutes")
    p.add_argument("--out", type=Path, default=Path("demo-out"))
    p.add_argument("--variants", help="comma-separated subset of the variants")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    p.set_defaults(func=_demo)

    p = subparsers.add_parser("ablate", help="train and compare variants with one recipe on any store")
    p.add_argument("config", type=Path)
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    p.add_argument("--variants", help="comma-separated variants (default: all)")
    p.add_argument("--finetune", action="append", metavar="KEY=VALUE",
                   help="override for the second stage (the variants started from the experts), e.g. "
                        "--finetune trainer.max_epochs=10 --finetune optim.lr=0.05")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=_ablate)


def _train(args: argparse.Namespace) -> int:
    from ..engine.config import load_config
    from ..engine.run import fit

    result = fit(load_config(args.config, args.overrides), resume=not args.no_resume)
    print(f"run: {result['run_dir']}  best: {result['best']}  "
          + "  ".join(f"{k}={v:.4f}" for k, v in sorted(result["val"].items())))
    return 0


def _test(args: argparse.Namespace) -> int:
    from ..engine.evaluate import test_checkpoint

    metrics = test_checkpoint(args.checkpoint, store=args.data, split=args.split, out=args.out,
                              perturb=args.perturb, clips=args.clips, device=args.device)
    print(json.dumps(metrics, indent=1) if args.json else
          "  ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items()))
    return 0


def _predict(args: argparse.Namespace) -> int:
    from ..errors import UserError
    from ..predict import predict_video, predict_videos

    options = {"clip_seconds": args.clip, "stride_seconds": args.stride, "top": args.top,
               "pose_model": args.pose_model, "hand_model": args.hand_model, "device": args.device,
               "mirrored": args.mirrored}
    if args.out is None:
        if len(args.videos) != 1 or Path(args.videos[0]).is_dir():
            raise UserError("several videos: give --out DIR (one JSON file per video)")
        result = predict_video(args.checkpoint, args.videos[0], **options)
        if args.json:
            print(json.dumps(result.as_dict(), indent=1))
        else:
            _print_prediction(result)
        return 0
    summary = predict_videos(args.checkpoint, args.videos, args.out, **options)
    if args.json:
        print(json.dumps({"done": len(summary.done), "skipped": summary.skipped, "failed": summary.failed,
                          "top1": {r.video: r.top[0] for r in summary.done}}, indent=1))
    elif len(summary.done) == 1 and not summary.failed:
        _print_prediction(summary.done[0])
    else:
        _print_batch(summary, args.out)
    return 1 if summary.failed and not summary.done and not summary.skipped else 0


def _print_prediction(result) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{result.video}: {result.frames} frames at {result.fps:g} fps, "
                        f"person {result.person or 'none'}, a hand in {result.frames_with_hand} frames")
    table.add_column("seconds")
    table.add_column("top classes (probability)")
    for window in result.windows:
        table.add_row(f"{window.start:.1f}-{window.end:.1f}",
                      ", ".join(f"{name} ({p:.2f})" for name, p in window.top))
    table.add_row("whole video", ", ".join(f"{name} ({p:.2f})" for name, p in result.top), style="bold")
    Console().print(table)


def _print_batch(summary, out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(summary.done)} videos predicted, {summary.skipped} already in {out}, "
                        f"{len(summary.failed)} failed")
    for column in ("video", "frames", "top class", "probability"):
        table.add_column(column)
    for result in summary.done:
        name, p = result.top[0]
        table.add_row(Path(result.video).name, str(result.frames), name, f"{p:.2f}")
    console = Console()
    console.print(table)
    for video, reason in summary.failed.items():
        console.print(f"[red]failed[/red] {reason if video in reason else f'{video}: {reason}'}", highlight=False)


def _variants(text: str | None) -> list[str] | None:
    return [v.strip() for v in text.split(",") if v.strip()] if text else None


def _demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    run_demo(args.out, quick=args.quick, variants=_variants(args.variants), overrides=args.overrides)
    return 0


def _ablate(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..ablation import VARIANTS, ablation_config, run_ablation
    from ..demo import results_table, write_report

    results = run_ablation(ablation_config(args.config, args.overrides), _variants(args.variants) or list(VARIANTS),
                           args.out, finetune=args.finetune)
    Console().print(results_table(results))
    write_report(results, args.out)
    return 0
