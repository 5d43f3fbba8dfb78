"""``bharnet train`` (a run from its YAML config) and ``bharnet test`` (a checkpoint on a split)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bharnet.cli.flags import positive_int
from bharnet.core.interrupts import ctrl_c_deferred
from bharnet.core.jsontext import json_text
from bharnet.core.outputs import check_output_file


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    p = subparsers.add_parser("train", help="train a run: a data set and a model, or a YAML file",
                              description="Train a model: `bharnet train dataset=ntu60-xsub model=bharnet-e`, "
                                          "or a YAML run file; KEY=VALUE overrides any setting, e.g. "
                                          "optim.lr=0.05 trainer.devices=2.")
    p.add_argument("run", nargs="*", metavar="CONFIG | GROUP=NAME | KEY=VALUE",
                   help="a YAML run file and/or the groups dataset=NAME model=NAME (the packaged recipes), "
                        "then settings such as optim.lr=0.05")
    p.add_argument("--no-resume", action="store_true", help="start over even if the run has a last.ckpt")
    p.set_defaults(func=_train)

    p = subparsers.add_parser("test", help="test a checkpoint and write its scores file")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--data", type=Path, help="store to test on (default: the one it was trained on)")
    p.add_argument("--split", help="split name (default: the config's test split)")
    p.add_argument("--out", type=Path, help="scores file to write (.npz)")
    p.add_argument("--perturb", help="robustness test: noise=SIGMA, drop-frames=P or drop-hands=P")
    p.add_argument("--clips", type=positive_int, default=1, help="test-time augmentation: average this many views")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument("--device", help="cpu, cuda, cuda:1, ... (default: the GPU when there is one)")
    p.set_defaults(func=_test)


def _train(args: argparse.Namespace) -> int:
    with ctrl_c_deferred():
        from bharnet.engine.config import load_config, parse_run_args
        from bharnet.engine.fit import fit
    result = fit(load_config(*parse_run_args(args.run)), resume=not args.no_resume)
    best = f"  val/top1={result['best_score']:.4f}" if result["best_score"] is not None else ""
    print(f"run: {result['run_dir']}\nbest: {result['best']}{best}\nlast epoch: "
          + "  ".join(f"{k}={v:.4f}" for k, v in sorted(result["val"].items())))
    return 0


def _test(args: argparse.Namespace) -> int:
    with ctrl_c_deferred():
        from bharnet.engine.evaluate import test_checkpoint
        from bharnet.eval.scores import is_scores_file
    if args.out is not None:
        check_output_file(args.out, flag="--out", inputs=[args.checkpoint], ours=is_scores_file)
    metrics = test_checkpoint(args.checkpoint, store=args.data, split=args.split, out=args.out,
                              perturb=args.perturb, clips=args.clips, device=args.device)
    print(json_text(metrics, indent=1) if args.json else
          "  ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items()))
    return 0
