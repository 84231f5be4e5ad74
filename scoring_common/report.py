"""Self-contained HTML for the platform's detailed results page.

Everything (style, charts) is inline: the platform shows the file as it is, with no
access to other files.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Sequence


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}
.note{color:#555;font-size:.9em}.error{color:#b00020;font-weight:bold}
.bar{fill:#4a7ab5}
"""


#: bytes.translate table: ASCII digits to 1, every other byte to 0.
_DIGIT_MASK = bytes(int(chr(b).isdigit() and b < 128) for b in range(256))
_DIGIT_RUNS = re.compile(r"(\d+)")


def natural_order(ids: Sequence[str]) -> list[int]:
    """Positions of ``ids`` sorted as people read them: ``video_2`` before ``video_10``.

    Digit runs compare as numbers, the text between them as text. When every id is ASCII
    with its digits at the same positions (``img_000123``-like ids), that is the plain
    string order, computed without a per-id key.
    """
    if ids and all(map(str.isascii, ids)) and len({i.encode().translate(_DIGIT_MASK) for i in ids}) == 1:
        return sorted(range(len(ids)), key=ids.__getitem__)

    def key(position: int) -> list:
        return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in _DIGIT_RUNS.split(ids[position])]
    return sorted(range(len(ids)), key=key)


@dataclass
class Table:
    """A titled table of the detailed results."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[str | float | int | None]]
    note: str = ""


@dataclass
class Report:
    """The detailed results of one scoring run."""

    title: str
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    def render(self) -> str:
        """Return the whole page as an HTML string."""
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{_escape(self.title)}</title><style>{_STYLE}</style></head><body>",
            f"<h1>{_escape(self.title)}</h1>",
        ]
        if self.error is not None:
            parts.append(f'<p class="error">{_escape(self.error)}</p>')
        parts.extend(f'<p class="note">{_escape(note)}</p>' for note in self.notes)
        for table in self.tables:
            parts.append(_render_table(table))
        parts.append("</body></html>\n")
        return "\n".join(parts)


def format_cell(value: str | float | int | None) -> str:
    """Format one table cell: floats with 4 decimals, None as an en dash."""
    if value is None:
        return "&ndash;"
    if isinstance(value, float):
        return f"{value:.4f}"
    return _escape(str(value))


def _render_table(table: Table) -> str:
    header = "".join(f"<th>{_escape(c)}</th>" for c in table.columns)
    body = "\n".join("<tr>" + "".join(f"<td>{format_cell(v)}</td>" for v in row) + "</tr>" for row in table.rows)
    note = f'<p class="note">{_escape(table.note)}</p>' if table.note else ""
    return f"<h2>{_escape(table.title)}</h2>{note}\n<table><thead><tr>{header}</tr></thead><tbody>\n{body}\n</tbody></table>"


def _escape(text: str) -> str:
    return html.escape(text, quote=True)
