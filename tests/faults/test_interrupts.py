"""Fault tests: `prepare` interrupted (Ctrl-C) or killed at random points, with one and two
workers. Every run ends within seconds, and the same command run again gives a store
byte-identical to an uninterrupted run's."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.io.fixtures import write_ntu

pytestmark = pytest.mark.integration  # interrupts and kills processes

ROOT = Path(__file__).resolve().parents[2]
#: NTU files: a run of a few seconds (the NTU reader, numba-compiled, is where workers hung on Ctrl-C)
FILES = 200
#: how long an interrupted run may take to end, on a loaded machine
ENDS_WITHIN = 20.0


def _start(raw: Path, out: Path, workers: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    argv = ["prepare", "ntu", "--skeletons", str(raw), "--out", str(out), "--workers", str(workers), "--no-progress"]
    return subprocess.Popen([sys.executable, "-m", "bharnet", *argv], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own process group, as a shell job


def _finish(proc: subprocess.Popen, within: float) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"the run did not end within {within} s of the signal (hung)")
    return proc.returncode, err


def _files(store: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(store.iterdir())}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    write_ntu(root / "raw", num_files=FILES, frames=60)
    (root / "raw" / "S017C003P040R001A059.skeleton").write_text("3\n1\n")  # one rejected input as well
    start = time.monotonic()
    code, err = _finish(_start(root / "raw", root / "reference", 1), within=300)
    assert code == 1 and "1 input rejected" in err, err  # 1: an input failed
    return root, time.monotonic() - start


def _interrupt_and_rerun(data: tuple[Path, float], tmp_path: Path, workers: int, sig: int,
                         rng: random.Random) -> None:
    data, seconds = data
    out = tmp_path / "store"
    proc = _start(data / "raw", out, workers)
    time.sleep(rng.uniform(0.2, seconds))  # start-up, conversion or packing
    if proc.poll() is None:
        os.killpg(proc.pid, sig)  # Ctrl-C in a terminal signals the whole process group
    code, err = _finish(proc, within=ENDS_WITHIN)
    assert "Traceback" not in err, err[-3000:]
    if sig == signal.SIGINT:  # done (1: the rejected input), interrupted (130), or interrupted while Python exits
        assert code in (1, 130, -signal.SIGINT), err[-3000:]
    code, err = _finish(_start(data / "raw", out, workers), within=300)  # the same command again
    assert code == 1, err[-3000:]
    assert _files(out) == _files(data / "reference")


CASES = [(w, s) for w in (1, 2) for s in (signal.SIGINT, signal.SIGKILL)]


@pytest.mark.parametrize(("workers", "sig"), CASES, ids=[f"{w}workers-{signal.Signals(s).name}" for w, s in CASES])
@pytest.mark.parametrize("seed", range(1))
def test_interrupted_prepare_resumes_to_the_same_store(data, tmp_path, workers, sig, seed):
    _interrupt_and_rerun(data, tmp_path, workers, sig, random.Random(seed * 100 + workers * 10 + sig))


@pytest.mark.slow
@pytest.mark.parametrize(("workers", "sig"), CASES, ids=[f"{w}workers-{signal.Signals(s).name}" for w, s in CASES])
@pytest.mark.parametrize("seed", range(1, 11))
def test_interrupted_prepare_resumes_to_the_same_store_many_points(data, tmp_path, workers, sig, seed):
    _interrupt_and_rerun(data, tmp_path, workers, sig, random.Random(seed * 100 + workers * 10 + sig))


def test_ctrl_c_with_two_workers_ends_within_seconds_every_time(data, tmp_path):
    """Ctrl-C reached the workers too, which could leave the pool's queues half written: parent
    and workers then waited on each other for ever (5 of 8 tries hung before the fix)."""
    (raw, _), rng = data, random.Random(4)
    for attempt in range(4):
        out = tmp_path / f"store{attempt}"
        proc = _start(raw / "raw", out, 2)
        written = out.with_name(out.name + ".partial") / "sources.txt"
        while proc.poll() is None and not (written.exists() and written.stat().st_size):
            time.sleep(0.02)  # until the workers' results arrive
        time.sleep(rng.uniform(0.0, 0.5))
        os.killpg(proc.pid, signal.SIGINT)
        code, err = _finish(proc, within=ENDS_WITHIN)
        assert code in (1, 130, -signal.SIGINT) and "Traceback" not in err, err[-3000:]


def test_ctrl_c_while_python_exits_after_the_command_prints_no_traceback(tmp_path):
    """A Ctrl-C that arrives after the work is done, while Python tears torch down at exit, printed
    `Exception ignored in atexit callback ... KeyboardInterrupt` under a finished run."""
    script = ("import atexit, os, signal, sys, time\n"
              "from bharnet.cli import main\n"
              "atexit.register(lambda: (os.kill(os.getpid(), signal.SIGINT), time.sleep(0.2)))\n"
              "sys.argv = ['bharnet', 'profile', 'body-expert', '--backbone', 'stgcn']\n"
              "raise SystemExit(main())\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and "KeyboardInterrupt" not in proc.stderr, proc.stderr[-3000:]


def test_ctrl_c_while_a_worker_is_forked_stops_the_run(tmp_path):
    """A Ctrl-C that arrived while the pool forked a worker ran in logging's fork hook, was printed as
    `Exception ignored ... KeyboardInterrupt` and lost: the run went on to the end."""
    write_ntu(tmp_path / "raw", num_files=8, frames=10)
    script = ("import os, signal, sys\n"
              "from bharnet.cli import build_parser, main\n"
              "build_parser()  # the imports first: the hook is for the pool's forks only\n"
              "os.register_at_fork(after_in_parent=lambda: os.kill(os.getpid(), signal.SIGINT))\n"
              "raise SystemExit(main(sys.argv[1:]))\n")
    argv = ["prepare", "ntu", "--skeletons", str(tmp_path / "raw"), "--out", str(tmp_path / "store"),
            "--workers", "2", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, "-c", script, *argv], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 130 and "interrupted" in proc.stderr, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr, proc.stderr[-3000:]
    assert not (tmp_path / "store").exists()


@pytest.mark.slow
def test_ctrl_c_while_the_experts_train_side_by_side_ends_both_and_a_rerun_finishes(tmp_path):
    out = tmp_path / "demo"
    argv = [sys.executable, "-m", "bharnet", "demo", "--quick", "--out", str(out), "--variants", "score-fusion",
            "data.synth.num_samples=260", "trainer.max_epochs=4"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    runs = [out / "runs" / e / "csv" for e in ("body-expert", "hand-expert")]
    deadline = time.monotonic() + 240
    while proc.poll() is None and not all(r.exists() for r in runs) and time.monotonic() < deadline:
        time.sleep(0.2)  # until both processes train
    os.killpg(proc.pid, signal.SIGINT)
    code, err = _finish(proc, within=ENDS_WITHIN)
    assert code in (0, 130) and "Traceback" not in err, err[-3000:]
    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    models = json.loads((out / "results.json").read_text())["models"]
    assert {"body-expert", "hand-expert", "score-fusion"} <= set(models)
