"""`manage.py history_verify [--organization ID]`: recompute every history chain from its rows.

One line per organization (its event count and head hash, worth keeping outside the database:
a later run showing fewer events or another head means rows were removed), then a summary. A
chain that doesn't hold is reported at its first broken link — organization, seq, row id and
what is wrong — and the command exits non-zero once every chain is checked.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.history import verify_chains


class Command(BaseCommand):
    help = "Recompute the history hash chain of every organization (or one) and report the first broken link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", type=int, help="Check only this organization's chain (its id).")

    def handle(self, *args: Any, organization: int | None = None, **options: Any) -> None:
        chains = events = 0
        broken = []
        for organization_id, verdict in verify_chains(organization):
            chains += 1
            if verdict.broken is None:
                events += verdict.intact
                self.stdout.write(
                    f"organization {organization_id}: {verdict.intact} events, head {verdict.head}"
                )
                continue
            where = f"seq {verdict.broken.seq}, row id {verdict.broken.row_id}"
            broken.append(f"organization {organization_id} at {where}")
            self.stdout.write(
                self.style.ERROR(
                    f"organization {organization_id}: BROKEN at {where}: {verdict.broken.problem}"
                )
            )
        if broken:
            raise CommandError(f"{len(broken)} of {chains} history chains broken: {'; '.join(broken)}")
        self.stdout.write(
            self.style.SUCCESS(
                f"History verified: {chains} organizations, {events} events, every link holds."
            )
        )
