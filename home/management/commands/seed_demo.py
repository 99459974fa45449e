from django.core.management.base import BaseCommand, CommandError

from accounts.demo import DEMO_PASSWORD, ORGANIZATIONS, STAFF_EMAIL, demo_logins, seed_demo_data
from accounts.models import Organization, User
from commerce.demo import commerce_demo_loaded, commerce_demo_seed
from cosell.demo.seed import cosell_demo_loaded, cosell_demo_seed
from earnings.demo import earnings_demo_loaded, earnings_demo_seed
from incentives.demo import incentives_demo_loaded, incentives_demo_seed
from membership.demo import membership_demo_loaded, membership_demo_seed
from security.demo import security_demo_loaded, security_demo_seed


class Command(BaseCommand):
    help = (
        "Load deterministic demo data: organizations, users in every role, customers, action items, "
        "the commerce catalog, price lists and legacy subscriptions, a year of earnings and payments, "
        "the incentives catalogue, opportunities and claims, co-sell profiles, routing rules, "
        "referrals and deals, the security workspace (settings, alerts, GDAP, DAP, "
        "verification, training), and the membership workspace (memberships, certifications, "
        "capability scores, designations, benefits, Marketplace Rewards, ISV Success, insights)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=7, help="Random seed (same seed, same data).")
        parser.add_argument(
            "--scale", type=int, default=1, help="Multiplies the customer rows (set-based inserts)."
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when demo organizations already exist (top up what is missing), nor in a "
            "database that has organizations or vendor staff of its own.",
        )
        parser.add_argument("--quiet", action="store_true", help="Don't print the demo logins.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load the demo even into a database that has organizations or vendor staff of its own.",
        )

    def handle(self, *args, **options):
        seed, scale = options["seed"], options["scale"]
        if scale < 1:
            raise CommandError("--scale must be 1 or more.")
        ids = [demo.partner_global_id for demo in ORGANIZATIONS]
        already = Organization.objects.filter(partner_global_id__in=ids).exists()
        # A database with organizations or vendor staff of its own is a real one: the demo would add
        # its vendor admin (with a published password), catalogue and programs to it. Once the demo
        # is in (a demo database where someone added an organization), re-running it adds no more.
        own = self.own_data(ids)
        if own and not already and not options["force"]:
            message = (
                f"This database has data of its own ({own}); not loading the demo data into it. "
                "`manage.py seed_demo --force` loads it anyway."
            )
            if options["if_empty"]:
                self.stdout.write(message)
                return
            raise CommandError(message)
        if options["if_empty"] and already:
            self.stdout.write("Demo data already loaded (run `manage.py seed_demo` to top it up).")
            logins = demo_logins(seed=seed)
        else:
            report = seed_demo_data(seed=seed, customers_per_org=40 * scale)
            self.stdout.write(self.style.SUCCESS(f"Demo data ready: {report.customers} customers."))
            logins = report.logins
        # The commerce seed tops up (customers without legacy subscriptions get theirs), so
        # re-running never duplicates; with --if-empty it runs only while it is missing.
        if not (options["if_empty"] and already and commerce_demo_loaded()):
            commerce = commerce_demo_seed(seed=seed, scale=scale)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Commerce demo ready: {commerce.legacy_subscriptions} legacy subscriptions "
                    f"({commerce.created} new), {commerce.price_lists} price lists."
                )
            )
        # Earnings build on the customers and commerce subscriptions above; a re-run adds nothing.
        if not (options["if_empty"] and already and earnings_demo_loaded()):
            earnings = earnings_demo_seed(seed=seed, scale=scale)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Earnings demo ready: {earnings.transactions} transactions "
                    f"({earnings.created_transactions} new), {earnings.payout_runs} payout runs, "
                    f"{earnings.earnings} earnings, {earnings.payments} payments "
                    f"({earnings.payments_sent} sent now)."
                )
            )
        # Incentives after earnings: its activities are engagements of the earnings demo's MCI
        # program, claimed by the locations enrolled there; its payout run of the current month
        # turns the claims approved now into earnings. A re-run adds no claims.
        if not (options["if_empty"] and already and incentives_demo_loaded()):
            incentives = incentives_demo_seed(seed=seed)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Incentives demo ready: {incentives.activity_types} activity types, "
                    f"{incentives.opportunities} opportunities, {incentives.claims} claims "
                    f"({incentives.created_claims} new), {incentives.claim_earnings} claim earnings."
                )
            )
        # Co-sell after incentives: it needs only the organizations and their users; its referrals
        # go through the services (routing, history, expiry job). A re-run adds no referrals.
        if not (options["if_empty"] and already and cosell_demo_loaded()):
            cosell = cosell_demo_seed(seed=seed)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Co-sell demo ready: {cosell.profiles} capability profiles, {cosell.solutions} "
                    f"solutions, {cosell.routing_rules} routing rules, {cosell.referrals} referrals "
                    f"({cosell.created_referrals} new)."
                )
            )
        # Security after co-sell: it needs the organizations, their users and customers; GDAP,
        # alerts, verification and training go through the services. A re-run adds nothing.
        if not (options["if_empty"] and already and security_demo_loaded()):
            security = security_demo_seed(seed=seed)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Security demo ready: {security.gdap_relationships} GDAP relationships "
                    f"({security.created_relationships} new), {security.dap_relationships} legacy DAP, "
                    f"{security.alerts} alerts, {security.enrollments} program enrollments, "
                    f"{security.documents} verification documents, {security.trainings} training assignments."
                )
            )
        # Membership last: its scores read the earnings transactions, its ISV Success submission
        # needs the security demo's program enrollment. A re-run adds nothing.
        if not (options["if_empty"] and already and membership_demo_loaded()):
            membership = membership_demo_seed(seed=seed)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Membership demo ready: {membership.memberships} memberships, "
                    f"{membership.certifications} certifications ({membership.created_certifications} new), "
                    f"{membership.score_snapshots} score snapshots ({membership.qualified} qualified today), "
                    f"{membership.packages} benefit packages, {membership.rewards_years} rewards years, "
                    f"{membership.isv_applications} ISV Success applications, "
                    f"{membership.licenses} license rows, {membership.vm_image_rows} VM image rows, "
                    f"{membership.surface_assessments} Surface assessments."
                )
            )
        if not options["quiet"]:
            self.print_logins(logins)

    @staticmethod
    def own_data(demo_ids: list[str]) -> str:
        """What makes this database a real installation's, or "": an organization or a vendor
        staff account that is not the demo's."""
        organization = Organization.objects.exclude(partner_global_id__in=demo_ids).order_by("pk").first()
        if organization is not None:
            return f"organization {organization}"
        staff = (
            User.objects.filter(is_staff=True, organization__isnull=True)
            .exclude(email=STAFF_EMAIL)
            .order_by("pk")
            .first()
        )
        return f"vendor staff {staff.email}" if staff is not None else ""

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
