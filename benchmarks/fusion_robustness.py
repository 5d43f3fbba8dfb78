"""Robustness of fusion choices: top-1 under keypoint noise, dropped frames and missing hands.

    PYTHONPATH=src python benchmarks/fusion_robustness.py ABLATION_DIR [--variants ...] [--seed 0]

Tests the checkpoints of ``bharnet demo`` / ``bharnet ablate`` (ABLATION_DIR/runs/<variant>) on
their test split, clean and under each perturbation (``bharnet test --perturb``), writes the
scores files and ``robustness.md`` / ``.png`` / ``.json`` to ABLATION_DIR/robustness, and prints
one Markdown table per perturbation kind.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bharnet.engine.evaluate import test_checkpoint
from bharnet.eval.report import write_robustness_report

VARIANTS = ("score-fusion", "noisy-or", "reliability-fusion", "bharnet-e")
#: hands are in image units (0.01 is about 19 px of a 1920-px frame), bodies in metres
PERTURBATIONS = ("noise=0.005", "noise=0.01", "noise=0.02", "drop-frames=0.25", "drop-frames=0.5",
                 "drop-frames=0.75", "drop-hands=0.25", "drop-hands=0.5", "drop-hands=0.75")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    folder = args.out / "robustness"
    files = []
    for variant in args.variants.split(","):
        checkpoint = args.out / "runs" / variant / "checkpoints" / "last.ckpt"
        for spec in ("none", *PERTURBATIONS):
            path = folder / f"{variant}_{spec.replace('=', '_')}.npz"
            if not path.exists():  # resumable: a scores file is written whole or not at all
                test_checkpoint(checkpoint, out=path, perturb=None if spec == "none" else spec, seed=args.seed,
                                device="cpu")
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
