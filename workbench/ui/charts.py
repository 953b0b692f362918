"""Chart building blocks on pyqtgraph: labelled axes, date axes, readable colours.

Charts get plain arrays from the panels (the data-provider side) and never query anything
themselves. Long series use pyqtgraph's clip-to-view and downsampling.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

pg.setConfigOptions(antialias=True, background="w", foreground="#222222")

#: Palette that stays distinguishable for the common colour-vision deficiencies (Okabe-Ito).
BLUE, ORANGE, GREEN, RED, PURPLE, GREY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#666666"


def epoch_seconds(dates: Iterable[dt.date | np.datetime64 | None]) -> np.ndarray:
    """Dates as seconds since 1970 (what pyqtgraph's DateAxisItem reads); missing as NaN."""
    values = np.asarray(list(dates), dtype="datetime64[D]")
    out = values.astype("datetime64[s]").astype(np.int64).astype(float)
    out[np.isnat(values)] = np.nan
    return out


def make_plot(title: str, left: str, bottom: str, *, dates: bool = True, day_axis: bool = False,
              parent: QWidget | None = None) -> pg.PlotWidget:
    """A plot with a title, both axes labelled (unit in the label), grid and a legend.

    ``dates``: pyqtgraph's date axis; ``day_axis``: a bottom axis of calendar days labelled
    with day, month and year at whole-week steps (:class:`DayAxis`), for weekly buckets."""
    axis: dict[str, pg.AxisItem] = {}
    if day_axis:
        axis = {"bottom": DayAxis(orientation="bottom")}
        axis["bottom"].enableAutoSIPrefix(False)  # epoch seconds are not "x1e+09" of anything
    elif dates:
        axis = {"bottom": pg.DateAxisItem(orientation="bottom")}
    plot = pg.PlotWidget(parent=parent, axisItems=axis)
    plot.setTitle(title, size="11pt")
    plot.setLabel("left", left)
    plot.setLabel("bottom", bottom)
    plot.showGrid(x=True, y=True, alpha=0.25)
    legend = plot.addLegend(offset=(-10, 10), labelTextSize="9pt")
    legend.setBrush(pg.mkBrush(255, 255, 255, 215))
    legend.setPen(pg.mkPen("#999999"))
    plot.setMenuEnabled(False)
    plot.getPlotItem().setClipToView(True)
    plot.setMinimumHeight(220)
    return plot


def step_line(plot: pg.PlotWidget, x: npt.ArrayLike, y: npt.ArrayLike, *, name: str,
              colour: str, width: float = 2.0, dash: bool = False) -> pg.PlotDataItem:
    """A stepped series: the value of bucket i holds from x[i] until x[i+1]."""
    xs = np.asarray(x, float)
    ys = np.asarray(y, float)
    if len(xs) == 0:
        return plot.plot([], [], name=name)
    step = np.median(np.diff(xs)) if len(xs) > 1 else 7 * 86400.0
    edges = np.append(xs, xs[-1] + step)
    style = pg.QtCore.Qt.PenStyle.DashLine if dash else pg.QtCore.Qt.PenStyle.SolidLine
    return plot.plot(edges, ys, stepMode="center", name=name,
                     pen=pg.mkPen(colour, width=width, style=style))


def markers(plot: pg.PlotWidget, x: npt.ArrayLike, y: npt.ArrayLike, *, name: str,
            colour: str, symbol: str = "o", size: int = 9) -> pg.ScatterPlotItem:
    item = pg.ScatterPlotItem(np.asarray(x, float), np.asarray(y, float), symbol=symbol,
                              size=size, brush=pg.mkBrush(colour), pen=pg.mkPen("#222222", width=0.6),
                              name=name)
    plot.addItem(item)
    return item


def shade(plot: pg.PlotWidget, start: float, end: float, colour: str = "#D55E0033") -> None:
    """Highlight an x range (e.g. the buckets in shortage)."""
    region = pg.LinearRegionItem(values=(start, end), movable=False, brush=pg.mkBrush(colour),
                                 pen=pg.mkPen(None))
    region.setZValue(-10)
    plot.addItem(region)


def bars(plot: pg.PlotWidget, x: npt.ArrayLike, heights: npt.ArrayLike, *, width: float,
         colour: str, name: str) -> pg.BarGraphItem:
    item = pg.BarGraphItem(x=np.asarray(x, float), height=np.asarray(heights, float), width=width,
                           brush=pg.mkBrush(colour), pen=pg.mkPen("#333333", width=0.5), name=name)
    plot.addItem(item)
    return item


def before_after(plot: pg.PlotWidget, x: npt.ArrayLike, before: npt.ArrayLike,
                 after: npt.ArrayLike, *, before_name: str, after_name: str,
                 safety: float = 0.0) -> None:
    """One row's series per bucket before (solid) and after (dashed) a change, its safety stock,
    and the buckets below safety stock only after the change shaded."""
    xs, b, a = np.asarray(x, float), np.asarray(before, float), np.asarray(after, float)
    step_line(plot, xs, b, name=before_name, colour=BLUE)
    step_line(plot, xs, a, name=after_name, colour=ORANGE, width=2.5, dash=True)
    if len(xs):
        step_line(plot, xs, np.full(len(xs), float(safety)), name="Safety stock", colour=GREY,
                  width=1.0, dash=True)
        width = float(np.median(np.diff(xs))) if len(xs) > 1 else 7 * 86400.0
        newly = (a < safety - 1e-9) & ~(b < safety - 1e-9)
        for i in np.flatnonzero(newly):
            shade(plot, xs[i], xs[i] + width)
        if newly.any():
            shade_legend(plot, "Short only after the change")


def note(plot: pg.PlotWidget, text: str) -> pg.TextItem:
    """A sentence in the middle of an empty plot (why there is nothing to draw)."""
    item = pg.TextItem(text, color="#444444", anchor=(0.5, 0.5))
    item.setTextWidth(460)
    plot.addItem(item)
    for side in ("left", "bottom"):  # no made-up scale around a sentence
        plot.getPlotItem().getAxis(side).setStyle(showValues=False)
    legend = plot.getPlotItem().legend
    if legend is not None:
        legend.setVisible(False)
    item.setPos(0.5, 0.5)
    plot.setXRange(0, 1, padding=0)
    plot.setYRange(0, 1, padding=0)
    return item


def clear(plot: pg.PlotWidget) -> None:
    plot.clear()
    legend = plot.getPlotItem().legend
    if legend is not None:
        legend.clear()
        legend.setVisible(True)
    for side in ("left", "bottom"):  # undo a :func:`note`
        plot.getPlotItem().getAxis(side).setStyle(showValues=True)


def shade_legend(plot: pg.PlotWidget, name: str, colour: str = "#D55E0055") -> None:
    """A legend entry for shaded regions (regions themselves have no legend sample)."""
    legend = plot.getPlotItem().legend
    if legend is not None:
        sample = pg.BarGraphItem(x=[0], height=[0], width=0, brush=pg.mkBrush(colour),
                                 pen=pg.mkPen(None))
        legend.addItem(sample, name)


class DayAxis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph ships no types: its classes are Any
    """An axis of calendar days (epoch seconds) labelled ``05 Aug`` at whole-week steps: for a
    vertical date axis, where pyqtgraph's two-level DateAxisItem labels overlap."""

    DAY = 86400.0

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:
        days = max((maxVal - minVal) / self.DAY, 1.0)
        # about one label per 28 px up a vertical axis, per 80 px along a horizontal one
        fits = max(int(size / (28 if self.orientation in ("left", "right") else 80)), 2)
        step = next(s for s in (1, 7, 14, 28, 56, 91, 182, 364, 10_000) if days / s <= fits)
        return [(step * self.DAY, 0)]

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        spacing = self.tickSpacing(minVal, maxVal, size)[0][0]
        # weekly steps start on Mondays (epoch day 4 was a Monday)
        offset = 4 * self.DAY if spacing >= 7 * self.DAY else 0.0
        first = np.ceil((minVal - offset) / spacing) * spacing + offset
        return [(spacing, list(np.arange(first, maxVal + 1, spacing)))]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [dt.datetime.fromtimestamp(v, dt.UTC).strftime("%d %b %y") for v in values]
