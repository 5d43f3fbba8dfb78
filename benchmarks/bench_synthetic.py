"""How fast BodyHand-Synth makes samples on one core: prints samples/s (CPU time and wall time).

    PYTHONPATH=src python benchmarks/bench_synthetic.py [num_samples]
"""

from __future__ import annotations

import sys
import time

from bharnet.synth.generate import generate


def main(num_samples: int = 10_000) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    frames = sum(seq.num_frames for seq in generate(num_samples, seed=0))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{num_samples} samples, {frames} frames: {cpu:.1f} s CPU ({num_samples / cpu:.0f} samples/s), "
          f"{wall:.1f} s wall ({num_samples / wall:.0f} samples/s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
