"""Pure helpers for materialised paths: building, ancestry and hop distance."""
from __future__ import annotations


def child_path(parent_path: str | None, node_id: int) -> str:
    """Path of a node below ``parent_path`` ("/1/5/" + 23 → "/1/5/23/")."""
    return f"{parent_path or '/'}{node_id}/"


def path_ids(path: str) -> list[int]:
    """The ids on a path, root first."""
    return [int(part) for part in path.strip("/").split("/") if part]


def is_within(path: str, scope_path: str) -> bool:
    """True when ``path`` is ``scope_path`` or lies below it."""
    return path.startswith(scope_path)


def hops(path_a: str, path_b: str) -> int:
    """Edges between two nodes of the tree (via their lowest common ancestor)."""
    a, b = path_ids(path_a), path_ids(path_b)
    common = 0
    for left, right in zip(a, b):
        if left != right:
            break
        common += 1
    return (len(a) - common) + (len(b) - common)
