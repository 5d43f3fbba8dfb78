"""The process entry point of the ``bharnet`` command (the ``bharnet`` script and ``python -m
bharnet``). It loads the command line itself, so that Ctrl-C while that loads (numpy and the
command modules: a noticeable moment on a busy machine) ends the run with one line and exit status
130, as a press during any later step does, never with a traceback."""

from __future__ import annotations

import sys


def main() -> int:
    try:
        from bharnet.cli import main as run

        return run()
    except KeyboardInterrupt:  # before the command line could catch it
        print("bharnet: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
