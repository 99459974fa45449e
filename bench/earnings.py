"""Earnings at scale: downloads, the Earnings page and the payout engine (issue 5).

Runs the three parts one after the other, each in its own process and bench database (their data
sets are kept between runs: building five million rows takes minutes):

- `_earnings_download.py`: the full filtered CSV download of 5,000,000 earnings rows beside a raw
  `COPY … TO STDOUT` of the same rows (≤ 1.3), and the web worker's peak memory at 5M beside 1M
  rows (flat, under 250 MB);
- `_earnings_page.py`: the Earnings page (cards + first table page, with filters) at 5,000,000
  rows beside the same at 50,000 rows (≤ 1.5);
- `_earnings_payout.py`: a payout run over 1,000,000 transactions beside one hand-written
  INSERT … SELECT of the same earnings and ineligible rows (≤ 1.5).

    python bench/earnings.py [--quick]

Each part also runs alone, with its own `--rows`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PARTS = ("_earnings_download.py", "_earnings_page.py", "_earnings_payout.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each part at small scale")
    args = parser.parse_args()
    for part in PARTS:
        command = [sys.executable, str(HERE / part), *(["--quick"] if args.quick else [])]
        result = subprocess.run(command, check=False)
        if result.returncode:
            raise SystemExit(f"{part} failed with exit code {result.returncode}")


if __name__ == "__main__":
    main()
