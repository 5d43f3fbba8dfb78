"""``bharnet demo``: the whole method on BodyHand-Synth, on a CPU, in minutes.

It generates the synthetic body-and-hand dataset (no download), trains the body expert, the
hand expert and the BHaRNet variants with one CPU-sized recipe, evaluates them on the test
split, and writes ``results.json``, ``report.md`` and ``confusion.png``.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from .ablation import RGB_VARIANTS, VARIANTS, ablation_config, run_ablation
from .atomic import write_json

__all__ = ["run_demo", "DEMO_SIZES"]

# CPU-sized recipes: a narrow DeGCN (8 base channels instead of 64) on 16-frame windows, and
# attention sized to it. The data varies less than BodyHand-Synth's default (finer hand
# landmarks, less camera yaw), so that networks this small learn the fingers in minutes.
# The RGB stream is a ResNet-18 at a quarter of the width on 120 x 120 ST-ROI images.
# --quick trains fewer models on fewer classes, in batches of 16: twice the steps per epoch is what
# lets the hand expert learn the fingers in a minute.
DEMO_SIZES = {
    "full": {"num_samples": 2000, "batch_size": 32, "expert_epochs": 8, "finetune_epochs": 2, "rgb_epochs": 6},
    "quick": {"num_samples": 840, "batch_size": 16, "expert_epochs": 8, "finetune_epochs": 1, "rgb_epochs": 6},
}
DEMO_VARIATION = {"hand_noise": 0.003, "hand_jitter": 15.0, "yaw": 30.0}
DEMO_ATTENTION = {"heads": 2, "head_dim": 16, "nb_features": 32}
#: ``--quick``: 14 of the 30 classes (4 body-only, 4 hand-only, 2 mixed, the 4 object classes), so that
#: each class has enough samples for the small networks to learn it in a minute
QUICK_CLASSES = ["punch", "squat", "kick", "raise_both_arms", "victory_sign", "thumb_up", "call_me", "point",
                 "point_forward", "phone_call", "hold_red_cup", "hold_blue_cup", "raise_ball", "raise_box"]
QUICK_VARIANTS = ("body-expert", "hand-expert", "score-fusion", "joint", "bharnet-m")
DEMO_VARIANTS = VARIANTS + RGB_VARIANTS


def demo_config(quick: bool, out: Path, overrides: list[str] | None = None):
    size = DEMO_SIZES["quick" if quick else "full"]
    synth = {"num_samples": size["num_samples"], "seed": 0, "variation": DEMO_VARIATION, "rgb": True,
             "classes": QUICK_CLASSES if quick else None}
    layers = {
        "seed": 1,
        "data": {"store": str(out / "bodyhand-synth"), "synth": synth,
                 "train_split": "train", "val_split": "val", "test_split": "test", "window": 16,
                 "batch_size": size["batch_size"], "eval_batch_size": 128, "num_workers": 0},
        "model": {"backbone": "degcn", "base_channels": 8, "attention": DEMO_ATTENTION},
        "optim": {"lr": 0.1, "warmup_epochs": 1, "weight_decay": 4e-4},
        "trainer": {"max_epochs": size["expert_epochs"], "accelerator": "cpu", "devices": 1,
                    "enable_progress_bar": False, "log_every_n_steps": 10},
    }
    # the second stage starts from trained experts: a few epochs at half the learning rate
    finetune = [f"trainer.max_epochs={size['finetune_epochs']}", "optim.lr=0.05", "optim.warmup_epochs=0"]
    rgb = [f"trainer.max_epochs={size['rgb_epochs']}", "model.kwargs.image_size=120", "model.kwargs.rgb_width=16"]
    return ablation_config(None, overrides, **layers), finetune, rgb


def run_demo(out: str | Path = "demo-out", quick: bool = False, variants: list[str] | None = None,
             overrides: list[str] | None = None, console: Console | None = None) -> dict:
    """Run the demo into ``out``; returns the results (also in ``out/results.json``)."""
    console = console or Console()
    out = Path(out)
    cfg, finetune, rgb = demo_config(quick, out, overrides)
    console.print(f"[bold]bharnet demo[/] ({'quick' if quick else 'full'}) -> {out}")
    default = QUICK_VARIANTS if quick else DEMO_VARIANTS
    results = run_ablation(cfg, list(variants or default), out, finetune=finetune, rgb=rgb,
                           log=lambda msg: console.print(f"  {msg}"))
    results["mode"] = "quick" if quick else "full"
    write_json(out / "results.json", results)
    console.print(results_table(results))
    write_report(results, out)
    console.print(f"results: {out / 'results.json'}, report: {out / 'report.md'}")
    return results


def results_table(results: dict) -> Table:
    table = Table(title="BodyHand-Synth test split")
    for column in ("model", "top-1", "hand-only", "body-only", "mixed", "object", "params", "MMACs", "train s"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for name, r in results["models"].items():
        table.add_row(name, *_cells(r))
    return table


def _cells(r: dict) -> list[str]:
    pct = lambda key: f"{100 * r[key]:.1f}" if key in r else "-"  # noqa: E731
    return [pct("top1"), pct("top1_hand_classes"), pct("top1_body_classes"), pct("top1_mixed_classes"),
            pct("top1_object_classes"), f"{r['params']:,}", f"{r['macs'] / 1e6:.1f}", f"{r['train_seconds']:.0f}"]


def write_report(results: dict, out: Path) -> None:
    """``report.md`` with the table and ``confusion.png`` of the best model."""
    import numpy as np

    from .eval.metrics import confusion_matrix
    from .eval.plots import plot_confusion
    from .store import SkeletonStore

    trained = [k for k in results["models"] if (out / "runs" / k / "test_logits.npz").is_file()]
    best = max(trained, key=lambda k: results["models"][k]["top1"])
    lines = ["# bharnet demo on BodyHand-Synth", "",
             "Top-1 accuracy (%) on the test split, overall and on the classes that differ only in the",
             "fingers (hand-only), only in the body motion (body-only), in both (mixed), or only in the",
             "held object that the RGB frames show and the skeletons do not (object). `+ RGB` rows fuse",
             "a skeleton model's scores with BHaRNet-M's (mean of softmax probabilities).", "",
             "| model | top-1 | hand-only | body-only | mixed | object | params | MMACs | train s |",
             "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {name} | " + " | ".join(_cells(r)) + " |" for name, r in results["models"].items()]
    lines += ["", f"![confusion matrix of {best}](confusion.png)", ""]
    (out / "report.md").write_text("\n".join(lines))
    logits = np.load(out / "runs" / best / "test_logits.npz")
    classes = SkeletonStore(results["store"]).classes
    cm = confusion_matrix(logits["logits_logits"].argmax(1), logits["labels"], len(classes))
    plot_confusion(cm, classes, out / "confusion.png", title=f"{best} on BodyHand-Synth (test)")
