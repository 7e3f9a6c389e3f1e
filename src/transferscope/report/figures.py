"""Figures of a report, described once and drawn twice: interactive (plotly, in the HTML) and
static (matplotlib, PNG / SVG for papers).

A :class:`Figure` holds only data and labels: ``kind`` is one of

* ``"bars"``: horizontal bars ``values`` over ``labels`` with optional ``low`` / ``high`` (an
  interval drawn as an error bar) and ``extra`` markers (e.g. the measured probe beside the
  prediction); with ``fit_axis`` the bars start just below the smallest value (:func:`bar_base`)
  rather than at 0, so that the axis fits the data and the highest value has the longest bar
  whatever its sign (for scores that are only an order, e.g. LogME, often all negative);
* ``"scatter"``: one or more series of points (``x``, ``y``, ``text`` per point);
* ``"lines"``: series over a shared categorical ``x`` (layers);
* ``"heatmap"``: ``matrix`` over ``rows`` x ``columns``, the values on hover;
* ``"front"``: a scatter of ``x`` (bytes, log scale) against ``y`` with the points on the front
  joined.

Every user string (dataset, model, label names) is escaped for plotly, whose text accepts a
subset of HTML: :func:`plotly_figure` passes them through :func:`html.escape`, so ``<script>``
is drawn as those characters.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Figure", "Series", "plotly_figure", "save_static", "bar_base", "equal_to_rounding"]


#: Colours of series drawn with their null (plotly's default sequence), so both share one colour.
_PALETTE = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880", "#ff97ff",
            "#fecb52")


@dataclass
class Series:
    """One named series of a scatter, lines or front figure."""

    name: str
    x: list[Any]
    y: list[float]
    text: list[str] | None = None
    visible: bool = True
    front: list[bool] | None = None  # "front" figures: the points on the Pareto front
    low: list[float] | None = None  # "lines" figures: an interval around each point (error bars)
    high: list[float] | None = None
    null: list[float] | None = None  # "lines" figures: the series' null (a re-seeded twin), dashed in its colour
    null_name: str = "null"


@dataclass
class Figure:
    """A figure's data and labels (module notes)."""

    kind: str
    title: str
    xlabel: str = ""
    ylabel: str = ""
    labels: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    low: list[float] | None = None
    high: list[float] | None = None
    extra: dict[str, list[float]] | None = None
    series: list[Series] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    matrix: list[list[float | None]] = field(default_factory=list)
    log_x: bool = False
    note: str = ""
    fit_axis: bool = False


def equal_to_rounding(values: list[Any]) -> bool:
    """Whether the finite ``values`` differ by rounding only (a spread below 1e-9 of their size): a
    saturated H-score reads 0.9999999999999112 and 1.0000000000002442 for candidates it cannot tell
    apart, and an axis fitted to that spread would draw them as far apart.

    Examples
    --------
    >>> equal_to_rounding([0.9999999999999112, 1.0000000000002442]), equal_to_rounding([0.70, 0.71])
    (True, False)
    """
    finite = [v for v in (_num(values) or []) if v is not None]
    if len(finite) < 2:
        return False
    return max(finite) - min(finite) <= 1e-9 * max(1.0, max(abs(v) for v in finite))


def bar_base(fig: Figure) -> float:
    """Where the bars of ``fig`` start: 0, or with ``fit_axis`` 5% of the data's span (intervals
    included) below its smallest value; values equal up to rounding (:func:`equal_to_rounding`)
    have no span to fit, and their bars are drawn equal.

    Examples
    --------
    >>> bar_base(Figure("bars", "t", values=[-0.8, -0.6], fit_axis=True))
    -0.81
    >>> bar_base(Figure("bars", "t", values=[-0.8, -0.6]))
    0.0
    >>> bar_base(Figure("bars", "t", values=[0.9999999999999112, 1.0000000000002442], fit_axis=True))
    0.95
    """
    finite = [v for v in (_num(fig.values) or []) + (_num(fig.low) or []) + (_num(fig.high) or [])
              if v is not None]
    if not fig.fit_axis or not finite:
        return 0.0
    low, high = min(finite), max(finite)
    span = high - low if high > low and not equal_to_rounding(finite) else max(abs(low), 1.0)
    return round(low - 0.05 * span, 12)


def _esc(value: Any) -> str:
    from transferscope.workflows.storage.results import visible_text

    return html.escape(visible_text(str(value)), quote=False)


def _num(values: list[Any] | None) -> list[float | None] | None:
    if values is None:
        return None
    out: list[float | None] = []
    for v in values:
        try:
            f = float(v)
        except (TypeError, ValueError):
            out.append(None)
            continue
        out.append(f if math.isfinite(f) else None)
    return out


def plotly_figure(fig: Figure) -> dict[str, Any]:
    """The figure as a plotly JSON object (``data`` + ``layout``), user strings escaped."""
    layout: dict[str, Any] = {"title": {"text": _esc(fig.title)}, "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
                              "xaxis": {"title": {"text": _esc(fig.xlabel)}, "automargin": True},
                              "yaxis": {"title": {"text": _esc(fig.ylabel)}, "automargin": True},
                              "template": "plotly_white", "height": 420}
    data: list[dict[str, Any]] = []
    if fig.kind == "bars":
        values = _num(fig.values) or []
        base = bar_base(fig)
        bar: dict[str, Any] = {"type": "bar", "orientation": "h", "x": [None if v is None else v - base for v in values],
                               "base": base, "y": [_esc(v) for v in fig.labels], "name": _esc(fig.xlabel or "value"),
                               "hovertemplate": "%{y}: %{x:.4f}<extra></extra>"}
        if base != 0.0:  # the hover shows the value, not the bar's length
            bar["customdata"] = [[v] for v in values]
            bar["hovertemplate"] = "%{y}: %{customdata[0]:.4f}<extra></extra>"
        if fig.low is not None and fig.high is not None:
            low, high = _num(fig.low) or [], _num(fig.high) or []
            bar["error_x"] = _error_bars(values, low, high)
            bar["customdata"] = [[v, lo, h] for v, lo, h in zip(values, low, high)]
            bar["hovertemplate"] = "%{y}: %{customdata[0]:.4f} [%{customdata[1]:.3f}, %{customdata[2]:.3f}]<extra></extra>"
        data.append(bar)
        for name, points in (fig.extra or {}).items():
            data.append({"type": "scatter", "mode": "markers", "x": _num(points), "y": [_esc(v) for v in fig.labels],
                         "name": _esc(name), "marker": {"symbol": "diamond", "size": 10, "color": "#d62728"}})
        layout["yaxis"]["autorange"] = "reversed"
        layout["height"] = max(300, 40 + 28 * len(fig.labels))
        layout["showlegend"] = bool(fig.extra)
    elif fig.kind in ("scatter", "lines", "front"):
        for number, s in enumerate(fig.series):
            trace: dict[str, Any] = {"type": "scatter", "name": _esc(s.name),
                                     "x": [_esc(v) if isinstance(v, str) else v for v in s.x], "y": _num(s.y),
                                     "mode": "lines+markers" if fig.kind == "lines" else "markers",
                                     "visible": True if s.visible else "legendonly"}
            if s.text is not None:
                trace["text"] = [_esc(t) for t in s.text]
                trace["hovertemplate"] = "%{text}<br>%{x}, %{y:.4f}<extra>" + _esc(s.name) + "</extra>"
            if s.low is not None and s.high is not None:
                trace["error_y"] = _error_bars(_num(s.y) or [], _num(s.low) or [], _num(s.high) or [])
            if s.null is not None:  # the series and its null in one colour, the null dashed
                colour = _PALETTE[number % len(_PALETTE)]
                trace.update(line={"color": colour}, marker={"color": colour}, legendgroup=_esc(s.name))
                data.append(trace)
                trace = {"type": "scatter", "mode": "lines", "name": _esc(f"{s.name} ({s.null_name})"),
                         "x": trace["x"], "y": _num(s.null), "line": {"color": colour, "dash": "dash"},
                         "legendgroup": _esc(s.name), "visible": trace["visible"]}
            data.append(trace)
            if fig.kind == "front" and s.front is not None:
                points = sorted((x, y) for x, y, on in zip(s.x, _num(s.y) or [], s.front) if on and y is not None)
                data.append({"type": "scatter", "mode": "lines", "name": _esc(f"{s.name} (Pareto front)"),
                             "x": [p[0] for p in points], "y": [p[1] for p in points],
                             "line": {"dash": "dot"}})
        if fig.log_x:
            layout["xaxis"]["type"] = "log"
    elif fig.kind == "heatmap":
        data.append({"type": "heatmap", "z": [_num(r) for r in fig.matrix], "x": [_esc(c) for c in fig.columns],
                     "y": [_esc(r) for r in fig.rows], "colorscale": "Viridis",
                     "hovertemplate": "%{y} / %{x}: %{z:.4f}<extra></extra>"})
        layout["yaxis"]["autorange"] = "reversed"
        layout["height"] = max(360, 120 + 30 * len(fig.rows))
    else:
        raise ValueError(f"unknown figure kind {fig.kind!r}")
    return {"data": data, "layout": layout}


def _error_bars(values: list[Any], low: list[Any], high: list[Any]) -> dict[str, Any]:
    """Plotly's asymmetric error bars from each value's interval (none where a bound is missing)."""
    return {"type": "data", "symmetric": False,
            "array": [None if h is None or v is None else h - v for v, h in zip(values, high)],
            "arrayminus": [None if lo is None or v is None else v - lo for v, lo in zip(values, low)]}


def _visible(fig: Figure) -> Figure:
    import dataclasses

    from transferscope.workflows.storage.results import visible_text

    def text(values: list[Any]) -> list[Any]:
        return [visible_text(v) if isinstance(v, str) else v for v in values]

    return dataclasses.replace(
        fig, title=visible_text(fig.title), xlabel=visible_text(fig.xlabel), ylabel=visible_text(fig.ylabel),
        labels=text(fig.labels), rows=text(fig.rows), columns=text(fig.columns),
        series=[dataclasses.replace(s, name=visible_text(s.name), x=text(list(s.x)),
                                    text=None if s.text is None else text(list(s.text))) for s in fig.series],
        extra=None if fig.extra is None else {visible_text(k): v for k, v in fig.extra.items()})


def save_static(fig: Figure, path: Path) -> Path:
    """Draw ``fig`` with matplotlib to ``path`` (``.png`` or ``.svg``; no global backend is set)."""
    from matplotlib.figure import Figure as MplFigure

    fig = _visible(fig)  # user strings drawn as they are (no control or bidi-override character)
    heights = {"bars": max(3.0, 0.8 + 0.3 * len(fig.labels)), "heatmap": max(4.0, 1.5 + 0.35 * len(fig.rows))}
    canvas = MplFigure(figsize=(8, heights.get(fig.kind, 4.5)), layout="constrained")
    ax = canvas.subplots()
    if fig.kind == "bars":
        values = [v if v is not None else float("nan") for v in (_num(fig.values) or [])]
        positions = list(range(len(values)))
        err = None
        if fig.low is not None and fig.high is not None:
            low, high = _num(fig.low) or [], _num(fig.high) or []
            err = [[max(0.0, v - lo) if lo is not None else 0.0 for v, lo in zip(values, low)],
                   [max(0.0, h - v) if h is not None else 0.0 for v, h in zip(values, high)]]
        base = bar_base(fig)
        ax.barh(positions, [v - base for v in values], left=base, xerr=err, color="#4c72b0", capsize=3)
        for name, points in (fig.extra or {}).items():
            ax.plot([p if p is not None else float("nan") for p in (_num(points) or [])], positions, "D",
                    color="#d62728", label=name)
            ax.legend(fontsize=8)
        ax.set_yticks(positions, [str(v) for v in fig.labels], fontsize=8)
        ax.invert_yaxis()
    elif fig.kind in ("scatter", "lines", "front"):
        for s in fig.series:
            if not s.visible:
                continue
            ys = [v if v is not None else float("nan") for v in (_num(s.y) or [])]
            if fig.kind == "lines":
                err = None
                if s.low is not None and s.high is not None:
                    err = [[v - lo if lo is not None else 0.0 for v, lo in zip(ys, _num(s.low) or [])],
                           [h - v if h is not None else 0.0 for v, h in zip(ys, _num(s.high) or [])]]
                drawn = ax.errorbar([str(x) for x in s.x], ys, yerr=err, marker="o", capsize=3 if err else 0,
                                    label=s.name)
                if s.null is not None:  # the null dashed in the series' colour
                    ax.plot([str(x) for x in s.x], [v if v is not None else float("nan") for v in _num(s.null) or []],
                            linestyle="--", color=drawn.lines[0].get_color(), label=f"{s.name} ({s.null_name})")
            else:
                ax.scatter(s.x, ys, label=s.name, s=18)
            if fig.kind == "front" and s.front is not None:
                pts = sorted((x, y) for x, y, on in zip(s.x, ys, s.front) if on and math.isfinite(y))
                ax.plot([p[0] for p in pts], [p[1] for p in pts], linestyle=":")
        if fig.log_x:
            ax.set_xscale("log")
        if fig.kind == "lines":
            ax.tick_params(axis="x", rotation=45, labelsize=7)
        if sum(s.visible for s in fig.series) > 1:  # below the axes: a legend never covers the data or a label
            canvas.legend(loc="outside lower center", ncol=min(4, len(fig.series)), fontsize=7, frameon=False)
    elif fig.kind == "heatmap":
        matrix = [[v if v is not None else float("nan") for v in (_num(r) or [])] for r in fig.matrix]
        image = ax.imshow(matrix, cmap="viridis", aspect="auto")
        ax.set_xticks(range(len(fig.columns)), [str(c) for c in fig.columns], rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(fig.rows)), [str(r) for r in fig.rows], fontsize=7)
        canvas.colorbar(image, ax=ax)
    ax.set_title(fig.title, fontsize=10)
    ax.set_xlabel(fig.xlabel)
    ax.set_ylabel(fig.ylabel)
    canvas.savefig(path, dpi=150)
    return path
