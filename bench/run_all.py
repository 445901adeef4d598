"""Run every ``bench/*_bench.py`` one after another (``make bench``) and summarise.

Each benchmark prints its own figures beside their reference rates; this runner
streams that output, passes ``RAPPORT_BENCH_SCALE`` through, and exits non-zero
when any benchmark failed.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def benchmarks(only: list[str]) -> list[Path]:
    found = sorted(BENCH.glob("*_bench.py"), key=lambda p: (p.name != "foundation_bench.py", p.name))
    return [p for p in found if not only or p.stem.removesuffix("_bench") in only]


def main(argv: list[str]) -> int:
    scale = os.environ.get("RAPPORT_BENCH_SCALE", "1.0")
    results = []
    for path in benchmarks(argv):
        print(f"\n===== {path.name} (RAPPORT_BENCH_SCALE={scale}) =====", flush=True)
        started = time.monotonic()
        rc = subprocess.call([sys.executable, str(path)], cwd=BENCH.parent)
        results.append((path.name, rc, time.monotonic() - started))
    print("\n===== summary =====")
    for name, rc, seconds in results:
        print(f"  {name:<32} {'ok' if rc == 0 else f'FAILED (exit {rc})':<18} {seconds:7.1f}s")
    return 0 if results and all(rc == 0 for _, rc, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
