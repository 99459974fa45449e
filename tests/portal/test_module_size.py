"""The project's module-size rule: small modules with one purpose, split along their seams past 800
lines. Checked on every Python file of the project's apps (migrations aside); tests and bench/ are
not app code."""

from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 800

#: Files allowed past the limit, each with the reason. Every entry is debt: split the file when
#: the reason no longer holds, then delete its line here (the second test says when that is).
ALLOWED: dict[str, str] = {
    # Generated data (fixed tables, no logic) would be listed here; there is none at present.
}


def _app_dirs() -> list[Path]:
    """The project's own Django apps (portal included), whatever INSTALLED_APPS adds later."""
    return sorted(
        Path(config.path).resolve()
        for config in apps.get_app_configs()
        if Path(config.path).resolve().is_relative_to(ROOT) and ".venv" not in Path(config.path).parts
    )


def _modules() -> dict[str, int]:
    """Relative path → line count of every Python file of the apps, migrations excepted."""
    sizes = {}
    for app_dir in _app_dirs():
        for path in app_dir.rglob("*.py"):
            relative = path.relative_to(ROOT)
            if {"migrations", "tests", "__pycache__"} & set(relative.parts):
                continue
            sizes[relative.as_posix()] = len(path.read_text(encoding="utf-8").splitlines())
    return sizes


def test_the_apps_are_found():
    expected = {"portal", "accounts", "incentives", "earnings", "membership", "cosell", "security"}
    expected |= {"commerce", "home"}
    assert expected <= {path.name for path in _app_dirs()}


def test_no_module_is_longer_than_800_lines():
    too_long = {
        path: lines for path, lines in _modules().items() if lines > MAX_LINES and path not in ALLOWED
    }
    assert not too_long, (
        f"Modules over {MAX_LINES} lines; split each along its seams (one purpose per module): "
        + ", ".join(f"{path} ({lines})" for path, lines in sorted(too_long.items()))
    )


def test_every_allowed_module_is_still_too_long():
    sizes = _modules()
    paid = {path: sizes.get(path) for path in ALLOWED if sizes.get(path, 0) <= MAX_LINES}
    assert not paid, f"No longer over {MAX_LINES} lines (or gone): remove from ALLOWED: {paid}"
