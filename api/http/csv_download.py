"""Answers that are JSON by default and CSV with `?format=csv`, documented as both."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, Schema

# Litestar adds "; charset=utf-8" to text/* types itself (naming it here doubled it).
CSV = "text/csv"


@dataclass
class JsonOrCsv(Operation):
    """An operation whose 200 is JSON, or a CSV file with `?format=csv`."""

    def __post_init__(self) -> None:
        if self.responses and "200" in self.responses:
            self.responses["200"].content = {  # type: ignore[union-attr]
                **(self.responses["200"].content or {}),  # type: ignore[union-attr]
                CSV: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))}
