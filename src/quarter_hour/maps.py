"""The community's "一图": an interactive 15-minute living-circle map (Leaflet via folium).

:func:`community_map` draws, for one community, the residential compounds and their gates, the
15-minute walking area (and 5/10-minute rings when given), the street network, and every business
as a marker coloured and grouped by rubric category, with a legend that also names the categories
that have no facility at all. :func:`save_map` writes it as **one self-contained HTML file**:
Leaflet 1.9.4 (BSD-2, vendored in ``quarter_hour/data/leaflet``) is inlined instead of loaded from
a CDN, so the page works without internet; only the optional OpenStreetMap tiles need a network,
and without one the page falls back to a plain background with the street network drawn from the
data.

Inputs may be in any CRS; they are reprojected to WGS-84 (EPSG:4326) for the web.
Straight-line distances in popups are computed in a projected metric CRS.

Examples
--------
>>> m = community_map(gates, pois, isochrones=iso, streets=net.edges_gdf(),  # doctest: +SKIP
...                   coverage=cov, title="锡尼镇 某社区")
>>> save_map(m, "out/map.html")  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import html
import json
import logging
import re
from collections import defaultdict
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure
from folium.template import Template

from . import _viz
from ._errors import InputError
from ._viz import Lang, fmt_m, t

log = logging.getLogger(__name__)

__all__ = ["community_map", "save_map"]

Tiles = Literal["auto", "osm"] | None

OSM_ATTRIBUTION = "© OpenStreetMap contributors"
_OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_ISO_STYLE: dict[int, tuple[str, float, str | None]] = {
    # minutes: (colour, fill opacity, dash pattern)
    15: ("#2171b5", 0.10, None),
    10: ("#41ab5d", 0.10, "6 4"),
    5: ("#e6550d", 0.12, "2 4"),
}


# ---------------------------------------------------------------------------------------------
# Self-contained Leaflet


@lru_cache(maxsize=1)
def _leaflet_assets() -> tuple[str, str]:
    """Leaflet's JS and CSS (images inlined as data: URIs), read from the package data."""
    root = resources.files("quarter_hour") / "data" / "leaflet"
    js = (root / "leaflet.js").read_text(encoding="utf-8")
    css = (root / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        data = (root / "images" / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode('ascii')})"

    css = re.sub(r"url\(images/([\w.-]+\.png)\)", inline, css)
    return js, css


class _Raw(Element):  # type: ignore[misc]
    """Text inserted verbatim (not parsed as a Jinja template, unlike branca's Element)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        return self._text


_PAGE_CSS = """
.qh-offline.leaflet-container { background: #f6f4ef; }
.qh-title { position: absolute; top: 10px; left: 50%; transform: translateX(-50%); z-index: 1000;
  background: rgba(255,255,255,.93); padding: 6px 16px; border-radius: 6px; font-size: 18px;
  font-weight: 600; box-shadow: 0 1px 4px rgba(0,0,0,.3); white-space: nowrap;
  font-family: "Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif; }
.qh-title small { display: block; font-size: 12px; font-weight: 400; color: #555; }
.qh-legend { background: rgba(255,255,255,.95); padding: 8px 10px; border-radius: 6px;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); font-size: 12px; line-height: 17px; max-height: 70vh;
  overflow-y: auto; font-family: "Noto Sans CJK SC","Source Han Sans SC","PingFang SC",
  "Microsoft YaHei",sans-serif; }
.qh-legend h4 { margin: 0 0 4px; font-size: 13px; }
.qh-legend summary { cursor: pointer; font-weight: 600; font-size: 13px; }
.qh-legend .qh-cols { display: flex; gap: 14px; }
.qh-legend table { border-collapse: collapse; }
.qh-legend td { padding: 0 3px; white-space: nowrap; }
.qh-legend td.n { text-align: right; }
.qh-legend tr.qh-missing td.name { color: #999; text-decoration: line-through; }
.qh-legend .qh-flag { color: #c0392b; font-weight: 600; }
.qh-legend .qh-part { color: #b9770e; }
.qh-sym { display: inline-block; width: 16px; height: 16px; line-height: 16px; text-align: center;
  color: #fff; font-size: 10px; font-weight: 700; font-family: Arial, sans-serif;
  border: 1px solid #fff; box-shadow: 0 0 0 1px rgba(0,0,0,.35); box-sizing: border-box; }
.qh-sym.circle { border-radius: 50%; }
.qh-sym.square { border-radius: 3px; }
.qh-sym.diamond { transform: rotate(45deg); }
.qh-gate-sym { display: inline-block; width: 12px; height: 12px; background: #222;
  border: 2px solid #ffd400; box-sizing: border-box; }
.qh-poi, .qh-gate { background: none; border: none; }
.qh-popup td { padding: 1px 4px; vertical-align: top; }
.qh-popup th { text-align: left; font-size: 13px; padding-bottom: 3px; }
.qh-iso-sym { display: inline-block; width: 16px; height: 10px; border: 2px solid; }
"""

_OFFLINE_JS = Template(
    """
{% macro script(this, kwargs) %}
(function() {
  var map = {{ this.map.get_name() }};
  var box = map.getContainer();
  {%- if this.tiles %}
  var tiles = {{ this.tiles.get_name() }};
  var streets = {{ this.streets.get_name() if this.streets else 'null' }};
  var loaded = false;
  box.dataset.qhTiles = "pending";
  tiles.on("tileload", function() {
    if (loaded) { return; }
    loaded = true;
    box.dataset.qhTiles = "online";
    box.classList.remove("qh-offline");
    {%- if this.hide_streets_online %}
    if (streets && map.hasLayer(streets)) { map.removeLayer(streets); }
    {%- endif %}
  });
  tiles.on("tileerror", function() {
    if (loaded) { return; }
    box.dataset.qhTiles = "offline";
    box.classList.add("qh-offline");
    if (map.hasLayer(tiles)) { map.removeLayer(tiles); }
    if (streets && !map.hasLayer(streets)) { streets.addTo(map); }
  });
  {%- else %}
  box.dataset.qhTiles = "none";
  box.classList.add("qh-offline");
  {%- endif %}
  {%- if this.attribution %}
  map.attributionControl.addAttribution({{ this.attribution|tojson }});
  {%- endif %}
  var title = document.createElement("div");
  title.className = "qh-title";
  title.innerHTML = {{ this.title_html|tojson }};
  box.appendChild(title);
  var legend = L.control({position: "bottomleft"});
  legend.onAdd = function() {
    var div = L.DomUtil.create("div", "qh-legend");
    div.innerHTML = {{ this.legend_html|tojson }};
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  legend.addTo(map);
  {%- for layer in this.bind %}
  {{ layer.get_name() }}.bindPopup(function(l) { return l.feature.properties._popup; },
                                   {maxWidth: 340, autoPanPaddingTopLeft: L.point(60, 90)});
  {{ layer.get_name() }}.bindTooltip(function(l) { return l.feature.properties._tip; },
                                     {sticky: true});
  {%- endfor %}
})();
{% endmacro %}
"""
)


class _Decorations(folium.MacroElement):  # type: ignore[misc]
    """Title, legend, popups/tooltips from feature properties, and the offline fallback."""

    _template = _OFFLINE_JS

    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        self._name = "QhDecorations"
        for key, value in kwargs.items():
            setattr(self, key, value)


# ---------------------------------------------------------------------------------------------
# Public API


def community_map(
    gates: gpd.GeoDataFrame,
    pois: gpd.GeoDataFrame,
    *,
    isochrones: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    compounds: pd.DataFrame | None = None,
    coverage: pd.DataFrame | None = None,
    title: str | None = None,
    lang: Lang = "zh",
    tiles: Tiles = "auto",
) -> folium.Map:
    """Draw one community's 15-minute living-circle map ("一图") as a Leaflet map.

    Parameters
    ----------
    gates
        Compound gates (CONTRACTS.md): ``gate_id``, ``compound_id``, optional ``compound_name``
        and ``households``, Point geometry; any CRS.
    pois
        Businesses (CONTRACTS.md): ``name``, ``category`` (category id), optional ``poi_id``,
        ``address`` and ``distance_m`` (walking distance in metres to the nearest gate, shown in
        the popup when present); Point geometry; any CRS. One marker per row.
    isochrones
        Walking areas from :mod:`quarter_hour.isochrone`: ``minutes`` (5/10/15 ...), optional
        ``compound_id``, ``gate_id``, ``limit_m``, ``area_m2``; Polygon geometry; any CRS.
    streets
        Street lines (e.g. ``net.edges_gdf()``), any CRS. Drawn as the base map when there are
        no tiles or they fail to load. Clipped to the area shown.
    compounds
        Either the compounds table (``compound_id``, ``compound_name``, ``households``) used for
        names in popups, or a GeoDataFrame of compound outlines (Polygons), which is also drawn.
    coverage
        Coverage table from :func:`quarter_hour.reach.coverage`. Used for the legend (how many
        compounds reach each category), the gate popups (categories the compound lacks) and the
        popups of the facilities that are some compound's nearest (walking distance).
    title
        Heading shown on the map; default "一刻钟便民生活圈" / "15-minute living circle".
    lang
        ``"zh"`` (default) or ``"en"`` for labels, legend and popups.
    tiles
        ``"auto"`` (default): OpenStreetMap tiles, and when they cannot be loaded (offline) the page
        removes them and shows the street network on a plain background. ``"osm"``: tiles, streets
        as a layer that is off by default. ``None``: no tiles at all (nothing is fetched).

    Returns
    -------
    folium.Map
        Renders inline in Jupyter; write it with :func:`save_map`.

    Raises
    ------
    InputError
        When a required column is missing or an option is invalid.
    CRSError
        When an input has no CRS.
    """
    lang = _viz.check_lang(lang)
    if tiles not in ("auto", "osm", None):
        msg = f"`tiles` must be 'auto', 'osm' or None, got {tiles!r}."
        raise InputError(msg)
    gates, pois, isochrones, streets, compound_shapes = _viz.map_layers(
        gates, pois, isochrones, streets, compounds
    )
    if compounds is not None and "compound_id" not in compounds.columns:
        msg = f"`compounds` lacks column 'compound_id'. Available columns: {sorted(compounds.columns)}."
        raise InputError(msg)

    coverage = _viz.coverage_at_limit(coverage)
    metric = _viz.metric_crs(streets, gates, pois)
    gates_m = gates.to_crs(metric)
    pois_m = pois.to_crs(metric)
    names = _compound_names(gates, compounds)

    g_wgs = _viz.to_wgs84(gates)
    p_wgs = _viz.to_wgs84(pois)
    iso_wgs = _viz.to_wgs84(isochrones) if isochrones is not None and len(isochrones) else None
    shapes_wgs = _viz.to_wgs84(compound_shapes) if compound_shapes is not None else None

    frames = [f for f in (g_wgs, p_wgs, iso_wgs, shapes_wgs) if f is not None and len(f)]
    if not frames:
        msg = "Nothing to draw: `gates` and `pois` are both empty."
        raise InputError(msg)
    bounds = np.array([f.total_bounds for f in frames])
    west, south = bounds[:, 0].min(), bounds[:, 1].min()
    east, north = bounds[:, 2].max(), bounds[:, 3].max()

    m = folium.Map(
        location=[(south + north) / 2, (west + east) / 2],
        zoom_start=15,
        tiles=None,
        control_scale=True,
        zoom_snap=0.25,
    )
    # no CDN: inline Leaflet (the map needs nothing else)
    m.default_js = []
    m.default_css = []
    js, css = _leaflet_assets()
    root = m.get_root()
    assert isinstance(root, Figure)
    root.header.add_child(_Raw(f"<style>{css}</style>"), name="leaflet_css")
    root.header.add_child(_Raw(f"<style>{_PAGE_CSS}</style>"), name="qh_css")
    root.header.add_child(_Raw(f"<script>{js}</script>"), name="leaflet")

    tile_layer = None
    if tiles is not None:
        tile_layer = folium.TileLayer(
            tiles=_OSM_URL,
            attr=OSM_ATTRIBUTION,
            name=t(lang, "OpenStreetMap 底图", "OpenStreetMap"),
            max_zoom=19,
            overlay=False,
            control=True,
        )
        tile_layer.add_to(m)

    bind: list[folium.GeoJson] = []
    street_group = None
    if streets is not None and len(streets):
        pad = 0.004  # degrees, ~400 m: show the streets a little beyond the content
        clip = (west - pad, south - pad, east + pad, north + pad)
        s = _viz.to_wgs84(streets)
        s = s[s.geometry.intersects(shapely.box(*clip))]
        street_group = folium.FeatureGroup(
            name=t(lang, "街道网络", "Street network"), show=tiles != "osm"
        )
        folium.GeoJson(
            _geojson(s, {}),
            style_function=lambda _f: {"color": "#8c8c8c", "weight": 1.6, "opacity": 0.9},
            interactive=False,
            name="streets",
        ).add_to(street_group)
        street_group.add_to(m)

    if iso_wgs is not None:
        _add_isochrones(m, iso_wgs, lang, bind)
    if shapes_wgs is not None and len(shapes_wgs):
        _add_compounds(m, shapes_wgs, names, lang, bind)

    lacking = _lacking_by_compound(coverage)
    _add_gates(m, g_wgs, names, lacking, lang, bind)

    dist = _poi_distances(pois_m, gates_m, coverage, names, lang)
    counts = _add_pois(m, p_wgs, dist, lang, bind)

    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    m.fit_bounds([[south, west], [north, east]], padding=(20, 20))

    # the street network comes from OSM (also when the tiles fail and are removed)
    attribution = OSM_ATTRIBUTION if streets is not None else None
    heading = title or t(lang, "一刻钟便民生活圈", "15-minute living circle")
    sub = _subtitle(isochrones, coverage, lang)
    title_html = html.escape(heading) + (f"<small>{html.escape(sub)}</small>" if sub else "")
    _Decorations(
        map=m,
        tiles=tile_layer,
        streets=street_group,
        hide_streets_online=tiles == "auto",
        attribution=attribution,
        title_html=title_html,
        legend_html=_legend_html(counts, coverage, isochrones, lang),
        bind=bind,
    ).add_to(m)
    log.info(
        "community map: %d gates, %d facilities in %d categories, %d walking areas",
        len(gates),
        len(pois),
        sum(1 for v in counts.values() if v),
        0 if isochrones is None else len(isochrones),
    )
    return m


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Write the map as one self-contained HTML file (UTF-8).

    Parameters
    ----------
    m
        A map from :func:`community_map`.
    path
        Output file; must end in ``.html`` or ``.htm``. Parent folders are created.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    out = _viz.output_path(path, (".html", ".htm"), example_suffix=".html")
    m.save(str(out))
    log.info("wrote %s (%.0f kB)", out, out.stat().st_size / 1024)
    return out


# ---------------------------------------------------------------------------------------------
# Layers


def _geojson(gdf: gpd.GeoDataFrame, props: dict[str, list[Any]]) -> dict[str, Any]:
    """A compact FeatureCollection (coordinates rounded to 1e-6 degrees, ~0.1 m).

    Rounds the coordinates only (no topology step), so invalid input polygons, common in OSM,
    are drawn as they are.
    """
    geoms = shapely.transform(
        np.asarray(gdf.geometry.values, dtype=object), lambda xy: np.round(xy, 6)
    )
    feats = []
    for i, geom in enumerate(geoms):
        if geom is None or geom.is_empty:
            continue
        feats.append(
            {
                "type": "Feature",
                "geometry": json.loads(shapely.to_geojson(geom)),
                "properties": {k: v[i] for k, v in props.items()},
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def _compound_names(gates: pd.DataFrame, compounds: pd.DataFrame | None) -> dict[str, str]:
    names: dict[str, str] = {}
    if "compound_name" in gates.columns:
        for cid, name in zip(gates["compound_id"], gates["compound_name"], strict=True):
            if isinstance(name, str) and name:
                names.setdefault(str(cid), name)
    if compounds is not None and "compound_name" in compounds.columns:
        for cid, name in zip(compounds["compound_id"], compounds["compound_name"], strict=True):
            if isinstance(name, str) and name:
                names[str(cid)] = name
    return names


def _add_isochrones(m: folium.Map, iso: gpd.GeoDataFrame, lang: Lang, bind: list[Any]) -> None:
    """One outline per walking time: the union over all gates (what residents read on a map)."""
    minutes = pd.to_numeric(iso["minutes"], errors="coerce")
    for value in sorted(minutes.dropna().unique(), reverse=True):
        part = iso[minutes == value]
        mins = round(float(value))
        colour, opacity, dash = _ISO_STYLE.get(mins, ("#6a51a3", 0.08, "4 3"))
        limit = float(part["limit_m"].max()) if "limit_m" in part.columns else float("nan")
        label = t(lang, f"步行{mins}分钟范围", f"{mins}-minute walk")
        if limit == limit:
            label += f" ({fmt_m(limit, lang)})"
        union = shapely.union_all(np.asarray(part.geometry.values, dtype=object))
        n_gates = part["gate_id"].nunique() if "gate_id" in part.columns else len(part)
        area = gpd.GeoSeries([union], crs=4326).to_crs(part.estimate_utm_crs()).area.iloc[0]
        lines = [
            f"<tr><th colspan=2>{html.escape(label)}</th></tr>",
            _tr(
                t(lang, "起点", "From"),
                t(lang, f"{n_gates} 个小区大门", f"{n_gates} compound gates"),
            ),
            _tr(t(lang, "面积", "Area"), f"{area / 1e6:.2f} km²"),
        ]
        gdf = gpd.GeoDataFrame(geometry=[union], crs=4326)
        group = folium.FeatureGroup(name=_iso_sym(colour, dash) + html.escape(label))
        gj = folium.GeoJson(
            _geojson(
                gdf,
                {
                    "_tip": [html.escape(label)],
                    "_popup": [f"<table class='qh-popup'>{''.join(lines)}</table>"],
                },
            ),
            style_function=lambda _f, c=colour, o=opacity, d=dash: {
                "color": c,
                "weight": 2.5,
                "fillColor": c,
                "fillOpacity": o,
                "dashArray": d,
            },
            name=f"iso{mins}",
        )
        gj.add_to(group)
        bind.append(gj)
        group.add_to(m)


def _iso_sym(colour: str, dash: str | None) -> str:
    style = f"border-color:{colour};background:{colour}22;"
    if dash:
        style += "border-style:dashed;"
    return f"<span class='qh-iso-sym' style='{style}'></span> "


def _add_compounds(
    m: folium.Map, shapes: gpd.GeoDataFrame, names: dict[str, str], lang: Lang, bind: list[Any]
) -> None:
    shapes = shapes[shapes.geom_type.isin(["Polygon", "MultiPolygon"])]
    if shapes.empty:
        return
    labels = [names.get(str(c), str(c)) for c in shapes["compound_id"]]
    pops = [f"<table class='qh-popup'><tr><th>{html.escape(n)}</th></tr></table>" for n in labels]
    group = folium.FeatureGroup(name=t(lang, "居住小区", "Residential compounds"))
    gj = folium.GeoJson(
        _geojson(shapes, {"_tip": [html.escape(n) for n in labels], "_popup": pops}),
        style_function=lambda _f: {
            "color": "#7f2704",
            "weight": 1.5,
            "fillColor": "#fdae6b",
            "fillOpacity": 0.35,
        },
        name="compounds",
    )
    gj.add_to(group)
    bind.append(gj)
    group.add_to(m)


def _lacking_by_compound(coverage: pd.DataFrame | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    if coverage is None or coverage.empty:
        return out
    for cid, cat, ok in zip(
        coverage["compound_id"], coverage["category"], coverage["reachable"], strict=True
    ):
        if not bool(ok):
            out[str(cid)].append(str(cat))
    return out


def _add_gates(
    m: folium.Map,
    gates: gpd.GeoDataFrame,
    names: dict[str, str],
    lacking: dict[str, list[str]],
    lang: Lang,
    bind: list[Any],
) -> None:
    lookup = _viz.category_lookup()
    tips, pops = [], []
    for _, row in gates.iterrows():
        cid = str(row["compound_id"])
        cname = names.get(cid, cid)
        lines = [
            f"<tr><th colspan=2>{html.escape(cname)}</th></tr>",
            _tr(t(lang, "大门", "Gate"), str(row["gate_id"])),
        ]
        hh = row.get("households")
        if hh is not None and hh == hh:
            lines.append(_tr(t(lang, "户数", "Households"), f"{float(hh):,.0f}"))
        if cid in lacking:
            miss = [lookup[c].name(lang) if c in lookup else c for c in lacking[cid]]
            lines.append(
                _tr(
                    t(lang, "15分钟内缺少", "Lacking within 15 min"),
                    "、".join(miss) if lang == "zh" else ", ".join(miss),
                )
            )
        tips.append(html.escape(f"{cname} · {row['gate_id']}"))
        pops.append(f"<table class='qh-popup'>{''.join(lines)}</table>")
    group = folium.FeatureGroup(
        name="<span class='qh-gate-sym'></span> " + t(lang, "小区大门", "Compound gates")
    )
    icon = folium.DivIcon(
        html="<span class='qh-gate-sym'></span>",
        icon_size=(12, 12),
        icon_anchor=(6, 6),
        class_name="qh-gate",
    )
    gj = folium.GeoJson(
        _geojson(gates, {"_tip": tips, "_popup": pops}),
        marker=folium.Marker(icon=icon),
        name="gates",
    )
    gj.add_to(group)
    bind.append(gj)
    group.add_to(m)


def _poi_distances(
    pois_m: gpd.GeoDataFrame,
    gates_m: gpd.GeoDataFrame,
    coverage: pd.DataFrame | None,
    names: dict[str, str],
    lang: Lang,
) -> list[list[str]]:
    """Per POI row, popup lines about distance (walking where known, else straight line)."""
    out: list[list[str]] = [[] for _ in range(len(pois_m))]
    if "distance_m" in pois_m.columns:
        for i, d in enumerate(pd.to_numeric(pois_m["distance_m"], errors="coerce")):
            if d == d:
                out[i].append(
                    _tr(t(lang, "距最近小区大门（步行）", "Walk to nearest gate"), fmt_m(d, lang))
                )
    elif coverage is not None and not coverage.empty and "poi_id" in pois_m.columns:
        nearest: dict[tuple[str, str], list[str]] = defaultdict(list)
        cov = coverage.dropna(subset=["nearest_poi_id"])
        for cid, cat, pid, d in zip(
            cov["compound_id"],
            cov["category"],
            cov["nearest_poi_id"],
            cov["nearest_m"],
            strict=True,
        ):
            who = html.escape(names.get(str(cid), str(cid)))
            nearest[(str(cat), str(pid))].append(
                t(lang, f"{who} 步行 {fmt_m(d, lang)}", f"{who}: {fmt_m(d, lang)} walk")
            )
        for i, (cat, pid) in enumerate(zip(pois_m["category"], pois_m["poi_id"], strict=True)):
            hits = nearest.get((str(cat), str(pid)))
            if hits:
                out[i].append(
                    _tr_html(
                        t(lang, "最近的同类设施", "Nearest of its kind for"), "<br>".join(hits)
                    )
                )
    if len(gates_m) and len(pois_m):
        tree = shapely.STRtree(np.asarray(gates_m.geometry.values, dtype=object))
        p_geoms = np.asarray(pois_m.geometry.values, dtype=object)
        idx = tree.query_nearest(p_geoms, return_distance=True, all_matches=False)
        (pi, gi), dist = idx
        gate_ids = gates_m["gate_id"].astype(str).to_numpy()
        for p, g, d in zip(pi, gi, dist, strict=True):
            out[p].append(
                _tr(
                    t(lang, "距最近大门（直线）", "Straight line to nearest gate"),
                    f"{fmt_m(float(d), lang)} ({gate_ids[g]})",
                )
            )
    return out


def _add_pois(
    m: folium.Map,
    pois: gpd.GeoDataFrame,
    dist: list[list[str]],
    lang: Lang,
    bind: list[Any],
) -> dict[str, int]:
    """One FeatureGroup per category (rubric order, unknown categories last); returns counts."""
    lookup = _viz.category_lookup()
    cats = pois["category"].astype(str).to_numpy()
    counts = {c.id: 0 for c in _viz.categories()}
    order = [c.id for c in _viz.categories()] + sorted(set(cats) - set(lookup))
    has_addr = "address" in pois.columns
    for cid in order:
        sel = np.flatnonzero(cats == cid)
        counts[cid] = len(sel)
        if not len(sel):
            continue
        cat = lookup.get(cid)
        cname = cat.name(lang) if cat else cid
        colour, shape = _viz.category_style(cid)
        num = str(cat.number) if cat else "?"
        tips, pops = [], []
        for i in sel:
            row = pois.iloc[i]
            name = (
                str(row["name"])
                if row["name"] == row["name"]
                else t(lang, "（无名称）", "(unnamed)")
            )
            lines = [
                f"<tr><th colspan=2>{html.escape(name)}</th></tr>",
                _tr(t(lang, "类别", "Category"), cname),
            ]
            if has_addr and isinstance(row["address"], str) and row["address"]:
                lines.append(_tr(t(lang, "地址", "Address"), row["address"]))
            lines.extend(dist[i])
            tips.append(html.escape(f"{name} · {cname}"))
            pops.append(f"<table class='qh-popup'>{''.join(lines)}</table>")
        sym = f"<span class='qh-sym {shape}' style='background:{colour}'>{num}</span>"
        group = folium.FeatureGroup(name=f"{sym} {html.escape(cname)} ({len(sel)})")
        icon = folium.DivIcon(
            html=sym, icon_size=(16, 16), icon_anchor=(8, 8), class_name=f"qh-poi qh-cat-{cid}"
        )
        gj = folium.GeoJson(
            _geojson(pois.iloc[sel], {"_tip": tips, "_popup": pops}),
            marker=folium.Marker(icon=icon),
            name=f"poi_{cid}",
        )
        gj.add_to(group)
        bind.append(gj)
        group.add_to(m)
    return counts


def _tr(label: str, value: str) -> str:
    """A popup row of plain text (both cells escaped)."""
    return _tr_html(label, html.escape(value))


def _tr_html(label: str, value_html: str) -> str:
    """A popup row whose value is already safe HTML."""
    return f"<tr><td>{html.escape(label)}</td><td>{value_html}</td></tr>"


# ---------------------------------------------------------------------------------------------
# Legend


def _subtitle(
    isochrones: gpd.GeoDataFrame | None, coverage: pd.DataFrame | None, lang: Lang
) -> str:
    limit = None
    if coverage is not None:
        limit = coverage.attrs.get("limit_m")
    if limit is None and isochrones is not None and "limit_m" in isochrones.columns:
        limit = float(isochrones["limit_m"].max())
    if limit is None:
        return ""
    return t(
        lang,
        f"从小区大门步行 {fmt_m(float(limit), lang)} 范围内的便民设施",
        f"Everyday services within {fmt_m(float(limit), lang)} walk of the compound gates",
    )


def _legend_html(
    counts: dict[str, int],
    coverage: pd.DataFrame | None,
    isochrones: gpd.GeoDataFrame | None,
    lang: Lang,
) -> str:
    reach: dict[str, tuple[int, int]] = {}
    if coverage is not None and not coverage.empty:
        grouped = coverage.groupby("category")["reachable"]
        for cid, flags in grouped:
            reach[str(cid)] = (int(flags.astype(bool).sum()), len(flags))
    cols = []
    for group in ("basic", "quality"):
        rows = []
        for cat in (c for c in _viz.categories() if c.group == group):
            colour, shape = _viz.category_style(cat.id)
            n = counts.get(cat.id, 0)
            status = ""
            if n == 0:
                status = f"<span class='qh-flag'>{t(lang, '缺失', 'missing')}</span>"
            elif cat.id in reach:
                ok, total = reach[cat.id]
                if ok == 0:
                    status = f"<span class='qh-flag'>{t(lang, '范围外', 'out of reach')}</span>"
                elif ok < total:
                    status = (
                        f"<span class='qh-part'>{ok}/{total} {t(lang, '小区', 'compounds')}</span>"
                    )
            css = " class='qh-missing'" if n == 0 else ""
            rows.append(
                f"<tr{css} data-category='{cat.id}'>"
                f"<td><span class='qh-sym {shape}' style='background:{colour}'>{cat.number}</span></td>"
                f"<td class='name'>{html.escape(cat.name(lang))}</td>"
                f"<td class='n'>{n}</td><td>{status}</td></tr>"
            )
        zh, en = _viz.GROUP_NAMES[group]
        cols.append(f"<div><h4>{t(lang, zh, en)}</h4><table>{''.join(rows)}</table></div>")
    extra = []
    extra.append(f"<span class='qh-gate-sym'></span> {t(lang, '小区大门', 'compound gate')}")
    if isochrones is not None and len(isochrones):
        for mins in sorted(pd.to_numeric(isochrones["minutes"], errors="coerce").dropna().unique()):
            colour, _o, dash = _ISO_STYLE.get(round(float(mins)), ("#6a51a3", 0.08, "4 3"))
            extra.append(
                _iso_sym(colour, dash) + t(lang, f"步行{mins:g}分钟", f"{mins:g}-min walk")
            )
    note = t(
        lang,
        "数字为设施数量；“缺失”表示图上没有该类设施。",
        "Numbers count facilities; 'missing' means none on the map.",
    )
    return (
        f"<details open><summary>{t(lang, '图例', 'Legend')}</summary>"
        f"<div class='qh-cols'>{''.join(cols)}</div>"
        f"<div style='margin-top:4px'>{' &nbsp; '.join(extra)}</div>"
        f"<div style='color:#666;margin-top:2px'>{note}</div></details>"
    )
