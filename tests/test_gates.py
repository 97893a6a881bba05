"""Tests for quarter_hour.gates: gates tables, gates from polygons/points, compounds from OSM."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from quarter_hour import CRSError, InputError, InputFileError, QuarterHourWarning
from quarter_hour import gates as qg

UTM = 32650  # metres


def _gates(**extra) -> gpd.GeoDataFrame:
    data = {"gate_id": ["a_g1", "a_g2", "b_g1"], "compound_id": ["a", "a", "b"]}
    data.update(extra)
    return gpd.GeoDataFrame(data, geometry=[Point(0, 0), Point(10, 0), Point(50, 50)], crs=UTM)


# --------------------------------------------------------------------------------------------
# (1) gates table
# --------------------------------------------------------------------------------------------
def test_validate_gates_fills_optional_columns() -> None:
    g = qg.validate_gates(_gates())
    assert list(g.columns[:5]) == [
        "gate_id",
        "compound_id",
        "compound_name",
        "households",
        "gate_source",
    ]
    assert g["households"].isna().all()
    assert (g["gate_source"] == "surveyed").all()


def test_validate_gates_errors() -> None:
    with pytest.raises(InputError, match=r"lack column\(s\) gate_id\. Columns found: compound_id"):
        qg.validate_gates(_gates().drop(columns="gate_id"))
    dup = _gates()
    dup.loc[2, "gate_id"] = "a_g1"
    with pytest.raises(InputError, match=r"Duplicated gate_id values: a_g1"):
        qg.validate_gates(dup)
    with pytest.raises(CRSError, match=r"no CRS"):
        qg.validate_gates(_gates().set_crs(None, allow_override=True))
    poly = _gates()
    poly.loc[1, "geometry"] = box(0, 0, 1, 1)
    with pytest.raises(InputError, match=r"gate\(s\) a_g2 are Polygon"):
        qg.validate_gates(poly)
    with pytest.raises(InputError, match=r"must be a GeoDataFrame"):
        qg.validate_gates(pd.DataFrame(_gates()))


def test_compounds_from_gates_hand_case() -> None:
    g = _gates(compound_name=[None, "甲小区", "乙小区"], households=[300, 300, np.nan])
    c = qg.compounds_from_gates(g)
    assert list(c.columns) == ["compound_id", "compound_name", "households", "n_gates"]
    assert list(c["compound_id"]) == ["a", "b"]
    assert list(c["compound_name"]) == ["甲小区", "乙小区"]
    assert c["households"].iloc[0] == 300.0
    assert np.isnan(c["households"].iloc[1])
    assert list(c["n_gates"]) == [2, 1]


def test_compounds_from_gates_conflicting_households() -> None:
    g = _gates(households=[300, 320, 80])
    with pytest.warns(QuarterHourWarning, match=r"compound\(s\) a give different households"):
        c = qg.compounds_from_gates(g)
    assert list(c["households"]) == [320.0, 80.0]


# --------------------------------------------------------------------------------------------
# (3) one point per compound
# --------------------------------------------------------------------------------------------
def test_gates_from_points_warns_not_surveyed() -> None:
    pts = gpd.GeoDataFrame(
        {"name": ["定安苑", "清波苑"], "households": [320, None]},
        geometry=[Point(0, 0), Point(100, 0)],
        crs=UTM,
    )
    with pytest.warns(QuarterHourWarning, match=r"Gates were not surveyed: each of the 2 "):
        g = qg.gates_from_points(pts)
    assert list(g["gate_id"]) == ["定安苑_g1", "清波苑_g1"]
    assert list(g["compound_id"]) == ["定安苑", "清波苑"]
    assert list(g["gate_source"]) == ["compound_point"] * 2
    assert g.geometry.equals(pts.geometry)
    assert g["households"].iloc[0] == 320.0


def test_gates_from_points_rejects_polygons() -> None:
    polys = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], crs=UTM)
    with pytest.raises(InputError, match=r"one Point per compound; found Polygon.*gates_from_poly"):
        qg.gates_from_points(polys)


# --------------------------------------------------------------------------------------------
# (2) compound polygons + streets
# --------------------------------------------------------------------------------------------
#
#  y=250 ....................................  (along-boundary road x=200 from y=-50..250)
#              |footway (50,260)->(50,150)
#  y=200  +----*--------o(100,201 entrance)--+
#         |    |                             |
#         |  compound A  200 x 200 m         *  o(203,105) entrance, 5 m from crossing (200,100)
#  y=100  *==================================*====  W-E road y=100, x=-50..300
#         |                                  |
#  (-30,30)---* dead-end path, ends 3 m west  |
#  y=0    +---------------------*-*----------+
#                               | |  two paths x=150 and x=160, 10 m apart -> one gate
#
# Compound B (1000..1080 x 0..200) has no street near it: one fallback gate.
@pytest.fixture
def polygon_case() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    compounds = gpd.GeoDataFrame(
        {"compound_id": ["A", "B"], "name": ["甲", "乙"], "households": [500, 120]},
        geometry=[box(0, 0, 200, 200), box(1000, 0, 1080, 260)],
        crs=UTM,
    )
    streets = gpd.GeoDataFrame(
        {
            "highway": [
                "residential",
                "footway",
                "footway",
                "footway",
                "path",
                "residential",
                "motorway",
                "service",
            ]
        },
        geometry=[
            LineString([(-50, 100), (300, 100)]),  # crosses A twice
            LineString([(50, 260), (50, 150)]),  # enters from the north
            LineString([(150, -40), (150, 60)]),  # two parallel paths crossing south edge
            LineString([(160, -40), (160, 60)]),
            LineString([(-30, 30), (-3, 30)]),  # dead end 3 m from the west edge
            LineString([(200, -50), (200, 250)]),  # runs along the east edge
            LineString([(100, -20), (100, 120)]),  # motorway: not walkable, ignored
            LineString([(-100, 400), (300, 400)]),  # passes by, far away
        ],
        crs=UTM,
    )
    entrances = gpd.GeoDataFrame(
        {"barrier": ["gate", "gate", None], "entrance": [None, None, "main"]},
        geometry=[Point(100, 201), Point(203, 105), Point(100, 100)],
        crs=UTM,
    ).to_crs(4326)  # another CRS on purpose
    return compounds, streets, entrances


def test_gates_from_polygons_hand_case(polygon_case) -> None:
    compounds, streets, entrances = polygon_case
    with pytest.warns(QuarterHourWarning, match=r"1 of 2 compounds have no street .*\(B\)"):
        g = qg.gates_from_polygons(compounds, streets, entrances=entrances)
    a = g[g["compound_id"] == "A"]
    xy = [(round(p.x, 3), round(p.y, 3)) for p in a.geometry]
    # clockwise from north around A's centroid (100, 100)
    assert xy[0] == (100, 201)
    assert xy[1] == (203, 105)  # entrance node wins over the crossing at (200, 100)
    assert xy[2] in {(150, 0), (160, 0)}  # the two paths 10 m apart merged (merge_m=20)
    assert xy[3] == (0, 30)  # dead end touching from outside, snapped onto the boundary
    assert xy[4] == (0, 100)
    assert xy[5] == (50, 200)
    assert len(a) == 6
    assert list(a["gate_id"]) == [f"A_g{k}" for k in range(1, 7)]
    assert list(a["gate_source"]) == [
        "entrance",
        "entrance",
        "street",
        "street",
        "street",
        "street",
    ]
    assert list(a["compound_name"].unique()) == ["甲"]
    assert (a["households"] == 500).all()
    b = g[g["compound_id"] == "B"]
    assert list(b["gate_source"]) == ["centroid"]
    poly = compounds.geometry.iloc[1]
    gate = b.geometry.iloc[0]
    assert poly.exterior.distance(gate) < 1e-6
    assert gate.distance(poly.centroid) == pytest.approx(40.0)  # half the 80 m width
    assert g.attrs["gates_per_compound"] == {"A": 6, "B": 1}
    assert g.crs == compounds.crs


def test_gates_from_polygons_merge_distance(polygon_case) -> None:
    compounds, streets, _ = polygon_case
    with pytest.warns(QuarterHourWarning, match=r"no street"):
        g = qg.gates_from_polygons(compounds, streets, merge_m=5.0)
    south = [p for p in g.geometry if abs(p.y) < 1e-9 and p.x < 1000]
    assert sorted(round(p.x) for p in south) == [150, 160]


def test_gates_from_polygons_entrances_only(polygon_case) -> None:
    compounds, _, entrances = polygon_case
    g = qg.gates_from_polygons(compounds.iloc[:1], entrances=entrances)
    # (100, 100) is a building entrance 100 m inside: not a compound gate
    assert len(g) == 2
    assert set(g["gate_source"]) == {"entrance"}


def test_gates_from_polygons_input_errors(polygon_case) -> None:
    compounds, streets, _ = polygon_case
    with pytest.raises(CRSError, match=r"geographic CRS .*estimate_utm_crs"):
        qg.gates_from_polygons(compounds.to_crs(4326), streets)
    with pytest.raises(InputError, match=r"needs `streets` and/or `entrances`"):
        qg.gates_from_polygons(compounds)
    pts = compounds.copy()
    pts["geometry"] = pts.centroid
    with pytest.raises(InputError, match=r"must be polygons; found Point.*gates_from_points"):
        qg.gates_from_polygons(pts, streets)
    with pytest.raises(InputError, match=r"Column 'nope' not found"):
        qg.gates_from_polygons(compounds, streets, id_col="nope")


# --------------------------------------------------------------------------------------------
# (4) OpenStreetMap
# --------------------------------------------------------------------------------------------
ID_RE = re.compile(r"^osm_(way|relation)_\d+(_group)?$")


def _check_osm_result(res: qg.OsmCompounds) -> None:
    comp, gates = res.compounds, res.gates
    assert comp.crs.to_epsg() == 4326
    assert gates.crs.to_epsg() == 4326
    assert comp["compound_id"].is_unique
    assert all(ID_RE.match(c) for c in comp["compound_id"])
    assert gates["gate_id"].is_unique
    for gid, cid in zip(gates["gate_id"], gates["compound_id"], strict=True):
        assert re.fullmatch(re.escape(cid) + r"_g\d+", gid)
    counts = gates.groupby("compound_id").size()
    assert (comp.set_index("compound_id")["n_gates"] == counts.reindex(comp["compound_id"])).all()
    assert (comp["n_gates"] >= 1).all()
    # every gate lies on or near its own compound's boundary (entrances within 10 m)
    utm = comp.estimate_utm_crs()
    cm = comp.to_crs(utm).set_index("compound_id").geometry
    gm = gates.to_crs(utm)
    d = [cm[c].boundary.distance(p) for c, p in zip(gm["compound_id"], gm.geometry, strict=True)]
    assert max(d) <= 10.0 + 1e-6
    assert set(gates["gate_source"]) <= {"entrance", "street", "centroid"}
    assert len(res.streets) > 100


def test_compounds_from_helsinki_pbf(helsinki_pbf: Path) -> None:
    with pytest.warns(QuarterHourWarning, match=r"compounds have no street or entrance"):
        res = qg.compounds_from_osm(helsinki_pbf)
    _check_osm_result(res)
    assert len(res.compounds) >= 10
    assert (res.compounds.to_crs(3067).area >= 500).all()
    assert {"entrance", "street"} <= set(res.gates["gate_source"])
    assert (res.compounds["osm_source"] == "landuse").all()


@pytest.mark.shared_data
def test_compounds_from_china_osm(china_osm: Path) -> None:
    with pytest.warns(QuarterHourWarning, match=r"compounds have no street or entrance"):
        res = qg.compounds_from_osm(china_osm)
    _check_osm_result(res)
    assert len(res.compounds) == 10  # both extracts map 10 landuse=residential polygons
    assert (res.gates["gate_source"] == "street").sum() >= 10
    if "beijing" in china_osm.name:
        assert "富润家园" in set(res.compounds["compound_name"].dropna())
        assert (res.gates["gate_source"] == "entrance").sum() >= 5


def _osm_xml(path: Path) -> Path:
    """A tiny OSM file: three apartment blocks (two close together) and one footway, no landuse."""
    lat0, lon0 = 60.17, 24.94
    dy, dx = 1 / 111_320, 1 / (111_320 * np.cos(np.radians(lat0)))  # degrees per metre
    nodes, ways = [], []
    nid = 1

    def square(x0: float, y0: float, size: float) -> list[int]:
        nonlocal nid
        ids = []
        for x, y in [(x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size)]:
            nodes.append(f'<node id="{nid}" lat="{lat0 + y * dy:.8f}" lon="{lon0 + x * dx:.8f}"/>')
            ids.append(nid)
            nid += 1
        return [*ids, ids[0]]

    for wid, (x0, y0) in zip((101, 102, 103), [(0, 0), (40, 0), (400, 0)], strict=True):
        refs = "".join(f'<nd ref="{r}"/>' for r in square(x0, y0, 30))
        ways.append(f'<way id="{wid}">{refs}<tag k="building" v="apartments"/></way>')
    start = nid
    for x, y in [(35, -60), (35, 10)]:  # a footway from the south into the gap between blocks
        nodes.append(f'<node id="{nid}" lat="{lat0 + y * dy:.8f}" lon="{lon0 + x * dx:.8f}"/>')
        nid += 1
    ways.append(
        f'<way id="200"><nd ref="{start}"/><nd ref="{start + 1}"/>'
        '<tag k="highway" v="footway"/></way>'
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">\n'
        + "\n".join(nodes + ways)
        + "\n</osm>\n"
    )
    path.write_text(xml, encoding="utf-8")
    return path


def test_compounds_from_grouped_buildings(tmp_path) -> None:
    path = _osm_xml(tmp_path / "blocks.osm")
    with pytest.warns(QuarterHourWarning, match=r"1 of 2 compounds .*osm_way_103_group"):
        res = qg.compounds_from_osm(path, min_area_m2=100)
    comp = res.compounds
    assert list(comp["compound_id"]) == ["osm_way_101_group", "osm_way_103_group"]
    assert (comp["osm_source"] == "buildings").all()
    assert list(comp["n_gates"]) == [1, 1]
    g = res.gates.set_index("compound_id")
    assert g.loc["osm_way_101_group", "gate_source"] == "street"
    assert g.loc["osm_way_103_group", "gate_source"] == "centroid"
    with pytest.raises(InputError, match=r"maps no residential compound"):
        qg.compounds_from_osm(path, include_buildings=False)


def test_compounds_from_osm_bad_paths(tmp_path) -> None:
    with pytest.raises(InputFileError, match=r"OSM file not found"):
        qg.compounds_from_osm(tmp_path / "none.osm.pbf")
    other = tmp_path / "x.csv"
    other.write_text("a")
    with pytest.raises(InputFileError, match=r"Unknown OSM file type"):
        qg.compounds_from_osm(other)
