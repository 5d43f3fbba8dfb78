"""Subcommands: ``attach-roi`` (give a store the ST-ROI images of a folder, by sample name)."""

from __future__ import annotations

import argparse
import sys

from bharnet.core.interrupts import ctrl_c_deferred
from bharnet.core.words import plural


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    p = subparsers.add_parser("attach-roi", help="give a store the ST-ROI images of a folder (by sample name)")
    p.add_argument("store", help="the store folder")
    p.add_argument("rois", help="folder of <sample>.png ST-ROI images (from extract-roi)")
    p.set_defaults(func=_attach_roi)


def _attach_roi(args: argparse.Namespace) -> int:
    with ctrl_c_deferred():
        from bharnet.store.rgb import attach_rois
    meta = attach_rois(args.store, args.rois)
    print(f"{plural(meta['found'], 'sample')} got an ST-ROI image ({meta['size']}x{meta['size']}), "
          f"{len(meta['missing'])} have none", file=sys.stderr)
    return 0
