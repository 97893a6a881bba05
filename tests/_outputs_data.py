"""Hand-made inputs for the output tests (maps, poster, report, plots).

A 2 km x 2 km street grid near Xueqing Road, Beijing, in UTM 50N (EPSG:32650), metres:

    streets every 200 m, x = X0 .. X0+2000, y = Y0 .. Y0+2000
    compound A (2 gates), B (2 gates), C (1 gate), as 300 m x 200 m rectangles
    POIs: a fixed list covering some categories, several categories deliberately missing

Isochrones are diamonds (L1 balls) around gates, which is what a grid walk gives.
Coverage is computed here with Manhattan distance on the grid (a stand-in for reach.coverage).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
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
        rows.append({"compound_id": cid, "compound_name": name, "households": hh, "n_gates": len(gates_)})
        geoms.append(shapely.box(X0 + x, Y0 + y, X0 + x + 300, Y0 + y + 200))
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS)


def gates() -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for cid, (name, x, y, hh, offs) in _COMPOUNDS.items():
        for k, (dx, dy) in enumerate(offs, start=1):
            rows.append({"gate_id": f"{cid}{k}", "compound_id": cid, "compound_name": name, "households": hh})
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
    rows.append({"poi_id": "p999", "name": "远郊宠物店", "category": "pet_service", "address": None})
    geoms.append(shapely.Point(X0 + 2000, Y0 + 2000))
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS)


def isochrones(minutes: tuple[int, ...] = (15,)) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    g = gates()
    for _, gate in g.iterrows():
        for mins in minutes:
            r = LIMIT_M * mins / 15.0
            x, y = gate.geometry.x, gate.geometry.y
            poly = shapely.Polygon([(x - r, y), (x, y + r), (x + r, y), (x, y - r)])
            rows.append(
                {
                    "compound_id": gate["compound_id"],
                    "gate_id": gate["gate_id"],
                    "minutes": float(mins),
                    "limit_m": r,
                    "street_length_m": 4 * r,
                    "area_m2": poly.area,
                }
            )
            geoms.append(poly)
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS)


def coverage(categories: list[str] | None = None) -> pd.DataFrame:
    """Grid (Manhattan) distances from each compound's best gate to each category's facilities."""
    from quarter_hour import _viz

    cats = categories or [c.id for c in _viz.categories()]
    g, p = gates(), pois()
    recs = []
    for cid, gg in g.groupby("compound_id"):
        for cat in cats:
            pp = p[p["category"] == cat]
            best = (np.nan, None, None, None)
            count = 0
            if len(pp):
                gx = gg.geometry.x.to_numpy()[:, None]
                gy = gg.geometry.y.to_numpy()[:, None]
                d = np.abs(gx - pp.geometry.x.to_numpy()) + np.abs(gy - pp.geometry.y.to_numpy())
                dmin = d.min(axis=0)
                count = int((dmin <= LIMIT_M).sum())
                j = int(dmin.argmin())
                i = int(d[:, j].argmin())
                best = (float(dmin[j]), pp["poi_id"].iloc[j], pp["name"].iloc[j], gg["gate_id"].iloc[i])
            reachable = bool(best[0] <= LIMIT_M) if best[0] == best[0] else False
            recs.append(
                {
                    "compound_id": cid,
                    "category": cat,
                    "reachable": reachable,
                    "nearest_m": best[0],
                    "nearest_poi_id": best[1],
                    "nearest_poi_name": best[2],
                    "nearest_gate_id": best[3],
                    "count": count,
                }
            )
    df = pd.DataFrame(recs)
    df.attrs["limit_m"] = LIMIT_M
    return df


# ---------------------------------------------------------------------------------------------
# A Scorecard-like object (CONTRACTS.md) until quarter_hour.scoring lands


@dataclass(frozen=True)
class _Walk:
    minutes: float = 15.0
    speed_m_per_min: float = 80.0
    limit_m: float = 1200.0


@dataclass(frozen=True)
class _Group:
    id: str
    name_zh: str
    name_en: str
    max_points: float
    min_points: float


@dataclass(frozen=True)
class FakeRubric:
    name: str = "hangjin_2023"
    groups: tuple[_Group, ...] = (
        _Group("org", "组织保障", "Organisation", 8, 0),
        _Group("basic", "基本保障类业态", "Basic-need businesses", 67, 62),
        _Group("quality", "品质提升类业态", "Quality-of-life businesses", 25, 15),
    )
    walk: _Walk = field(default_factory=_Walk)
    coverage_rule: str = "share"
    grade_bands: tuple[tuple[float, str], ...] = ((80, "合格"), (85, "良好"), (90, "优秀"))


@dataclass
class FakeScorecard:
    community: str
    rubric: Any
    coverage: pd.DataFrame
    items: pd.DataFrame
    groups: pd.DataFrame
    total: float
    grade: str
    grade_en: str
    passed: bool
    reasons: list[str]
    not_assessed: list[str]
    provenance: dict[str, Any]


def scorecard(community: str = "学清路社区", *, checklist: dict[str, float] | None = None) -> FakeScorecard:
    """Score the sample coverage like the rubric says (households-weighted share)."""
    from quarter_hour import _viz

    cov = coverage()
    comp = compounds().set_index("compound_id")
    hh = comp["households"].fillna(comp["households"].mean())
    rows = []
    checklist = checklist or {}
    org = [
        ("org_body", "成立机构，专人负责创建工作", "Responsible body and person", 2),
        ("org_plan", "制定方案，有工作目标、实施步骤、保障措施等", "Plan with goals, steps, safeguards", 4),
        ("org_layout_guide", "布局形态、商业设施和整体社区建筑风貌协调；一刻钟便民服务导视图等", "Layout in keeping; guide map", 2),
    ]
    for iid, zh, en, w in org:
        assessed = iid in checklist
        pts = float(checklist.get(iid, 0.0))
        rows.append(_item("org", iid, zh, en, "checklist", w, (pts / w) if assessed else np.nan, pts,
                          assessed, [], {}, "checked by hand" if assessed else "not assessed"))
    for cat in _viz.categories():
        sub = cov[cov["category"] == cat.id].set_index("compound_id")
        ok = sub["reachable"].astype(bool)
        share = float((hh[ok.index] * ok).sum() / hh[ok.index].sum())
        lacking = sorted(ok.index[~ok])
        rows.append(_item(cat.group, cat.id, cat.name_zh, cat.name_en, "spatial", cat.weight, share,
                          cat.weight * share, True, lacking, sub["nearest_m"].to_dict(), ""))
    assessed = "smart_platform" in checklist
    pts = float(checklist.get("smart_platform", 0.0))
    rows.append(_item("quality", "smart_platform", "智慧服务平台", "Smart service platform", "checklist",
                      3, (pts / 3) if assessed else np.nan, pts, assessed, [], {},
                      "checked by hand" if assessed else "not assessed"))
    items = pd.DataFrame(rows)
    rub = FakeRubric()
    grp = []
    for g in rub.groups:
        p = float(items.loc[items["group"] == g.id, "points"].sum())
        grp.append({"group": g.id, "name_zh": g.name_zh, "name_en": g.name_en, "max_points": g.max_points,
                    "min_points": g.min_points, "points": p, "meets_minimum": p >= g.min_points})
    groups = pd.DataFrame(grp)
    total = float(items["points"].sum())
    reasons = [f"{r.name_zh} {r.points:.1f} 分，低于最低要求 {r.min_points:g} 分" for r in groups.itertuples()
               if not r.meets_minimum]
    passed = total >= 80 and not reasons
    if total < 80:
        reasons.insert(0, f"总分 {total:.1f} 低于 80 分")
    return FakeScorecard(
        community=community,
        rubric=rub,
        coverage=cov,
        items=items,
        groups=groups,
        total=total,
        grade="合格" if passed else "不合格",
        grade_en="pass" if passed else "fail",
        passed=passed,
        reasons=reasons,
        not_assessed=[r["item_id"] for r in rows if not r["assessed"]],
        provenance={
            "rubric": "杭锦旗一刻钟便民生活圈建设验收考核标准 (2023)",
            "walk": "15 min × 80 m/min = 1200 m",
            "coverage_rule": "share",
            "sources": [
                {"name": "OpenStreetMap street network", "date": "2024-05-01"},
                {"name": "Amap POIs", "date": "2017-06-30"},
            ],
        },
    )


def _item(group: str, iid: str, zh: str, en: str, kind: str, weight: float, share: float, points: float,
          assessed: bool, lacking: list[str], nearest: dict[str, float], note: str) -> dict[str, Any]:
    return {"group": group, "item_id": iid, "name_zh": zh, "name_en": en, "kind": kind, "weight": float(weight),
            "share": share, "points": points, "assessed": assessed, "lacking": lacking,
            "nearest_m": nearest, "note": note}
