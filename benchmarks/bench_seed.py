"""Time seed_totesys at several scales on a fresh embedded PostgreSQL.

.venv/bin/python -m benchmarks.bench_seed --scales 1 10 100
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from reveries_pipeline.embedded import embedded_dsn
from reveries_pipeline.totesys.seed import seed_totesys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--scales", type=float, nargs="+", default=[1.0, 10.0, 100.0], help="totesys scales, seeded in turn (1 10 100)"
    )
    parser.add_argument("--seed", type=int, default=42, help="seed_totesys's random seed (default 42)")
    parser.add_argument("--pgdata", type=Path, default=None, help="data directory (default: a temporary one)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-seed-") as tmp:
        dsn = embedded_dsn("totesys_bench", args.pgdata or Path(tmp) / "pgdata")
        for scale in args.scales:
            start = time.perf_counter()
            counts = seed_totesys(dsn, scale=scale, seed=args.seed)
            elapsed = time.perf_counter() - start
            total = sum(counts.values())
            print(f"scale {scale:g}: {elapsed:.2f} s, {total:,} rows ({total / elapsed:,.0f} rows/s)")
            print("  " + ", ".join(f"{t}={n:,}" for t, n in counts.items()), flush=True)


if __name__ == "__main__":
    main()
