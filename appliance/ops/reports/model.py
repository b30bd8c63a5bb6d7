"""A report as data: titled sections of columns and rows (and optionally a chart), which every
renderer (text, CSV, JSON, HTML) prints the same way."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Chart:
    kind: str                  # "bar" (one value per label) | "lines" (series over the labels)
    title: str
    labels: list[str]
    series: dict[str, list[float]]
    unit: str = ""
    limit: float | None = None  # a commitment drawn as a line


@dataclass
class Section:
    id: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""
    source: str = ""           # the requirement and seed line it answers
    chart: Chart | None = None


@dataclass
class Report:
    title: str
    kind: str
    period: str                # label
    period_text: str
    generated: str
    compared_with: str = ""
    sections: list[Section] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def section(self, section_id: str) -> Section:
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(section_id)
