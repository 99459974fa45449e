"""The Security app's own modules import each other without a cycle, and the lower ones never import
the higher ones: selectors (reads) never import services (writes), pages or the API; services never
import pages or the API.

Read from the source, every `import` and `from … import` at module level or inside a function, so a
late import cannot hide a cycle (as tests/portal/test_layers.py reads the arrows between apps).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = "security"

#: Parts of the app that must not import the parts named beside them.
LOWER: dict[str, tuple[str, ...]] = {
    "security.selectors": ("security.services", "security.views", "security.api", "security.forms"),
    "security.services": ("security.views", "security.api", "security.forms", "security.filters"),
}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def app_modules(root: Path = ROOT, app: str = APP) -> dict[str, Path]:
    return {
        module_name(path, root): path
        for path in sorted((root / app).rglob("*.py"))
        if "migrations" not in path.parts
    }


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The app's modules `name` imports: `from pkg import module` counts as importing the module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in modules]
            targets = targets or [base]
        else:
            continue
        found.update(target for target in targets if target in modules and target != name)
    return found


def import_graph(root: Path = ROOT, app: str = APP) -> dict[str, set[str]]:
    modules = app_modules(root, app)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    def inside(module: str, part: str) -> bool:
        return module == part or module.startswith(f"{part}.")

    return sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        for lower, higher in LOWER.items()
        if inside(module, lower)
        for target in targets
        if any(inside(target, part) for part in higher)
    )


def test_the_security_modules_import_each_other_without_a_cycle():
    assert cycles(import_graph()) == []


def test_a_lower_module_never_imports_a_higher_one():
    assert upward_imports(import_graph()) == []


def test_the_check_sees_a_late_import_that_closes_a_cycle(tmp_path):
    services = tmp_path / "security" / "services"
    services.mkdir(parents=True)
    (tmp_path / "security" / "__init__.py").write_text("")
    (services / "__init__.py").write_text("")
    (services / "requirements.py").write_text("from security.services.alerts import audience\n")
    (services / "alerts.py").write_text(
        "def respond():\n    from security.services import requirements  # noqa\n"
    )
    (services / "settings.py").write_text("from . import requirements\n")
    graph = import_graph(tmp_path)

    assert graph["security.services.settings"] == {"security.services.requirements"}
    assert cycles(graph) == [["security.services.alerts", "security.services.requirements"]]


def test_the_check_sees_a_selector_that_imports_a_service(tmp_path):
    (tmp_path / "security" / "selectors").mkdir(parents=True)
    (tmp_path / "security" / "services").mkdir()
    (tmp_path / "security" / "selectors" / "gdap.py").write_text("from security.services.gdap import x\n")
    (tmp_path / "security" / "services" / "gdap.py").write_text("x = 1\n")

    offences = upward_imports(import_graph(tmp_path))
    assert offences == ["security.selectors.gdap imports security.services.gdap"]
