"""Jinja2 rendering of the analysis's Markdown and HTML pages (``templates/`` in this package).

Templates named ``*.html`` are autoescaped; Markdown ones are not. Every template has the
``fmt`` filter, the one way numbers are shown in a table.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


def fmt(value: Any) -> str:
    """A table cell: floats to 4 decimals (1 decimal from 10 on), NaN empty, infinity ``inf``;
    anything else as ``str``."""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            return "inf"
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


@cache
def environment() -> Environment:
    """The shared environment: templates from ``mfnas.analysis/templates``, an undefined
    name is an error, block tags leave no blank lines."""
    env = Environment(
        loader=PackageLoader("mfnas.analysis"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["fmt"] = fmt
    return env


def render(template: str, **context: Any) -> str:
    """The named template rendered with ``context``."""
    return environment().get_template(template).render(**context)
