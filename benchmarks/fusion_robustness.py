"""Robustness of fusion choices: top-1 under keypoint noise, dropped frames and missing hands.

    PYTHONPATH=src python benchmarks/fusion_robustness.py ABLATION_DIR [--seed 0] [--tested score-fusion,bharnet-e]

Tests the checkpoints of ``bharnet demo`` / ``bharnet ablate`` (ABLATION_DIR/runs/<variant>) on
their test split, clean and under each perturbation (``bharnet test --perturb``). The fused
variants of ``score-fusion`` (``noisy-or``, ``reliability-fusion``) are applied to its perturbed
body and hand scores (the same inputs, since a perturbation is seeded), so each perturbation
runs two networks only. Writes the scores files and ``robustness.md`` / ``.png`` / ``.json`` to
ABLATION_DIR/robustness and prints one Markdown table per perturbation kind.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bharnet.engine.derived import fused_scores
from bharnet.engine.evaluate import test_checkpoint
from bharnet.eval.report import write_robustness_report
from bharnet.eval.scores import load_scores

TESTED = ("score-fusion", "bharnet-e")
FUSED = ("noisy-or", "reliability-fusion")
#: hands are in image units (0.01 is about 19 px of a 1920-px frame), bodies in metres
PERTURBATIONS = ("noise=0.01", "noise=0.03", "noise=0.1", "drop-frames=0.5", "drop-frames=0.8", "drop-hands=0.5",
                 "drop-hands=1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tested", default=",".join(TESTED), help="the networks to run (default: %(default)s)")
    args = parser.parse_args()
    folder = args.out / "robustness"
    files = []
    for spec in ("none", *PERTURBATIONS):
        for variant in args.tested.split(","):
            path = folder / f"{variant}_{spec.replace('=', '_')}.npz"
            if not path.exists():  # resumable: a scores file is written whole or not at all
                test_checkpoint(args.out / "runs" / variant / "checkpoints" / "last.ckpt", out=path,
                                perturb=None if spec == "none" else spec, seed=args.seed, device="cpu")
            files.append(path)
        for variant in FUSED:
            path = folder / f"{variant}_{spec.replace('=', '_')}.npz"
            fused_scores(args.out / "runs" / variant / "checkpoints" / "last.ckpt",
                         load_scores(folder / f"score-fusion_{spec.replace('=', '_')}.npz"), path)
            files.append(path)
    data = write_robustness_report(files, folder)
    for kind, models in sorted(data["curves"].items()):
        strengths = sorted({p["strength"] for pts in models.values() for p in pts})
        print(f"\n{kind}\n\n| model | " + " | ".join(f"{s:g}" for s in strengths) + " |")
        print("|---|" + "---:|" * len(strengths))
        for label, pts in models.items():
            row = {p["strength"]: p["top1"] for p in pts}
            print(f"| {label} | " + " | ".join(f"{100 * row[s]:.1f}" for s in strengths) + " |")
    print(f"\nreport: {folder / 'robustness.md'}")


if __name__ == "__main__":
    main()
