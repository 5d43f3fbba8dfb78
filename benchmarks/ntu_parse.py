"""NTU ``.skeleton`` parsing speed: milliseconds per file, and files per second of ``prepare ntu``.

    python benchmarks/ntu_parse.py [--file S001C001P001R001A001.skeleton] [--reference get_raw_skes_data.py]
                                   [--files 200]

``--reference`` times the SGN / CTR-GCN parser (``data/ntu/get_raw_skes_data.py`` of CTR-GCN, not
shipped here) on the same file, in the same process. The conversion throughput is measured on
generated files (one and two bodies, 100 frames) with 1 and 2 workers.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.io.fixtures import write_ntu  # noqa: E402

from bharnet.io.ntu import read_skeleton  # noqa: E402
from bharnet.store.ntu import prepare_ntu  # noqa: E402

SAMPLE = ROOT.parent / "shared" / "data" / "ntu-sample" / "S001C001P001R001A001.skeleton"


def timed(fn, repeat: int) -> tuple[float, float]:
    """(best, median) milliseconds of ``repeat`` calls."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return min(times), statistics.median(times)


def reference_parser(path: Path):
    """The SGN / CTR-GCN ``get_raw_bodies_data`` loaded from its script (``np.int`` patched for NumPy 2)."""
    source = path.read_text().replace("np.int)", "int)")
    namespace: dict = {}
    exec(compile(source.split("def get_raw_skes_data")[0], str(path), "exec"), namespace)  # noqa: S102
    parse = namespace["get_raw_bodies_data"]
    log = logging.getLogger("reference")

    def run(file: Path):
        with contextlib.redirect_stdout(io.StringIO()):
            return parse(str(file.parent), file.name.split(".")[0], {}, log)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=SAMPLE, help="an NTU .skeleton file (default: the shared sample)")
    parser.add_argument("--reference", type=Path, help="CTR-GCN's data/ntu/get_raw_skes_data.py")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--files", type=int, default=200, help="generated files for the throughput test")
    args = parser.parse_args()

    print(f"file: {args.file.name}, {args.file.stat().st_size / 1e3:.0f} kB")
    best, median = timed(lambda: read_skeleton(args.file), args.repeat)
    print(f"read_skeleton:    best {best:.2f} ms, median {median:.2f} ms")
    if args.reference:
        run = reference_parser(args.reference)
        ref_best, ref_median = timed(lambda: run(args.file), max(20, args.repeat // 4))
        print(f"reference parser: best {ref_best:.2f} ms, median {ref_median:.2f} ms")
        print(f"speed-up: {ref_best / best:.1f}x (best), {ref_median / median:.1f}x (median)")

    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        write_ntu(raw, num_files=args.files, frames=100, seed=0)
        for workers in (1, 2):
            start = time.perf_counter()
            summary = prepare_ntu(raw, Path(tmp) / f"store{workers}", workers=workers, progress=False)
            seconds = time.perf_counter() - start
            print(f"prepare ntu, {workers} worker(s): {summary.samples} files in {seconds:.2f} s = "
                  f"{summary.samples / seconds:.0f} files/s")


if __name__ == "__main__":
    main()
