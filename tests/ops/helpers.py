"""Reading a Prometheus text exposition in the tests, with prometheus_client's own parser."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def sample(body: str, name: str, default: float | None = 0.0, **labels: str) -> float | None:
    """The value of the sample ``name`` with exactly ``labels``; ``default`` when the exposition has none
    (a counter never incremented is not shown)."""
    for family in text_string_to_metric_families(body):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    return default
