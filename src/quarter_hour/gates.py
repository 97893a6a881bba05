"""Residential compounds (小区) and their gates (小区大门), the origins of every walk.

The rubric measures the walk from each compound's gates. Gates arrive in four forms, from best to
worst:

1. a surveyed **gates table** (compound id, compound name, gate id, households): read it with
   :func:`quarter_hour.readers.read_points` (``kind="gates"``) and check it with
   :func:`validate_gates`; :func:`compounds_from_gates` derives the compounds table;
2. **compound polygons** only: :func:`gates_from_polygons` puts gates where walkable streets enter
   the compound through its boundary, and/or at OSM ``entrance=*`` / ``barrier=gate`` nodes on the
   boundary;
3. **one point per compound**: :func:`gates_from_points` uses each point as the compound's only
   gate, and warns that gates were not surveyed;
4. an **OpenStreetMap file**: :func:`compounds_from_osm` finds residential compounds
   (``landuse=residential`` polygons, else residential buildings grouped) and derives their
   gates, so that a demo runs on OSM data alone.

Every gates GeoDataFrame has the contract columns ``gate_id``, ``compound_id``,
``compound_name``, ``households`` plus ``gate_source`` (how the gate was obtained:
``"surveyed"``, ``"entrance"``, ``"street"``, ``"centroid"`` or ``"compound_point"``).
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely import STRtree

from ._errors import CRSError, InputError, InputFileError, QuarterHourWarning

log = logging.getLogger(__name__)

__all__ = [
    "OsmCompounds",
    "compounds_from_gates",
    "compounds_from_osm",
    "gates_from_points",
    "gates_from_polygons",
    "validate_gates",
]

GATE_COLUMNS = ("gate_id", "compound_id", "compound_name", "households", "gate_source")

#: OSM ``highway`` values a pedestrian cannot use (others count as walkable for gate finding).
NOT_WALKABLE = frozenset(
    {
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "construction",
        "proposed",
        "raceway",
        "bus_guideway",
        "abandoned",
        "platform",
        "escape",
        "busway",
    }
)
#: OSM ``building`` values taken as residential when grouping buildings into compounds.
RESIDENTIAL_BUILDINGS = (
    "residential",
    "apartments",
    "house",
    "dormitory",
    "terrace",
    "detached",
    "semidetached_house",
)


def _list(items: Sequence[object], limit: int = 10) -> str:
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit:,} more" if len(items) > limit else "")


def _pick(frame: pd.DataFrame, explicit: str | None, names: Sequence[str]) -> str | None:
    if explicit is not None:
        if explicit not in frame.columns:
            msg = (
                f"Column {explicit!r} not found. Columns found: "
                f"{_list([str(c) for c in frame.columns], 30)}."
            )
            raise InputError(msg)
        return explicit
    for n in names:
        if n in frame.columns:
            return n
    return None


# --------------------------------------------------------------------------------------------
# (1) gates table
# --------------------------------------------------------------------------------------------
def validate_gates(gates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Check a gates GeoDataFrame against the contract and return a clean copy.

    Parameters
    ----------
    gates
        One row per gate with ``gate_id`` and ``compound_id`` (``compound_name`` and
        ``households`` optional) and Point geometries in any CRS (which must be set).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``gate_id``/``compound_id`` as str, ``compound_name`` (None when absent),
        ``households`` as float (NaN when unknown) and ``gate_source`` (``"surveyed"`` when
        absent), in the same CRS and row order.

    Raises
    ------
    InputError
        Missing columns, duplicated gate ids, missing compound ids, non-point geometries.
    CRSError
        No CRS.
    """
    if not isinstance(gates, gpd.GeoDataFrame):
        msg = f"`gates` must be a GeoDataFrame, got {type(gates).__name__}."
        raise InputError(msg)
    missing = [c for c in ("gate_id", "compound_id") if c not in gates.columns]
    if missing:
        msg = (
            f"Gates lack column(s) {', '.join(missing)}. Columns found: "
            f"{_list([str(c) for c in gates.columns], 30)}. Read gate tables with "
            "quarter_hour.readers.read_points(..., kind='gates')."
        )
        raise InputError(msg)
    if gates.crs is None:
        msg = "Gates have no CRS; set it (e.g. gates.set_crs(4326)) before use."
        raise CRSError(msg)
    out = gates.copy()
    if out["compound_id"].isna().any():
        rows = list(out.index[out["compound_id"].isna()])
        msg = f"Gates without a compound_id at index {_list(rows)}."
        raise InputError(msg)
    out["gate_id"] = out["gate_id"].astype(str).astype(object)
    out["compound_id"] = out["compound_id"].astype(str).astype(object)
    dup = out["gate_id"][out["gate_id"].duplicated(keep=False)]
    if len(dup):
        msg = (
            f"Duplicated gate_id values: {_list(sorted(set(dup)))}. Gate ids must be unique; "
            "number gates within their compound (e.g. '<compound_id>_g1')."
        )
        raise InputError(msg)
    types = out.geometry.geom_type
    bad = ~((types == "Point") & ~out.geometry.is_empty)
    if bad.any():
        msg = (
            f"Gates must be non-empty points; gate(s) {_list(list(out['gate_id'][bad]))} are "
            f"{_list(sorted({str(t) for t in types[bad]}))}."
        )
        raise InputError(msg)
    if "compound_name" not in out.columns:
        out["compound_name"] = None
    if "households" not in out.columns:
        out["households"] = np.nan
    hh = pd.to_numeric(out["households"], errors="coerce")
    if (hh.isna() & out["households"].notna()).any():
        bad_ids = list(out["gate_id"][hh.isna() & out["households"].notna()])
        msg = f"Non-numeric households for gate(s) {_list(bad_ids)}."
        raise InputError(msg)
    out["households"] = hh.astype(float)
    if "gate_source" not in out.columns:
        out["gate_source"] = "surveyed"
    rest = [c for c in out.columns if c not in GATE_COLUMNS and c != out.geometry.name]
    return out[[*GATE_COLUMNS, *rest, out.geometry.name]]


def compounds_from_gates(gates: gpd.GeoDataFrame) -> pd.DataFrame:
    """Derive the compounds table (contract) from a gates GeoDataFrame.

    Parameters
    ----------
    gates
        A gates GeoDataFrame (validated with :func:`validate_gates`).

    Returns
    -------
    pandas.DataFrame
        One row per compound, in order of first appearance: ``compound_id``, ``compound_name``
        (first non-empty), ``households`` (float; NaN when unknown), ``n_gates`` (int).
        A compound whose gates disagree on households gets the largest value, with a warning.
    """
    g = validate_gates(gates)
    grouped = g.groupby("compound_id", sort=False)
    hh_min = grouped["households"].min()
    hh_max = grouped["households"].max()
    conflict = hh_max.index[(hh_max != hh_min) & hh_max.notna()]
    if len(conflict):
        msg = (
            f"Gates of compound(s) {_list(list(conflict))} give different households (户数); "
            "used the largest value for each."
        )
        warnings.warn(msg, QuarterHourWarning, stacklevel=2)
    names = grouped["compound_name"].agg(lambda s: next((v for v in s if pd.notna(v)), None))
    out = pd.DataFrame(
        {
            "compound_id": list(hh_max.index),
            "compound_name": list(names.reindex(hh_max.index)),
            "households": hh_max.to_numpy(dtype=float),
            "n_gates": grouped.size().reindex(hh_max.index).to_numpy(dtype=int),
        }
    )
    out["compound_name"] = out["compound_name"].astype(object)
    return out


# --------------------------------------------------------------------------------------------
# (3) one point per compound
# --------------------------------------------------------------------------------------------
def gates_from_points(
    points: gpd.GeoDataFrame,
    *,
    id_col: str | None = None,
    name_col: str | None = None,
    households_col: str | None = None,
) -> gpd.GeoDataFrame:
    """Use one point per compound as that compound's single gate, with a warning.

    Parameters
    ----------
    points
        One Point per compound (any CRS), e.g. from ``read_points(..., kind="compounds")``.
    id_col, name_col, households_col
        Columns for the compound id, name and households; by default ``compound_id`` (else
        the name, else ``c<index>``), ``compound_name`` or ``name``, ``households``.

    Returns
    -------
    geopandas.GeoDataFrame
        Gates (``gate_id`` = ``<compound_id>_g1``, ``gate_source`` = ``"compound_point"``), same
        CRS and order as ``points``.
    """
    if points.crs is None:
        msg = "Compound points have no CRS; set it (e.g. .set_crs(4326)) first."
        raise CRSError(msg)
    types = points.geometry.geom_type
    if not (types == "Point").all():
        kinds = sorted({str(t) for t in types[types != "Point"]})
        msg = (
            f"gates_from_points takes one Point per compound; found {_list(kinds)}. For compound "
            "polygons use gates_from_polygons."
        )
        raise InputError(msg)
    idc = _pick(points, id_col, ("compound_id",))
    namec = _pick(points, name_col, ("compound_name", "name"))
    hhc = _pick(points, households_col, ("households",))
    names = (
        points[namec].astype(object) if namec else pd.Series(None, index=points.index, dtype=object)
    )
    if idc:
        ids = points[idc].astype(str)
    elif namec:
        ids = names.astype(str)
    else:
        ids = pd.Series([f"c{i}" for i in points.index], index=points.index)
    hh = (
        pd.to_numeric(points[hhc], errors="coerce")
        if hhc
        else pd.Series(np.nan, index=points.index)
    )
    out = gpd.GeoDataFrame(
        {
            "gate_id": (ids + "_g1").to_numpy(dtype=object),
            "compound_id": ids.to_numpy(dtype=object),
            "compound_name": names.to_numpy(dtype=object),
            "households": hh.to_numpy(dtype=float),
            "gate_source": "compound_point",
        },
        geometry=points.geometry.to_numpy(),
        crs=points.crs,
    )
    msg = (
        f"Gates were not surveyed: each of the {len(out):,} compounds is represented by one "
        "point, used as its only gate. Walks are measured from that point, so a compound with "
        "several gates may be judged farther from services than it is. Survey the gates (小区大门) "
        "for a rubric-grade assessment."
    )
    warnings.warn(msg, QuarterHourWarning, stacklevel=2)
    return validate_gates(out)


# --------------------------------------------------------------------------------------------
# (2) compound polygons
# --------------------------------------------------------------------------------------------
def _exteriors(polys: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Exterior ring(s) of each (Multi)Polygon as a (Multi)LineString."""
    out = np.empty(len(polys), dtype=object)
    for i, p in enumerate(polys):
        parts = shapely.get_parts(p)
        rings = [shapely.get_exterior_ring(q) for q in parts if q.geom_type == "Polygon"]
        out[i] = (
            shapely.LineString(rings[0].coords)
            if len(rings) == 1
            else shapely.MultiLineString([r.coords for r in rings])
        )
    return out


def _walkable(streets: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoSeries:
    if isinstance(streets, gpd.GeoSeries):
        geo = streets
    else:
        keep = pd.Series(True, index=streets.index)
        if "highway" in streets.columns:
            keep &= ~streets["highway"].astype(str).isin(NOT_WALKABLE)
        if "foot" in streets.columns:
            keep &= ~streets["foot"].astype(str).isin({"no", "private"})
        geo = streets.geometry[keep]
    lineal = geo.geom_type.isin(["LineString", "MultiLineString"])
    geo = geo[lineal & ~geo.is_empty]
    return geo.explode(index_parts=False)


def _street_candidates(
    polys: npt.NDArray[Any],
    ext: npt.NDArray[Any],
    lines: npt.NDArray[Any],
    *,
    touch_m: float,
    enter_m: float,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[Any]]:
    """(compound index, point on the boundary) where a street enters or touches a compound.

    ``lines`` are single LineStrings in the compounds' projected CRS (metres).
    """
    none = (np.empty(0, dtype=np.int64), np.empty(0, dtype=object))
    if len(lines) == 0:
        return none
    tree = STRtree(lines)
    ci, li = tree.query(shapely.buffer(ext, touch_m), predicate="intersects")
    if len(ci) == 0:
        return none
    inner = shapely.buffer(polys, -1.0)
    inner = np.where(shapely.is_empty(inner), polys, inner)

    # (a) crossings, and the ends of stretches where a street runs along the boundary
    inter = shapely.intersection(ext[ci], lines[li])
    parts, pidx = shapely.get_parts(inter, return_index=True)
    parts2, pidx2 = shapely.get_parts(parts, return_index=True)  # flatten collections
    pidx = pidx[pidx2]
    tid = shapely.get_type_id(parts2)
    lin = tid == 1
    pair = np.concatenate([pidx[tid == 0], pidx[lin], pidx[lin]])
    pts = np.concatenate(
        [parts2[tid == 0], shapely.get_point(parts2[lin], 0), shapely.get_point(parts2[lin], -1)]
    )
    # keep only points where the street goes on into the compound's interior
    probe = shapely.intersection(lines[li[pair]], shapely.buffer(pts, enter_m))
    enters = shapely.length(shapely.intersection(probe, inner[ci[pair]])) > 0.5
    out_pair = [pair[enters]]
    out_pts = [pts[enters]]

    # stretches of boundary that are themselves streets, per compound
    along = np.full(len(polys), None, dtype=object)
    if lin.any():
        lin_comp = ci[pidx[lin]]
        for c in np.unique(lin_comp):
            along[c] = shapely.union_all(parts2[lin][lin_comp == c])

    # (b) street ends within touch_m of the boundary: inside the compound, or outside when the
    # street is a dead end pointing at the compound (a path leading to an unmapped gate) and
    # the boundary there is not itself a street (that would be a T-junction, not a gate)
    starts = shapely.get_point(lines, 0)
    stops = shapely.get_point(lines, -1)
    all_ends = np.concatenate([starts, stops])
    ei, _ = tree.query(all_ends, predicate="dwithin", distance=0.5)
    degree = np.bincount(ei, minlength=len(all_ends))
    for ends, deg in ((starts, degree[: len(lines)]), (stops, degree[len(lines) :])):
        e = ends[li]
        d = shapely.distance(ext[ci], e)
        near = (d <= touch_m) & (d > 0)
        if not near.any():
            continue
        inside = np.zeros(len(e), dtype=bool)
        inside[near] = shapely.contains(polys[ci[near]], e[near])
        dead = deg[li] == 1
        ok = near & (inside | dead)
        if not ok.any():
            continue
        snapped = shapely.get_point(shapely.shortest_line(ext[ci[ok]], e[ok]), 0)
        on_street = np.zeros(len(snapped), dtype=bool)
        has_along = np.array([a is not None for a in along[ci[ok]]], dtype=bool)
        if has_along.any():
            on_street[has_along] = (
                shapely.distance(snapped[has_along], along[ci[ok]][has_along].astype(object)) < 1.0
            )
        keep = inside[ok] | ~on_street
        out_pair.append(np.flatnonzero(ok)[keep])
        out_pts.append(snapped[keep])
    pair_all = np.concatenate(out_pair)
    return ci[pair_all], np.concatenate(out_pts)


def _entrance_candidates(
    ext: npt.NDArray[Any], entrances: gpd.GeoSeries, *, max_m: float
) -> tuple[npt.NDArray[np.int64], npt.NDArray[Any]]:
    pts = np.asarray(entrances.values, dtype=object)
    pts = pts[shapely.get_type_id(pts) == 0]
    if len(pts) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=object)
    tree = STRtree(pts)
    ci, ei = tree.query(ext, predicate="dwithin", distance=max_m)
    return ci.astype(np.int64), pts[ei]


def _merge(
    comp: npt.NDArray[np.int64],
    pts: npt.NDArray[Any],
    priority: npt.NDArray[np.int64],
    merge_m: float,
) -> npt.NDArray[np.int64]:
    """Indexes of the representatives of clusters (same compound, single-linkage merge_m)."""
    n = len(pts)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    tree = STRtree(pts)
    a, b = tree.query(pts, predicate="dwithin", distance=merge_m)
    same = comp[a] == comp[b]
    graph = coo_matrix((np.ones(int(same.sum())), (a[same], b[same])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    frame = pd.DataFrame({"label": labels, "prio": priority, "x": x, "y": y})
    cx = frame.groupby("label")["x"].transform("mean")
    cy = frame.groupby("label")["y"].transform("mean")
    frame["d"] = np.hypot(frame["x"] - cx, frame["y"] - cy)
    best = frame.sort_values(["label", "prio", "d"], kind="stable").groupby("label").head(1)
    return np.sort(best.index.to_numpy(dtype=np.int64))


def gates_from_polygons(
    compounds: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    *,
    entrances: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    id_col: str | None = None,
    name_col: str | None = None,
    households_col: str | None = None,
    merge_m: float = 20.0,
    touch_m: float = 5.0,
    entrance_max_m: float = 10.0,
) -> gpd.GeoDataFrame:
    """Derive gates from compound polygons, street lines and/or OSM entrance nodes.

    A gate is put

    * where a walkable street crosses the compound's outer boundary and goes on inside it
      (a street merely running along the boundary, or crossing only its corner from outside,
      is not a gate);
    * where a street touches the boundary: it ends within ``touch_m`` of it, either inside the
      compound, or outside as a dead end pointing at the compound (a path leading to an
      unmapped gate) where the boundary is not itself a street (that is a T-junction);
    * at each ``entrance`` point (OSM ``entrance=*``, ``barrier=gate``) within
      ``entrance_max_m`` of the boundary.

    Candidates of one compound closer than ``merge_m`` (single linkage) are merged into one gate,
    kept at an entrance node when the cluster has one, else at the crossing nearest the
    cluster's centre. A compound with no candidate gets one gate at the point of its boundary
    nearest its centroid (``gate_source="centroid"``), with a warning. The number of gates per
    compound is logged (INFO) and stored in ``attrs["gates_per_compound"]``.

    Parameters
    ----------
    compounds
        Compound (Multi)Polygons in a **projected** CRS in metres.
    streets
        Walkable street lines (reprojected to the compounds' CRS if needed). Rows with
        ``highway`` in :data:`NOT_WALKABLE` or ``foot=no`` are ignored.
    entrances
        Points of OSM ``entrance=*`` / ``barrier=gate`` nodes (any CRS).
    id_col, name_col, households_col
        Columns of ``compounds``; by default ``compound_id`` (else the index as str),
        ``compound_name`` or ``name``, ``households``.
    merge_m
        Merge distance in metres.
    touch_m
        How close (metres) a street end must come to the boundary to count as touching it.
    entrance_max_m
        How far (metres) an entrance node may be from the boundary.

    Returns
    -------
    geopandas.GeoDataFrame
        Gates (contract columns plus ``gate_source``) in the compounds' CRS, ordered by compound
        and clockwise from north around each compound's centroid; ``gate_id`` is
        ``<compound_id>_g<k>``.
    """
    if streets is None and entrances is None:
        msg = "gates_from_polygons needs `streets` and/or `entrances` to find gates."
        raise InputError(msg)
    if compounds.crs is None or compounds.crs.is_geographic:
        what = "no CRS" if compounds.crs is None else f"the geographic CRS {compounds.crs.name}"
        msg = (
            f"Compound polygons are in {what}; gates are found in metres. Project them first, "
            "e.g. compounds.to_crs(compounds.estimate_utm_crs())."
        )
        raise CRSError(msg)
    geo = compounds.geometry
    ok_type = geo.geom_type.isin(["Polygon", "MultiPolygon"]) & ~geo.is_empty
    if not ok_type.all():
        kinds = sorted({str(t) for t in geo.geom_type[~ok_type]})
        msg = (
            f"Compounds must be polygons; found {_list(kinds)}. For one point per compound use "
            "gates_from_points."
        )
        raise InputError(msg)
    idc = _pick(compounds, id_col, ("compound_id",))
    namec = _pick(compounds, name_col, ("compound_name", "name"))
    hhc = _pick(compounds, households_col, ("households",))
    ids = (
        compounds[idc].astype(str)
        if idc
        else pd.Series(compounds.index.astype(str), index=compounds.index)
    )
    if ids.duplicated().any():
        msg = f"Duplicated compound ids: {_list(sorted(set(ids[ids.duplicated()])))}."
        raise InputError(msg)
    crs = compounds.crs
    polys = np.asarray(geo.values, dtype=object)
    ext = _exteriors(polys)

    comp_parts: list[npt.NDArray[np.int64]] = []
    pt_parts: list[npt.NDArray[Any]] = []
    prio_parts: list[npt.NDArray[np.int64]] = []
    if entrances is not None:
        ent = entrances.geometry if isinstance(entrances, gpd.GeoDataFrame) else entrances
        ent = ent.set_crs(crs) if ent.crs is None else ent.to_crs(crs)
        c, p = _entrance_candidates(ext, ent, max_m=entrance_max_m)
        comp_parts.append(c)
        pt_parts.append(p)
        prio_parts.append(np.zeros(len(c), dtype=np.int64))
    if streets is not None:
        lines = _walkable(streets)
        lines = lines.set_crs(crs) if lines.crs is None else lines.to_crs(crs)
        c, p = _street_candidates(
            polys, ext, np.asarray(lines.values, dtype=object), touch_m=touch_m, enter_m=merge_m / 2
        )
        comp_parts.append(c)
        pt_parts.append(p)
        prio_parts.append(np.ones(len(c), dtype=np.int64))
    comp = np.concatenate(comp_parts) if comp_parts else np.empty(0, dtype=np.int64)
    pts = np.concatenate(pt_parts) if pt_parts else np.empty(0, dtype=object)
    prio = np.concatenate(prio_parts) if prio_parts else np.empty(0, dtype=np.int64)
    keep = _merge(comp, pts, prio, merge_m)
    comp, pts, prio = comp[keep], pts[keep], prio[keep]

    # compounds with no gate: nearest boundary point to the centroid
    without = np.setdiff1d(np.arange(len(polys)), comp)
    if len(without):
        cent = shapely.centroid(polys[without])
        fallback = shapely.get_point(shapely.shortest_line(ext[without], cent), 0)
        comp = np.concatenate([comp, without])
        pts = np.concatenate([pts, fallback])
        prio = np.concatenate([prio, np.full(len(without), 2, dtype=np.int64)])
        msg = (
            f"{len(without):,} of {len(polys):,} compounds have no street or entrance crossing "
            f"their boundary ({_list(list(ids.iloc[without]))}); each got one gate at the "
            "boundary point nearest its centroid. Check the street data or survey their gates."
        )
        warnings.warn(msg, QuarterHourWarning, stacklevel=2)

    centroids = shapely.centroid(polys)
    dx = shapely.get_x(pts) - shapely.get_x(centroids[comp])
    dy = shapely.get_y(pts) - shapely.get_y(centroids[comp])
    # millimetre rounding keeps a gate due north (dx ~ -1e-10 after reprojection) first
    angle = np.mod(np.arctan2(np.round(dx, 3), np.round(dy, 3)), 2 * np.pi)
    order = np.lexsort((angle, comp))
    comp, pts, prio = comp[order], pts[order], prio[order]
    seq = pd.Series(comp).groupby(comp).cumcount().to_numpy() + 1
    cid = ids.to_numpy(dtype=object)[comp]
    names = (
        compounds[namec].to_numpy(dtype=object)[comp]
        if namec
        else np.full(len(comp), None, dtype=object)
    )
    hh = (
        pd.to_numeric(compounds[hhc], errors="coerce").to_numpy(dtype=float)[comp]
        if hhc
        else np.full(len(comp), np.nan)
    )
    source = np.array(["entrance", "street", "centroid"], dtype=object)[prio]
    gates = gpd.GeoDataFrame(
        {
            "gate_id": [f"{c}_g{k}" for c, k in zip(cid, seq, strict=True)],
            "compound_id": cid,
            "compound_name": names,
            "households": hh,
            "gate_source": source,
        },
        geometry=list(pts),
        crs=crs,
    )
    counts = gates.groupby("compound_id", sort=False).size()
    counts = counts.reindex(ids.to_numpy()).fillna(0).astype(int)
    gates.attrs["gates_per_compound"] = {str(k): int(v) for k, v in counts.items()}
    log.info(
        "Derived %s gates for %s compounds (%s from entrance nodes, %s from street crossings, "
        "%s at centroid fallback); gates per compound: %s",
        f"{len(gates):,}",
        f"{len(polys):,}",
        int((prio == 0).sum()),
        int((prio == 1).sum()),
        int((prio == 2).sum()),
        _list([f"{k}: {v}" for k, v in counts.items()], 50),
    )
    return validate_gates(gates)


# --------------------------------------------------------------------------------------------
# (4) OpenStreetMap
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OsmCompounds:
    """Residential compounds found in an OSM file, with their gates (both in WGS-84)."""

    #: polygons: ``compound_id``, ``compound_name``, ``households`` (NaN), ``n_gates``,
    #: ``osm_source`` ("landuse" or "buildings"), EPSG:4326
    compounds: gpd.GeoDataFrame
    #: gates GeoDataFrame (contract columns plus ``gate_source``), EPSG:4326
    gates: gpd.GeoDataFrame
    #: the walkable street lines used to place the gates, EPSG:4326
    streets: gpd.GeoDataFrame


def _tag_name(row_tags: object) -> str | None:
    if isinstance(row_tags, dict):
        tags: Any = row_tags
    elif isinstance(row_tags, str) and row_tags.startswith("{"):
        try:
            tags = json.loads(row_tags)
        except ValueError:
            return None
    else:
        return None
    name = tags.get("name:zh") or tags.get("name")
    return str(name) if name else None


def _names(frame: gpd.GeoDataFrame) -> list[str | None]:
    out: list[str | None] = []
    has_name = "name" in frame.columns
    has_tags = "tags" in frame.columns
    for _, row in frame.iterrows():
        name = row["name"] if has_name and pd.notna(row["name"]) else None
        if name is None and has_tags:
            name = _tag_name(row["tags"])
        out.append(str(name) if name is not None else None)
    return out


def _read_osm_xml(
    path: Path,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    import osmnx as ox

    tags: dict[str, bool | str | list[str]] = {
        "landuse": "residential",
        "building": list(RESIDENTIAL_BUILDINGS),
        "barrier": "gate",
        "entrance": True,
        "highway": True,
    }
    try:
        feats = ox.features_from_xml(path, tags=tags)
    except Exception as exc:
        msg = f"Cannot read OSM features from {path}: {exc}"
        raise InputFileError(msg) from exc
    feats = feats.reset_index()
    feats["osm_ref"] = "osm_" + feats["element"].astype(str) + "_" + feats["id"].astype(str)

    def col(name: str) -> pd.Series:
        return feats[name] if name in feats.columns else pd.Series(np.nan, index=feats.index)

    areal = feats.geom_type.isin(["Polygon", "MultiPolygon"])
    landuse = feats[areal & (col("landuse") == "residential")]
    buildings = feats[areal & col("building").isin(RESIDENTIAL_BUILDINGS)]
    entrances = feats[
        (feats.geom_type == "Point") & (col("barrier").eq("gate") | col("entrance").notna())
    ]
    streets = feats[
        col("highway").notna() & feats.geom_type.isin(["LineString", "MultiLineString"])
    ]
    return landuse, buildings, entrances, streets


def _read_osm_pbf(
    path: Path,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    from pyrosm import OSM

    empty = gpd.GeoDataFrame({"osm_ref": []}, geometry=[], crs=4326)
    try:
        osm = OSM(str(path))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyrosm/pandas deprecation chatter
            landuse = osm.get_landuse(custom_filter={"landuse": ["residential"]})
            buildings = osm.get_buildings(custom_filter={"building": list(RESIDENTIAL_BUILDINGS)})
            entrances = osm.get_data_by_custom_criteria(
                custom_filter={"entrance": True, "barrier": ["gate"]},
                filter_type="keep",
                keep_nodes=True,
                keep_ways=False,
                keep_relations=False,
            )
            streets = osm.get_network(network_type="walking")
    except Exception as exc:
        msg = f"Cannot read OSM data from {path}: {exc}"
        raise InputFileError(msg) from exc
    out = []
    for frame in (landuse, buildings, entrances, streets):
        if frame is None or len(frame) == 0:
            out.append(empty.copy())
            continue
        frame = frame.reset_index(drop=True)
        kind = frame["osm_type"].astype(str) if "osm_type" in frame.columns else "way"
        frame["osm_ref"] = "osm_" + kind + "_" + frame["id"].astype(str)
        out.append(frame.set_crs(4326, allow_override=True))
    areal_l = out[0].geom_type.isin(["Polygon", "MultiPolygon"])
    areal_b = out[1].geom_type.isin(["Polygon", "MultiPolygon"])
    return out[0][areal_l], out[1][areal_b], out[2], out[3]


def _group_buildings(
    buildings: gpd.GeoDataFrame, gap_m: float, min_area_m2: float
) -> gpd.GeoDataFrame:
    """Residential buildings closer than ``gap_m`` grouped into one compound outline (metres)."""
    if len(buildings) == 0:
        return gpd.GeoDataFrame(
            {"compound_id": [], "compound_name": []}, geometry=[], crs=buildings.crs
        )
    geoms = np.asarray(buildings.geometry.values, dtype=object)
    tree = STRtree(geoms)
    a, b = tree.query(geoms, predicate="dwithin", distance=gap_m)
    n = len(geoms)
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    refs = buildings["osm_ref"].to_numpy(dtype=object)
    rows = []
    for lab in np.unique(labels):
        members = np.flatnonzero(labels == lab)
        outline = shapely.union_all(shapely.buffer(geoms[members], gap_m / 2)).buffer(-gap_m / 4)
        if outline.is_empty or outline.area < min_area_m2:
            continue
        first = sorted(refs[members], key=lambda r: (len(r), r))[0]
        rows.append({"compound_id": f"{first}_group", "compound_name": None, "geometry": outline})
    return (
        gpd.GeoDataFrame(rows, geometry="geometry", crs=buildings.crs)
        if rows
        else gpd.GeoDataFrame(
            {"compound_id": [], "compound_name": []}, geometry=[], crs=buildings.crs
        )
    )


def compounds_from_osm(
    path: str | Path,
    *,
    include_buildings: bool | None = None,
    min_area_m2: float = 500.0,
    building_gap_m: float = 30.0,
    merge_m: float = 20.0,
) -> OsmCompounds:
    """Find residential compounds and their gates in an OpenStreetMap file.

    Compounds are ``landuse=residential`` polygons (ways and multipolygon relations). Where a file
    maps none, residential buildings (``building`` in :data:`RESIDENTIAL_BUILDINGS`) closer than
    ``building_gap_m`` to each other are grouped into one compound outline. Gates come from
    :func:`gates_from_polygons` with the file's walkable streets and its ``entrance=*`` /
    ``barrier=gate`` nodes.

    Parameters
    ----------
    path
        ``.osm``, ``.osm.bz2`` or ``.xml`` (read with osmnx), or ``.osm.pbf`` (read with pyrosm).
        OSM data are WGS-84.
    include_buildings
        ``None`` (default): group buildings only when the file has no residential landuse;
        ``True``: also group residential buildings lying outside every landuse polygon;
        ``False``: never.
    min_area_m2
        Ignore compounds smaller than this (square metres).
    building_gap_m
        Buildings closer than this (metres) belong to the same group.
    merge_m
        Gate merge distance in metres (see :func:`gates_from_polygons`).

    Returns
    -------
    OsmCompounds
        ``compounds`` (ids ``osm_way_<id>``, ``osm_relation_<id>`` or ``osm_way_<id>_group``),
        ``gates`` (ids ``<compound_id>_g<k>``) and ``streets``, all in EPSG:4326.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        msg = f"OSM file not found: {p}."
        raise InputFileError(msg)
    name = p.name.lower()
    if name.endswith(".pbf"):
        landuse, buildings, entrances, streets = _read_osm_pbf(p)
    elif name.endswith((".osm", ".osm.bz2", ".xml", ".xml.bz2")):
        landuse, buildings, entrances, streets = _read_osm_xml(p)
    else:
        msg = f"Unknown OSM file type for {p}; expected .osm, .osm.bz2, .xml or .osm.pbf."
        raise InputFileError(msg)
    if len(streets) == 0:
        msg = f"{p} has no street (highway=*) lines to place gates on."
        raise InputError(msg)
    utm = streets.estimate_utm_crs()
    land = landuse.to_crs(utm)
    compounds = gpd.GeoDataFrame(
        {
            "compound_id": land["osm_ref"].to_numpy(dtype=object),
            "compound_name": _names(land),
            "osm_source": "landuse",
        },
        geometry=land.geometry.to_numpy(),
        crs=utm,
    )
    compounds = compounds[compounds.area >= min_area_m2]
    group = include_buildings if include_buildings is not None else len(compounds) == 0
    if group and len(buildings):
        b = buildings.to_crs(utm)
        if len(compounds):
            inside = b.geometry.representative_point().within(compounds.union_all())
            b = b[~inside.to_numpy()]
        grouped = _group_buildings(b, building_gap_m, min_area_m2)
        grouped["osm_source"] = "buildings"
        compounds = pd.concat([compounds, grouped], ignore_index=True)
    if len(compounds) == 0:
        msg = (
            f"{p} maps no residential compound: no landuse=residential polygon and no "
            "residential building groups. Supply compound polygons or a gates table."
        )
        raise InputError(msg)
    compounds = gpd.GeoDataFrame(
        compounds.sort_values("compound_id", kind="stable").reset_index(drop=True),
        geometry="geometry",
        crs=utm,
    )
    compounds["households"] = np.nan
    ent = entrances.geometry if len(entrances) else None
    gates = gates_from_polygons(compounds, streets, entrances=ent, merge_m=merge_m)
    n = gates.attrs["gates_per_compound"]
    compounds["n_gates"] = compounds["compound_id"].map(n).astype(int)
    log.info(
        "Found %s residential compounds in %s (%s from landuse, %s from grouped buildings) "
        "with %s gates",
        f"{len(compounds):,}",
        p.name,
        int((compounds["osm_source"] == "landuse").sum()),
        int((compounds["osm_source"] == "buildings").sum()),
        f"{len(gates):,}",
    )
    cols = ["compound_id", "compound_name", "households", "n_gates", "osm_source", "geometry"]
    streets_out = gpd.GeoDataFrame(
        streets.drop(columns=[c for c in ("tags",) if c in streets.columns]),
        geometry=streets.geometry.name,
        crs=4326,
    )
    return OsmCompounds(
        compounds=gpd.GeoDataFrame(compounds[cols], geometry="geometry").to_crs(4326),
        gates=gates.to_crs(4326),
        streets=streets_out,
    )
