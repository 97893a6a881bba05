"""Shared helpers for the output modules (maps, poster, report, plots); internal.

* The category table (id, group, Chinese and English names, Annex 2 weight), read from
  :mod:`quarter_hour.taxonomy` (names) and the default rubric (weights), else from the fallback
  below (the one place that repeats CONTRACTS.md).
* One colour and one item number per category, so the web map, the poster and the charts agree.
* The CJK font lookup (matplotlib's font manager; Debian's ``fonts-noto-cjk`` first).
* Input checks and reprojection to WGS-84 for the web.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd
import pyproj

from ._errors import CRSError, InputError
from ._errors import MissingFontError as MissingFontError  # re-exported: _viz.MissingFontError

log = logging.getLogger(__name__)

Lang = Literal["zh", "en"]


@dataclass(frozen=True)
class Category:
    """One spatial category of the rubric, as the outputs show it."""

    id: str
    group: str  # "basic" | "quality"
    number: int  # item number within its group in Annex 2 (1-based)
    name_zh: str
    name_en: str
    weight: float

    def name(self, lang: Lang) -> str:
        """Display name in ``lang``."""
        return self.name_zh if lang == "zh" else self.name_en


# Fallback, from docs/CONTRACTS.md (Annex 2 of the Hangjin Banner 2023 plan).
_FALLBACK: tuple[tuple[str, str, str, str, float], ...] = (
    ("convenience_store", "basic", "便利店", "Convenience store", 8),
    (
        "supermarket",
        "basic",
        "综合超市（社区商业中心）",
        "Supermarket / community commercial centre",
        8,
    ),
    ("wet_market", "basic", "农贸市场/菜市场", "Farmers' / wet market", 8),
    ("fresh_food", "basic", "生鲜超市/菜店", "Fresh-food supermarket / greengrocer", 4),
    ("breakfast", "basic", "早餐店/早餐车", "Breakfast shop / cart", 4),
    ("repair", "basic", "便民维修点", "Repair point", 1),
    ("laundry_tailor", "basic", "洗染店、缝纫店", "Laundry / tailoring", 1),
    ("hair_beauty", "basic", "美容美发店", "Hair and beauty", 6),
    ("photo_print", "basic", "照相文印店", "Photo and print shop", 1),
    ("pharmacy", "basic", "药店", "Pharmacy", 6),
    ("housekeeping", "basic", "家政服务", "Housekeeping services", 4),
    (
        "post_express",
        "basic",
        "邮政快递综合服务点（含快件箱组）",
        "Postal / express-delivery point",
        4,
    ),
    ("recycling", "basic", "再生资源回收点、垃圾分类点", "Recycling / waste-sorting point", 2),
    ("community_service", "basic", "社区综合服务中心/点", "Community service centre", 10),
    ("bookstore", "quality", "图书服务点（新式书店）", "Book service point / bookshop", 2),
    ("sport_fitness", "quality", "运动健身", "Sport and fitness", 2),
    ("specialty_dining", "quality", "特色餐饮", "Specialty restaurant", 3),
    ("elderly_care", "quality", "养老站", "Elderly-care station", 2),
    ("childcare", "quality", "托育站", "Childcare station", 2),
    ("health_station", "quality", "卫生服务站", "Health service station", 2),
    ("education_training", "quality", "教育培训", "Education and training", 2),
    ("leisure_entertainment", "quality", "休闲娱乐", "Leisure and entertainment", 1),
    ("tourist_service", "quality", "旅游服务点", "Tourist service point", 1),
    ("florist_gift", "quality", "鲜花礼品店", "Florist / gift shop", 1),
    ("bakery", "quality", "蛋糕烘焙店", "Bakery", 1),
    ("tea_coffee_bar", "quality", "茶艺咖啡酒吧", "Tea house / coffee / bar", 1),
    ("pet_service", "quality", "宠物服务站", "Pet services", 1),
    ("smart_locker", "quality", "智能箱柜（及其他）", "Smart lockers", 1),
)

GROUP_NAMES: dict[str, tuple[str, str]] = {
    "basic": ("基本保障类业态", "Basic-need businesses"),
    "quality": ("品质提升类业态", "Quality-of-life businesses"),
    "organisation": ("组织保障", "Organisation"),
}

# 14 colours that stay distinct on white paper and on OSM tiles (Trubetskoy's set, darkened
# where the original is too light to print); basic items use them as circles, quality items as
# squares, so colour + shape (+ the item number on the web map) identify a category.
PALETTE: tuple[str, ...] = (
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#1aa3c4", "#d62fd0",
    "#9a6324", "#800000", "#469990", "#000075", "#808000", "#c99700", "#5f5f5f",
)  # fmt: skip


def _from_taxonomy() -> list[Category] | None:
    """The categories of the shipped taxonomy, weighted by the default rubric; None if unusable."""
    try:
        from .taxonomy import load_taxonomy

        cats = load_taxonomy().categories
    except Exception:  # pragma: no cover - a broken taxonomy must not break the outputs
        log.warning("quarter_hour.taxonomy could not be loaded; using the built-in category table")
        return None
    weights = {row[0]: float(row[4]) for row in _FALLBACK}
    try:
        from .rubric import load_rubric

        weights.update({it.id: float(it.weight) for it in load_rubric("hangjin_2023").items})
    except Exception:  # pragma: no cover
        log.warning("the default rubric could not be loaded; using the built-in weights")
    out: list[Category] = []
    counters: dict[str, int] = {}
    for c in cats:
        group = _norm_group(c.group)
        counters[group] = counters.get(group, 0) + 1
        out.append(
            Category(
                c.id, group, counters[group], c.name_zh, c.name_en, weights.get(c.id, float("nan"))
            )
        )
    return out or None


def _norm_group(group: str) -> str:
    g = group.lower()
    if g.startswith("basic") or "基本" in g:
        return "basic"
    if g.startswith("qual") or "品质" in g:
        return "quality"
    return g


@lru_cache(maxsize=1)
def categories() -> tuple[Category, ...]:
    """All spatial categories in Annex 2 order (taxonomy's table, else the built-in one)."""
    found = _from_taxonomy()
    if found is not None:
        return tuple(found)
    out: list[Category] = []
    counters: dict[str, int] = {}
    for cid, group, zh, en, weight in _FALLBACK:
        counters[group] = counters.get(group, 0) + 1
        out.append(Category(cid, group, counters[group], zh, en, float(weight)))
    return tuple(out)


def category_lookup() -> dict[str, Category]:
    """Category id → :class:`Category`."""
    return {c.id: c for c in categories()}


def category_style(category_id: str) -> tuple[str, str]:
    """Colour (hex) and shape (``"circle"`` or ``"square"``) for a category id.

    Unknown ids (categories outside the rubric) get grey diamonds.
    """
    cat = category_lookup().get(category_id)
    if cat is None:
        return "#7f7f7f", "diamond"
    colour = PALETTE[(cat.number - 1) % len(PALETTE)]
    return colour, ("circle" if cat.group == "basic" else "square")


def check_lang(lang: str) -> Lang:
    """Validate the ``lang`` option."""
    if lang not in ("zh", "en"):
        msg = f"`lang` must be 'zh' or 'en', got {lang!r}."
        raise InputError(msg)
    return lang  # type: ignore[return-value]


def t(lang: Lang, zh: str, en: str) -> str:
    """Pick the Chinese or English string."""
    return zh if lang == "zh" else en


# ---------------------------------------------------------------------------------------------
# Geometry inputs


def require_gdf(obj: object, name: str, *, columns: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """Check that ``obj`` is a GeoDataFrame with a CRS and the given columns."""
    if not isinstance(obj, gpd.GeoDataFrame):
        msg = (
            f"`{name}` must be a GeoDataFrame, got {type(obj).__name__}. Build one with "
            f"`geopandas.GeoDataFrame(df, geometry=..., crs=...)`."
        )
        raise InputError(msg)
    if obj.crs is None:
        msg = (
            f"`{name}` has no CRS, so it cannot be placed on a map. Set the one its coordinates "
            f"are in, e.g. `{name} = {name}.set_crs(4326)` for WGS-84 longitude/latitude."
        )
        raise CRSError(msg)
    missing = [c for c in columns if c not in obj.columns]
    if missing:
        msg = f"`{name}` lacks column(s) {missing}. Available columns: {sorted(map(str, obj.columns))}."
        raise InputError(msg)
    return obj


def to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject to EPSG:4326 (longitude, latitude) for Leaflet; a no-op when already there."""
    if pyproj.CRS.from_user_input(gdf.crs).equals(pyproj.CRS.from_epsg(4326)):
        return gdf
    return gdf.to_crs(4326)


def metric_crs(*frames: gpd.GeoDataFrame | None) -> pyproj.CRS:
    """The first projected CRS among ``frames``, else the local UTM zone of the first frame."""
    present = [f for f in frames if f is not None and len(f) > 0]
    for f in present:
        crs = pyproj.CRS.from_user_input(f.crs)
        if crs.is_projected:
            return crs
    if not present:
        msg = "Nothing to draw: all inputs are empty."
        raise InputError(msg)
    utm = present[0].estimate_utm_crs()
    return pyproj.CRS.from_user_input(utm)


# ---------------------------------------------------------------------------------------------
# Fonts

_CJK_PREFERRED: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
    "SimHei",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
    "Source Han Serif SC",
    "AR PL UMing CN",
)


@lru_cache(maxsize=1)
def cjk_font_family() -> str:
    """Family name of an installed font that covers Chinese (simplified first).

    Searches matplotlib's font manager: a preferred list first (Noto Sans CJK SC, Source Han Sans,
    WenQuanYi, Microsoft YaHei, PingFang, SimHei ...), then any family whose name says CJK.

    Raises
    ------
    MissingFontError
        When none is installed, naming the package that provides one.
    """
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    for name in _CJK_PREFERRED:
        if name in names:
            return name
    for name in sorted(names):
        if "CJK" in name.upper() or name.upper().endswith((" SC", " CN")):
            return name
    msg = (
        "No font that can draw Chinese text was found by matplotlib. Install one, e.g. "
        "`apt-get install fonts-noto-cjk` (Debian/Ubuntu) or `dnf install google-noto-sans-cjk-fonts`, "
        "then clear matplotlib's font cache (`rm -r ~/.cache/matplotlib`) and restart Python."
    )
    raise MissingFontError(msg)


def font_family(lang: Lang = "zh") -> list[str]:
    """matplotlib ``font.family`` list: the CJK font, then DejaVu Sans as a fallback.

    For ``lang="en"`` a missing CJK font is not an error: English labels draw in DejaVu Sans
    (Chinese names in the data would then show as empty boxes, and matplotlib warns of it).
    """
    if lang == "en":
        try:
            return [cjk_font_family(), "DejaVu Sans"]
        except MissingFontError:
            return ["DejaVu Sans"]
    return [cjk_font_family(), "DejaVu Sans"]


def fmt_m(metres: float, lang: Lang) -> str:
    """Distance for display: ``850 米`` / ``1.2 km``."""
    if metres != metres:  # NaN
        return "–"
    if metres >= 1000:
        return f"{metres / 1000:.1f} {t(lang, '千米', 'km')}"
    return f"{metres:.0f} {t(lang, '米', 'm')}"


def as_points(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """Rows with Point geometry: polygons/lines become a point inside them; empty rows are dropped.

    Warns (:class:`QuarterHourWarning`) with the number of rows dropped for lacking a geometry.
    """
    import warnings

    from ._errors import QuarterHourWarning

    geom = gdf.geometry
    empty = geom.isna() | geom.is_empty
    if empty.any():
        warnings.warn(
            f"{int(empty.sum())} of {len(gdf)} rows of `{name}` have no geometry and are not drawn. "
            f"Drop them or give them coordinates.",
            QuarterHourWarning,
            stacklevel=3,
        )
        gdf = gdf[~empty]
    non_point = gdf.geom_type != "Point"
    if non_point.any():
        gdf = gdf.copy()
        gdf.loc[non_point, gdf.geometry.name] = gdf.geometry[non_point].representative_point()
        log.info(
            "`%s`: %d non-point geometries drawn at a point inside them", name, int(non_point.sum())
        )
    return gdf


def coverage_at_limit(coverage: pd.DataFrame | None) -> pd.DataFrame | None:
    """The rows of a coverage table at its walk limit (``attrs["limit_m"]``).

    :func:`quarter_hour.reach.coverage` can return several limits at once (a ``limit_m`` column,
    e.g. 400/800/1,200 m); the maps and the poster report the rubric's limit only.
    """
    if coverage is None or "limit_m" not in coverage.columns or coverage["limit_m"].nunique() <= 1:
        return coverage
    limit = coverage.attrs.get("limit_m", coverage["limit_m"].max())
    out = coverage.loc[coverage["limit_m"] == float(limit)].copy()
    out.attrs = dict(coverage.attrs)
    return out


#: File formats figures (posters, charts) can be saved in.
FIGURE_FORMATS = frozenset({".png", ".pdf", ".svg"})


def output_path(path: object, suffixes: Iterable[str], *, example_suffix: str) -> Path:
    """Check an output file's extension against ``suffixes`` and create its folder."""
    out = Path(str(path))
    allowed = sorted(suffixes)
    if out.suffix.lower() not in allowed:
        msg = (
            f"Cannot tell the format of {str(out)!r}: the extension must be one of "
            f"{allowed}, e.g. {str(out.with_suffix(example_suffix))!r}."
        )
        raise InputError(msg)
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def figure_path(path: object, *, example_suffix: str = ".png") -> Path:
    """Check a figure's output path (PNG, PDF or SVG by extension) and create its folder."""
    return output_path(path, FIGURE_FORMATS, example_suffix=example_suffix)


def map_layers(
    gates: object, pois: object, isochrones: object, streets: object, compounds: object
) -> tuple[
    gpd.GeoDataFrame,
    gpd.GeoDataFrame,
    gpd.GeoDataFrame | None,
    gpd.GeoDataFrame | None,
    gpd.GeoDataFrame | None,
]:
    """Validate the layers a map or poster draws: gates and POIs as points, optional isochrones,
    streets and compound shapes (``compounds`` counts as shapes only when it is a GeoDataFrame)."""
    g = as_points(require_gdf(gates, "gates", columns=("gate_id", "compound_id")), "gates")
    p = as_points(require_gdf(pois, "pois", columns=("name", "category")), "pois")
    iso = (
        require_gdf(isochrones, "isochrones", columns=("minutes",))
        if isochrones is not None
        else None
    )
    st = require_gdf(streets, "streets") if streets is not None else None
    shapes = (
        require_gdf(compounds, "compounds", columns=("compound_id",))
        if isinstance(compounds, gpd.GeoDataFrame)
        else None
    )
    return g, p, iso, st, shapes
