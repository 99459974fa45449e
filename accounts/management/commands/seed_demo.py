from django.core.management.base import BaseCommand

from accounts.demo import DEMO_PASSWORD, ORGANIZATIONS, demo_logins, seed_demo_data
from accounts.models import Organization


class Command(BaseCommand):
    help = "Load deterministic demo data (organizations, users in every role, customers, action items)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=7, help="Random seed (same seed, same data).")
        parser.add_argument(
            "--scale", type=int, default=1, help="Multiplies the customer rows (set-based inserts)."
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when demo organizations already exist."
        )
        parser.add_argument("--quiet", action="store_true", help="Don't print the demo logins.")

    def handle(self, *args, **options):
        seed, scale = options["seed"], options["scale"]
        if scale < 1:
            self.stderr.write("--scale must be 1 or more.")
            raise SystemExit(2)
        ids = [demo.partner_global_id for demo in ORGANIZATIONS]
        already = Organization.objects.filter(partner_global_id__in=ids).exists()
        if options["if_empty"] and already:
            self.stdout.write("Demo data already loaded (run `manage.py seed_demo` to top it up).")
            logins = demo_logins(seed=seed)
        else:
            report = seed_demo_data(seed=seed, customers_per_org=40 * scale)
            self.stdout.write(self.style.SUCCESS(f"Demo data ready: {report.customers} customers."))
            logins = report.logins
        # --- Commerce demo: catalog, price lists, legacy subscriptions ----------------------------
        # Imported here to keep this block self-contained in the accounts command. The seed tops up
        # (customers without legacy subscriptions get theirs), so re-running never duplicates;
        # with --if-empty it runs only while the commerce demo is missing.
        from commerce.demo import commerce_demo_loaded, commerce_demo_seed  # noqa: PLC0415

        if not (options["if_empty"] and already and commerce_demo_loaded()):
            commerce = commerce_demo_seed(seed=seed, scale=scale)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Commerce demo ready: {commerce.legacy_subscriptions} legacy subscriptions "
                    f"({commerce.created} new), {commerce.price_lists} price lists."
                )
            )
        # --- End of commerce demo -----------------------------------------------------------------
        if not options["quiet"]:
            self.print_logins(logins)

    def print_logins(self, logins) -> None:
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD})")
        self.stdout.write(
            "Second factor: add the TOTP secret to an authenticator app, or use the backup code once."
        )
        self.stdout.write(f"{'email':45} {'TOTP secret':34} {'backup':9} roles")
        for login in logins:
            self.stdout.write(
                f"{login.email:45} {login.totp_secret:34} {login.backup_code:9} {', '.join(login.roles)}"
            )
