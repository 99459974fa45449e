"""Co-sell: matching quality on the labelled set, then the referral list API at scale.

First figure: hit rate at 5 of the matching score (cosell.selectors.matching.rank_partners, what
`match_partners` ranks with) over the deterministic labelled set of cosell.labelled_deals — N past
deals (`--rows`, default 500) among 200 synthetic partners — beside the baseline "partners serving
the customer's country, most case studies first":
`BENCH cosell_matching_hit_rate_at_5 value=<ours> reference=<baseline> ratio=<ours/baseline> target=>=1.0`.

Then the referral list endpoint's request rate at 1,000,000 referrals beside 10,000
(bench/_cosell_api.py, `run(quick)`), which prints its own BENCH lines.

    python bench/cosell.py [--rows N] [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _common  # noqa: E402
from bench._common import bench_line, info  # noqa: E402

PARTNERS = 200
SEED = 7
K = 5
TARGET = 1.0


def matching(deals: int) -> str:
    from cosell.labelled_deals import evaluate  # noqa: PLC0415 - needs Django set up

    result = evaluate(k=K, deals=deals, partners=PARTNERS, seed=SEED)
    info(
        f"labelled set: {result.deals} deals, {result.partners} partners, seed {SEED}; "
        f"baseline = partners serving the country, most case studies first"
    )
    return bench_line(
        f"cosell_matching_hit_rate_at_{K}",
        result.hit_rate,
        "",
        result.baseline_hit_rate,
        "",
        result.ratio,
        ">=",
        TARGET,
    )


def main(argv: list[str] | None = None) -> None:
    args = _common.parse_args(
        "Co-sell matching quality and referral list request rate.",
        default_rows=500,
        quick_rows=200,
        argv=argv,
    )
    from bench import _cosell_api  # noqa: PLC0415 - after the arguments are read

    # One Django set-up for both parts, on the API part's bench database (the server it starts
    # must see the tokens this process writes).
    _common.setup_django(
        {
            "DATABASE_URL": _common.bench_database_url(name=_cosell_api.DATABASE),
            "API_THROTTLE_RATE": _cosell_api.THROTTLE_RATE,
        }
    )
    matching(args.rows)
    _cosell_api.run(args.quick)


if __name__ == "__main__":
    main()
