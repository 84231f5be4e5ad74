"""Small deterministic SVG plots, embedded in the HTML reports as ``data:image/svg+xml`` images.

No plotting library: each plot is a few SVG elements with coordinates rounded to 0.1 px,
so the same numbers give the same bytes.
"""

from __future__ import annotations

import base64
import math
from html import escape
from typing import Sequence

WIDTH = 760
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 250, 20, 30, 45
FONT = "font-family='DejaVu Sans, Arial, sans-serif'"
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def _f(value: float) -> str:
    return f"{value:.1f}"


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "", size: int = 11) -> str:
    return (f"<text x='{_f(x)}' y='{_f(y)}' text-anchor='{anchor}' {FONT} font-size='{size}' {extra}>"
            f"{escape(text)}</text>")


def _svg(width: float, height: float, title: str, body: list[str]) -> str:
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{_f(width)}' height='{_f(height)}' "
            f"viewBox='0 0 {_f(width)} {_f(height)}'><rect width='100%' height='100%' fill='white'/>"
            + _text(width / 2, 18, title, "middle", "font-weight='bold'") + "".join(body) + "</svg>")


def data_uri(svg: str) -> str:
    """The SVG as a base64 ``data:`` URI for an ``<img>``."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _nice_range(values: Sequence[float], include_zero: bool = False) -> tuple[float, float]:
    finite = [v for v in values if math.isfinite(v)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
    if include_zero:
        low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        low, high = low - 0.5, high + 0.5
    pad = 0.05 * (high - low)
    return low - pad, high + pad


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    step = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(step))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= step), default=step)
    first = math.ceil(low / step) * step
    return [round(first + k * step, 10) for k in range(int((high - first) / step) + 1)]


def _axis_x(low: float, high: float, x0: float, x1: float, y: float, label: str) -> list[str]:
    parts = [f"<line x1='{_f(x0)}' y1='{_f(y)}' x2='{_f(x1)}' y2='{_f(y)}' stroke='black'/>"]
    for tick in _ticks(low, high):
        x = x0 + (tick - low) / (high - low) * (x1 - x0)
        parts.append(f"<line x1='{_f(x)}' y1='{_f(y)}' x2='{_f(x)}' y2='{_f(y + 4)}' stroke='black'/>")
        parts.append(_text(x, y + 16, f"{tick:g}", "middle"))
    parts.append(_text((x0 + x1) / 2, y + 32, label, "middle"))
    return parts


def _axis_y(low: float, high: float, y0: float, y1: float, x: float, label: str) -> list[str]:
    parts = [f"<line x1='{_f(x)}' y1='{_f(y0)}' x2='{_f(x)}' y2='{_f(y1)}' stroke='black'/>"]
    for tick in _ticks(low, high):
        y = y0 - (tick - low) / (high - low) * (y0 - y1)
        parts.append(f"<line x1='{_f(x - 4)}' y1='{_f(y)}' x2='{_f(x)}' y2='{_f(y)}' stroke='black'/>")
        parts.append(_text(x - 6, y + 4, f"{tick:g}", "end"))
    parts.append(_text(x - 45, (y0 + y1) / 2, label, "middle", f"transform='rotate(-90 {_f(x - 45)} {_f((y0 + y1) / 2)})'"))
    return parts


def quality_vs_time(labels: Sequence[str], quality: Sequence[float], time_s: Sequence[float],
                    on_front: Sequence[bool], quality_label: str, descending: bool = True) -> str:
    """Scatter of quality against execution time, Pareto-optimal runs joined by a step line."""
    height = 380
    x0, x1, y0, y1 = 80, WIDTH - MARGIN_RIGHT, height - MARGIN_BOTTOM, MARGIN_TOP + 18
    xl, xh = _nice_range(time_s, include_zero=True)
    yl, yh = _nice_range(quality)

    def point(q: float, t: float) -> tuple[float, float]:
        return x0 + (t - xl) / (xh - xl) * (x1 - x0), y0 - (q - yl) / (yh - yl) * (y0 - y1)

    body = _axis_x(xl, xh, x0, x1, y0, "execution time (s)") + _axis_y(yl, yh, y0, y1, x0, quality_label)
    front = sorted((t, q) for t, q, keep in zip(time_s, quality, on_front) if keep)
    if len(front) > 1:
        corners = [point(q, t) for t, q in front]
        # A step line: from each front point across to the next one's time, then to its quality.
        steps = [f"M{_f(corners[0][0])},{_f(corners[0][1])}"]
        for (_, y_prev), (x, y) in zip(corners, corners[1:]):
            steps.append(f"L{_f(x)},{_f(y_prev)} L{_f(x)},{_f(y)}")
        body.append(f"<path d='{' '.join(steps)}' fill='none' stroke='#2ca02c' stroke-width='1.5' stroke-dasharray='4 3'/>")
    for label, q, t, keep in zip(labels, quality, time_s, on_front):
        x, y = point(q, t)
        colour = "#2ca02c" if keep else "#1f77b4"
        body.append(f"<circle cx='{_f(x)}' cy='{_f(y)}' r='4' fill='{colour}'><title>{escape(label)}</title></circle>")
        right_half = x > (x0 + x1) / 2
        body.append(_text(x - 6 if right_half else x + 6, y - 6, label, "end" if right_half else "start"))
    body.append(_text(x1, y1 - 4, "green: Pareto front (no run is both better and faster)", "end", "fill='#2ca02c'"))
    return _svg(WIDTH, height, f"{quality_label} against execution time", body)


def intervals(labels: Sequence[str], values: Sequence[float], lows: Sequence[float], highs: Sequence[float],
              title: str, axis_label: str) -> str:
    """Horizontal points with interval bars, one row per label, and a vertical line at 0."""
    row = 22
    height = MARGIN_TOP + MARGIN_BOTTOM + row * max(len(labels), 1)
    x0, x1 = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
    low, high = _nice_range([*values, *lows, *highs], include_zero=True)

    def x_of(value: float) -> float:
        return x0 + (value - low) / (high - low) * (x1 - x0)

    y_axis = height - MARGIN_BOTTOM
    body = _axis_x(low, high, x0, x1, y_axis, axis_label)
    body.append(f"<line x1='{_f(x_of(0))}' y1='{_f(MARGIN_TOP)}' x2='{_f(x_of(0))}' y2='{_f(y_axis)}' "
                "stroke='#999' stroke-dasharray='3 3'/>")
    for k, (label, value, lo, hi) in enumerate(zip(labels, values, lows, highs)):
        y = MARGIN_TOP + row * k + row / 2
        body.append(_text(x0 - 8, y + 4, label, "end"))
        if math.isfinite(lo) and math.isfinite(hi):
            body.append(f"<line x1='{_f(x_of(lo))}' y1='{_f(y)}' x2='{_f(x_of(hi))}' y2='{_f(y)}' stroke='#1f77b4' stroke-width='2'/>")
        if math.isfinite(value):
            body.append(f"<circle cx='{_f(x_of(value))}' cy='{_f(y)}' r='4' fill='#d62728'/>")
    return _svg(WIDTH, height, title, body)


def distributions(labels: Sequence[str], samples: Sequence[Sequence[float]], title: str, axis_label: str) -> str:
    """Box plots (quartiles, whiskers at the extremes, mean as a red dot), one row per label."""
    row = 24
    height = MARGIN_TOP + MARGIN_BOTTOM + row * max(len(labels), 1)
    x0, x1 = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
    everything = [v for sample in samples for v in sample if math.isfinite(v)]
    low, high = _nice_range(everything or [0.0, 1.0])

    def x_of(value: float) -> float:
        return x0 + (value - low) / (high - low) * (x1 - x0)

    body = _axis_x(low, high, x0, x1, height - MARGIN_BOTTOM, axis_label)
    for k, (label, sample) in enumerate(zip(labels, samples)):
        y = MARGIN_TOP + row * k + row / 2
        body.append(_text(x0 - 8, y + 4, label, "end"))
        values = sorted(v for v in sample if math.isfinite(v))
        if not values:
            continue
        q1, median, q3 = (_quantile(values, p) for p in (0.25, 0.5, 0.75))
        body.append(f"<line x1='{_f(x_of(values[0]))}' y1='{_f(y)}' x2='{_f(x_of(values[-1]))}' y2='{_f(y)}' stroke='#555'/>")
        body.append(f"<rect x='{_f(x_of(q1))}' y='{_f(y - 7)}' width='{_f(max(x_of(q3) - x_of(q1), 1))}' height='14' "
                    "fill='#aec7e8' stroke='#1f77b4'/>")
        body.append(f"<line x1='{_f(x_of(median))}' y1='{_f(y - 7)}' x2='{_f(x_of(median))}' y2='{_f(y + 7)}' stroke='black' stroke-width='2'/>")
        mean = sum(values) / len(values)
        body.append(f"<circle cx='{_f(x_of(mean))}' cy='{_f(y)}' r='3' fill='#d62728'/>")
    return _svg(WIDTH, height, title, body)


def _quantile(sorted_values: list[float], p: float) -> float:
    position = p * (len(sorted_values) - 1)
    below = math.floor(position)
    above = min(below + 1, len(sorted_values) - 1)
    return sorted_values[below] + (sorted_values[above] - sorted_values[below]) * (position - below)


def heatmap(labels: Sequence[str], matrix: Sequence[Sequence[float]], title: str) -> str:
    """Square heatmap of values in [-1, 1] (blue negative, red positive), labels on both axes."""
    n = max(len(labels), 1)
    cell = max(6.0, min(24.0, 460.0 / n))
    left, top = 110, 40
    size = left + cell * n + 20
    height = top + cell * n + 60
    body = []
    for i in range(len(labels)):
        for j in range(len(labels)):
            value = matrix[i][j]
            colour = _diverging(value)
            body.append(f"<rect x='{_f(left + j * cell)}' y='{_f(top + i * cell)}' width='{_f(cell)}' height='{_f(cell)}' "
                        f"fill='{colour}'><title>{escape(labels[i])} / {escape(labels[j])}: "
                        f"{'n/a' if not math.isfinite(value) else f'{value:.2f}'}</title></rect>")
        if cell >= 9:
            body.append(_text(left - 4, top + i * cell + cell / 2 + 4, labels[i], "end", size=9))
    body.append(_text(left, top + cell * n + 20, "blue: -1, white: 0, red: +1 (hover a cell for its value)"))
    return _svg(size, height, title, body)


def _diverging(value: float) -> str:
    if not math.isfinite(value):
        return "#dddddd"
    value = max(-1.0, min(1.0, value))
    fade = int(round(255 * (1 - abs(value))))
    return f"#ff{fade:02x}{fade:02x}" if value >= 0 else f"#{fade:02x}{fade:02x}ff"


def bars(labels: Sequence[str], values: Sequence[float], title: str, axis_label: str,
         highlight: Sequence[bool] | None = None) -> str:
    """Horizontal bars, one row per label (highlighted rows in red)."""
    row = 14
    height = MARGIN_TOP + MARGIN_BOTTOM + row * max(len(labels), 1)
    x0, x1 = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
    low, high = _nice_range(values, include_zero=True)

    def x_of(value: float) -> float:
        return x0 + (value - low) / (high - low) * (x1 - x0)

    body = _axis_x(low, high, x0, x1, height - MARGIN_BOTTOM, axis_label)
    for k, (label, value) in enumerate(zip(labels, values)):
        y = MARGIN_TOP + row * k
        colour = "#d62728" if highlight and highlight[k] else "#1f77b4"
        if math.isfinite(value):
            start, end = sorted((x_of(0), x_of(value)))
            body.append(f"<rect x='{_f(start)}' y='{_f(y + 2)}' width='{_f(max(end - start, 0.5))}' height='{row - 4}' fill='{colour}'/>")
        body.append(_text(x0 - 8, y + row - 3, label, "end", size=10))
    return _svg(WIDTH, height, title, body)
