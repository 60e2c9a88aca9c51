"""Hand-maintained Prometheus counters and gauges, rendered in the text exposition format 0.0.4.

Deliberately tiny, so the image needs no prometheus_client: counters keyed by label tuples,
guarded by one lock, rendered on demand.
"""

from __future__ import annotations

import threading
from collections import defaultdict

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    if not names:
        return ""
    pairs = ",".join(f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True))
    return "{" + pairs + "}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class Family:
    """One metric family: a name, help text, type and a value per label combination."""

    def __init__(self, name: str, help_text: str, kind: str, labels: tuple[str, ...] = ()) -> None:
        self.name = name
        self.help_text = help_text
        self.kind = kind
        self.labels = labels
        self.values: dict[tuple[str, ...], float] = defaultdict(float)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._families: dict[str, Family] = {}

    def declare(self, name: str, help_text: str, kind: str, labels: tuple[str, ...] = ()) -> None:
        with self._lock:
            self._families[name] = Family(name, help_text, kind, labels)

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        family = self._families[name]
        key = tuple(labels[n] for n in family.labels)
        with self._lock:
            family.values[key] += amount

    def set(self, name: str, value: float, **labels: str) -> None:
        family = self._families[name]
        key = tuple(labels[n] for n in family.labels)
        with self._lock:
            family.values[key] = value

    def value(self, name: str, **labels: str) -> float:
        family = self._families[name]
        with self._lock:
            return family.values.get(tuple(labels[n] for n in family.labels), 0.0)

    def render(self) -> str:
        lines: list[str] = []
        with self._lock:
            for family in self._families.values():
                lines.append(f"# HELP {family.name} {family.help_text}")
                lines.append(f"# TYPE {family.name} {family.kind}")
                if not family.labels and not family.values:
                    lines.append(f"{family.name} 0")
                for key, value in sorted(family.values.items()):
                    lines.append(f"{family.name}{_labels(family.labels, key)} {_number(value)}")
        return "\n".join(lines) + "\n"
