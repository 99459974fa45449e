"""Every page of the portal for a big CSP partner beside the same page for the demo partner.

    python bench/pages.py [--scale 1] [--repeat 5] [--pages SUBSTRING] [--quick]

1. Data, kept between runs in its own database (`portal_scale`): the demo organizations
   (`manage.py seed_demo`, when Fabrikam is missing) and the large partner of `manage.py seed_scale`
   at `--scale` (1: 2,000 people, 20,000 customers, 5,000,000 earnings rows, …; a finished build is
   only checked). Both builds are resumable: an interrupted first run continues where it stopped.
2. The pages: every GET route of the URLconf outside the API and the admin (walked as
   tests/contracts/routes.py walks it). A route that takes an object gets a real object of each
   organization (its most recent one its owner may see), or the route's sample arguments. Where
   Fabrikam has no such object, or a list page has none of its rows for Fabrikam, the reference is
   the quick-scale partner's page instead (listed after the measurements). A route
   is a page when it answers 200 with HTML for both organizations; the others (POST-only actions,
   redirects, downloads, one-time-token links) are listed and skipped.
3. Measured in-process through the Django test Client, full middleware, DEBUG off: a signed-in
   Owner + Global admin of each organization with a verified second factor (as tests/conftest.py
   `verified_session`). Per page, after one warm-up each: the median of `--repeat` requests per
   organization, alternating, and the SQL queries of one request of each.

Prints per page `BENCH page:<route> value=<large>ms reference=<demo>ms ratio=… target=<=1.5` and
`BENCH queries:<route> value=<large> reference=<demo> ratio=… target===1`, then
`BENCH pages:worst` (the page with the highest ratio) and `BENCH pages:p95` (95th percentile of the
page medians at both sizes), and the misses after them. Exits 0 when targets are missed: a bench
measures, it does not judge.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _common  # noqa: E402
from bench._common import bench_line, info  # noqa: E402

DATABASE = "portal_scale"
DEMO_PARTNER = "4812345"  # Fabrikam Consulting GmbH, the demo's organization with every role
DEMO_OWNER = "owner@fabrikam.example"
TARGET = 1.5
QUICK_SCALE = 0.01
QUICK_PAGES = [
    "home:index",
    "accounts:customer-list",
    "earnings:index",
    "commerce:subscription-list",
    "incentives:claim-list",
    "cosell:index",
    "security:gdap-list",
    "membership:index",
]
#: URL arguments of routes that take something other than an object's pk.
SAMPLE_KWARGS = {
    "membership:designation": {"slug": "modern-work"},
    "earnings:download": {"report": "earnings", "fmt": "csv"},
}
#: Which object an object route gets (the most recent one matching).
OBJECT_FILTERS = {
    "cosell:referral-detail": {"is_draft": False},
    "cosell:referral-edit": {"is_draft": False},
    "cosell:deal-step": {"is_draft": True},
}
#: The rows a list page shows, for list routes whose view names no model.
LIST_MODELS = {
    "membership:license-report": "membership.MarketplaceLicense",
    "membership:vm-image-report": "membership.VmImageUsage",
    "membership:surface-insights": "membership.SurfaceAssessment",
    "security:azure-budgets": "security.CustomerAzureSubscription",
}
#: Routes that are not pages of a signed-in person.
SKIP = {
    "accounts:logout": "signs out",
    "accounts:login": "before sign-in",
    "accounts:mfa-verify": "before the second factor",
    "accounts:password-reset": "signed-out flow",
    "accounts:password-reset-done": "signed-out flow",
    "accounts:password-reset-complete": "signed-out flow",
    "accounts:password-reset-confirm": "needs a one-time token",
    "accounts:invitation-accept": "needs a one-time token",
    "incentives:consent": "needs a one-time token (the customer's side)",
    "security:gdap-invitation": "needs a one-time token (the customer's side)",
    "portal:health": "a probe, not a page",
}


def parse_args(argv: list[str] | None = None):
    import argparse  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"scale {QUICK_SCALE}, a few pages, 3 requests")
    parser.add_argument(
        "--scale", type=float, help=f"size of the large partner (1; {QUICK_SCALE} with --quick)"
    )
    parser.add_argument(
        "--repeat", type=int, help="timed requests per page and organization (5; 3 with --quick)"
    )
    parser.add_argument("--pages", help="only routes whose name contains this")
    parser.add_argument("--verbose", action="store_true", help="print each page's figures as it goes")
    parser.add_argument(
        "--explain",
        type=int,
        default=0,
        metavar="N",
        help="for the N pages of highest ratio, EXPLAIN ANALYZE the large page's slowest queries",
    )
    return parser.parse_args(argv)


# --- Data ---------------------------------------------------------------------------------------------


def ensure_data(scale: float) -> tuple[dict[str, object], object]:
    """The owners of the organizations measured ("large", "demo" and, beside a large partner
    above the quick scale, "small": the quick-scale partner), building what is missing."""
    from django.core.management import call_command  # noqa: PLC0415

    from accounts.models import Organization, User  # noqa: PLC0415
    from home.scale import seed_scale  # noqa: PLC0415

    if not Organization.objects.filter(partner_global_id=DEMO_PARTNER).exists():
        started = time.perf_counter()
        info("seeding the demo organizations…")
        call_command("seed_demo", "--quiet", verbosity=0)
        info(f"demo seeded in {time.perf_counter() - started:.0f}s")
    owners = {"demo": User.objects.get(email=DEMO_OWNER)}
    plan = None
    for size, size_scale in (("large", scale), ("small", QUICK_SCALE)):
        if size == "small" and scale == QUICK_SCALE:
            continue
        started = time.perf_counter()
        report = seed_scale(size_scale, progress=lambda line: info(f"seed_scale: {line}"))
        if report.ran:
            info(
                f"scale {size_scale:g} built in {time.perf_counter() - started:.0f}s ({len(report.ran)} "
                "chunks)"
            )
        owners[size] = User.objects.get(email=f"owner@{report.plan.domain}")
        plan = plan or report.plan
    return owners, plan


def verified_client(user):
    """A browser session that signed in and passed the second factor (tests/conftest.py)."""
    from django.test import Client  # noqa: PLC0415
    from django_otp import DEVICE_ID_SESSION_KEY  # noqa: PLC0415
    from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: PLC0415

    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = (
        TOTPDevice.objects.filter(user=user, confirmed=True).first().persistent_id
    )
    session.save()
    return client


# --- Pages --------------------------------------------------------------------------------------------


@dataclass
class Page:
    name: str
    paths: dict[str, str]  # "large" / "demo" → path
    #: Whose page the reference is: "demo" (Fabrikam), or "small" (the scale-0.01 partner) for an
    #: object route when Fabrikam holds no such object, or a list route with none of its rows.
    reference: str = "demo"
    times: dict[str, list[float]] = field(default_factory=lambda: {"large": [], "demo": []})
    queries: dict[str, int] = field(default_factory=dict)

    def median(self, size: str) -> float:
        return statistics.median(self.times[size])

    @property
    def ratio(self) -> float:
        return self.median("large") / max(self.median("demo"), 0.001)


def _object_for(route, user):
    """The most recent object of the route's model the user may see (vendor data: the first)."""
    model = route.model
    if model is None:
        return None
    queryset = model.objects.visible_to(user).filter(**OBJECT_FILTERS.get(route.name, {}))
    if getattr(queryset, "vendor_data", False):
        return queryset.order_by("pk").first()
    return queryset.order_by("-pk").first()


def _path_for(route, user) -> str | None:
    name = route.name or route.pattern
    if not route.kwargs:
        return route.path_for()
    values = dict(getattr(route.callback, "tenant_sample_kwargs", {}))
    values.update(SAMPLE_KWARGS.get(name, {}))
    if "pk" in route.kwargs:
        obj = _object_for(route, user)
        if obj is None:
            return None
        values["pk"] = obj.pk
    if set(route.kwargs) - set(values):
        return None
    return route.path_for(**values)


def _lists_nothing_for(route, user) -> bool:
    """Whether a list route has no row to show `user` (a page of nothing is no reference for a page
    of rows: the demo's CSP partner has no Marketplace licences and has run no job)."""
    from django.apps import apps  # noqa: PLC0415

    if route.kwargs:
        return False
    name = route.name or route.pattern
    model = apps.get_model(LIST_MODELS[name]) if name in LIST_MODELS else route.model
    if model is None or not hasattr(model.objects, "visible_to"):
        return False
    return not model.objects.visible_to(user).exists()


def candidate_pages(users: dict[str, object], only: str | None, quick: bool) -> tuple[list[Page], list[str]]:
    """Every GET route with its path for each organization; the skipped ones with why.

    `users` holds "large" and "demo", and may hold "small": the reference of an object route whose
    object Fabrikam lacks, and of a list route with no row of Fabrikam's (the demo has no
    migrations, exports, reconciliations, jobs or Marketplace licences of its own).
    """
    from tests.contracts.routes import all_routes  # noqa: PLC0415 - the URLconf walk the contract tests use

    pages, skipped = [], []
    for route in all_routes():
        name = route.name or route.pattern
        if route.is_api or route.pattern.startswith("api/"):
            continue
        if quick and name not in QUICK_PAGES:
            continue
        if only and only not in name:
            continue
        if name in SKIP:
            skipped.append(f"{name}: {SKIP[name]}")
            continue
        large = _path_for(route, users["large"])
        reference, demo = "demo", _path_for(route, users["demo"])
        if (demo is None or _lists_nothing_for(route, users["demo"])) and "small" in users:
            reference, demo = "small", _path_for(route, users["small"])
        if large is None or demo is None:
            skipped.append(f"{name}: no object or sample arguments for {route.pattern}")
            continue
        pages.append(Page(name, {"large": large, "demo": demo}, reference=reference))
    return pages, skipped


def _request(client, path: str) -> tuple[float, object]:
    started = time.perf_counter()
    response = client.get(path)
    if getattr(response, "streaming", False):
        response.close()
    return (time.perf_counter() - started) * 1000, response


def _is_page(response) -> str:
    """ "" when the response is an HTML page, else why not."""
    if response.status_code != 200:
        location = response.headers.get("Location", "")
        return f"answers {response.status_code}{' → ' + location if location else ''}"
    if getattr(response, "streaming", False):
        return f"a download ({response.headers.get('Content-Type', '?')})"
    if not response.headers.get("Content-Type", "").startswith("text/html"):
        return f"not HTML ({response.headers.get('Content-Type', '?')})"
    return ""


def measure(
    pages: list[Page], clients: dict[str, object], repeat: int, verbose: bool
) -> tuple[list[Page], list[str]]:
    from django.db import connection  # noqa: PLC0415
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

    measured, skipped = [], []
    for page in pages:
        # Warm-up (and the check that both answer a page).
        problems = {}
        pair = {"large": clients["large"], "demo": clients[page.reference]}
        for size, client in pair.items():
            _elapsed, response = _request(client, page.paths[size])
            problems[size] = _is_page(response)
        if any(problems.values()):
            why = "; ".join(f"{size} {problem}" for size, problem in problems.items() if problem)
            skipped.append(f"{page.name}: {why}")
            continue
        for _ in range(repeat):
            for size, client in pair.items():
                elapsed, _response = _request(client, page.paths[size])
                page.times[size].append(elapsed)
        for size, client in pair.items():
            with CaptureQueriesContext(connection) as captured:
                client.get(page.paths[size])
            page.queries[size] = len(captured.captured_queries)
        measured.append(page)
        if verbose:
            info(
                f"{page.name:40} large {page.median('large'):8.1f} ms {page.queries['large']:4} q · "
                f"{page.reference} {page.median('demo'):7.1f} ms {page.queries['demo']:4} q · ratio "
                f"{page.ratio:6.2f}"
            )
    return measured, skipped


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def report(pages: list[Page]) -> list[str]:
    """The BENCH lines, then the misses."""
    lines, misses = [], []
    for page in sorted(pages, key=lambda p: p.name):
        large, demo = page.median("large"), page.median("demo")
        line = bench_line(f"page:{page.name}", large, "ms", demo, "ms", page.ratio, "<=", TARGET)
        lines.append(line)
        if line.endswith("ok=no"):
            misses.append(f"{page.name}: {large:.0f} ms vs {demo:.0f} ms (×{page.ratio:.2f})")
        q_large, q_demo = page.queries["large"], page.queries["demo"]
        line = bench_line(f"queries:{page.name}", q_large, "", q_demo, "", q_large / max(q_demo, 1), "==", 1)
        lines.append(line)
        if line.endswith("ok=no"):
            misses.append(f"{page.name}: {q_large} queries vs {q_demo}")
    worst = max(pages, key=lambda p: p.ratio)
    info(f"worst page: {worst.name} ({worst.paths['large']})")
    lines.append(
        bench_line(
            "pages:worst", worst.median("large"), "ms", worst.median("demo"), "ms", worst.ratio, "<=", TARGET
        )
    )
    p95_large = _percentile([p.median("large") for p in pages], 0.95)
    p95_demo = _percentile([p.median("demo") for p in pages], 0.95)
    lines.append(bench_line("pages:p95", p95_large, "ms", p95_demo, "ms", p95_large / p95_demo, "<=", TARGET))
    if misses:
        print(f"  {len(misses)} targets missed:", flush=True)
        for miss in misses:
            info(f"  miss: {miss}")
    else:
        info("every target met")
    return lines


def explain(pages: list[Page], clients: dict[str, object], count: int) -> None:
    """The slowest queries of the worst pages' large request, with their plans (for the next step:
    these figures say where the time goes, not what to do about it)."""
    from django.db import connection  # noqa: PLC0415
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

    for page in sorted(pages, key=lambda p: -p.ratio)[:count]:
        with CaptureQueriesContext(connection) as captured:
            clients["large"].get(page.paths["large"])
        queries = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))
        total = sum(float(q["time"]) for q in queries) * 1000
        info(f"--- {page.name} ({page.paths['large']}): {len(queries)} queries, {total:.0f} ms in SQL")
        for query in queries[:2]:
            sql = query["sql"]
            info(f"  {float(query['time']) * 1000:.0f} ms: {' '.join(sql.split())[:400]}")
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                for (line,) in cursor.fetchall()[:14]:
                    info(f"      {line}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    scale = args.scale or (QUICK_SCALE if args.quick else 1.0)
    repeat = args.repeat or (3 if args.quick else 5)
    started = time.perf_counter()
    _common.setup_django({"DATABASE_URL": _common.bench_database_url(name=DATABASE)})

    from django.test import override_settings  # noqa: PLC0415

    users, plan = ensure_data(scale)
    info(f"data ready in {time.perf_counter() - started:.0f}s: {plan.legal_name} beside the demo's Fabrikam")
    # DEBUG is off, so settings use whitenoise's manifest storage, and no manifest exists unless
    # collectstatic ran; `{% static %}` would fail. Plain storage changes no query.
    plain_static = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=plain_static, ALLOWED_HOSTS=["testserver", "localhost", "127.0.0.1"]):
        pages, skipped = candidate_pages(users, args.pages, args.quick)
        clients = {size: verified_client(user) for size, user in users.items()}
        measured_started = time.perf_counter()
        measured, not_pages = measure(pages, clients, repeat, args.verbose)
        if args.explain and measured:
            explain(measured, clients, args.explain)
    for reason in skipped + not_pages:
        info(f"skipped {reason}")
    for page in measured:
        if page.reference != "demo":
            info(
                f"reference of {page.name}: the scale-{QUICK_SCALE:g} "
                "partner's page (Fabrikam has no such object or row)"
            )
    info(
        f"{len(measured)} pages × 2 organizations × {repeat} requests in "
        f"{time.perf_counter() - measured_started:.0f}s (total {time.perf_counter() - started:.0f}s)"
    )
    if not measured:
        raise SystemExit("no page answered for both organizations")
    report(measured)


if __name__ == "__main__":
    main()
