"""Writing a report in every format: Markdown, LaTeX (booktabs), CSV, JSON and self-contained HTML.

A report is a :class:`Document` of display tables (already formatted cells) and SVG
figures; the CSV files are flat rows of raw numbers and the JSON holds every number.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from bundlekit.report.plots import data_uri


@dataclass
class Table:
    """A display table: header, formatted cells, an optional note under it."""

    title: str
    header: list[str]
    rows: list[list[str]]
    note: str = ""
    label: str = ""


@dataclass
class Figure:
    """An SVG figure with its caption (HTML only; the other formats name it)."""

    title: str
    svg: str
    caption: str = ""


@dataclass
class Document:
    """What a report shows, in order."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    parts: list[Table | Figure] = field(default_factory=list)


def number(value: Any, decimals: int = 4) -> str:
    """A fixed-decimal number, ``"–"`` for a missing or non-finite one."""
    if value is None or isinstance(value, str):
        return "–" if value is None else value
    if isinstance(value, float) and not math.isfinite(value):
        return "–"
    return f"{value:.{decimals}f}"


def p_value(value: float | None) -> str:
    """p-values to 4 decimals, ``<0.0001`` below that."""
    if value is None or not math.isfinite(value):
        return "–"
    return "<0.0001" if value < 1e-4 else f"{value:.4f}"


def json_ready(value: Any) -> Any:
    """``value`` with NaN and infinities as None (strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "table"


# --------------------------------------------------------------------------- Markdown


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(document: Document) -> str:
    lines = [f"# {document.title}", ""]
    for paragraph in document.paragraphs:
        lines += [paragraph, ""]
    for part in document.parts:
        lines += [f"## {part.title}", ""]
        if isinstance(part, Figure):
            lines += [f"*Figure in the HTML report.* {part.caption}", ""]
            continue
        lines.append("| " + " | ".join(_md_cell(h) for h in part.header) + " |")
        lines.append("|" + "|".join("---" if k == 0 else "---:" if _numeric_column(part, k) else "---"
                                    for k in range(len(part.header))) + "|")
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in part.rows]
        lines.append("")
        if part.note:
            lines += [part.note, ""]
    return "\n".join(lines)


def _numeric_column(table: Table, column: int) -> bool:
    cells = [row[column] for row in table.rows if row[column] not in ("", "–")]
    return bool(cells) and all(re.fullmatch(r"[-+<]?[\d.]+%?( \[.*\])?", str(c)) for c in cells)


# --------------------------------------------------------------------------- LaTeX

_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                  "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}",
                  "–": "--", "<": r"\textless{}", ">": r"\textgreater{}", "∩": r"$\cap$", "≤": r"$\leq$",
                  "≥": r"$\geq$", "×": r"$\times$"}


#: Tables with more columns than this span both columns of the paper and are scaled to its width.
LATEX_WIDE_COLUMNS = 8


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(char, char) for char in str(text))


def to_latex(document: Document) -> str:
    """Tables as booktabs floats, ready to paste into a paper; wide ones scaled to the text width."""
    lines = [f"% {latex_escape(document.title)}: tables written by bundlekit; needs "
             "\\usepackage{booktabs} and \\usepackage{graphicx}", ""]
    for part in document.parts:
        if isinstance(part, Figure):
            continue
        align = "".join("r" if _numeric_column(part, k) else "l" for k in range(len(part.header)))
        wide = len(part.header) > LATEX_WIDE_COLUMNS
        lines += ["\\begin{table*}[t]" if wide else "\\begin{table}[t]", "\\centering", "\\small",
                  f"\\caption{{{latex_escape(part.title)}}}",
                  f"\\label{{tab:{slug(part.label or part.title)}}}"]
        if wide:
            lines.append("\\resizebox{\\textwidth}{!}{%")
        lines += [f"\\begin{{tabular}}{{{align}}}", "\\toprule",
                  " & ".join(latex_escape(h) for h in part.header) + " \\\\", "\\midrule"]
        lines += [" & ".join(latex_escape(c) for c in row) + " \\\\" for row in part.rows]
        lines += ["\\bottomrule", "\\end{tabular}" + ("}" if wide else "")]
        if part.note:
            lines.append(f"\\par\\smallskip\\footnotesize {latex_escape(part.note)}")
        lines += ["\\end{table*}" if wide else "\\end{table}", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- HTML

_STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 0.3em; font-size: 13px; }
th, td { padding: 3px 8px; border-bottom: 1px solid #ddd; text-align: left; }
th { border-bottom: 2px solid #444; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
p.note { font-size: 12px; color: #555; max-width: 1000px; }
figure { margin: 1em 0; } figcaption { font-size: 12px; color: #555; max-width: 640px; }
"""


def to_html(document: Document) -> str:
    """One self-contained page: inline style, figures as base64 SVG images, no script."""
    body = [f"<h1>{escape(document.title)}</h1>"]
    body += [f"<p>{escape(paragraph)}</p>" for paragraph in document.paragraphs]
    for part in document.parts:
        body.append(f"<h2>{escape(part.title)}</h2>")
        if isinstance(part, Figure):
            body.append(f"<figure><img src=\"{data_uri(part.svg)}\" alt=\"{escape(part.title)}\">"
                        f"<figcaption>{escape(part.caption)}</figcaption></figure>")
            continue
        numeric = [_numeric_column(part, k) for k in range(len(part.header))]
        body.append("<table><thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in part.header) + "</tr></thead><tbody>")
        for row in part.rows:
            body.append("<tr>" + "".join(f"<td class=\"n\">{escape(str(c))}</td>" if numeric[k] else
                                         f"<td>{escape(str(c))}</td>" for k, c in enumerate(row)) + "</tr>")
        body.append("</tbody></table>")
        if part.note:
            body.append(f"<p class=\"note\">{escape(part.note)}</p>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(document.title)}</title><style>{_STYLE}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


# --------------------------------------------------------------------------- files


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    """Raw values: floats with ``repr``, None and NaN as empty cells."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None or (isinstance(v, float) and not math.isfinite(v))
                             else repr(v) if isinstance(v, float) else v for v in row])


def write_document(document: Document, data: dict[str, Any], out_dir: Path, stem: str,
                   csv_tables: dict[str, tuple[list[str], list[list[Any]]]]) -> list[Path]:
    """Write ``stem.md``, ``stem.tex``, ``stem.html``, ``stem.json`` and ``stem-<name>.csv``; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix, text in ((".md", to_markdown(document)), (".tex", to_latex(document)), (".html", to_html(document)),
                         (".json", json.dumps(json_ready(data), indent=2, sort_keys=True, allow_nan=False) + "\n")):
        path = out_dir / f"{stem}{suffix}"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    for name, (header, rows) in csv_tables.items():
        path = out_dir / f"{stem}-{name}.csv"
        write_csv(path, header, rows)
        written.append(path)
    return written
