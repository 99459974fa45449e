"""Dependencies point down: an app imports only apps of a lower layer (README, Architecture).

Read from the source (every `import` and `from … import`, at module level or inside a function),
so a late import cannot hide an arrow that runs up.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Bottom to top. An app may import the apps of the layers below its own, never its own layer's
#: other apps, never a layer above.
LAYERS: list[tuple[str, ...]] = [
    ("portal",),  # foundation: tenancy, capabilities and roles, audit and history, jobs, uploads, API base
    ("accounts",),  # people and organizations
    ("commerce", "security"),  # workspaces on accounts alone
    ("earnings",),  # reads commerce's billing
    ("incentives", "membership"),  # build on earnings (membership also on security)
    ("cosell",),  # builds on earnings and membership
    ("home",),  # the top: Home page, root URLconf, demo and scale seeders
]
LAYER_OF = {app: index for index, apps in enumerate(LAYERS) for app in apps}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def upward_imports(root: Path = ROOT) -> list[str]:
    offences = []
    for app, layer in LAYER_OF.items():
        for path in sorted((root / app).rglob("*.py")):
            for lineno, module in imported_modules(path):
                target = module.split(".")[0]
                if target == app or target not in LAYER_OF:
                    continue
                if LAYER_OF[target] >= layer:
                    offences.append(f"{path.relative_to(root)}:{lineno} imports {module} ({app} → {target})")
    return offences


def test_every_app_is_in_a_layer():
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert apps == set(LAYER_OF), "place every app in LAYERS (and the README's drawing)"


def test_no_import_runs_up_or_sideways():
    assert upward_imports() == []


def test_portal_imports_no_app():
    apps = set(LAYER_OF) - {"portal"}
    offences = [
        f"{path.relative_to(ROOT)}:{lineno} {module}"
        for path in sorted((ROOT / "portal").rglob("*.py"))
        for lineno, module in imported_modules(path)
        if module.split(".")[0] in apps
    ]
    assert offences == []


def test_the_check_sees_a_late_upward_import(tmp_path):
    (tmp_path / "portal").mkdir()
    (tmp_path / "portal" / "probe.py").write_text("def f():\n    from accounts.models import User\n")
    (tmp_path / "security").mkdir()
    (tmp_path / "security" / "probe.py").write_text("import commerce.models\nimport home.urls\n")
    assert upward_imports(tmp_path) == [
        "portal/probe.py:2 imports accounts.models (portal → accounts)",
        "security/probe.py:1 imports commerce.models (security → commerce)",
        "security/probe.py:2 imports home.urls (security → home)",
    ]


@pytest.mark.django_db(databases=[])
def test_every_app_mounts_its_api_the_same_way():
    from importlib import import_module  # noqa: PLC0415

    from home.urls import API_MODULES  # noqa: PLC0415

    assert set(API_MODULES) == set(LAYER_OF) - {"home"}
    for module in API_MODULES.values():
        assert import_module(module).urlpatterns, module
