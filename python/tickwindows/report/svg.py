"""The report's plots as inline SVG strings, drawn by hand (no plotting library, no network):
session shares against their bands, events per symbol, the concentration curve, the
distributions of the estimate draws against the gate limits, and (once windows are downloaded)
the event study of window_liquidity."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 560, 260
MARGIN = {"left": 64, "right": 20, "top": 34, "bottom": 44}
COLOURS = {"bar": "#4c78a8", "band": "#b7e4c7", "ok": "#2d6a4f", "fail": "#c0392b", "p50": "#555555",
           "p90": "#e67e22", "limit": "#c0392b", "axis": "#333333", "grid": "#e5e5e5"}


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1-2-5 steps)."""
    if not math.isfinite(low) or not math.isfinite(high) or high <= low:
        return [low]
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step - 1e-9) * step
    return [round(first + i * step, 12) for i in range(int((high - first) / step + 1e-9) + 1)]


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:.3g}"
    return f"{v:.2g}"


class Plot:
    """A plot area with linear x/y scales; elements are appended as SVG markup."""

    def __init__(self, key: str, title: str, x_range: tuple[float, float], y_range: tuple[float, float],
                 width: int = WIDTH, height: int = HEIGHT) -> None:
        self.key, self.title, self.width, self.height = key, title, width, height
        self.x0, self.x1 = x_range
        self.y0, self.y1 = y_range
        self.left, self.right = MARGIN["left"], width - MARGIN["right"]
        self.top, self.bottom = MARGIN["top"], height - MARGIN["bottom"]
        self.parts: list[str] = []

    def x(self, v: float) -> float:
        span = (self.x1 - self.x0) or 1.0
        return self.left + (v - self.x0) / span * (self.right - self.left)

    def y(self, v: float) -> float:
        span = (self.y1 - self.y0) or 1.0
        return self.bottom - (v - self.y0) / span * (self.bottom - self.top)

    def rect(self, x0: float, x1: float, y0: float, y1: float, fill: str, extra: str = "") -> None:
        px0, px1, py0, py1 = self.x(x0), self.x(x1), self.y(y1), self.y(y0)
        self.parts.append(f'<rect x="{px0:.1f}" y="{py0:.1f}" width="{max(px1 - px0, 0):.1f}" '
                          f'height="{max(py1 - py0, 0):.1f}" fill="{fill}"{extra}/>')

    def vline(self, v: float, colour: str, label: str, dash: str = "", row: int = 0) -> None:
        px = self.x(v)
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<line x1="{px:.1f}" y1="{self.top}" x2="{px:.1f}" y2="{self.bottom}" '
                          f'stroke="{colour}" stroke-width="2"{dashed}/>')
        anchor = "end" if px > (self.left + self.right) / 2 else "start"
        shift = -4 if anchor == "end" else 4
        self.text(px + shift, self.top + 12 + 13 * row, label, colour, anchor)  # rows keep labels apart

    def text(self, px: float, py: float, label: str, colour: str = COLOURS["axis"], anchor: str = "start",
             size: int = 11) -> None:
        self.parts.append(f'<text x="{px:.1f}" y="{py:.1f}" fill="{colour}" font-size="{size}" '
                          f'text-anchor="{anchor}">{escape(label)}</text>')

    def axes(self, x_ticks: Sequence[float], y_ticks: Sequence[float], x_label: str, y_label: str,
             x_fmt: Callable[[float], str] = _fmt, y_fmt: Callable[[float], str] = _fmt) -> None:
        # Grid lines go first so that bars and lines are drawn over them.
        self.parts[:0] = [f'<line x1="{self.left}" y1="{self.y(t):.1f}" x2="{self.right}" y2="{self.y(t):.1f}" '
                          f'stroke="{COLOURS["grid"]}"/>' for t in y_ticks]
        for t in y_ticks:
            py = self.y(t)
            self.text(self.left - 6, py + 4, y_fmt(t), anchor="end", size=10)
        for t in x_ticks:
            self.text(self.x(t), self.bottom + 15, x_fmt(t), anchor="middle", size=10)
        self.parts.append(f'<line x1="{self.left}" y1="{self.bottom}" x2="{self.right}" y2="{self.bottom}" '
                          f'stroke="{COLOURS["axis"]}"/>')
        self.text((self.left + self.right) / 2, self.height - 8, x_label, anchor="middle")
        self.parts.append(f'<text x="14" y="{(self.top + self.bottom) / 2:.1f}" font-size="11" '
                          f'fill="{COLOURS["axis"]}" text-anchor="middle" '
                          f'transform="rotate(-90 14 {(self.top + self.bottom) / 2:.1f})">{escape(y_label)}</text>')

    def svg(self) -> str:
        title = escape(self.title)
        return (f'<svg id="plot-{self.key}" class="plot" role="img" aria-label="{title}" width="{self.width}" '
                f'height="{self.height}" viewBox="0 0 {self.width} {self.height}">'
                f'<text x="{self.left}" y="18" font-size="13" font-weight="bold" fill="{COLOURS["axis"]}">'
                f"{title}</text>"
                + "".join(self.parts) + "</svg>")


def session_shares(shares: dict[str, float | None], bands: dict[str, tuple[float, float]]) -> str:
    """One bar per session (its share of the manifest) over its band, shaded."""
    sessions = list(shares)
    top = max([*(v or 0 for v in shares.values()), *(b[1] for b in bands.values()), 0.1])
    plot = Plot("session-shares", "Session shares vs bands", (0, len(sessions)), (0, min(1.0, top * 1.15)))
    for i, s in enumerate(sessions):
        low, high = bands[s]
        plot.rect(i + 0.1, i + 0.9, low, high, COLOURS["band"], ' fill-opacity="0.8"')
        value = shares[s] or 0.0
        colour = COLOURS["bar"] if low <= value <= high else COLOURS["fail"]
        plot.rect(i + 0.3, i + 0.7, 0, value, colour)
        plot.text(plot.x(i + 0.5), plot.y(value) - 4, f"{value:.1%}", anchor="middle")
        plot.text(plot.x(i + 0.5), plot.bottom + 15, f"{s} (band {low:.0%}-{high:.0%})", anchor="middle", size=10)
    plot.axes([], nice_ticks(0, plot.y1), "session (shaded: allowed band)", "share of events",
              y_fmt=lambda v: f"{v:.0%}")
    return plot.svg()


def events_per_symbol(counts: Sequence[int], cap: int) -> str:
    """How many symbols have 1, 2, ... cap events (beyond the cap, in red)."""
    highest = max([cap, *counts]) if counts else cap
    bins = {k: 0 for k in range(1, highest + 1)}
    for c in counts:
        if c >= 1:
            bins[c] += 1
    peak = max(bins.values(), default=0) or 1
    plot = Plot("events-per-symbol", f"Events per symbol (cap {cap})", (0.5, highest + 0.5), (0, peak * 1.15))
    for k, n in bins.items():
        plot.rect(k - 0.4, k + 0.4, 0, n, COLOURS["bar"] if k <= cap else COLOURS["fail"])
        if n:
            plot.text(plot.x(k), plot.y(n) - 4, str(n), anchor="middle", size=10)
    plot.axes(list(bins), nice_ticks(0, plot.y1), "events selected for the symbol", "symbols",
              x_fmt=lambda v: str(int(v)))
    return plot.svg()


def concentration(counts: Sequence[int], top_n: int, max_share: float) -> str:
    """Cumulative share of events against symbols ranked by their event count; top-N marked."""
    total = sum(counts) or 1
    n = len(counts)
    plot = Plot("concentration", "Concentration: cumulative share of events", (0, max(n, 1)), (0, 1.0))
    points, running = [f"{plot.x(0):.1f},{plot.y(0):.1f}"], 0
    for i, c in enumerate(counts, start=1):
        running += c
        points.append(f"{plot.x(i):.1f},{plot.y(running / total):.1f}")
    plot.parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{COLOURS["bar"]}" '
                      'stroke-width="2"/>')
    plot.parts.append(f'<line x1="{plot.x(0):.1f}" y1="{plot.y(0):.1f}" x2="{plot.x(max(n, 1)):.1f}" '
                      f'y2="{plot.y(1):.1f}" stroke="{COLOURS["grid"]}" stroke-dasharray="4 3"/>')
    top_share = sum(counts[:top_n]) / total
    plot.parts.append(f'<line x1="{plot.left}" y1="{plot.y(max_share):.1f}" x2="{plot.right}" '
                      f'y2="{plot.y(max_share):.1f}" stroke="{COLOURS["limit"]}" stroke-dasharray="6 4"/>')
    plot.text(plot.right - 4, plot.y(max_share) - 4, f"top-{top_n} limit {max_share:.0%}", COLOURS["limit"], "end")
    if n:
        mark = min(top_n, n)
        colour = COLOURS["ok"] if top_share < max_share else COLOURS["fail"]
        plot.parts.append(f'<circle cx="{plot.x(mark):.1f}" cy="{plot.y(top_share):.1f}" r="5" fill="{colour}"/>')
        plot.text(plot.x(mark) + 8, plot.y(top_share) + 14, f"top {mark}: {top_share:.1%}", colour)
    plot.axes(nice_ticks(0, max(n, 1)), nice_ticks(0, 1.0), "symbols ranked by events (most first)",
              "cumulative share", y_fmt=lambda v: f"{v:.0%}")
    return plot.svg()


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation, like DuckDB's quantile_cont."""
    pos = (len(sorted_values) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def histogram(key: str, title: str, values: Sequence[float], limit: float | None, unit: str,
              bins: int = 30, width: int = WIDTH) -> str:
    """A histogram of draws with p50/p90 lines and the gate limit (drawn at the edge, with an
    arrow, when it lies far beyond the draws so that the distribution stays readable)."""
    data = sorted(values)
    if not data:
        plot = Plot(key, title, (0, 1), (0, 1), width=width)
        plot.text(plot.left + 10, plot.top + 30, "no draws in main.download_estimate_draws")
        return plot.svg()
    low, high = data[0], data[-1]
    x_max = high
    limit_inside = limit is not None and limit <= high * 3
    if limit is not None and limit_inside:
        x_max = max(high, limit * 1.05)
    x_min = min(0.0, low)
    step = (x_max - x_min) / bins or 1.0
    heights = [0] * bins
    for v in data:
        heights[min(int((v - x_min) / step), bins - 1)] += 1
    plot = Plot(key, title, (x_min, x_max), (0, max(heights) * 1.2), width=width)
    for i, h in enumerate(heights):
        if h:
            plot.rect(x_min + i * step, x_min + (i + 1) * step, 0, h, COLOURS["bar"], ' stroke="white"')
    p50, p90 = _quantile(data, 0.5), _quantile(data, 0.9)
    plot.vline(p50, COLOURS["p50"], f"p50 {_fmt(p50)} {unit}", "4 3")
    plot.vline(p90, COLOURS["p90"], f"p90 {_fmt(p90)} {unit}", row=1)
    if limit is not None:
        if limit_inside:
            plot.vline(limit, COLOURS["limit"], f"gate limit {_fmt(limit)} {unit}", "8 3", row=2)
        else:
            plot.text(plot.right, plot.top + 50, f"gate limit {_fmt(limit)} {unit} (off the scale) →",
                      COLOURS["limit"], "end")
    plot.axes(nice_ticks(x_min, x_max), nice_ticks(0, plot.y1), f"{unit} ({len(data)} draws)", "draws")
    return plot.svg()


def estimates(storage: Sequence[float], days: Sequence[float], storage_limit: float | None,
              days_limit: float | None) -> str:
    """Both estimate distributions side by side, in one figure."""
    half = WIDTH
    left = histogram("storage", "Storage (GB)", storage, storage_limit, "GB", width=half)
    right = histogram("days", "Download time (days)", days, days_limit, "days", width=half)
    return (f'<svg id="plot-estimates" class="plot" role="img" aria-label="Estimate distributions" '
            f'width="{2 * half}" height="{HEIGHT}" viewBox="0 0 {2 * half} {HEIGHT}">'
            f'<g>{_inner(left)}</g><g transform="translate({half} 0)">{_inner(right)}</g></svg>')


def _inner(svg: str) -> str:
    """The content of an <svg> element, to nest two plots inside one figure."""
    return svg[svg.index(">") + 1: svg.rindex("</svg>")]


@dataclass(frozen=True)
class StudyPoint:
    """One row of an event-study panel: a group's median post - pre and its 95 % interval (display units)."""

    label: str
    windows: int
    median: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class StudyPanel:
    title: str
    unit: str
    points: list[StudyPoint]


PANEL_WIDTH, PANEL_ROW = 280, 26


def _study_panel(panel: StudyPanel, key: str) -> str:
    """A small forest plot: one row per group, a dot at the median difference, a bar over its interval,
    the zero line dashed; the groups' window counts at the right."""
    values = [v for p in panel.points for v in (p.median, p.low, p.high) if v is not None and math.isfinite(v)]
    low, high = min([0.0, *values]), max([0.0, *values])
    pad = (high - low) * 0.08 or 1.0
    height = 58 + PANEL_ROW * len(panel.points)
    plot = Plot(key, f"{panel.title}{f' ({panel.unit})' if panel.unit else ''}", (low - pad, high + pad),
                (0, len(panel.points)), width=PANEL_WIDTH, height=height)
    plot.left, plot.right, plot.top, plot.bottom = 44, PANEL_WIDTH - 44, 28, height - 26
    plot.parts.append(f'<line x1="{plot.x(0):.1f}" y1="{plot.top}" x2="{plot.x(0):.1f}" y2="{plot.bottom}" '
                      f'stroke="{COLOURS["p50"]}" stroke-dasharray="3 3"/>')
    for i, point in enumerate(panel.points):
        cy = plot.y(len(panel.points) - i - 0.5)
        plot.text(plot.left - 6, cy + 4, point.label, anchor="end", size=11)
        plot.text(plot.right + 4, cy + 4, f"n={point.windows:,}", COLOURS["p50"], size=9)
        if point.low is not None and point.high is not None:
            plot.parts.append(f'<line x1="{plot.x(point.low):.1f}" y1="{cy:.1f}" x2="{plot.x(point.high):.1f}" '
                              f'y2="{cy:.1f}" stroke="{COLOURS["bar"]}" stroke-width="3" stroke-linecap="round"/>')
        if point.median is not None:
            excludes_zero = point.low is not None and point.high is not None and (point.low > 0 or point.high < 0)
            colour = COLOURS["p90"] if excludes_zero else COLOURS["bar"]
            plot.parts.append(f'<circle cx="{plot.x(point.median):.1f}" cy="{cy:.1f}" r="4.5" fill="{colour}"/>')
    ticks = nice_ticks(low - pad, high + pad, 4)
    if len(ticks) < 3:  # a 5-step would leave one label: take the finer steps
        ticks = nice_ticks(low - pad, high + pad, 8)
    plot.axes(ticks, [], "", "")
    return plot.svg()


def event_study(panels: Sequence[StudyPanel], columns: int = 4) -> str:
    """The event study as one figure: a panel per measure (median of post - pre per window, by session,
    with the rank-based 95 % interval; orange where the interval excludes 0)."""
    inner = [_study_panel(p, f"event-study-{i}") for i, p in enumerate(panels)]
    heights = [58 + PANEL_ROW * len(p.points) for p in panels] or [0]
    row_height = max(heights)
    rows = math.ceil(len(inner) / columns)
    header = 30
    width, height = PANEL_WIDTH * min(columns, max(len(inner), 1)), header + row_height * rows + 16
    groups = [f'<g transform="translate({(i % columns) * PANEL_WIDTH} {header + (i // columns) * row_height})">'
              f"{_inner(svg)}</g>" for i, svg in enumerate(inner)]
    title = "Event study: median change post - pre event per window, by session (bar: 95 % rank interval)"
    note = "orange: the interval excludes 0; spreads in basis points of the mid; counts per minute of segment"
    return (f'<svg id="plot-event-study" class="plot" role="img" aria-label="{escape(title)}" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}">'
            f'<text x="12" y="18" font-size="13" font-weight="bold" fill="{COLOURS["axis"]}">{escape(title)}</text>'
            + "".join(groups)
            + f'<text x="12" y="{height - 4}" font-size="10" fill="{COLOURS["p50"]}">{escape(note)}</text></svg>')
