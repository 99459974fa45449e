"""The Content-Security-Policy on every page and `Cache-Control: no-store` on signed-in responses.

The policy allows scripts and styles from this site only, so no template may carry an inline
script, an event-handler attribute, a javascript: URL, a style attribute or a <style> element: a
scan of every template keeps a new one from slipping in (the browser would block it silently).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template.utils import get_app_template_dirs
from django.test import Client
from django.urls import path

import home.urls
from tests.factories import UserFactory

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def _boom(request):
    raise RuntimeError("a bug")


# The URLconf of the 500 test: the portal's routes plus one view that fails.
urlpatterns = [path("test-boom/", _boom), *home.urls.urlpatterns]
handler404 = home.urls.handler404
handler500 = home.urls.handler500


def policy_of(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.status_code} {response.get('Content-Type')}"
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = " ".join(value.split())
    return directives


def assert_strict_policy(response) -> None:
    directives = policy_of(response)
    assert directives == POLICY
    header = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header and "nonce-" not in header


def assert_no_store(response) -> None:
    cache_control = response.headers.get("Cache-Control", "")
    assert "no-store" in cache_control, cache_control
    assert "private" in cache_control, cache_control
    assert response.headers.get("Pragma") == "no-cache"


@pytest.fixture
def staff(db):
    return UserFactory(organization=None, is_staff=True, is_superuser=True)


# --- Content-Security-Policy -------------------------------------------------------------------------


def test_a_signed_in_page_has_the_strict_policy_and_is_not_stored(alice, verified_client):
    response = verified_client(alice).get("/")
    assert response.status_code == 200
    assert_strict_policy(response)
    assert_no_store(response)


def test_the_sign_in_page_has_the_strict_policy_and_is_not_stored(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert_strict_policy(response)
    assert_no_store(response)


def test_the_mfa_verification_page_is_not_stored(client, alice):
    client.force_login(alice)
    response = client.get("/accounts/mfa/verify/", follow=True)
    assert response.status_code == 200
    assert_strict_policy(response)
    assert_no_store(response)


def test_admin_pages_have_the_strict_policy_and_no_inline_script(staff, verified_client):
    client = verified_client(staff)
    for url in (
        "/admin/",
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        # django-celery-beat's form has an inline script: templates/admin/djcelery/ overrides it.
        "/admin/django_celery_beat/periodictask/add/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict_policy(response)
        assert_no_store(response)
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), url
        assert not EVENT_HANDLER.search(html), url


def test_the_404_page_has_the_strict_policy(alice, verified_client):
    response = verified_client(alice).get("/no-such-page/")
    assert response.status_code == 404
    assert_strict_policy(response)
    assert_no_store(response)


@pytest.mark.urls(__name__)
def test_the_500_page_has_the_strict_policy(alice):
    from tests.conftest import verified_session

    client = verified_session(alice, Client(raise_request_exception=False))
    response = client.get("/test-boom/")
    assert response.status_code == 500
    assert_strict_policy(response)
    assert_no_store(response)


# --- Cache-Control ------------------------------------------------------------------------------------


def test_the_api_is_not_stored_with_a_token(org_a, api_for):
    response = api_for(org_a).get("/api/v1/accounts/organization/")
    assert response.status_code == 200
    assert_no_store(response)


def test_the_api_is_not_stored_with_a_session(alice, verified_client):
    response = verified_client(alice).get("/api/v1/accounts/organization/")
    assert response.status_code == 200
    assert_no_store(response)


def test_a_signed_in_htmx_fragment_is_not_stored(alice, verified_client):
    response = verified_client(alice).get("/earnings/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert_no_store(response)


def test_static_files_keep_their_cache(client, db):
    response = client.get(f"{settings.STATIC_URL}js/portal.js")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert "max-age" in response.headers.get("Cache-Control", "")
    assert "Content-Security-Policy" not in response.headers
    response.close()


def test_static_files_keep_their_cache_for_a_signed_in_person(alice, verified_client):
    response = verified_client(alice).get(f"{settings.STATIC_URL}css/portal.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


# --- No inline script or style in any template ----------------------------------------------------------

COMMENTS = re.compile(r"\{#.*?#\}|\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}|<!--.*?-->", re.S)
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[a-zA-Z][^>]*?\son[a-z]+\s*=", re.S)
CHECKS = {
    "an event-handler attribute (on…=)": EVENT_HANDLER,
    "a javascript: URL": re.compile(r"javascript\s*:", re.I),
    "a style attribute": re.compile(r"<[a-zA-Z][^>]*?\sstyle\s*=", re.S),
    "a <style> element": re.compile(r"<style\b", re.I),
    "an hx-on attribute (htmx eval)": re.compile(r"\s(data-)?hx-on", re.I),
}


#: E-mail bodies are rendered into messages, never served by the site (no CSP applies), and mail
#: clients read styles only from attributes: inline style is how e-mail HTML is written.
EMAIL_TEMPLATES = ("notifications", "email")


def project_template_files() -> list[Path]:
    base = Path(settings.BASE_DIR).resolve()
    dirs = [Path(d) for engine in settings.TEMPLATES for d in engine.get("DIRS", [])]
    dirs += [Path(d) for d in get_app_template_dirs("templates")]
    dirs = {d.resolve() for d in dirs}
    # The project's own templates: not those of installed packages in the virtualenv.
    ours = [d for d in dirs if d.is_relative_to(base) and ".venv" not in d.relative_to(base).parts]
    return sorted(
        {
            f
            for d in ours
            for f in d.rglob("*")
            if f.is_file() and f.suffix in {".html", ".htm"} and f.parent.parts[-2:] != EMAIL_TEMPLATES
        }
    )


def test_the_template_scan_finds_the_templates():
    files = project_template_files()
    names = {f.name for f in files}
    assert {"base.html", "index.html", "gdap_detail.html"} <= names
    assert len(files) > 50


def test_templates_have_no_inline_script_style_or_handler():
    problems = []
    for file in project_template_files():
        text = COMMENTS.sub("", file.read_text(encoding="utf-8"))
        for match in SCRIPT.finditer(text):
            attributes, body = match.groups()
            if not re.search(r"\bsrc\s*=", attributes):
                problems.append(f"{file}: an inline <script> without src")
            elif body.strip():
                problems.append(f"{file}: a <script src> with inline code")
        if re.search(r"<script\b", text, re.I) and not SCRIPT.search(text):
            problems.append(f"{file}: an unclosed <script>")
        for label, pattern in CHECKS.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{file}:{line}: {label}")
    assert not problems, "\n".join(problems)


def test_the_scan_catches_each_kind_of_inline_code():
    samples = [
        "<script>alert(1)</script>",
        "<form onsubmit=\"return confirm('x')\">",
        '<a href="javascript:void(0)">',
        '<div style="width: 10%">',
        "<style>p { color: red }</style>",
        '<button hx-on:click="x()">',
    ]
    for sample in samples:
        inline = any(not re.search(r"\bsrc\s*=", m.group(1)) for m in SCRIPT.finditer(sample))
        assert inline or any(p.search(sample) for p in CHECKS.values()), sample
    harmless = '<script src="/static/js/portal.js" defer></script><p class="on">Sign on here</p>'
    assert not any(p.search(harmless) for p in CHECKS.values())
    assert all(re.search(r"\bsrc\s*=", m.group(1)) for m in SCRIPT.finditer(harmless))
