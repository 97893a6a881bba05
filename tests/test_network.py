"""Walk network: loading, cleaning, snapping and exact distances against networkx."""

from __future__ import annotations

import bz2
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point

import quarter_hour as qh
from quarter_hour import network as qn

from ._reference import reference_distances, reference_graph

UTM50 = "EPSG:32650"  # Beijing's UTM zone: metres


def lines_gdf(coords_list: list[list[tuple[float, float]]], **cols: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=[LineString(c) for c in coords_list], crs=UTM50)


@pytest.fixture
def cross() -> qn.WalkNetwork:
    r"""
            N (0, 600)
            |
    W ------C------ E        every arm 600 m, origin C at (0, 0), CRS EPSG:32650
            |
            S (0, -600)
    """
    return qn.from_lines(
        lines_gdf(
            [[(0, 0), (0, 600)], [(0, 0), (600, 0)], [(0, 0), (0, -600)], [(0, 0), (-600, 0)]]
        )
    )


# ---- hand-worked cases ------------------------------------------------------------------------


def test_cross_structure(cross: qn.WalkNetwork) -> None:
    assert cross.n_nodes == 5
    assert cross.n_edges == 4
    assert cross.total_length_m == pytest.approx(2400.0)
    assert cross.crs.to_epsg() == 32650


def test_snap_projects_onto_segment_not_node(cross: qn.WalkNetwork) -> None:
    # 30 m east of the north arm, 250 m up: snaps to (0, 250), access 30 m, not to a node
    s = cross.snap(np.array([[30.0, 250.0]]))
    assert s.ok.all()
    assert s.access_m[0] == pytest.approx(30.0)
    assert tuple(s.snapped_xy[0]) == pytest.approx((0.0, 250.0))
    e = s.edge[0]
    # offset counted from the edge's u end
    from_u = np.hypot(*(cross.node_xy[cross.edge_u[e]] - [0.0, 250.0]))
    assert s.offset_m[0] == pytest.approx(from_u)


def test_distance_hand_worked(cross: qn.WalkNetwork) -> None:
    # gate 10 m off the north arm at y=250; shop 20 m off the east arm at x=400
    # path: 10 (access) + 250 (down to C) + 400 (east) + 20 (access) = 680 m
    d = cross.distances(np.array([[10.0, 250.0]]), np.array([[400.0, -20.0]]))
    assert d[0, 0] == pytest.approx(680.0, abs=1e-9)


def test_same_edge_points_do_not_detour_via_nodes(cross: qn.WalkNetwork) -> None:
    # both on the north arm: 5 + |400 - 100| + 7 = 312 m (not via C or N)
    d = cross.distances(np.array([[5.0, 100.0]]), np.array([[-7.0, 400.0]]))
    assert d[0, 0] == pytest.approx(312.0, abs=1e-9)


def test_limit_cuts_off(cross: qn.WalkNetwork) -> None:
    d = cross.distances(
        np.array([[0.0, 500.0]]), np.array([[0.0, -500.0], [0.0, 400.0]]), limit_m=300
    )
    assert np.isinf(d[0, 0])  # 1000 m away
    assert d[0, 1] == pytest.approx(100.0)


def test_parallel_edges_keep_shortest() -> None:
    # two routes between the same ends: straight 100 m and a 300 m detour
    net = qn.from_lines(lines_gdf([[(0, 0), (100, 0)], [(0, 0), (0, 100), (100, 100), (100, 0)]]))
    assert net.n_nodes == 2
    assert net.graph[0, 1] == pytest.approx(100.0)


def test_shared_interior_vertex_is_a_junction() -> None:
    # two ways that share the vertex (50, 0) in their middles (as OSM ways do)
    net = qn.from_lines(lines_gdf([[(0, 0), (50, 0), (100, 0)], [(50, -50), (50, 0), (50, 50)]]))
    assert net.n_nodes == 5
    d = net.distances(np.array([[0.0, 0.0]]), np.array([[50.0, 50.0]]))
    assert d[0, 0] == pytest.approx(100.0)


def test_crossing_without_vertex_is_not_a_junction_unless_noded() -> None:
    # an X with no shared vertex: a bridge in OSM terms
    gdf = lines_gdf([[(0, 0), (100, 0)], [(50, -50), (50, 50)]])
    plain = qn.from_lines(gdf)
    d = plain.distances(np.array([[0.0, 0.0]]), np.array([[50.0, 50.0]]), max_snap_m=1)
    assert np.isinf(d[0, 0])
    noded = qn.from_lines(gdf, node_crossings=True)
    assert noded.n_edges == 4
    d = noded.distances(np.array([[0.0, 0.0]]), np.array([[50.0, 50.0]]), max_snap_m=1)
    assert d[0, 0] == pytest.approx(100.0)


def test_centimetre_gaps_are_closed() -> None:
    # an end 3 cm short of the junction, and a T whose stem stops 2 cm short of the bar
    gdf = lines_gdf(
        [
            [(0, 0), (100, 0)],
            [(100.03, 0), (200, 0)],
            [(150, 0.02), (150, 80)],
        ]
    )
    net = qn.from_lines(gdf, snap_tolerance_m=0.05)
    d = net.distances(np.array([[0.0, 0.0]]), np.array([[150.0, 80.0]]), max_snap_m=1)
    assert d[0, 0] == pytest.approx(150 + 80, abs=0.1)
    loose = qn.from_lines(gdf, snap_tolerance_m=0.0)
    d = loose.distances(np.array([[0.0, 0.0]]), np.array([[150.0, 80.0]]), max_snap_m=1)
    assert np.isinf(d[0, 0])


def test_largest_component_reports_drop() -> None:
    net = qn.from_lines(
        lines_gdf([[(0, 0), (300, 0)], [(0, 0), (0, 100)], [(1000, 1000), (1100, 1000)]])
    )
    big = net.largest_component()
    assert big.n_edges == 2
    assert big.report["dropped_edges"] == 1
    assert big.report["dropped_nodes"] == 2
    assert big.report["dropped_length_share"] == pytest.approx(100 / 500)


def test_geographic_lines_are_projected_to_metres() -> None:
    # 0.01 degree of latitude near Beijing is about 1,110.9 m
    gdf = gpd.GeoDataFrame(geometry=[LineString([(116.35, 40.0), (116.35, 40.01)])], crs=4326)
    net = qn.from_lines(gdf)
    assert net.crs.is_projected
    assert net.crs.to_epsg() == 32650
    geod = __import__("pyproj").Geod(ellps="WGS84")
    true_m = geod.line_length([116.35, 116.35], [40.0, 40.01])
    assert net.total_length_m == pytest.approx(true_m, rel=1e-3)


def test_walkability_filter() -> None:
    assert qn.is_walkable("footway")
    assert qn.is_walkable("residential")
    assert qn.is_walkable("primary")
    assert not qn.is_walkable("motorway")
    assert not qn.is_walkable("residential", foot="no")
    assert not qn.is_walkable("service", access="private")
    assert qn.is_walkable("service", access="private", foot="yes")
    assert not qn.is_walkable("cycleway")
    assert qn.is_walkable("cycleway", foot="designated")
    assert not qn.is_walkable("trunk")
    assert qn.is_walkable("trunk", sidewalk="both")
    assert not qn.is_walkable("primary", sidewalk="no")
    gdf = lines_gdf(
        [[(0, 0), (100, 0)], [(0, 10), (100, 10)], [(0, 20), (100, 20)]],
        highway=["motorway", "footway", "residential"],
        foot=[None, None, "no"],
    )
    net = qn.from_lines(gdf)
    assert net.n_edges == 1
    assert net.edge_attrs["highway"].tolist() == ["footway"]


def test_networkx_roundtrip(tmp_path: Path, cross: qn.WalkNetwork) -> None:
    G = cross.to_networkx()
    assert nx.number_of_edges(G) == 4
    G.graph["crs"] = UTM50
    again = qn.from_graph(G)
    assert again.total_length_m == pytest.approx(cross.total_length_m)


# ---- bad input --------------------------------------------------------------------------------


def test_missing_file() -> None:
    with pytest.raises(qh.InputFileError, match="does not exist"):
        qn.load("no/such/streets.gpkg")


def test_wrong_format_content(tmp_path: Path) -> None:
    fake = tmp_path / "streets.gpkg"
    fake.write_text("this is not a geopackage")
    with pytest.raises(qh.InputFileError, match="extension matches its format"):
        qn.load(fake)


def test_unknown_extension(tmp_path: Path) -> None:
    f = tmp_path / "streets.dat"
    f.write_text("x")
    with pytest.raises(qh.InputFileError, match="cannot tell what kind"):
        qn.load(f)


def test_bad_osm_xml(tmp_path: Path) -> None:
    f = tmp_path / "broken.osm.bz2"
    f.write_bytes(bz2.compress(b"<osm><way id='1'"))
    with pytest.raises(qh.InputFileError, match="OpenStreetMap XML"):
        qn.from_osm_file(f)


def test_layer_without_crs(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (100, 0)])])
    with pytest.raises(qh.CRSError, match="has no CRS"):
        qn.from_lines(gdf)
    path = tmp_path / "nocrs.shp"
    with pytest.warns(UserWarning, match="crs"):
        gdf.to_file(path)  # a Shapefile without .prj
    with pytest.raises(qh.CRSError, match=r"nocrs\.shp has no CRS.*source_crs"):
        qn.load(path)
    assert qn.load(path, source_crs=UTM50).total_length_m == pytest.approx(100.0)
    gdf.set_crs(UTM50).to_file(tmp_path / "ok.gpkg")
    assert qn.load(tmp_path / "ok.gpkg").total_length_m == pytest.approx(100.0)


def test_geographic_target_crs_is_refused() -> None:
    with pytest.raises(qh.CRSError, match="geographic"):
        qn.from_lines(lines_gdf([[(0, 0), (100, 0)]]), crs=4326)


def test_zero_length_and_invalid_lines_dropped_and_counted() -> None:
    gdf = lines_gdf([[(0, 0), (100, 0)], [(5, 5), (5, 5)]])
    gdf.loc[2, "geometry"] = Point(1, 1)
    with pytest.warns(
        qh.QuarterHourWarning, match=r"dropped 1 invalid or non-line .* and 1 zero-length"
    ):
        net = qn.from_lines(gdf)
    assert net.n_edges == 1
    assert net.report["dropped_zero_length"] == 1
    assert net.report["dropped_invalid"] == 1


def test_no_walkable_ways() -> None:
    with pytest.raises(qh.EmptyNetworkError, match="no walkable ways"):
        qn.from_lines(lines_gdf([[(0, 0), (100, 0)]], highway=["motorway"]))


def test_points_far_from_network_are_reported(cross: qn.WalkNetwork) -> None:
    pts = gpd.GeoDataFrame(
        geometry=[Point(10, 10), Point(5000, 5000)], index=["gate-a", "gate-far"], crs=UTM50
    )
    with pytest.warns(qh.QuarterHourWarning, match=r"1 of 2 points .*gate-far"):
        s = cross.snap(pts, max_snap_m=300)
    assert s.far_ids == ["gate-far"]
    assert s.ok.tolist() == [True, False]


def test_points_validation(cross: qn.WalkNetwork) -> None:
    with pytest.raises(qh.CRSError, match="has no CRS"):
        cross.snap(gpd.GeoSeries([Point(0, 0)]))
    with pytest.raises(qh.InputError, match="must be Points"):
        cross.snap(gpd.GeoSeries([LineString([(0, 0), (1, 1)])], crs=UTM50))
    with pytest.raises(qh.InputError, match="empty or missing geometry"):
        cross.snap(gpd.GeoSeries([Point()], crs=UTM50))
    with pytest.raises(qh.InputError, match="duplicate ids"):
        cross.snap(gpd.GeoSeries([Point(0, 0), Point(1, 1)], index=["a", "a"], crs=UTM50))
    with pytest.raises(qh.InputError, match="NaN"):
        cross.snap(np.array([[np.nan, 0.0]]))


def test_points_in_other_crs_are_reprojected(cross: qn.WalkNetwork) -> None:
    wgs = gpd.GeoSeries([Point(30.0, 250.0)], crs=UTM50).to_crs(4326)
    s = cross.snap(wgs)
    assert s.access_m[0] == pytest.approx(30.0, abs=1e-6)


# ---- real data against networkx ---------------------------------------------------------------


def _random_points(net: qn.WalkNetwork, k: int, seed: int) -> np.ndarray:
    """Points scattered near the streets: a random spot on a random edge, moved up to 40 m."""
    rng = np.random.default_rng(seed)
    e = rng.integers(0, net.n_edges, k)
    t = rng.uniform(0, 1, k)
    base = shapely.get_coordinates(
        shapely.line_interpolate_point(net.edge_geometry[e], t, normalized=True)
    )
    return base + rng.uniform(-40, 40, (k, 2))


def _check_against_networkx(net: qn.WalkNetwork, n_origins: int, n_targets: int, seed: int) -> int:
    origins = _random_points(net, n_origins, seed)
    targets = _random_points(net, n_targets, seed + 1)
    ours = net.distances(origins, targets, limit_m=1200.0, max_snap_m=1e6)
    G = reference_graph(net.edge_u, net.edge_v, net.edge_geometry, np.vstack([origins, targets]))
    checked = 0
    for i in range(n_origins):
        ref = reference_distances(G, ("p", i), cutoff=1200.0)
        for j in range(n_targets):
            want = ref.get(("p", n_origins + j), np.inf)
            got = ours[i, j]
            if np.isinf(want):
                assert np.isinf(got) or got > 1200 - 0.01, (i, j, got)
            else:
                assert got == pytest.approx(want, abs=0.01), (i, j)
                checked += 1
    return checked


def test_helsinki_distances_equal_networkx(helsinki_pbf: Path) -> None:
    net = qn.from_osm_file(helsinki_pbf)
    assert net.crs.to_epsg() == 32635  # UTM 35N, chosen from the data
    checked = _check_against_networkx(net, n_origins=12, n_targets=60, seed=1)
    assert checked >= 300  # hundreds of finite pairs compared


@pytest.mark.shared_data
def test_china_distances_equal_networkx(china_osm: Path) -> None:
    net = qn.from_osm_file(china_osm)
    assert net.crs.to_epsg() == 32650
    checked = _check_against_networkx(net, n_origins=10, n_targets=50, seed=2)
    assert checked >= 100


def test_osm_walkable_filter_on_real_data(helsinki_pbf: Path) -> None:
    net = qn.from_osm_file(helsinki_pbf)
    hw = set(net.edge_attrs["highway"])
    assert "footway" in hw
    assert not hw & {"motorway", "motorway_link"}


def test_osm_bbox_clip(helsinki_pbf: Path) -> None:
    full = qn.from_osm_file(helsinki_pbf)
    lonlat = gpd.GeoSeries(shapely.points(full.node_xy), crs=full.crs).to_crs(4326)
    w, s, e, n = lonlat.total_bounds
    half = (w, s, (w + e) / 2, n)
    part = qn.from_osm_file(helsinki_pbf, bbox=half)
    assert 0 < part.total_length_m < full.total_length_m
    inside = gpd.GeoSeries(shapely.points(part.node_xy), crs=part.crs).to_crs(4326)
    assert inside.x.max() <= (w + e) / 2 + 1e-9


def test_osm_bbox_with_nothing(helsinki_pbf: Path) -> None:
    with pytest.raises(qh.EmptyNetworkError, match="no"):
        qn.from_osm_file(helsinki_pbf, bbox=(0.0, 0.0, 0.001, 0.001))


def test_pickle_roundtrip(cross: qn.WalkNetwork) -> None:
    import pickle

    cross.snap(np.array([[1.0, 1.0]]))  # builds the STRtree cache
    again = pickle.loads(pickle.dumps(cross))
    assert again.distances(np.array([[0.0, 500.0]]), np.array([[0.0, 400.0]]))[
        0, 0
    ] == pytest.approx(100)


def test_grouped_search_equals_min_over_members(helsinki_pbf: Path) -> None:
    """One virtual source per group gives, for every target, the minimum over the group's
    origins, and names an origin that achieves it."""
    net = qn.from_osm_file(helsinki_pbf)
    pts = _random_points(net, 60, seed=4)
    targets = _random_points(net, 80, seed=5)
    so, st = net.snap(pts, max_snap_m=1e6), net.snap(targets, max_snap_m=1e6)
    aug = net.augment(so, st)
    groups = np.arange(60) // 4
    i, j, d = aug.pairs_within(aug.access_nodes(0), aug.access_nodes(1), limit_m=800, groups=groups)
    full = aug.many_to_many(aug.access_nodes(0), aug.access_nodes(1), limit_m=800)
    want = {}
    for g in range(15):
        block = full[groups == g].min(axis=0)
        for t in np.flatnonzero(np.isfinite(block)):
            want[(g, t)] = block[t]
    got = {(int(groups[a]), int(b)): c for a, b, c in zip(i, j, d, strict=True)}
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-9)
    # the origin named for each pair really is at that distance
    assert np.allclose(full[i, j], d, atol=1e-9)


def test_graphml_roundtrip(tmp_path: Path) -> None:
    import osmnx as ox

    G = nx.MultiDiGraph(crs="EPSG:4326")
    # a 2-edge street near Beijing, as osmnx would hold it (both directions)
    G.add_node(1, x=116.3500, y=40.0000)
    G.add_node(2, x=116.3500, y=40.0010)
    G.add_node(3, x=116.3510, y=40.0010)
    for u, v in [(1, 2), (2, 3)]:
        for a, b in [(u, v), (v, u)]:
            G.add_edge(a, b, highway="residential", osmid=7, length=1.0)
    path = tmp_path / "street.graphml"
    ox.save_graphml(G, path)
    net = qn.from_graphml(path)
    assert net.n_edges == 2  # the reverse directions are one walkable street each
    geod = __import__("pyproj").Geod(ellps="WGS84")
    want = geod.line_length([116.35, 116.35, 116.351], [40.0, 40.001, 40.001])
    assert net.total_length_m == pytest.approx(want, rel=1e-3)
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml>")
    with pytest.raises(qh.InputFileError, match="GraphML"):
        qn.from_graphml(bad)


@pytest.mark.network
def test_from_place_live() -> None:  # pragma: no cover - needs the internet
    net = qn.from_place(point=(39.9042, 116.4074), dist_m=300)
    assert net.n_edges > 10
    assert net.crs.is_projected
