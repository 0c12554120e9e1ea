"""Do imports point one way: api/web → domain → core/matching, with matching pure?"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOMAIN = ["grids", "volunteers", "campaigns", "gridwork", "accounts", "core"]
# accounts sits on top of the domain: its access rules resolve the owners of every kind of object.
ORDER = {"core": 0, "matching": 0, "grids": 1, "volunteers": 2, "campaigns": 3, "gridwork": 3.5, "accounts": 4}


def imports_of(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, alias.name
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield path, node.module
                for alias in node.names:
                    yield path, f"{node.module}.{alias.name}"


def test_architecture_matching_is_pure():
    allowed = {"numpy", "scipy", "__future__"}
    import sys

    stdlib = set(sys.stdlib_module_names)
    for path, name in imports_of("matching"):
        top = name.split(".")[0]
        assert top in allowed or top in stdlib or top == "matching", f"{path}: imports {name}"


@pytest.mark.parametrize("package", DOMAIN)
def test_architecture_domain_never_imports_request_state_or_views(package):
    forbidden = {"flask.request", "flask.g", "flask.session", "flask.current_app", "api", "web"}
    for path, name in imports_of(package):
        top = name.split(".")[0]
        assert name not in forbidden and top not in {"api", "web"}, f"{path}: imports {name}"
        if path.name != "cli.py":
            assert name not in {"click", "flask.cli"}, f"{path}: imports {name}"


@pytest.mark.parametrize("package", ["grids", "volunteers", "campaigns", "gridwork", "accounts"])
def test_architecture_domain_dependencies_point_down(package):
    for path, name in imports_of(package):
        top = name.split(".")[0]
        if top in ORDER and top != package and path.name != "cli.py":
            assert ORDER[top] < ORDER[package], f"{path}: {package} must not import {top}"
