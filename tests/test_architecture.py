"""Do imports point one way, package by package, with matching pure and api/web on top?

Every import is read: at module level or inside a function, absolute or relative, in every file
(``cli.py`` included). A function-level import of another package of ours is refused outright:
it is how a cycle hides from the order.
"""
import ast
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Lower imports nothing higher. notices (the outbox, its channels, links and texts) is fed plain values by
# campaigns; accounts resolves the owners of every kind of object; callups is the scheduler side (jobs,
# dispatch, follow-ups, alerts, whistle escalation); reports and gridwork (whistles, visit rounds) read the
# domain below them; api and web sit on top, web reusing only api's schemas.
ORDER = {"core": 0, "matching": 0, "grids": 1, "volunteers": 2, "notices": 3, "campaigns": 4, "accounts": 5,
         "reports": 6, "gridwork": 6, "callups": 7, "demo": 8, "api": 8, "web": 9}
DOMAIN = ["grids", "volunteers", "notices", "campaigns", "accounts", "reports", "gridwork", "callups", "core"]
# Modules that are not packages but sit at the bottom (singletons) or the very top (the factory).
EXTRA = {"extensions": 0, "config": 0, "app": 10}


def _module_of(path: pathlib.Path) -> list[str]:
    return list(path.relative_to(ROOT).with_suffix("").parts)


def imports_in(path: pathlib.Path):
    """(imported module name, line, inside a function?) for every import of ``path``, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_of(path)[:-1]

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, child.lineno, in_function
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package[:len(package) - (child.level - 1)]
                    module = ".".join(base + ([child.module] if child.module else []))
                else:
                    module = child.module or ""
                yield module, child.lineno, in_function
                for alias in child.names:
                    yield f"{module}.{alias.name}", child.lineno, in_function
            yield from visit(child, nested)

    yield from visit(tree, False)


def files_of(package: str):
    return sorted((ROOT / package).rglob("*.py"))


def imports_of(package: str):
    for path in files_of(package):
        for name, line, _ in imports_in(path):
            yield path, name


def _rank(top: str) -> int | None:
    return ORDER.get(top, EXTRA.get(top))


def order_violations(package: str) -> list[str]:
    """Imports in ``package`` (every file) of a package at its level or above, other than itself."""
    found = []
    for path in files_of(package):
        for name, line, in_function in imports_in(path):
            top = name.split(".")[0]
            if top == package or _rank(top) is None:
                continue
            if package == "web" and top == "api":
                if not name.startswith("api.schemas"):
                    found.append(f"{path.relative_to(ROOT)}:{line}: web may reuse api.schemas only, not {name}")
                continue
            if _rank(top) >= ORDER[package]:
                found.append(f"{path.relative_to(ROOT)}:{line}: {package} must not import {name}")
            elif in_function:
                found.append(f"{path.relative_to(ROOT)}:{line}: {name} imported inside a function")
    return found


def test_architecture_matching_is_pure():
    allowed = {"numpy", "scipy", "__future__"}
    stdlib = set(sys.stdlib_module_names)
    for path, name in imports_of("matching"):
        top = name.split(".")[0]
        assert top in allowed or top in stdlib or top == "matching", f"{path}: imports {name}"


@pytest.mark.parametrize("package", DOMAIN)
def test_architecture_domain_never_imports_request_state_or_views(package):
    forbidden = {"flask.request", "flask.g", "flask.session", "api", "web"}
    # The outbox, the scheduler side and the whistle's calls (gridwork/calls.py, which write outbox rows) read
    # the deployment's settings (channels, time zone, caps).
    if package not in {"notices", "callups", "gridwork"}:
        forbidden.add("flask.current_app")
    for path, name in imports_of(package):
        top = name.split(".")[0]
        assert name not in forbidden and top not in {"api", "web"}, f"{path}: imports {name}"
        if path.name != "cli.py":
            assert name not in {"click", "flask.cli"}, f"{path}: imports {name}"


@pytest.mark.parametrize("package", sorted(ORDER))
def test_architecture_dependencies_point_down(package):
    assert order_violations(package) == []


@pytest.mark.parametrize("module", ["config", "extensions"])
def test_architecture_the_bottom_modules_import_only_the_bottom(module):
    """config.py and extensions.py sit with core: they import nothing of ours above it, nor inside a function."""
    found = []
    for name, line, in_function in imports_in(ROOT / f"{module}.py"):
        rank = _rank(name.split(".")[0])
        if rank is not None and (rank > EXTRA[module] or in_function):
            found.append(f"{module}.py:{line}: imports {name}{' inside a function' if in_function else ''}")
    assert found == []


def test_architecture_every_package_of_ours_is_in_the_order():
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests", "bench", "migrations"}
    assert packages <= set(ORDER), f"not placed in ORDER: {sorted(packages - set(ORDER))}"


def test_architecture_nothing_imports_the_pages_or_the_api_but_the_factory():
    for package in ORDER:
        if package in {"api", "web"}:
            continue
        for path, name in imports_of(package):
            assert name.split(".")[0] not in {"api", "web", "app"}, f"{path}: imports {name}"


def test_architecture_reader_sees_relative_and_function_level_imports(tmp_path, monkeypatch):
    """The checks above would be blind without these: a relative import and one hidden in a function."""
    package = tmp_path / "campaigns"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "cli.py").write_text("from . import models\n\ndef run():\n    from callups import jobs\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    found = list(imports_in(package / "cli.py"))
    assert ("campaigns.models", 1, False) in found
    assert ("callups", 4, True) in found
    assert order_violations("campaigns") == ["campaigns/cli.py:4: campaigns must not import callups",
                                             "campaigns/cli.py:4: campaigns must not import callups.jobs"]
