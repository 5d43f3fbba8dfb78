"""Why a fused model can lose to its best expert: calibration, flips, the joint model's hand branch.

    PYTHONPATH=src python benchmarks/fusion_analysis.py ABLATION_DIR

Reads what ``bharnet ablate`` / ``bharnet demo`` leave in ABLATION_DIR (``results.json`` and each
variant's scores file, ``runs/<variant>/test_scores.npz``) and prints Markdown tables:

1. calibration of every expert branch on the test split (top-1, mean confidence, ECE, NLL, mean
   confidence of the wrong answers);
2. per fused model: top-1, and how many test samples it turns from right to wrong and from wrong
   to right against the stronger expert;
3. the fitted fusions (method, temperatures, weights, cross-validated top-1 of each method);
4. what joint training does to each branch (the joint model's branches vs the experts alone).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from bharnet.eval.calibration import calibration, flips
from bharnet.eval.scores import load_scores
from bharnet.workflows.ablation import scores_file

BRANCHES = {"body-expert": ["body"], "hand-expert": ["hand"], "joint": ["body", "hand"],
            "bharnet-e": ["body_expert", "hand_expert", "body_inter", "hand_inter"]}


def _logits(out: Path, variant: str) -> dict[str, np.ndarray] | None:
    path = scores_file(out, variant)
    if not path.exists():
        return None
    scores = load_scores(path).sorted_by_name()  # every variant's samples in one order
    return {**scores.logits, "labels": scores.labels}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    results = json.loads((args.out / "results.json").read_text())["models"]
    runs = {v: _logits(args.out, v) for v in results}
    runs = {v: r for v, r in runs.items() if r is not None}

    print("| model : branch | top-1 | confidence | ECE | NLL | confidence when wrong |\n|---|---|---|---|---|---|")
    for variant, branches in BRANCHES.items():
        for branch in branches if variant in runs else []:
            c = calibration(runs[variant][branch], runs[variant]["labels"])
            print(f"| {variant} : {branch} | {100 * c['top1']:.1f} | {100 * c['confidence']:.1f} | "
                  f"{100 * c['ece']:.1f} | {c['nll']:.2f} | {100 * c['confidence_when_wrong']:.1f} |")

    experts = [e for e in ("body-expert", "hand-expert") if e in runs]
    best = max(experts, key=lambda e: results[e]["top1"])
    print(f"\n| model | top-1 | right -> wrong vs {best} | wrong -> right |\n|---|---|---|---|")
    for variant, run in runs.items():
        f = flips(runs[best]["logits"], run["logits"], run["labels"])
        print(f"| {variant} | {100 * results[variant]['top1']:.1f} | {f['right_to_wrong']} | {f['wrong_to_right']} |")

    print("\n| fused model | method | temperatures | weights | cross-validated top-1 on val |\n|---|---|---|---|---|")
    for variant, r in results.items():
        if "fusion" in r:
            f = r["fusion"]
            cv = ", ".join(f"{m} {100 * a:.1f}" for m, a in f.get("cv_top1", {}).items()) or "-"
            print(f"| {variant} | {f['method']} | {', '.join(f'{t:.2f}' for t in f['temperature'])} | "
                  f"{', '.join(f'{w:.2f}' for w in f['weights'])} | {cv} |")

    if "joint" in runs:
        print("\n| branch | expert alone | in the joint model |\n|---|---|---|")
        for branch, expert in (("body", "body-expert"), ("hand", "hand-expert")):
            if expert in results:
                print(f"| {branch} | {100 * results[expert]['top1']:.1f} | "
                      f"{100 * results['joint']['branches'][branch]:.1f} |")


if __name__ == "__main__":
    main()
