"""Subcommands: ``ensemble`` (fuse scores files), ``report`` (one scores file), ``robustness``
(accuracy vs perturbation strength). See docs/evaluation.md."""

from __future__ import annotations

import argparse
import math

from bharnet.core.errors import UserError
from bharnet.core.interrupts import ctrl_c_deferred
from bharnet.core.outputs import check_output_folder, holds_only


def _weights(text: str) -> list[float]:
    try:
        weights = [float(w) for w in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"weights must be numbers separated by commas, not {text!r}") from None
    if not all(math.isfinite(w) and w >= 0 for w in weights):
        raise argparse.ArgumentTypeError(f"weights must be finite numbers >= 0, not {text!r}")
    return weights


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    p = subparsers.add_parser(
        "ensemble", help="fuse scores files (J, B, JM, BM, RGB, ...) and write a report",
        description="Fuse scores files matched by sample name. FILE[:branch] picks a branch (default: logits). "
                    "Writes report.md, report.json, confusion.png and fused.npz to --out.")
    p.add_argument("files", nargs="+", metavar="FILE[:branch]", help="scores files from `bharnet test`")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--weights", type=_weights, metavar="W1,W2,...", help="one weight per file (default: all 1)")
    group.add_argument("--search", nargs="+", metavar="VAL_FILE[:branch]",
                       help="search the weights on validation scores files, one per FILE in the same order "
                            "(never a test split)")
    p.add_argument("--fuse", choices=("logits", "softmax", "noisy-or"), default="logits",
                   help="add raw scores (default, as the field's ensemble scripts do), average softmax "
                        "probabilities, or combine them by Noisy-OR (1 - prod (1 - p)^w)")
    p.add_argument("--subset", action="append", default=[], metavar="NAME|FILE",
                   help="extra class subset: ntu60-hand11, ntu120-hand27 or a file (repeatable)")
    p.add_argument("--order", choices=("index", "cluster"), default="index",
                   help="row/column order of the confusion matrix")
    p.add_argument("--out", required=True, metavar="REPORT_DIR", help="folder for the report")
    p.set_defaults(func=_ensemble)

    p = subparsers.add_parser(
        "report", help="report on one scores file: accuracies, subsets, confusion, which expert is right",
        description="Writes report.md, report.json, confusion.png (and experts.png when the file has body and "
                    "hand branches, or --body/--hand name them) to --out.")
    p.add_argument("scores", metavar="SCORES[:branch]", help="a scores file; branch default: logits")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the report")
    p.add_argument("--subset", action="append", default=[], metavar="NAME|FILE",
                   help="extra class subset: ntu60-hand11, ntu120-hand27 or a file (repeatable)")
    p.add_argument("--body", metavar="FILE[:branch]", help="body expert scores for the expert analysis (with --hand)")
    p.add_argument("--hand", metavar="FILE[:branch]", help="hand expert scores for the expert analysis (with --body)")
    p.add_argument("--order", choices=("index", "cluster"), default="index",
                   help="row/column order of the confusion matrix")
    p.set_defaults(func=_report)

    p = subparsers.add_parser(
        "robustness", help="accuracy vs perturbation strength from scores files of `bharnet test --perturb`",
        description="Groups scores files by model (meta variant + modality, or label) and perturbation kind; a "
                    "clean run is strength 0. Writes robustness.png, robustness.json and robustness.md.")
    p.add_argument("files", nargs="+", metavar="FILE", help="scores files of clean and perturbed test runs")
    p.add_argument("--branch", default="logits", help="branch to score (default: logits)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the plot and tables")
    p.set_defaults(func=_robustness)


#: what ``ensemble`` / ``report`` / ``robustness`` write in their folder
REPORT_FILES = ("report.md", "report.json", "*.png", "fused.npz", "robustness.json", "robustness.md")


def _check_report_folder(args: argparse.Namespace, *inputs: str | None) -> None:
    """--out before any work: never one of the scores files (FILE[:branch]) nor a folder of the user's."""
    from bharnet.eval.ensemble import parse_member_spec  # light: what the command imports anyway

    files = [parse_member_spec(spec)[0] for spec in inputs if spec]
    check_output_folder(args.out, flag="--out", inputs=files, ours=holds_only(*REPORT_FILES))


def _ensemble(args: argparse.Namespace) -> int:
    with ctrl_c_deferred():
        from bharnet.eval.ensemble import ensemble
        from bharnet.eval.report import write_ensemble_report
    _check_report_folder(args, *args.files, *(args.search or []))
    result = ensemble(args.files, weights=args.weights, search=args.search, mode=args.fuse)
    report = write_ensemble_report(result, args.out, subsets=args.subset, order=args.order)
    for m in report["ensemble"]["members"]:
        print(f"  {m['file']}:{m['branch']}  weight {m['weight']:g}  top-1 {100 * m['top1']:.2f}%")
    if result.search:
        print(f"weights searched on validation files: {','.join(f'{w:g}' for w in result.weights)} "
              f"(validation top-1 {100 * result.search['top1']:.2f}%)")
    _summary(report, args.out)
    return 0


def _report(args: argparse.Namespace) -> int:
    if bool(args.body) != bool(args.hand):
        raise UserError("--body and --hand go together")
    with ctrl_c_deferred():
        from bharnet.eval.ensemble import load_members
        from bharnet.eval.report import load_expert_pair, write_report
    _check_report_folder(args, args.scores, args.body, args.hand)
    (member,) = load_members([args.scores])
    experts = load_expert_pair(args.body, args.hand) if args.body else None
    report = write_report(member.scores, args.out, branch=member.branch, subsets=args.subset, experts=experts,
                          order=args.order)
    _summary(report, args.out)
    return 0


def _robustness(args: argparse.Namespace) -> int:
    with ctrl_c_deferred():
        from bharnet.eval.report import write_robustness_report
    _check_report_folder(args, *args.files)
    data = write_robustness_report(args.files, args.out, branch=args.branch)
    for kind, models in data["curves"].items():
        for label, pts in models.items():
            print(f"{kind:12s} {label}: " + "  ".join(f"{p['strength']:g}->{100 * p['top1']:.1f}%" for p in pts))
    print(f"report: {args.out}/robustness.md")
    return 0


def _summary(report: dict, out: str) -> None:
    line = f"top-1 {100 * report['top1']:.2f}%  top-5 {100 * report['top5']:.2f}%"
    for name, s in report["subsets"].items():
        line += f"  {name} {100 * s['top1']:.2f}%" if s["top1"] is not None else ""
    print(line)
    print(f"report: {out}/report.md")
