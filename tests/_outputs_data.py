"""Hand-made inputs for the output tests (maps, poster, report, plots).

A 2 km x 2 km street grid near Xueqing Road, Beijing, in UTM 50N (EPSG:32650), metres:

    streets every 200 m, x = X0 .. X0+2000, y = Y0 .. Y0+2000
    compound A (2 gates), B (2 gates), C (1 gate), as 300 m x 200 m rectangles
    POIs: a fixed list covering some categories, several categories deliberately missing

Isochrones, coverage and scorecards come from the real engine (network.from_lines, isochrone,
reach, scoring) run on that grid, so the output tests exercise the whole pipeline.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

CRS = "EPSG:32650"
X0, Y0 = 447_000.0, 4_427_000.0
LIMIT_M = 1200.0

# category -> number of facilities (categories absent here are "missing")
POI_PLAN: dict[str, int] = {
    "convenience_store": 5,
    "supermarket": 1,
    "fresh_food": 2,
    "breakfast": 3,
    "hair_beauty": 3,
    "pharmacy": 2,
    "post_express": 2,
    "community_service": 1,
    "specialty_dining": 4,
    "bakery": 1,
    "tea_coffee_bar": 2,
    "sport_fitness": 1,
}
MISSING = ["wet_market", "repair", "laundry_tailor", "photo_print", "housekeeping", "recycling"]


def streets() -> gpd.GeoDataFrame:
    lines = []
    for k in range(11):
        v = k * 200.0
        lines.append(shapely.LineString([(X0, Y0 + v), (X0 + 2000, Y0 + v)]))
        lines.append(shapely.LineString([(X0 + v, Y0), (X0 + v, Y0 + 2000)]))
    return gpd.GeoDataFrame({"edge_id": range(len(lines))}, geometry=lines, crs=CRS)


_COMPOUNDS = {
    # id: (name, x, y of lower-left, households, gate offsets)
    "A": ("学清苑", 600.0, 800.0, 1200.0, [(150.0, 0.0), (300.0, 100.0)]),
    "B": ("清华东路小区", 1000.0, 1200.0, 800.0, [(0.0, 100.0), (150.0, 200.0)]),
    "C": ("林业大学宿舍", 200.0, 200.0, float("nan"), [(150.0, 200.0)]),
}


def compounds() -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for cid, (name, x, y, hh, gates_) in _COMPOUNDS.items():
        rows.append(
            {"compound_id": cid, "compound_name": name, "households": hh, "n_gates": len(gates_)}
        )
        geoms.append(shapely.box(X0 + x, Y0 + y, X0 + x + 300, Y0 + y + 200))
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS)


def gates() -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for cid, (name, x, y, hh, offs) in _COMPOUNDS.items():
        for k, (dx, dy) in enumerate(offs, start=1):
            rows.append(
                {
                    "gate_id": f"{cid}{k}",
                    "compound_id": cid,
                    "compound_name": name,
                    "households": hh,
                }
            )
            geoms.append(shapely.Point(X0 + x + dx, Y0 + y + dy))
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS)


def pois() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(7)
    rows, geoms = [], []
    n = 0
    for cat, count in POI_PLAN.items():
        for k in range(count):
            n += 1
            # on a street: pick a grid line and a position along it
            if rng.random() < 0.5:
                x = X0 + 200.0 * rng.integers(1, 10)
                y = Y0 + rng.uniform(150, 1850)
            else:
                x = X0 + rng.uniform(150, 1850)
                y = Y0 + 200.0 * rng.integers(1, 10)
            rows.append(
                {
                    "poi_id": f"p{n:03d}",
                    "name": f"{cat}<店>{k + 1}" if cat == "bakery" else f"{cat}店{k + 1}",
                    "category": cat,
                    "address": f"学清路{n}号",
                }
            )
            geoms.append(shapely.Point(x, y))
    # one far away (outside everyone's walk)
    rows.append(
        {"poi_id": "p999", "name": "远郊宠物店", "category": "pet_service", "address": None}
    )
    geoms.append(shapely.Point(X0 + 2000, Y0 + 2000))
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS)


@lru_cache(maxsize=1)
def network() -> Any:
    """The grid as a real :class:`quarter_hour.network.WalkNetwork` (lines noded at crossings)."""
    from quarter_hour import network as qn

    return qn.from_lines(streets(), node_crossings=True)


@lru_cache(maxsize=4)
def _isochrones(minutes: tuple[int, ...]) -> gpd.GeoDataFrame:
    from quarter_hour import isochrone

    return isochrone.isochrones(network(), gates(), minutes=list(minutes), by="gate")


def isochrones(minutes: tuple[int, ...] = (15,)) -> gpd.GeoDataFrame:
    """Walking areas per gate from the real isochrone engine (a copy)."""
    return _isochrones(minutes).copy()


@lru_cache(maxsize=1)
def _coverage() -> pd.DataFrame:
    from quarter_hour import reach, taxonomy

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cov = reach.coverage(network(), gates(), pois(), categories=taxonomy.CATEGORY_IDS)
    # the sample leaves some categories without any facility on purpose
    assert all("No facilities at all" in str(w.message) for w in caught), [
        str(w.message) for w in caught
    ]
    return cov


def coverage() -> pd.DataFrame:
    """Coverage from the real reach engine on the grid network (a copy, attrs kept)."""
    cov = _coverage()
    out = cov.copy()
    out.attrs = dict(cov.attrs)
    return out


# ---------------------------------------------------------------------------------------------
# Scorecards from the real scoring engine


def scorecard(community: str = "学清路社区", *, checklist: dict[str, float] | None = None) -> Any:
    """Score the sample with the shipped rubric (households known for every compound)."""
    from quarter_hour import scoring

    comp = pd.DataFrame(compounds().drop(columns="geometry"))
    comp["households"] = comp["households"].fillna(500.0)
    return scoring.score(
        coverage(),
        compounds=comp[["compound_id", "households"]],
        checklist=checklist,
        community=community,
        sources={"streets": "OpenStreetMap, 2024-05-01", "pois": "Amap POIs, 2017-06-30"},
    )
