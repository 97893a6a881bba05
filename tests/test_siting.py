"""Siting (补齐设施短板): greedy maximal covering checked against brute force on a small grid."""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from quarter_hour import InputError
from quarter_hour.network import from_lines
from quarter_hour.rubric import load_rubric
from quarter_hour.siting import suggest_sites

RUBRIC10 = load_rubric().with_walk(minutes=10)  # 800 m: two blocks of the 400 m grid
LIMIT = 800.0
STEP = 400.0
X0, Y0 = 500_000.0, 4_400_000.0
FULL_CHECKLIST = {"org_body": 2, "org_plan": 4, "org_layout_guide": 2, "smart_platform": 3}

# compound -> (gates as grid (i, j), households). F already has a wet market.
COMPOUNDS = {
    "A": ([(0, 0)], 120.0),
    "B": ([(4, 0), (3, 1)], 80.0),
    "C": ([(2, 2)], 300.0),
    "D": ([(0, 4)], 50.0),
    "E": ([(4, 4)], 200.0),
    "F": ([(1, 1)], 90.0),
}
TOTAL_HH = 840.0


def _grid_lines() -> gpd.GeoDataFrame:
    """5 x 5 street grid, 400 m blocks, EPSG:32650."""
    segs = []
    for i in range(5):
        for j in range(5):
            if i < 4:
                segs.append(((i, j), (i + 1, j)))
            if j < 4:
                segs.append(((i, j), (i, j + 1)))
    geoms = [
        shapely.LineString(
            [(X0 + a[0] * STEP, Y0 + a[1] * STEP), (X0 + b[0] * STEP, Y0 + b[1] * STEP)]
        )
        for a, b in segs
    ]
    return gpd.GeoDataFrame(
        {"highway": ["residential"] * len(geoms)}, geometry=geoms, crs="EPSG:32650"
    )


@pytest.fixture(scope="module")
def net():  # type: ignore[no-untyped-def]
    return from_lines(_grid_lines())


def _gates() -> gpd.GeoDataFrame:
    rows = []
    for cid, (gates, hh) in COMPOUNDS.items():
        for k, (i, j) in enumerate(gates):
            rows.append({"gate_id": f"{cid}-{k}", "compound_id": cid, "households": hh,
                         "geometry": shapely.Point(X0 + i * STEP, Y0 + j * STEP)})  # fmt: skip
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:32650").set_index(
        "gate_id", drop=False
    )


def _coverage() -> pd.DataFrame:
    """Everything reached by everyone except the wet market, which only F reaches."""
    rows = []
    for cid in COMPOUNDS:
        for cat in RUBRIC10.categories:
            ok = cat != "wet_market" or cid == "F"
            rows.append(
                {
                    "compound_id": cid,
                    "category": cat,
                    "reachable": ok,
                    "nearest_m": 300.0 if ok else np.nan,
                }
            )
    df = pd.DataFrame(rows)
    df.attrs["limit_m"] = LIMIT
    return df


def _compounds() -> pd.DataFrame:
    return pd.DataFrame(
        {"compound_id": list(COMPOUNDS), "households": [hh for _, hh in COMPOUNDS.values()]}
    )


def _brute_force_covers() -> dict[tuple[int, int], set[str]]:
    """Independent of the library: networkx grid, Dijkstra from each grid node."""
    G = nx.grid_2d_graph(5, 5)
    nx.set_edge_attributes(G, STEP, "length")
    covers = {}
    for node in G.nodes:
        d = nx.single_source_dijkstra_path_length(G, node, weight="length")
        covers[node] = {
            cid
            for cid, (gates, _) in COMPOUNDS.items()
            if cid != "F" and any(d[g] <= LIMIT for g in gates)
        }
    return covers


def _hh(cids: set[str]) -> float:
    return sum(COMPOUNDS[c][1] for c in cids)


def _grid_ij(geom: shapely.Point) -> tuple[int, int]:
    return (round((geom.x - X0) / STEP), round((geom.y - Y0) / STEP))


def test_k1_is_the_brute_force_optimum(net) -> None:  # type: ignore[no-untyped-def]
    covers = _brute_force_covers()
    best = max(_hh(c) for c in covers.values())
    out = suggest_sites(net, _gates(), _coverage(), "wet_market", k=1, compounds=_compounds(),
                        rubric=RUBRIC10, checklist=FULL_CHECKLIST)  # fmt: skip
    assert len(out) == 1
    assert out["added_households"].iloc[0] == best
    # the chosen node covers exactly what brute force says it covers
    assert set(out["added_compounds"].iloc[0]) == covers[_grid_ij(out.geometry.iloc[0])]


@pytest.mark.parametrize("k", [2, 3])
def test_greedy_matches_brute_force_greedy_and_bound(net, k: int) -> None:  # type: ignore[no-untyped-def]
    covers = _brute_force_covers()
    out = suggest_sites(net, _gates(), _coverage(), "wet_market", k=k, compounds=_compounds(),
                        rubric=RUBRIC10, checklist=FULL_CHECKLIST)  # fmt: skip
    # brute-force greedy gains (ties broken differently, gains are the same)
    remaining = {"A", "B", "C", "D", "E"}
    gains = []
    for _ in range(k):
        g = max(_hh(c & remaining) for c in covers.values())
        if g == 0:
            break
        pick = next(c for c in covers.values() if _hh(c & remaining) == g)
        remaining -= pick
        gains.append(g)
    assert out["added_households"].tolist() == gains
    # each pick's added compounds are consistent with brute-force coverage of that node
    seen: set[str] = set()
    for geom, added in zip(out.geometry, out["added_compounds"], strict=True):
        assert set(added) == covers[_grid_ij(geom)] - seen
        seen |= set(added)
    # greedy is within 1 - 1/e of the best k-set
    opt = max(_hh(set().union(*combo)) for combo in itertools.combinations(covers.values(), k))
    assert sum(gains) >= (1 - 1 / math.e) * opt
    assert sum(gains) <= opt


def test_user_candidates_with_access_legs(net) -> None:  # type: ignore[no-untyped-def]
    # V1 (1000, 830): snaps 30 m onto y=800. C gate (800,800): 200 + 30 = 230 m; B gate (1200,400):
    #   200 + 400 + 30 = 630 m; A, D, E farther than 800 m -> covers B + C = 380 households.
    # V2 (0, 1190) on x=0: D gate (0,1600) 410 m; A (0,0) 1190 m -> covers D = 50.
    # V3 (1590, 1620): snaps 20 m onto y=1600. E gate (1600,1600): 10 + 20 = 30 m -> E = 200.
    # V4 (0, 810): A gate (0,0) at 810 m, 10 m over the limit -> covers nothing new.
    pts = {"V1": (1000, 830), "V2": (0, 1190), "V3": (1590, 1620), "V4": (0, 810)}
    cands = gpd.GeoDataFrame(
        {"candidate_id": list(pts)},
        geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in pts.values()],
        crs="EPSG:32650",
    )
    out = suggest_sites(net, _gates(), _coverage(), "wet_market", k=5, candidates=cands,
                        compounds=_compounds(), rubric=RUBRIC10, checklist=FULL_CHECKLIST)  # fmt: skip
    assert out["candidate_id"].tolist() == ["V1", "V3", "V2"]  # V4 adds nothing; A stays uncovered
    assert out["added_compounds"].tolist() == [["B", "C"], ["E"], ["D"]]
    assert out["added_households"].tolist() == [380, 200, 50]
    # wet market share: 90/840 (F) -> 470/840 -> 670/840 -> 720/840; points = 8 x share
    assert out["share_after"].tolist() == pytest.approx(
        [470 / TOTAL_HH, 670 / TOTAL_HH, 720 / TOTAL_HH]
    )
    assert out["item_points"].tolist() == pytest.approx(
        [8 * 470 / 840, 8 * 670 / 840, 8 * 720 / 840]
    )
    assert out["added_share"].tolist() == pytest.approx([380 / 840, 200 / 840, 50 / 840])
    # baseline: basic 59 + 8 x 90/840 = 59.857 < 62 -> 不合格 at 92.857; after V1 basic 63.476 -> 优秀
    assert out.attrs["baseline_points"] == pytest.approx(8 * 90 / 840)
    assert out.attrs["baseline_total"] == pytest.approx(8 + 59 + 8 * 90 / 840 + 25)
    assert out.attrs["baseline_grade"] == "不合格"
    assert out["total"].iloc[0] == pytest.approx(8 + 59 + 8 * 470 / 840 + 25)
    assert out["grade"].tolist() == ["优秀", "优秀", "优秀"]
    assert out.attrs["uncovered"] == ["A", "B", "C", "D", "E"]
    assert (out["node"] == -1).all()
    assert out.crs.equals(net.crs)


def test_siting_errors(net) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="checklist item"):
        suggest_sites(net, _gates(), _coverage(), "smart_platform", rubric=RUBRIC10)
    with pytest.raises(InputError, match="neither an item nor a category"):
        suggest_sites(net, _gates(), _coverage(), "grocery", rubric=RUBRIC10)
    with pytest.raises(InputError, match="`k` must be a positive"):
        suggest_sites(net, _gates(), _coverage(), "wet_market", k=0, rubric=RUBRIC10)
