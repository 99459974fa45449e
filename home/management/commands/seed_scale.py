"""`manage.py seed_scale [--scale 1]`: one organization the size of a big CSP partner (home.scale)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from accounts.demo import DEMO_PASSWORD, backup_code_for, totp_secret_for
from home.scale import BASE_COUNTS, seed_scale
from home.scale.base import MAX_SCALE, MIN_SCALE


class Command(BaseCommand):
    help = (
        "Build one organization the size of a big CSP partner, set-based: at scale 1 2,000 people, "
        "20,000 customers, 200,000 legacy and 200,000 new-commerce subscriptions, 5,000,000 earnings "
        "rows, 200,000 referrals, 50,000 claims and 20,000 GDAP relationships over 24 months, with "
        "the rows around them. Idempotent and resumable: a finished build is left as is, an "
        "interrupted one continues with its first uncommitted chunk."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help=f"Multiplies every count ({MIN_SCALE} … {MAX_SCALE}; 0.01 builds a small partner quickly).",
        )
        parser.add_argument("--only", help="Run only the chunks whose key starts with this (development).")
        parser.add_argument("--quiet", action="store_true", help="Print only the summary.")

    def handle(self, *args, **options):
        scale = options["scale"]
        if not MIN_SCALE <= scale <= MAX_SCALE:
            raise CommandError(f"--scale must lie between {MIN_SCALE} and {MAX_SCALE}.")
        started = time.perf_counter()
        report = seed_scale(
            scale, progress=None if options["quiet"] else self.stdout.write, only=options["only"]
        )
        plan = report.plan
        seconds = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"{plan.legal_name} ({plan.partner_global_id}) at scale {plan.scale:g}: "
                f"{len(report.ran)} chunks built, {report.skipped} already there, {seconds:.0f}s."
            )
        )
        for name, count in report.counts.items():
            self.stdout.write(
                f"  {name:22} {count:>12,}  (target {plan.counts[name]:,}; base {BASE_COUNTS[name]:,})"
            )
        email = f"owner@{plan.domain}"
        self.stdout.write(
            f"Sign in as {email} / {DEMO_PASSWORD}, TOTP secret {totp_secret_for(7, email)} "
            f"or backup code {backup_code_for(7, email)} (Owner and Global admin)."
        )
