"""Reports a person opens: ``report.md`` (readable), ``report.json`` (the same numbers for
scripts), ``confusion.png`` and, when body and hand branches exist, ``experts.png``.

* :func:`evaluate` computes every number for one (N, K) set of scores.
* :func:`write_report` writes one scores file's report (``bharnet report``).
* :func:`write_ensemble_report` writes an ensemble's report and its fused scores file
  (``bharnet ensemble``).
* :func:`robustness_curves` / :func:`write_robustness_report` turn scores files of perturbed
  test runs into accuracy-vs-strength curves (``bharnet robustness``).
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bharnet.core.atomic import write_json, write_text
from bharnet.core.errors import UserError
from bharnet.eval.ensemble import EnsembleResult, Member, align, load_members
from bharnet.eval.metrics import (
    AGREEMENT_KINDS,
    branch_agreement,
    confusion_matrix,
    most_confused_pairs,
    per_class_accuracy,
    subset_accuracy,
    topk_accuracy,
)
from bharnet.eval.perturb import parse_perturbations
from bharnet.eval.plots import plot_branch_agreement, plot_confusion, plot_robustness
from bharnet.eval.scores import Scores, load_scores, save_scores
from bharnet.eval.subsets import default_subsets, load_subsets

__all__ = ["evaluate", "find_expert_branches", "expert_table", "write_report", "write_ensemble_report",
           "robustness_curves", "write_robustness_report", "MODEL_META_KEYS"]

#: meta fields that describe the model behind a scores file (shown in the reports)
MODEL_META_KEYS = ("variant", "backbone", "modality", "dataset", "split", "checkpoint", "params", "macs",
                   "perturbation")
#: (body, hand) branch pairs looked for, in order, for the "which expert is right" analysis
EXPERT_PAIRS = (("body_expert", "hand_expert"), ("body", "hand"))


def find_expert_branches(scores: Scores) -> tuple[str, str] | None:
    """The (body, hand) branch names of a scores file, if it has a pair."""
    return next((pair for pair in EXPERT_PAIRS if all(b in scores.logits for b in pair)), None)


def expert_table(body: np.ndarray, hand: np.ndarray, labels: np.ndarray, classes: Sequence[str],
                 names: tuple[str, str] = ("body", "hand")) -> dict:
    """Per class and in total: how often both / only body / only hand / neither branch is right."""
    table = branch_agreement(body, hand, labels, len(classes))
    totals = table.sum(axis=0)
    rows = [{"index": i, "name": classes[i], **{k: int(v) for k, v in zip(AGREEMENT_KINDS, table[i], strict=True)}}
            for i in range(len(classes)) if table[i].sum() > 0]
    return {"body_branch": names[0], "hand_branch": names[1],
            "totals": {k: int(v) for k, v in zip(AGREEMENT_KINDS, totals, strict=True)},
            "body_top1": topk_accuracy(body, labels), "hand_top1": topk_accuracy(hand, labels),
            "oracle_top1": float((totals[0] + totals[1] + totals[2]) / max(totals.sum(), 1)),
            "per_class": rows, "_table": table}


def evaluate(values: np.ndarray, labels: np.ndarray, classes: Sequence[str],
             subsets: dict[str, list[int]] | None = None, num_confused: int = 15) -> dict:
    """Top-1, top-5, per-class accuracy, subset accuracies, most confused pairs and the
    confusion matrix (under ``"_confusion"``, left out of the JSON) of one set of scores."""
    k = len(classes)
    if values.shape[1] != k:
        raise UserError(f"scores have {values.shape[1]} classes but {k} class names were given")
    pred = values.argmax(axis=1)
    cm = confusion_matrix(pred, labels, k)
    acc, counts = per_class_accuracy(pred, labels, k)
    out = {
        "num_samples": int(len(labels)), "num_classes": k,
        "top1": topk_accuracy(values, labels, 1), "top5": topk_accuracy(values, labels, 5),
        "mean_class_top1": float(np.nanmean(acc)) if counts.any() else float("nan"),
        "per_class": [{"index": i, "name": classes[i], "samples": int(counts[i]),
                       "top1": None if math.isnan(acc[i]) else float(acc[i])} for i in range(k)],
        "subsets": {},
        "most_confused": [{"true": t, "true_name": classes[t], "pred": p, "pred_name": classes[p], "count": c,
                           "share": s} for t, p, c, s in most_confused_pairs(cm, num_confused)],
        "_confusion": cm,
    }
    for name, ids in (subsets or {}).items():
        top1, n = subset_accuracy(values, labels, ids, 1)
        top5, _ = subset_accuracy(values, labels, ids, 5)
        out["subsets"][name] = {"classes": [int(i) for i in ids], "class_names": [classes[i] for i in ids],
                                "samples": n, "top1": top1, "top5": top5}
    return out


def _model_info(scores: Scores) -> dict:
    return {key: scores.meta.get(key) for key in MODEL_META_KEYS if scores.meta.get(key) is not None}


def _subsets_for(scores_meta: dict, classes: Sequence[str], extra: Sequence[str]) -> dict[str, list[int]]:
    subsets = default_subsets(scores_meta, len(classes))
    subsets.update(load_subsets(extra, classes))
    return subsets


def _public(obj):
    """Drop the private ``_`` keys (NumPy arrays kept for plotting) and make the rest JSON-able."""
    if isinstance(obj, dict):
        return {k: _public(v) for k, v in obj.items() if not str(k).startswith("_")}
    if isinstance(obj, list | tuple):
        return [_public(v) for v in obj]
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, np.generic):
        return _public(obj.item())
    return obj


def write_report(scores: Scores, out_dir: str | os.PathLike, branch: str = "logits", subsets: Sequence[str] = (),
                 experts: tuple[tuple[Scores, str], tuple[Scores, str]] | None = None,
                 order: str = "index") -> dict:
    """Evaluate one scores file and write ``report.md``, ``report.json``, ``confusion.png`` and,
    when a (body, hand) branch pair exists (or ``experts`` gives two files and branches),
    ``experts.png``. Returns the report dict."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    values = scores.branch(branch)
    classes = scores.classes
    subsets_map = _subsets_for(scores.meta, classes, subsets)
    report = {"title": f"{Path(scores.source).name} ({branch})", "file": scores.source, "branch": branch,
              "model": _model_info(scores), **evaluate(values, scores.labels, classes, subsets_map)}
    report["branches"] = {b: {"top1": topk_accuracy(v, scores.labels, 1), "top5": topk_accuracy(v, scores.labels, 5),
                              "subsets": {name: subset_accuracy(v, scores.labels, ids)[0]
                                          for name, ids in subsets_map.items()}}
                          for b, v in scores.logits.items()}
    report["experts"] = _experts_section(scores, experts, classes)
    return _write(report, out_dir, classes, order)


def _experts_section(scores: Scores, experts, classes: Sequence[str]) -> dict | None:
    if experts is not None:
        (body_s, body_b), (hand_s, hand_b) = experts
        members = [Member(body_s.sorted_by_name(), body_b), Member(hand_s.sorted_by_name(), hand_b)]
        _, labels, _ = align(members)
        return expert_table(members[0].values, members[1].values, labels, classes, (members[0].label,
                                                                                    members[1].label))
    pair = find_expert_branches(scores)
    if pair is None:
        return None
    return expert_table(scores.logits[pair[0]], scores.logits[pair[1]], scores.labels, classes, pair)


def _write(report: dict, out_dir: Path, classes: Sequence[str], order: str) -> dict:
    plot_confusion(report["_confusion"], classes, out_dir / "confusion.png",
                   title=f"{report['title']}: top-1 {100 * report['top1']:.2f}%", order=order)
    report["files"] = {"markdown": "report.md", "json": "report.json", "confusion": "confusion.png"}
    if report.get("experts"):
        ex = report["experts"]
        plot_branch_agreement(ex["_table"], classes, out_dir / "experts.png",
                              branch_names=(_short(ex["body_branch"]), _short(ex["hand_branch"])))
        report["files"]["experts"] = "experts.png"
    if report.get("fused_scores"):
        report["files"]["fused_scores"] = report["fused_scores"]
    public = _public(report)
    write_json(out_dir / "report.json", public)
    write_text(out_dir / "report.md", _markdown(public))
    return public


def _short(label: str) -> str:
    return Path(label).name if "/" in label or "\\" in label else label


# -- ensembles ------------------------------------------------------------------------------


def _sum_or_none(values: list) -> float | None:
    return None if any(v is None for v in values) or not values else float(sum(values))


def write_ensemble_report(result: EnsembleResult, out_dir: str | os.PathLike, subsets: Sequence[str] = (),
                          order: str = "index") -> dict:
    """Write an ensemble's report (members, weights, fusion, costs, metrics) and ``fused.npz``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    first = result.members[0].scores.meta
    members = []
    for m, w, top1 in zip(result.members, result.weights, result.member_top1, strict=True):
        members.append({"file": m.scores.source, "branch": m.branch, "weight": w, "top1": top1,
                        **_model_info(m.scores)})
    # a file used twice (two branches of one model) costs once
    unique = {m.scores.source: m.scores.meta for m in result.members}
    cost = {"params": _sum_or_none([meta.get("params") for meta in unique.values()]),
            "macs": _sum_or_none([meta.get("macs") for meta in unique.values()])}
    ensemble_meta = {"members": [{"file": m["file"], "branch": m["branch"], "weight": m["weight"]} for m in members],
                     "fuse": result.fuse, "weights": result.weights}
    meta = {key: first[key] for key in ("dataset", "split", "class_groups") if key in first}
    meta.update({"classes": result.classes, "variant": "ensemble", "ensemble": ensemble_meta, **cost})
    fused_path = save_scores(out_dir / "fused.npz", result.names, result.labels, {"logits": result.fused}, meta)
    subsets_map = _subsets_for(meta, result.classes, subsets)
    report = {"title": f"ensemble of {len(members)} scores files", "fused_scores": fused_path.name,
              "model": {key: meta[key] for key in ("dataset", "split") if key in meta} | cost,
              "ensemble": {"fuse": result.fuse, "weights": result.weights, "members": members,
                           "weights_from": result.weights_from,
                           "search": result.search},
              **evaluate(result.fused, result.labels, result.classes, subsets_map)}
    return _write(report, out_dir, result.classes, order)


# -- robustness -----------------------------------------------------------------------------


def _model_label(scores: Scores) -> str:
    meta = scores.meta
    if meta.get("label"):
        return str(meta["label"])
    parts = [str(meta[k]) for k in ("variant", "modality") if meta.get(k)]
    if parts:
        return " ".join(parts)
    if meta.get("checkpoint"):
        return Path(str(meta["checkpoint"])).stem
    return Path(scores.source).stem


def robustness_curves(paths: Sequence[str | os.PathLike], branch: str = "logits") -> dict:
    """Group scores files of (perturbed and clean) test runs by model and perturbation kind.
    A file's meta ``perturbation`` ("noise=0.02", "none" or absent for a clean run) gives the
    point; a clean run is strength 0 of every kind. Returns ``{kind: {model: [(strength, top1)]}}``."""
    clean: dict[str, float] = {}
    points: dict[str, dict[str, dict[float, float]]] = defaultdict(lambda: defaultdict(dict))
    seen: dict[tuple, tuple[str, float]] = {}
    for path in paths:
        scores = load_scores(path)
        label, top1 = _model_label(scores), topk_accuracy(scores.branch(branch), scores.labels)
        perts = parse_perturbations(str(scores.meta.get("perturbation") or "none"))
        perts = [p for p in perts if p.strength > 0]
        if len(perts) > 1:
            raise UserError(f"{path}: perturbation {scores.meta['perturbation']!r} combines kinds; a curve needs one")
        key = (label, perts[0].kind, perts[0].strength) if perts else (label, "none", 0.0)
        if key in seen and seen[key][1] != top1:
            raise UserError(f"{path} and {seen[key][0]} are both {label!r} at {key[1]}={key[2]:g} with different "
                            "accuracies; give the models distinct names (meta 'label')")
        seen[key] = (str(path), top1)
        if not perts:
            clean[label] = top1
        else:
            points[perts[0].kind][label][perts[0].strength] = top1
    if not points:
        raise UserError("no perturbed scores files among the inputs (their meta has no 'perturbation')")
    for kind in points:
        for label, top1 in clean.items():
            points[kind][label].setdefault(0.0, top1)
    return {kind: {label: sorted(pts.items()) for label, pts in models.items()} for kind, models in points.items()}


def write_robustness_report(paths: Sequence[str | os.PathLike], out_dir: str | os.PathLike,
                            branch: str = "logits") -> dict:
    """``robustness.png`` (accuracy vs strength), ``robustness.json`` and ``robustness.md``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    curves = robustness_curves(paths, branch)
    plot_robustness(curves, out_dir / "robustness.png", title="accuracy under perturbation")
    data = {"branch": branch, "curves": {kind: {label: [{"strength": s, "top1": a} for s, a in pts]
                                                for label, pts in models.items()} for kind, models in curves.items()}}
    write_json(out_dir / "robustness.json", data)
    lines = ["# Robustness", "", "![accuracy vs perturbation strength](robustness.png)", ""]
    for kind, models in sorted(curves.items()):
        strengths = sorted({s for pts in models.values() for s, _ in pts})
        lines += [f"## {kind}", "", "| model | " + " | ".join(f"{s:g}" for s in strengths) + " |",
                  "|---|" + "---:|" * len(strengths)]
        for label, pts in sorted(models.items()):
            row = dict(pts)
            lines.append(f"| {label} | " + " | ".join(_pct(row.get(s)) for s in strengths) + " |")
        lines.append("")
    write_text(out_dir / "robustness.md", "\n".join(lines))
    return data


# -- markdown -------------------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.2f}"


def _cost(params, macs) -> str:
    p = "-" if params is None else f"{params / 1e6:.3f} M"
    m = "-" if macs is None else f"{macs / 1e9:.3f} G"
    return f"{p} / {m}"


def _markdown(r: dict) -> str:
    lines = [f"# Evaluation report: {r['title']}", ""]
    model = r.get("model", {})
    facts = [f"samples **{r['num_samples']}**, classes **{r['num_classes']}**"]
    facts += [f"{k} **{model[k]}**" for k in ("dataset", "split", "variant", "backbone", "modality", "perturbation")
              if model.get(k) is not None]
    if "file" in r:
        facts.insert(0, f"file `{r['file']}`, branch `{r['branch']}`")
    lines += ["; ".join(facts), ""]
    lines += ["| measure | value |", "|---|---:|", f"| top-1 (%) | {_pct(r['top1'])} |",
              f"| top-5 (%) | {_pct(r['top5'])} |", f"| mean class top-1 (%) | {_pct(r['mean_class_top1'])} |"]
    for name, s in r["subsets"].items():
        what = f"top-1 on {name}, {len(s['classes'])} classes, {s['samples']} samples (%)"
        lines.append(f"| {what} | {_pct(s['top1'])} |")
    if "params" in model or "macs" in model:
        lines.append(f"| params / MACs | {_cost(model.get('params'), model.get('macs'))} |")
    lines.append("")
    if r.get("ensemble"):
        e = r["ensemble"]
        how = {"logits": "weighted sum of raw scores", "softmax": "weighted mean of softmax probabilities",
               "noisy-or": "weighted Noisy-OR of softmax probabilities"}[e["fuse"]]
        lines += ["## Ensemble", "", f"Fusion: **{e['fuse']}** ({how}); weights "
                  f"{e['weights_from']}.", "",
                  "| file | branch | variant | modality | split | weight | own top-1 (%) | params / MACs |",
                  "|---|---|---|---|---|---:|---:|---|"]
        for m in e["members"]:
            lines.append(f"| `{m['file']}` | {m['branch']} | {m.get('variant', '-')} | {m.get('modality', '-')} | "
                         f"{m.get('split', '-')} | {m['weight']:g} | {_pct(m['top1'])} | "
                         f"{_cost(m.get('params'), m.get('macs'))} |")
        if e.get("search"):
            s = e["search"]
            lines += ["", f"Weights searched by {s['method']} on {', '.join(f'`{f}`' for f in s['files'])} "
                      f"(splits {', '.join(str(x) for x in s['splits'])}): validation top-1 {_pct(s['top1'])}% "
                      f"(all weights 1: {_pct(s['steps'][0]['top1'])}%)."]
        lines.append("")
    if r.get("branches") and len(r["branches"]) > 1:
        names = list(r["subsets"])
        lines += ["## Branches", "", "| branch | top-1 (%) | top-5 (%) |" + "".join(f" {n} top-1 (%) |" for n in names),
                  "|---|---:|---:|" + "---:|" * len(names)]
        lines += [f"| {b} | {_pct(v['top1'])} | {_pct(v['top5'])} |" +
                  "".join(f" {_pct(v['subsets'].get(n))} |" for n in names) for b, v in r["branches"].items()]
        lines.append("")
    if r.get("experts"):
        ex = r["experts"]
        t = ex["totals"]
        n = max(sum(t.values()), 1)
        lines += ["## Which expert is right", "",
                  f"Body branch `{ex['body_branch']}` (top-1 {_pct(ex['body_top1'])}%), hand branch "
                  f"`{ex['hand_branch']}` (top-1 {_pct(ex['hand_top1'])}%). Samples that both get right "
                  f"{_pct(t['both'] / n)}%, only the body {_pct(t['body_only'] / n)}%, only the hand "
                  f"{_pct(t['hand_only'] / n)}%, neither {_pct(t['neither'] / n)}%; an oracle choosing the right "
                  f"expert would reach {_pct(ex['oracle_top1'])}%.", "", "![which expert is right](experts.png)", "",
                  "| class | samples | both | body only | hand only | neither |", "|---|---:|---:|---:|---:|---:|"]
        for row in ex["per_class"]:
            total = sum(row[k] for k in AGREEMENT_KINDS)
            lines.append(f"| {row['index']} {row['name']} | {total} | " +
                         " | ".join(str(row[k]) for k in AGREEMENT_KINDS) + " |")
        lines.append("")
    if r["subsets"]:
        lines += ["## Class subsets", ""]
        for name, s in r["subsets"].items():
            lines.append(f"- **{name}** ({_pct(s['top1'])}% top-1, {s['samples']} samples): " +
                         ", ".join(f"{i} {c}" for i, c in zip(s["classes"], s["class_names"], strict=True)))
        lines.append("")
    lines += ["## Most confused pairs", "", "| true class | predicted as | samples | share of the true class (%) |",
              "|---|---|---:|---:|"]
    lines += [f"| {p['true']} {p['true_name']} | {p['pred']} {p['pred_name']} | {p['count']} | {_pct(p['share'])} |"
              for p in r["most_confused"]] or ["| - | - | 0 | - |"]
    lines += ["", "![confusion matrix](confusion.png)", "", "## Per-class accuracy", "",
              "Sorted from the worst class.", "", "| class | samples | top-1 (%) |", "|---|---:|---:|"]
    rows = sorted((c for c in r["per_class"] if c["samples"]), key=lambda c: (c["top1"], c["index"]))
    lines += [f"| {c['index']} {c['name']} | {c['samples']} | {_pct(c['top1'])} |" for c in rows]
    return "\n".join(lines) + "\n"


def load_expert_pair(body_spec: str, hand_spec: str) -> tuple[tuple[Scores, str], tuple[Scores, str]]:
    """Two ``FILE[:branch]`` specs -> the experts argument of :func:`write_report`."""
    body, hand = load_members([body_spec, hand_spec])
    return (body.scores, body.branch), (hand.scores, hand.branch)
