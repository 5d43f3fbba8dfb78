"""Subcommands: ``bharnet prepare {ucla,ntu,pku,import,custom}``: convert a data set into a store."""

from __future__ import annotations

import argparse
import sys

from bharnet.cli.flags import positive_int
from bharnet.core.errors import UserError
from bharnet.core.interrupts import ctrl_c_deferred
from bharnet.core.outputs import check_output_folder, holds_only
from bharnet.core.words import plural
from bharnet.store.convert import default_workers


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``prepare`` and its per-format subcommands."""
    prepare = subparsers.add_parser("prepare", help="convert a data set into a bharnet store",
                                    description="Convert a data set into a bharnet store (resumable: run the "
                                                "same command again after an interruption).")
    formats = prepare.add_subparsers(dest="format", metavar="FORMAT", required=True)

    def common(p: argparse.ArgumentParser, workers: bool = True) -> None:
        p.add_argument("--out", required=True, help="the store folder to write")
        if workers:
            p.add_argument("--workers", type=positive_int, default=default_workers(),
                           help="reader processes (default: %(default)s; 1 = no pool)")
        p.add_argument("--strict", action="store_true",
                       help="stop with an error at the first bad input (default: report it, skip it, go on)")
        p.add_argument("--no-progress", dest="progress", action="store_false", default=None,
                       help="no progress bar")

    ucla = formats.add_parser("ucla", help="Northwestern-UCLA (the JSON files of CTR-GCN's all_sqe folder)")
    ucla.add_argument("--raw", required=True, help="the folder of N-UCLA .json clips (all_sqe)")
    common(ucla)
    ucla.set_defaults(func=_prepare_ucla)

    ntu = formats.add_parser("ntu", help="NTU RGB+D 60 / 120 (.skeleton files), cleaned as in SGN / CTR-GCN",
                             description="NTU RGB+D .skeleton files -> store: standard cleaning, the two main "
                                         "actors (M=2), official X-Sub / X-View (ntu60) or X-Sub / X-Set (ntu120) "
                                         "splits, colour pixel positions kept.")
    ntu.add_argument("--skeletons", required=True, help="the folder of .skeleton files")
    ntu.add_argument("--benchmark", choices=("ntu60", "ntu120"), default="ntu60")
    ntu.add_argument("--center", action=argparse.BooleanOptionalAction, default=True,
                     help="subtract joint 2 (spine middle) of actor 1's first frame (default: on)")
    ntu.add_argument("--hands", help="a folder of extracted hand keypoints to join per sample")
    ntu.add_argument("--rgb", metavar="VIDEOS", help="a folder of the RGB videos: add each sample's ST-ROI image "
                                                     "(the RGB stream's input, from the colour positions)")
    ntu.add_argument("--roi-dir", help="where the per-video ST-ROI PNGs go (default: <out>-roi); kept for resuming")
    common(ntu)
    ntu.set_defaults(func=_prepare_ntu)

    pku = formats.add_parser("pku", help="PKU-MMD v1: skeleton + label files -> trimmed clips",
                             description="PKU-MMD v1 -> store of trimmed clips (M=2, ntu25), cross-view split "
                                         "from the camera, cross-subject split from the official list.")
    pku.add_argument("--skeletons", required=True, help="the folder of skeleton .txt files (one per video)")
    pku.add_argument("--labels", required=True, help="the folder of label .txt files")
    pku.add_argument("--splits", help="the data set's Split folder (cross-subject.txt); "
                     "default: Split beside the skeleton folder")
    common(pku)
    pku.set_defaults(func=_prepare_pku)

    imp = formats.add_parser("import", help="a CTR-GCN .npz (NTU60_CS.npz) or a pyskl annotation .pkl",
                             description="Import a data set another toolkit prepared: a CTR-GCN / SGN .npz "
                                         "(x_train, y_train, x_test, y_test) or a pyskl annotation pickle. A "
                                         ".pkl is read as plain data and NumPy arrays only: a pickle that would "
                                         "run code is refused.")
    imp.add_argument("file", help="the .npz or .pkl file")
    imp.add_argument("--layout", help="the skeleton layout (default: from the joint count)")
    common(imp, workers=False)
    imp.set_defaults(func=_prepare_import)

    custom = formats.add_parser("custom", help="your own .npy / .npz files + labels.csv (or MediaPipe Holistic "
                                               "vectors, or RGB videos)",
                                description="A folder of <name>.npy (T, M, V, C) or <name>.npz (body, optional "
                                            "body_conf, hands, hand_conf) plus labels.csv (name,label[,split]); "
                                            "see docs/data.md.")
    custom.add_argument("folder", help="the folder with labels.csv and one file per sample")
    custom.add_argument("--layout", help="the joint layout of the arrays: coco17, ntu25, pose33, ucla20, ...")
    custom.add_argument("--holistic", action="store_true",
                        help="samples are MediaPipe Holistic vectors (T, 1662) or (T, 258): pose33 body + hands")
    custom.add_argument("--videos", action="store_true",
                        help="samples are RGB videos <name>.mp4: body and hands from MediaPipe, as for "
                             "`bharnet predict` (--layout pose33, the default, or ntu25)")
    custom.add_argument("--persons", type=positive_int, default=1, help="videos: persons kept per frame (default 1)")
    custom.add_argument("--pose-model", help="videos: MediaPipe pose_landmarker_full.task (default: "
                                             "$BHARNET_POSE_MODEL, cache, download)")
    custom.add_argument("--hand-model", help="videos: MediaPipe hand_landmarker.task (default: $BHARNET_HAND_MODEL, "
                                             "cache, download)")
    custom.add_argument("--rgb", action="store_true",
                        help="videos: add each sample's ST-ROI image (the RGB stream's input, from pose landmarks)")
    custom.add_argument("--roi-dir", help="where the per-video ST-ROI PNGs go (default: <out>-roi)")
    common(custom)
    custom.set_defaults(func=_prepare_custom, holds_native_logs=True)  # --videos runs MediaPipe


def _print_summary(summary) -> int:
    """Print the summary; the exit code: 1 when some inputs were rejected (the store holds the others)."""
    for line in summary.lines():
        print(line, file=sys.stderr)
    return 1 if summary.rejected else 0


def _check_outputs(args: argparse.Namespace, *inputs: str | None) -> None:
    """The store and, with --rgb, its ST-ROI folder: checked before any input is read."""
    with ctrl_c_deferred():
        from bharnet.store.packed import check_store_destination
    inputs = [i for i in inputs if i is not None]
    check_store_destination(args.out, inputs)
    if getattr(args, "rgb", None):
        check_output_folder(_roi_dir(args), flag="--roi-dir", inputs=inputs, ours=holds_only("*.png"))


def _roi_dir(args: argparse.Namespace) -> str:
    return args.roi_dir or f"{str(args.out).rstrip('/')}-roi"


def _prepare_ucla(args: argparse.Namespace) -> int:
    with ctrl_c_deferred():
        from bharnet.store.ucla import prepare_ucla
    _check_outputs(args, args.raw)
    return _print_summary(prepare_ucla(args.raw, args.out, workers=args.workers, strict=args.strict,
                                       progress=args.progress))


def _prepare_ntu(args: argparse.Namespace) -> int:
    with ctrl_c_deferred():
        from bharnet.store.ntu import prepare_ntu
    _check_outputs(args, args.skeletons, args.hands, args.rgb)
    code = _print_summary(prepare_ntu(args.skeletons, args.out, benchmark=args.benchmark, workers=args.workers,
                                      strict=args.strict, center=args.center, hands=args.hands,
                                      progress=args.progress))
    if args.rgb:
        _add_rois(args, [args.rgb], skeletons=args.skeletons)
    return code


def _add_rois(args: argparse.Namespace, videos: list[str], skeletons: str | None = None,
              pose_model: str | None = None) -> None:
    with ctrl_c_deferred():
        from bharnet.store.rgb import add_rois_from_videos
    summary, meta = add_rois_from_videos(args.out, videos, _roi_dir(args), skeletons=skeletons, pose_model=pose_model,
                                         workers=args.workers)
    for line in summary.lines():
        print(line, file=sys.stderr)
    print(f"{plural(meta['found'], 'sample')} got an ST-ROI image, {len(meta['missing'])} have none "
          "(rgb_roi.json lists them)", file=sys.stderr)


def _prepare_pku(args: argparse.Namespace) -> int:
    with ctrl_c_deferred():
        from bharnet.store.pku import prepare_pku
    _check_outputs(args, args.skeletons, args.labels, args.splits)
    return _print_summary(prepare_pku(args.skeletons, args.labels, args.out, splits_dir=args.splits,
                                      workers=args.workers, strict=args.strict, progress=args.progress))


def _prepare_import(args: argparse.Namespace) -> int:
    with ctrl_c_deferred():
        from bharnet.store.imports import prepare_import
    _check_outputs(args, args.file)
    return _print_summary(prepare_import(args.file, args.out, layout=args.layout, strict=args.strict,
                                         progress=args.progress))


def _prepare_custom(args: argparse.Namespace) -> int:
    with ctrl_c_deferred():
        from bharnet.store.custom import prepare_custom
    if args.rgb and not args.videos:
        raise UserError("--rgb needs --videos: ST-ROI images are cut from the videos")
    _check_outputs(args, args.folder)
    code = _print_summary(prepare_custom(args.folder, args.out, layout=args.layout, holistic=args.holistic,
                                         videos=args.videos, persons=args.persons, pose_model=args.pose_model,
                                         hand_model=args.hand_model, workers=args.workers, strict=args.strict,
                                         progress=args.progress))
    if args.rgb:
        _add_rois(args, [args.folder], pose_model=args.pose_model)
    return code
