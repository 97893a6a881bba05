"""Printable "一图" poster: a static 15-minute living-circle map for walls and reports.

:func:`community_poster` draws the same content as :func:`quarter_hour.maps.community_map` with
matplotlib, laid out for A3 or A4 paper: the community's name as the title, streets, the walking
areas, compounds and gates, businesses by rubric category (colour and shape, item number inside),
a Chinese legend with counts per category that flags the missing ones, a scale bar, a north arrow,
the data attribution (© OpenStreetMap contributors when the streets come from OSM) and how the
walking area was measured. :func:`save_poster` writes PNG, PDF or SVG by the file extension.

Chinese text needs a CJK font; one is found automatically among the installed fonts (Debian's
``fonts-noto-cjk`` first) and a :class:`MissingFontError` names the package to install when none is.
Drawing happens in a projected metric CRS (the streets' when projected, else the local UTM zone),
so the scale bar is true.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
import pyproj
import shapely
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrow, Rectangle

from . import _viz
from ._errors import InputError
from ._viz import Lang, fmt_m, t

log = logging.getLogger(__name__)

__all__ = ["PAPER_MM", "community_poster", "save_poster"]

PAPER_MM: dict[str, tuple[float, float]] = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}
OSM_ATTRIBUTION = "© OpenStreetMap contributors"
_ISO_STYLE: dict[int, tuple[str, float, str]] = {
    15: ("#2171b5", 0.10, "-"),
    10: ("#41ab5d", 0.10, "--"),
    5: ("#e6550d", 0.12, ":"),
}
_MARKERS = {"circle": "o", "square": "s", "diamond": "D"}


def _rc(lang: Lang = "zh") -> Any:  # matplotlib rcParams for rc_context
    return {
        "font.family": _viz.font_family(lang),
        "axes.unicode_minus": False,
        "pdf.fonttype": 3,  # subset glyphs as Type 3 (Type 42 from a 20 MB CJK .ttc takes ~8 s)
        "svg.fonttype": "path",  # SVG stands alone without the font installed
    }


def community_poster(
    gates: gpd.GeoDataFrame,
    pois: gpd.GeoDataFrame,
    *,
    isochrones: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    compounds: pd.DataFrame | None = None,
    coverage: pd.DataFrame | None = None,
    title: str | None = None,
    lang: Lang = "zh",
    paper: Literal["A3", "A4"] = "A3",
    landscape: bool = False,
    attribution: str | None = "auto",
) -> Figure:
    """Draw one community's printable 15-minute living-circle map.

    Parameters
    ----------
    gates, pois, isochrones, streets, compounds, coverage
        As for :func:`quarter_hour.maps.community_map` (any CRS). ``compounds`` outlines are drawn
        when it is a GeoDataFrame of polygons.
    title
        The community's name or a full heading; default "一刻钟便民生活圈".
    lang
        ``"zh"`` (default) or ``"en"``.
    paper
        ``"A3"`` (297 x 420 mm, default) or ``"A4"`` (210 x 297 mm).
    landscape
        Landscape instead of portrait orientation.
    attribution
        Data credit printed at the bottom. ``"auto"``: "© OpenStreetMap contributors" when
        ``streets`` are drawn (the library's street networks come from OSM); ``None``: none.

    Returns
    -------
    matplotlib.figure.Figure
        Sized to the paper (inches); save it with :func:`save_poster`.

    Raises
    ------
    MissingFontError
        When no CJK font is installed (``apt-get install fonts-noto-cjk``).
    InputError, CRSError
        For invalid inputs or options.
    """
    lang = _viz.check_lang(lang)
    if paper not in PAPER_MM:
        msg = f"`paper` must be one of {sorted(PAPER_MM)}, got {paper!r}."
        raise InputError(msg)
    gates, pois, isochrones, streets, shapes = _viz.map_layers(
        gates, pois, isochrones, streets, compounds
    )

    coverage = _viz.coverage_at_limit(coverage)
    crs = _viz.metric_crs(streets, gates, pois)
    g = gates.to_crs(crs)
    p = pois.to_crs(crs)
    iso = isochrones.to_crs(crs) if isochrones is not None and len(isochrones) else None
    shp = shapes.to_crs(crs) if shapes is not None and len(shapes) else None

    w_mm, h_mm = PAPER_MM[paper]
    if landscape:
        w_mm, h_mm = h_mm, w_mm
    with mpl.rc_context(_rc(lang)):
        fig = Figure(figsize=(w_mm / 25.4, h_mm / 25.4), facecolor="white")
        scale = w_mm / 297.0 if not landscape else h_mm / 297.0  # text scales with the paper
        if landscape:
            map_rect = (0.03, 0.09, 0.62, 0.78)
            legend_rect = (0.67, 0.09, 0.31, 0.78)
        else:
            map_rect = (0.05, 0.30, 0.90, 0.585)
            legend_rect = (0.05, 0.06, 0.90, 0.225)
        ax = fig.add_axes(map_rect)
        extent = _extent(g, p, iso, shp, ax_aspect=_box_aspect(fig, map_rect))
        _draw_map(
            ax, g, p, iso, shp, streets.to_crs(crs) if streets is not None else None, extent, scale
        )
        _scale_bar(ax, extent, lang, scale)
        _north_arrow(ax, extent, crs, lang, scale)

        heading = title or t(lang, "一刻钟便民生活圈", "15-minute living circle")
        if title and "生活圈" not in title and "living circle" not in title.lower():
            heading = t(lang, f"{title} 一刻钟便民生活圈", f"{title}: 15-minute living circle")
        fig.text(
            0.5,
            0.955,
            heading,
            ha="center",
            va="center",
            fontsize=26 * scale,
            fontweight="bold",
            gid="poster-title",
        )
        sub = _subtitle(coverage, iso, lang)
        if sub:
            fig.text(0.5, 0.922, sub, ha="center", va="center", fontsize=12 * scale, color="#444")

        lax = fig.add_axes(legend_rect)
        _legend(lax, p, iso, shp is not None, coverage, lang, scale, landscape)

        credit = OSM_ATTRIBUTION if attribution == "auto" and streets is not None else attribution
        if attribution == "auto" and streets is None:
            credit = None
        footer = [
            t(lang, f"制图日期：{_dt.date.today():%Y-%m-%d}", f"Made {_dt.date.today():%Y-%m-%d}")
        ]
        footer.append(t(lang, "坐标系：", "CRS: ") + (crs.name or crs.to_string()))
        if credit:
            footer.append(t(lang, f"街道数据 {credit}", f"Street data {credit}"))
        fig.text(
            0.5,
            0.025,
            "    ".join(footer),
            ha="center",
            va="center",
            fontsize=8.5 * scale,
            color="#555",
            gid="poster-attribution",
        )
    log.info(
        "poster: %s %s, %d facilities", paper, "landscape" if landscape else "portrait", len(p)
    )
    return fig


def save_poster(fig: Figure, path: str | Path, *, dpi: int = 300) -> Path:
    """Write a poster as PNG, PDF or SVG, chosen by the file extension.

    Parameters
    ----------
    fig
        A figure from :func:`community_poster` (or any figure).
    path
        Output file ending in ``.png``, ``.pdf`` or ``.svg``; parent folders are created.
    dpi
        Raster resolution in dots per inch for PNG (300 = print quality). Vector formats keep
        vectors; the value only affects rasterised parts.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    out = _viz.figure_path(path, example_suffix=".pdf")
    # the text's fonts were fixed when the figure was drawn; "en" only avoids a needless error
    with mpl.rc_context(_rc("en")):
        fig.savefig(out, dpi=dpi, facecolor="white")
    log.info("wrote %s", out)
    return out


# ---------------------------------------------------------------------------------------------


def _box_aspect(fig: Figure, rect: tuple[float, float, float, float]) -> float:
    w, h = fig.get_size_inches()
    return (rect[3] * h) / (rect[2] * w)


def _extent(
    g: gpd.GeoDataFrame,
    p: gpd.GeoDataFrame,
    iso: gpd.GeoDataFrame | None,
    shp: gpd.GeoDataFrame | None,
    *,
    ax_aspect: float,
) -> tuple[float, float, float, float]:
    """Map window (metres): the walking areas and gates, else everything; padded to the box."""
    frames = [f for f in (iso, g, shp) if f is not None and len(f)]
    if iso is None and len(p):
        frames.append(p)
    if not frames:
        msg = "Nothing to draw: `gates` and `pois` are both empty."
        raise InputError(msg)
    b = np.array([f.total_bounds for f in frames])
    x0, y0, x1, y1 = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    w, h = max(x1 - x0, 200.0), max(y1 - y0, 200.0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = w * 1.08, h * 1.08
    if h / w < ax_aspect:
        h = w * ax_aspect
    else:
        w = h / ax_aspect
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def _draw_map(
    ax: Any,
    g: gpd.GeoDataFrame,
    p: gpd.GeoDataFrame,
    iso: gpd.GeoDataFrame | None,
    shp: gpd.GeoDataFrame | None,
    streets: gpd.GeoDataFrame | None,
    extent: tuple[float, float, float, float],
    scale: float,
) -> None:
    x0, y0, x1, y1 = extent
    ax.set_facecolor("#f6f4ef")
    window = shapely.box(*extent)
    if streets is not None and len(streets):
        s = streets[streets.geometry.intersects(window)]
        s.plot(ax=ax, color="#9a9a9a", linewidth=0.7 * scale, zorder=1)
    if iso is not None:
        minutes = pd.to_numeric(iso["minutes"], errors="coerce")
        for value in sorted(minutes.dropna().unique(), reverse=True):
            mins = round(float(value))
            colour, alpha, ls = _ISO_STYLE.get(mins, ("#6a51a3", 0.08, "-."))
            union = shapely.union_all(
                np.asarray(iso.geometry[minutes == value].values, dtype=object)
            )
            area = gpd.GeoSeries([union], crs=iso.crs)
            area.plot(ax=ax, facecolor=colour, alpha=alpha, edgecolor="none", zorder=2)
            area.boundary.plot(ax=ax, color=colour, linewidth=1.8 * scale, linestyle=ls, zorder=3)
    if shp is not None:
        polys = shp[shp.geom_type.isin(["Polygon", "MultiPolygon"])]
        if len(polys):
            polys.plot(
                ax=ax,
                facecolor="#fdae6b",
                edgecolor="#7f2704",
                alpha=0.6,
                linewidth=0.9 * scale,
                zorder=4,
            )
    ms = 8.5 * scale  # marker size, points
    for cid in _category_order(p):
        sel = p[p["category"].astype(str) == cid]
        colour, shape = _viz.category_style(cid)
        xs, ys = sel.geometry.x.to_numpy(), sel.geometry.y.to_numpy()
        ax.plot(
            xs,
            ys,
            linestyle="none",
            marker=_MARKERS[shape],
            markersize=ms,
            markerfacecolor=colour,
            markeredgecolor="white",
            markeredgewidth=0.6 * scale,
            zorder=6,
            clip_on=True,
        )
        cat = _viz.category_lookup().get(cid)
        if cat is not None and len(sel) <= 400:
            inside = (xs > x0) & (xs < x1) & (ys > y0) & (ys < y1)
            for x, y in zip(xs[inside], ys[inside], strict=True):
                ax.text(
                    x,
                    y,
                    str(cat.number),
                    ha="center",
                    va="center",
                    color="white",
                    fontsize=4.8 * scale,
                    fontweight="bold",
                    zorder=7,
                    clip_on=True,
                )
    ax.plot(
        g.geometry.x,
        g.geometry.y,
        linestyle="none",
        marker="s",
        markersize=6 * scale,
        markerfacecolor="#222",
        markeredgecolor="#ffd400",
        markeredgewidth=1.4 * scale,
        zorder=8,
    )
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for side in ax.spines.values():
        side.set_color("#444")
        side.set_linewidth(0.8)


def _category_order(p: gpd.GeoDataFrame) -> list[str]:
    present = set(p["category"].astype(str))
    known = [c.id for c in _viz.categories() if c.id in present]
    return known + sorted(present - set(known))


def _nice_length(width_m: float) -> float:
    target = width_m / 5
    for step in (25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000):
        if step >= target * 0.7:
            return float(step)
    return float(10 ** math.floor(math.log10(target)))


def _scale_bar(
    ax: Any, extent: tuple[float, float, float, float], lang: Lang, scale: float
) -> None:
    x0, y0, x1, y1 = extent
    length = _nice_length(x1 - x0)
    h = (y1 - y0) * 0.008
    bx, by = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.04
    ax.add_patch(
        Rectangle(
            (bx - length * 0.08, by - h * 2.2),
            length * 1.3,
            h * 6.2,
            facecolor="white",
            edgecolor="none",
            alpha=0.85,
            zorder=9,
        )
    )
    for k in range(4):
        ax.add_patch(
            Rectangle(
                (bx + k * length / 4, by),
                length / 4,
                h,
                facecolor="black" if k % 2 == 0 else "white",
                edgecolor="black",
                linewidth=0.6,
                zorder=10,
            )
        )
    fs = 8.5 * scale
    ax.text(bx, by + h * 1.6, "0", ha="center", va="bottom", fontsize=fs, zorder=10)
    ax.text(
        bx + length / 2,
        by + h * 1.6,
        f"{length / 2:g}",
        ha="center",
        va="bottom",
        fontsize=fs,
        zorder=10,
    )
    ax.text(
        bx + length,
        by + h * 1.6,
        fmt_m(length, lang),
        ha="center",
        va="bottom",
        fontsize=fs,
        zorder=10,
        gid="scale-bar-label",
    )


def _north_arrow(
    ax: Any, extent: tuple[float, float, float, float], crs: pyproj.CRS, lang: Lang, scale: float
) -> None:
    """Arrow to true north (computed from the CRS, so it is right for any projection)."""
    x0, y0, x1, y1 = extent
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    to_geo = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    from_geo = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    lon, lat = to_geo.transform(cx, cy)
    nx, ny = from_geo.transform(lon, lat + 0.01)
    angle = math.atan2(nx - cx, ny - cy)  # radians clockwise from the map's up
    size = (y1 - y0) * 0.06
    ax_x, ax_y = x1 - (x1 - x0) * 0.06, y1 - (y1 - y0) * 0.10
    dx, dy = size * math.sin(angle), size * math.cos(angle)
    ax.add_patch(
        FancyArrow(
            ax_x - dx / 2,
            ax_y - dy / 2,
            dx,
            dy,
            width=size * 0.12,
            head_width=size * 0.4,
            head_length=size * 0.4,
            length_includes_head=True,
            color="#222",
            zorder=10,
        )
    )
    ax.text(
        ax_x + dx * 0.75,
        ax_y + dy * 0.75,
        t(lang, "北", "N"),
        ha="center",
        va="bottom",
        fontsize=13 * scale,
        fontweight="bold",
        zorder=10,
        gid="north-arrow",
    )


def _subtitle(coverage: pd.DataFrame | None, iso: gpd.GeoDataFrame | None, lang: Lang) -> str:
    limit = coverage.attrs.get("limit_m") if coverage is not None else None
    if limit is None and iso is not None and "limit_m" in iso.columns:
        limit = float(iso["limit_m"].max())
    if limit is None:
        return ""
    return t(
        lang,
        f"以居住小区大门为起点，沿街道步行 {fmt_m(float(limit), lang)}（约15分钟）范围内的便民设施",
        f"Everyday services within a {fmt_m(float(limit), lang)} walk (about 15 minutes) "
        "along streets from the compound gates",
    )


def _legend(
    ax: Any,
    p: gpd.GeoDataFrame,
    iso: gpd.GeoDataFrame | None,
    has_compounds: bool,
    coverage: pd.DataFrame | None,
    lang: Lang,
    scale: float,
    landscape: bool,
) -> None:
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    counts = p["category"].astype(str).value_counts()
    reach: dict[str, tuple[int, int]] = {}
    if coverage is not None and not coverage.empty:
        for cid, flags in coverage.groupby("category")["reachable"]:
            reach[str(cid)] = (int(flags.astype(bool).sum()), len(flags))
    fs = 9.5 * scale
    groups = ("basic", "quality")
    # portrait: two columns side by side; landscape: stacked
    col_x = {"basic": 0.0, "quality": 0.5} if not landscape else {"basic": 0.0, "quality": 0.0}
    top = {"basic": 0.97, "quality": 0.97} if not landscape else {"basic": 0.99, "quality": 0.56}
    rows_h = (0.80 / 15) if not landscape else (0.40 / 15)
    col_w = 0.5 if not landscape else 1.0
    for group in groups:
        x, y = col_x[group], top[group]
        zh, en = _viz.GROUP_NAMES[group]
        ax.text(x, y, t(lang, zh, en), fontsize=fs * 1.15, fontweight="bold", va="top")
        y -= rows_h * 1.25
        for cat in (c for c in _viz.categories() if c.group == group):
            colour, shape = _viz.category_style(cat.id)
            n = int(counts.get(cat.id, 0))
            ax.plot(
                [x + 0.012],
                [y - rows_h * 0.35],
                marker=_MARKERS[shape],
                markersize=8 * scale,
                markerfacecolor=colour,
                markeredgecolor="white",
                linestyle="none",
            )
            ax.text(
                x + 0.012,
                y - rows_h * 0.35,
                str(cat.number),
                ha="center",
                va="center",
                color="white",
                fontsize=fs * 0.55,
                fontweight="bold",
            )
            ax.text(
                x + 0.03,
                y - rows_h * 0.35,
                cat.name(lang),
                va="center",
                fontsize=fs,
                color="#999" if n == 0 else "black",
            )
            ax.text(
                x + col_w * 0.78,
                y - rows_h * 0.35,
                str(n),
                va="center",
                ha="right",
                fontsize=fs,
                color="#999" if n == 0 else "black",
            )
            status, colour2 = "", "black"
            if n == 0:
                status, colour2 = t(lang, "缺失", "missing"), "#c0392b"
            elif cat.id in reach:
                ok, total = reach[cat.id]
                if ok == 0:
                    status, colour2 = t(lang, "范围外", "out of reach"), "#c0392b"
                elif ok < total:
                    status, colour2 = f"{ok}/{total} {t(lang, '小区', 'cmpd.')}", "#b9770e"
            if status:
                ax.text(
                    x + col_w * 0.81,
                    y - rows_h * 0.35,
                    status,
                    va="center",
                    fontsize=fs * 0.9,
                    color=colour2,
                    fontweight="bold" if n == 0 else "normal",
                )
            y -= rows_h
    # symbols: gates, compounds, walking rings (wrapping onto more rows when needed)
    entries: list[tuple[str, dict[str, Any]]] = [
        (
            t(lang, "小区大门", "Compound gate"),
            {
                "marker": "s",
                "markerfacecolor": "#222",
                "markeredgecolor": "#ffd400",
                "linestyle": "none",
            },
        ),
    ]
    if has_compounds:
        entries.append(
            (
                t(lang, "居住小区", "Compound"),
                {
                    "marker": "s",
                    "markerfacecolor": "#fdae6b",
                    "markeredgecolor": "#7f2704",
                    "linestyle": "none",
                },
            )
        )
    if iso is not None:
        for mins in sorted(pd.to_numeric(iso["minutes"], errors="coerce").dropna().unique()):
            colour, _a, ls = _ISO_STYLE.get(round(float(mins)), ("#6a51a3", 0.08, "-."))
            entries.append(
                (
                    t(lang, f"步行{mins:g}分钟", f"{mins:g}-min walk"),
                    {"color": colour, "linestyle": ls, "linewidth": 2 * scale},
                )
            )
    step = 0.2 if not landscape else 0.5
    per_row = round(1 / step)
    n_rows = -(-len(entries) // per_row)
    row_h = 0.09 if not landscape else 0.04
    y_top = 0.02 + row_h * (n_rows - 1) + (0.06 if not landscape else 0.05)
    for k, (name, style) in enumerate(entries):
        x = (k % per_row) * step
        y = y_top - (k // per_row) * row_h
        if "marker" in style:
            ax.plot([x + 0.012], [y], markersize=8 * scale, **style)
        else:
            ax.plot([x, x + 0.03], [y, y], **style)
        ax.text(x + 0.04, y, name, va="center", fontsize=fs)
    y = 0.02
    note = t(
        lang,
        "数字为图上设施数量；“缺失”：没有该类设施；“范围外”：有设施但不在任何小区的步行范围内。",
        "Numbers count facilities on the map; 'missing': none at all; 'out of reach': none within "
        "any compound's walk.",
    )
    ax.text(0.0, y, note, fontsize=fs * 0.8, color="#555", va="center", wrap=True)
