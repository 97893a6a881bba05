"""Isochrones: exact reachable street length (hand-worked and against networkx), polygons."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
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
    """Four 1,000 m arms from C (0, 0) to N, E, S, W, in EPSG:32650."""
    arms = [[(0, 0), (0, 1000)], [(0, 0), (1000, 0)], [(0, 0), (0, -1000)], [(0, 0), (-1000, 0)]]
    return qn.from_lines(gpd.GeoDataFrame(geometry=[LineString(a) for a in arms], crs=UTM50))


def _gates(rows: list[tuple[str, str, float, float]], crs: str = UTM50) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"gate_id": [r[0] for r in rows], "compound_id": [r[1] for r in rows]},
        geometry=[Point(r[2], r[3]) for r in rows],
        crs=crs,
    )


def test_reachable_length_hand_worked(cross: qn.WalkNetwork) -> None:
    # gate 10 m east of the north arm at y = 250; 300 m walk: 10 m access leaves 290 m:
    # up the arm to y = 540 (290 m), down to C (250 m), then 40 m along each other arm
    iso = qi.isochrones(cross, _gates([("g", "A", 10, 250)]), minutes=300 / 80, by="gate")
    assert iso["street_length_m"].iloc[0] == pytest.approx(290 + 250 + 3 * 40, abs=1e-6)
    assert iso["limit_m"].iloc[0] == pytest.approx(300.0)


def test_several_minutes_and_full_network(cross: qn.WalkNetwork) -> None:
    iso = qi.isochrones(cross, _gates([("g", "A", 0, 0)]), minutes=[5, 10, 15], by="gate")
    # from C: 400, 800, 1000 m along each of the four arms (arms end at 1,000 m)
    assert iso["street_length_m"].tolist() == pytest.approx([1600, 3200, 4000])
    assert iso["minutes"].tolist() == [5, 10, 15]
    assert iso.crs.to_epsg() == 32650


def test_compound_is_union_of_its_gates(cross: qn.WalkNetwork) -> None:
    gates = _gates([("g1", "A", 0, 900), ("g2", "A", 0, -900)])
    by_gate = qi.isochrones(cross, gates, minutes=2.5, by="gate", outline="buffer")  # 200 m
    by_comp = qi.isochrones(cross, gates, minutes=2.5, by="compound", outline="buffer")
    # each gate reaches 100 m to its arm end and 200 m towards C; the two never overlap
    assert by_gate["street_length_m"].tolist() == pytest.approx([300, 300])
    assert by_comp["street_length_m"].iloc[0] == pytest.approx(600)
    assert by_comp["gate_id"].iloc[0] == "all"
    union = shapely.union_all(by_gate.geometry.to_numpy())
    assert by_comp.geometry.iloc[0].symmetric_difference(union).area < 1.0
    # overlapping reaches are not double counted: gates 100 m apart on one arm
    gates = _gates([("g1", "A", 0, 500), ("g2", "A", 0, 600)])
    by_comp = qi.isochrones(cross, gates, minutes=2.5, by="compound")
    assert by_comp["street_length_m"].iloc[0] == pytest.approx(500)  # y from 300 to 800


def test_polygon_is_the_buffered_reach(cross: qn.WalkNetwork) -> None:
    iso = qi.isochrones(
        cross, _gates([("g", "A", 0, 900)]), minutes=2.5, by="gate", buffer_m=50, outline="buffer"
    )
    poly = iso.geometry.iloc[0]
    # a 300 m straight piece (y 700..1000) buffered by 50 m: rectangle plus round caps
    assert iso["area_m2"].iloc[0] == pytest.approx(300 * 100 + np.pi * 50**2, rel=0.01)
    assert poly.contains(Point(0, 900))
    assert not poly.contains(Point(0, 600))
    concave = qi.isochrones(cross, _gates([("g", "A", 0, 900)]), minutes=2.5, outline="concave")
    assert concave.geometry.iloc[0].contains(Point(0, 900))
    grid = qi.isochrones(cross, _gates([("g", "A", 0, 900)]), minutes=2.5)  # default: 20 m raster
    assert grid["area_m2"].iloc[0] == pytest.approx(iso["area_m2"].iloc[0], rel=0.02)
    assert grid.geometry.iloc[0].contains(Point(0, 900))


def test_wgs84_output_for_web_maps(cross: qn.WalkNetwork) -> None:
    iso = qi.isochrones(cross, _gates([("g", "A", 0, 0)]), minutes=5)
    web = iso.to_crs(4326)
    lon, lat = web.geometry.iloc[0].centroid.coords[0]
    assert 110 < lon < 120
    assert -1 < lat < 1


def test_unsnapped_compound_gets_empty_geometry_and_a_warning(cross: qn.WalkNetwork) -> None:
    gates = _gates([("g1", "A", 0, 10), ("g2", "B", 5000, 5000)])
    with (
        pytest.warns(
            qh.QuarterHourWarning, match=r"1 compounds have no gate on the walk network .*B"
        ),
        pytest.warns(qh.QuarterHourWarning, match=r"1 of 2 gates lie more than 300 m .*g2"),
    ):
        iso = qi.isochrones(cross, gates, minutes=5, by="compound")
    b = iso.set_index("compound_id").loc["B"]
    assert b.geometry.is_empty
    assert b["street_length_m"] == 0


def test_bad_parameters(cross: qn.WalkNetwork) -> None:
    g = _gates([("g", "A", 0, 0)])
    with pytest.raises(qh.InputError, match="positive"):
        qi.isochrones(cross, g, minutes=0)
    with pytest.raises(qh.InputError, match="`by`"):
        qi.isochrones(cross, g, by="street")  # type: ignore[arg-type]
    with pytest.raises(qh.InputError, match="`outline`"):
        qi.isochrones(cross, g, outline="blob")  # type: ignore[arg-type]


def test_helsinki_reachable_length_equals_networkx(helsinki_pbf: Path) -> None:
    net = qn.from_osm_file(helsinki_pbf)
    rng = np.random.default_rng(7)
    nodes = rng.integers(0, net.n_nodes, 5)
    xy = net.node_xy[nodes] + rng.uniform(-30, 30, (5, 2))
    gates = gpd.GeoDataFrame(
        {"gate_id": [f"g{i}" for i in range(5)], "compound_id": [f"c{i}" for i in range(5)]},
        geometry=shapely.points(xy),
        crs=net.crs,
    )
    limit = 600.0
    iso = qi.isochrones(net, gates, minutes=limit / 80, by="gate").set_index("gate_id")
    G = reference_graph(net.edge_u, net.edge_v, net.edge_geometry, xy)
    access = {("p", i): next(iter(G[("p", i)].values()))[0]["length"] for i in range(5)}
    for i in range(5):
        d = reference_distances(G, ("p", i))
        total = 0.0
        for a, b, data in G.edges(data=True):
            if a[0] == "p" or b[0] == "p":
                continue  # access legs are not street length
            w = data["length"]
            da, db = d.get(a, np.inf), d.get(b, np.inf)
            ra = min(max(limit - da, 0.0), w)
            rb = min(max(limit - db, 0.0), w)
            total += min(ra + rb, w)
        assert access[("p", i)] <= limit
        assert iso.loc[f"g{i}", "street_length_m"] == pytest.approx(total, abs=0.05)


def test_pois_within(cross: qn.WalkNetwork) -> None:
    iso = qi.isochrones(cross, _gates([("g", "A", 0, 0)]), minutes=5)
    pois = gpd.GeoDataFrame(
        {"poi_id": ["in", "out"], "category": ["bakery", "bakery"]},
        geometry=[Point(20, 300), Point(300, 300)],
        crs=UTM50,
    )
    inside = qi.pois_within(iso, pois)
    assert inside["poi_id"].tolist() == ["in"]


def test_reachable_pieces_from_prepare(cross: qn.WalkNetwork) -> None:
    ri = qr.prepare(cross, _gates([("g", "A", 0, 0)]))
    pieces = qi.reachable_pieces(ri, limit_m=100, by="gate")
    assert (pieces["end_m"] - pieces["start_m"]).sum() == pytest.approx(400)
    assert set(pieces["origin"]) == {"g"}


def test_grid_outline_is_close_to_the_exact_buffer(helsinki_pbf: Path) -> None:
    net = qn.from_osm_file(helsinki_pbf)
    rng = np.random.default_rng(11)
    xy = net.node_xy[rng.integers(0, net.n_nodes, 4)] + 15
    gates = gpd.GeoDataFrame(
        {"gate_id": [f"g{i}" for i in range(4)], "compound_id": ["a", "a", "b", "b"]},
        geometry=shapely.points(xy),
        crs=net.crs,
    )
    ri = qr.prepare(net, gates)
    exact = qi.isochrones(ri, minutes=5, outline="buffer")
    grid = qi.isochrones(ri, minutes=5, outline="grid", resolution_m=10)
    assert grid["street_length_m"].tolist() == exact["street_length_m"].tolist()
    for a, b in zip(exact.geometry, grid.geometry, strict=True):
        # within about one 10 m cell along the outline: symmetric difference < 5% of the area
        assert a.symmetric_difference(b).area < 0.05 * a.area
        assert b.contains(a.buffer(-15))


def test_substrings_match_shapely_substring() -> None:
    from shapely.ops import substring

    from quarter_hour._geom import substrings

    rng = np.random.default_rng(0)
    geoms = np.array(
        [LineString(rng.uniform(0, 100, (int(rng.integers(2, 7)), 2))) for _ in range(300)],
        dtype=object,
    )
    length = shapely.length(geoms)
    a, b = rng.uniform(0, 1, 300) * length, rng.uniform(0, 1, 300) * length
    s, e = np.minimum(a, b), np.maximum(a, b)
    s[:30], e[:30] = 0, length[:30]
    for g, x, y, got in zip(geoms, s, e, substrings(geoms, s, e), strict=True):
        want = substring(g, x, y)
        assert got.length == pytest.approx(want.length, abs=1e-9)
        if want.geom_type == "LineString" and want.length > 0:
            assert got.hausdorff_distance(want) < 1e-9


def test_no_gate_on_the_network_gives_empty_rows_not_a_crash(cross: qn.WalkNetwork) -> None:
    gates = _gates([("g1", "A", 5000, 5000)])
    with (
        pytest.warns(qh.QuarterHourWarning, match="no gate on the walk network"),
        pytest.warns(qh.QuarterHourWarning, match="not snapped"),
    ):
        iso = qi.isochrones(cross, gates, minutes=[5, 10])
    assert len(iso) == 2
    assert iso.geometry.is_empty.all()


def test_interpolate_xy_matches_shapely() -> None:
    from quarter_hour._geom import interpolate_xy

    rng = np.random.default_rng(1)
    geoms = np.array(
        [LineString(rng.uniform(0, 100, (int(rng.integers(2, 6)), 2))) for _ in range(200)],
        dtype=object,
    )
    # offsets along edges are never negative; past-the-end distances clamp to the end point
    d_clamped = np.clip(
        rng.uniform(-0.1, 1.1, 200) * shapely.length(geoms), 0, shapely.length(geoms)
    )
    want = shapely.get_coordinates(shapely.line_interpolate_point(geoms, d_clamped))
    assert np.allclose(interpolate_xy(geoms, d_clamped), want, atol=1e-9)
