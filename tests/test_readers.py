"""Tests for quarter_hour.readers: formats, encodings, coordinate systems and bad input."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
from shapely.geometry import Point, Polygon

from quarter_hour import CRSError, InputError, InputFileError, QuarterHourWarning
from quarter_hour import coords as qc
from quarter_hour import readers as qr

GEOD = pyproj.Geod(ellps="WGS84")

# Real places in Hangzhou (WGS-84, from OSM-style coordinates) used as ground truth.
WGS = [(120.1693, 30.2590), (120.1812, 30.2447), (120.1655, 30.2362)]
NAMES = ["全家便利店(解放路店)", "同仁堂药店", "菜鸟驿站"]
ADDRS = ["解放路108号", "清泰街20号", "望江东路333号"]


def _geod_m(x1, y1, x2, y2) -> np.ndarray:
    _, _, d = GEOD.inv(np.asarray(x1), np.asarray(y1), np.asarray(x2), np.asarray(y2))
    return np.asarray(d)


def _write(path: Path, lines: list[str], encoding: str) -> Path:
    path.write_bytes("\n".join(lines).encode(encoding) + b"\n")
    return path


def _gcj_rows() -> list[tuple[float, float]]:
    gx, gy = qc.wgs84_to_gcj02([p[0] for p in WGS], [p[1] for p in WGS])
    return [(round(float(a), 6), round(float(b), 6)) for a, b in zip(gx, gy, strict=True)]


def _assert_near_truth(gdf: gpd.GeoDataFrame, tol_m: float = 0.5) -> None:
    assert gdf.crs.to_epsg() == 4326
    d = _geod_m(gdf.geometry.x, gdf.geometry.y, [p[0] for p in WGS], [p[1] for p in WGS])
    assert d.max() < tol_m, d


# --------------------------------------------------------------------------------------------
# CSV in each encoding
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030")],
)
def test_csv_encodings(tmp_path, caplog, encoding, detected) -> None:
    names = list(NAMES)
    if encoding == "gb18030":
        names[2] = "𠮷野家(望江店)"  # CJK Ext-B: four bytes in GB18030, absent from GBK
    lines = ["名称,地址,类型,经度,纬度"]
    for n, a, (x, y) in zip(names, ADDRS, _gcj_rows(), strict=True):
        lines.append(f"{n},{a},购物服务,{x},{y}")
    path = _write(tmp_path / f"pois_{encoding}.csv", lines, encoding)
    with caplog.at_level(logging.INFO, logger="quarter_hour.readers"):
        gdf = qr.read_points(path, coord_system="gcj02")
    assert f"Detected encoding {detected}" in caplog.text
    assert list(gdf["name"]) == names
    assert list(gdf["address"]) == ADDRS
    assert list(gdf.columns[:5]) == ["poi_id", "name", "address", "type", "typecode"]
    assert gdf["poi_id"].is_unique
    assert gdf.attrs["encoding"] == detected
    _assert_near_truth(gdf)


def test_csv_explicit_wrong_encoding(tmp_path) -> None:
    path = _write(tmp_path / "p.csv", ["名称,经度,纬度", "药店,120.1,30.2"], "gbk")
    with pytest.raises(InputError, match=r"not valid utf-8.*encoding=None"):
        qr.read_points(path, coord_system="wgs84", encoding="utf-8")


def test_mixed_encodings(tmp_path) -> None:
    raw = (
        "名称,经度,纬度\n".encode()
        + "便利店,120.16,30.25\n".encode()
        + "药店,120.17,30.26\n".encode("gbk")
    )
    path = tmp_path / "mixed.csv"
    path.write_bytes(raw)
    with pytest.raises(InputError, match=r"mixes text encodings: lines 1, 2 are UTF-8 but lines 3"):
        qr.read_points(path, coord_system="gcj02")


def test_undecodable_bytes(tmp_path) -> None:
    path = tmp_path / "junk.csv"
    path.write_bytes(b"name,lng\n\x81\x30\xff\xff\x80\x80,1\n")
    with pytest.raises(InputError, match=r"Cannot decode .*junk\.csv"):
        qr.read_points(path, coord_system="wgs84")


def test_tsv_and_semicolon(tmp_path) -> None:
    rows = _gcj_rows()
    tsv = _write(
        tmp_path / "p.tsv",
        ["name\tlng\tlat"] + [f"{n}\t{x}\t{y}" for n, (x, y) in zip(NAMES, rows, strict=True)],
        "utf-8",
    )
    _assert_near_truth(qr.read_points(tsv, provider="amap"))
    semi = _write(
        tmp_path / "p.csv",
        ["name;lon;lat"] + [f"{n};{x};{y}" for n, (x, y) in zip(NAMES, rows, strict=True)],
        "utf-8",
    )
    _assert_near_truth(qr.read_points(semi, coord_system="GCJ-02"))


def test_location_column(tmp_path) -> None:
    lines = ["name,location"] + [
        f'{n},"{x},{y}"' for n, (x, y) in zip(NAMES, _gcj_rows(), strict=True)
    ]
    gdf = qr.read_points(_write(tmp_path / "amap.csv", lines, "utf-8"), provider="高德")
    _assert_near_truth(gdf)
    assert "location" not in gdf.columns
    assert gdf.attrs["coordinates"].startswith("column location")


def test_wkt_column(tmp_path) -> None:
    lines = ["name,wkt"] + [f'{n},"POINT ({x} {y})"' for n, (x, y) in zip(NAMES, WGS, strict=True)]
    gdf = qr.read_points(_write(tmp_path / "w.csv", lines, "utf-8"), coord_system="wgs84")
    _assert_near_truth(gdf, tol_m=1e-6)


# --------------------------------------------------------------------------------------------
# Excel, GIS formats, in-memory frames
# --------------------------------------------------------------------------------------------
def test_excel_chinese_headers(tmp_path) -> None:
    bx, by = qc.wgs84_to_bd09([p[0] for p in WGS], [p[1] for p in WGS])
    df = pd.DataFrame(
        {
            "编号": ["A1", "A2", "A3"],
            "名称": NAMES,
            "地址": ADDRS,
            "纬度": by,
            "经度": bx,
            "电话": ["", "0571", None],
        }
    )
    path = tmp_path / "baidu.xlsx"
    with pd.ExcelWriter(path) as xw:
        pd.DataFrame({"说明": ["cover sheet"]}).to_excel(xw, sheet_name="说明", index=False)
        df.to_excel(xw, sheet_name="POI", index=False)
    gdf = qr.read_points(path, provider="baidu", layer="POI")
    assert list(gdf["poi_id"]) == ["A1", "A2", "A3"]
    assert "电话" in gdf.columns
    _assert_near_truth(gdf)
    with pytest.raises(InputError, match=r"No coordinates found.*Columns found: 说明"):
        qr.read_points(path, provider="baidu")


@pytest.mark.parametrize(
    ("suffix", "driver"), [(".geojson", "GeoJSON"), (".gpkg", "GPKG"), (".shp", "ESRI Shapefile")]
)
def test_gis_formats(tmp_path, suffix, driver) -> None:
    src = gpd.GeoDataFrame(
        {"name": NAMES, "addr": ADDRS}, geometry=[Point(p) for p in WGS], crs=4326
    )
    path = tmp_path / f"pois{suffix}"
    src.to_file(path, driver=driver)
    gdf = qr.read_points(path)  # the file's CRS declares WGS-84
    assert list(gdf["name"]) == NAMES
    assert list(gdf["address"]) == ADDRS
    _assert_near_truth(gdf, tol_m=1e-3)


def test_projected_gpkg_is_reprojected(tmp_path) -> None:
    src = gpd.GeoDataFrame({"name": NAMES}, geometry=[Point(p) for p in WGS], crs=4326)
    path = tmp_path / "utm.gpkg"
    src.to_crs(32651).to_file(path)
    _assert_near_truth(qr.read_points(path), tol_m=1e-3)
    with pytest.raises(CRSError, match=r"projected CRS .* cannot be GCJ02"):
        qr.read_points(path, coord_system="gcj02")


def test_shapefile_gbk_without_cpg(tmp_path, caplog) -> None:
    src = gpd.GeoDataFrame({"name": NAMES}, geometry=[Point(p) for p in WGS], crs=4326)
    path = tmp_path / "gbk.shp"
    src.to_file(path, encoding="gbk")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    with caplog.at_level(logging.INFO, logger="quarter_hour.readers"):
        gdf = qr.read_points(path)
    assert list(gdf["name"]) == NAMES
    assert "no .cpg" in caplog.text


def test_non_point_geometry(tmp_path) -> None:
    src = gpd.GeoDataFrame(
        {"name": ["a", "b"]},
        crs=4326,
        geometry=[Point(WGS[0]), Polygon([(120.1, 30.1), (120.2, 30.1), (120.2, 30.2)])],
    )
    path = tmp_path / "mixed.geojson"
    src.to_file(path)
    with pytest.raises(InputError, match=r"non-point geometries \(Polygon\) in feature 2\."):
        qr.read_points(path)


def test_geodataframe_and_dataframe_inputs() -> None:
    gx, gy = qc.wgs84_to_gcj02([p[0] for p in WGS], [p[1] for p in WGS])
    gdf_in = gpd.GeoDataFrame({"name": NAMES}, geometry=gpd.points_from_xy(gx, gy))
    out = qr.read_points(gdf_in, coord_system="gcj02")
    _assert_near_truth(out)
    assert gdf_in.geometry.x.iloc[0] == gx[0]  # caller's frame untouched
    with pytest.raises(CRSError, match=r"GCJ-02.*coord_system="):
        qr.read_points(gdf_in)  # no CRS, no declaration, points in China
    df = pd.DataFrame({"Name": NAMES, "Longitude": gx, "Latitude": gy})
    _assert_near_truth(qr.read_points(df, coord_system="gcj02"))


# --------------------------------------------------------------------------------------------
# coordinate systems
# --------------------------------------------------------------------------------------------
def test_undeclared_in_china_is_refused(tmp_path) -> None:
    lines = ["name,lng,lat", "a,116.35,40.0"]
    with pytest.raises(CRSError, match=r"WGS-84.*GCJ-02.*BD-09.*coord_system='wgs84', 'gcj02'"):
        qr.read_points(_write(tmp_path / "x.csv", lines, "utf-8"))


def test_undeclared_outside_china_is_wgs84(tmp_path) -> None:
    lines = ["name,lng,lat", "Stockmann,24.9410,60.1687", "Kamppi,24.9316,60.1690"]
    gdf = qr.read_points(_write(tmp_path / "hel.csv", lines, "utf-8"))
    assert gdf.attrs["coord_system"] == "wgs84"
    assert gdf.geometry.x.iloc[0] == 24.9410


@pytest.mark.parametrize(
    ("provider", "system"),
    [("amap", "gcj02"), ("Baidu", "bd09"), ("osm", "wgs84"), ("gps", "wgs84")],
)
def test_provider_defaults(tmp_path, provider, system) -> None:
    x, y = qc.convert([p[0] for p in WGS], [p[1] for p in WGS], src="wgs84", dst=system)
    lines = ["name,lng,lat"] + [f"{n},{a:.8f},{b:.8f}" for n, a, b in zip(NAMES, x, y, strict=True)]
    gdf = qr.read_points(_write(tmp_path / "p.csv", lines, "utf-8"), provider=provider)
    assert gdf.attrs["coord_system"] == system
    _assert_near_truth(gdf, tol_m=0.01)


def test_unknown_provider(tmp_path) -> None:
    path = _write(tmp_path / "p.csv", ["name,lng,lat", "a,120.1,30.2"], "utf-8")
    with pytest.raises(InputError, match=r"Unknown `provider` 'google'"):
        qr.read_points(path, provider="google")


def test_swapped_columns_fixed_with_warning(tmp_path) -> None:
    lines = ["name,lng,lat"]
    for i, (n, (x, y)) in enumerate(zip(NAMES, WGS, strict=True)):
        lines.append(f"{n},{y},{x}" if i in (0, 2) else f"{n},{x},{y}")
    path = _write(tmp_path / "sw.csv", lines, "utf-8")
    # the swapped rows are file lines 2 and 4 (the header is line 1)
    with pytest.warns(QuarterHourWarning, match=r"swapped in 2 of 3 points .*\(rows 2, 4\)"):
        gdf = qr.read_points(path, coord_system="wgs84")
    _assert_near_truth(gdf, tol_m=1e-6)


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------
def test_missing_file(tmp_path) -> None:
    with pytest.raises(InputFileError, match=r"File not found: .*nope\.csv"):
        qr.read_points(tmp_path / "nope.csv", coord_system="wgs84")


def test_unknown_suffix(tmp_path) -> None:
    path = tmp_path / "p.docx"
    path.write_bytes(b"x")
    with pytest.raises(InputFileError, match=r"Unknown file type '\.docx'"):
        qr.read_points(path)


def test_empty_file_and_header_only(tmp_path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputFileError, match=r"empty\.csv is empty"):
        qr.read_points(empty, coord_system="wgs84")
    header = _write(tmp_path / "header.csv", ["名称,经度,纬度"], "gbk")
    with pytest.raises(InputFileError, match=r"header but no data rows. Columns found: 名称, 经度"):
        qr.read_points(header, coord_system="wgs84")


def test_missing_coordinate_columns_lists_columns(tmp_path) -> None:
    path = _write(tmp_path / "nocoord.csv", ["名称,地址,电话", "药店,清泰街,0571"], "gbk")
    with pytest.raises(InputError, match=r"No coordinates found .*Columns found: 名称, 地址, 电话"):
        qr.read_points(path, coord_system="wgs84")
    with pytest.raises(InputError, match=r"\['X'\] not found .*Columns found: 名称"):
        qr.read_points(path, coord_system="wgs84", lng_col="X", lat_col="地址")


def test_non_numeric_and_out_of_range_rows(tmp_path) -> None:
    lines = [
        "name,lng,lat",  # line 1
        "a,120.16,30.25",  # 2
        "b,120.1x,30.25",  # 3 non-numeric
        "c,220.16,30.25",  # 4 out of range
        "d,120.16,30.25",  # 5
        "e,120.16,",  # 6 missing
        "f,120.16,北纬30度",  # 7 non-numeric
    ]
    path = _write(tmp_path / "x.csv", lines, "utf-8")
    with pytest.raises(InputError, match=r"x\.csv: non-numeric coordinates in rows 3, 7 ") as info:
        qr.read_points(path, coord_system="wgs84")
    text = str(info.value)
    assert "out of range" in text
    assert "row 4 " in text
    assert "missing coordinates in row 6" in text
    assert str(path) in text
    with pytest.warns(QuarterHourWarning, match=r"Dropped 4 points"):
        gdf = qr.read_points(path, coord_system="wgs84", drop_invalid=True)
    assert list(gdf["name"]) == ["a", "d"]


def test_null_island_is_invalid(tmp_path) -> None:
    path = _write(tmp_path / "z.csv", ["name,lng,lat", "a,0,0"], "utf-8")
    with pytest.raises(InputError, match=r"\(0, 0\).*row 2"):
        qr.read_points(path, coord_system="wgs84")


def test_duplicates_by_id(tmp_path) -> None:
    lines = ["id,name,lng,lat", "1,a,120.16,30.25", "2,b,120.17,30.25", "1,a,120.16,30.25"]
    path = _write(tmp_path / "d.csv", lines, "utf-8")
    with pytest.warns(QuarterHourWarning, match=r"Dropped 1 duplicated records .*same poi_id"):
        gdf = qr.read_points(path, coord_system="wgs84")
    assert list(gdf["poi_id"]) == ["1", "2"]


def test_duplicates_by_name_and_position(tmp_path) -> None:
    # 0.00003 degrees of latitude is ~3.3 m: a duplicate; 0.001 is ~111 m: a second branch
    lines = [
        "name,lng,lat",
        "瑞幸咖啡,120.16,30.25",
        "瑞幸咖啡,120.16,30.25003",
        "瑞幸咖啡,120.16,30.251",
        "星巴克,120.16,30.25",
    ]
    path = _write(tmp_path / "d.csv", lines, "utf-8")
    with pytest.warns(QuarterHourWarning, match=r"Dropped 1 duplicated records .*within 5 m"):
        gdf = qr.read_points(path, coord_system="wgs84")
    assert list(gdf["name"]) == ["瑞幸咖啡", "瑞幸咖啡", "星巴克"]
    assert list(gdf["poi_id"]) == ["d_2", "d_4", "d_5"]
    assert len(qr.read_points(path, coord_system="wgs84", dedupe_m=0)) == 4


# --------------------------------------------------------------------------------------------
# gates and compounds
# --------------------------------------------------------------------------------------------
def test_gates_table_chinese_columns(tmp_path) -> None:
    lines = [
        "小区,大门,户数,经度,纬度",
        "定安苑,东门,320,120.1690,30.2440",
        "定安苑,北门,320,120.1680,30.2450",
        "清波苑,南门,,120.1600,30.2400",
    ]
    gates = qr.read_points(
        _write(tmp_path / "g.csv", lines, "gbk"), kind="gates", coord_system="wgs84"
    )
    assert list(gates.columns[:4]) == ["gate_id", "compound_id", "compound_name", "households"]
    assert list(gates["gate_id"]) == ["定安苑_g1", "定安苑_g2", "清波苑_g1"]
    assert list(gates["compound_id"]) == ["定安苑", "定安苑", "清波苑"]
    assert list(gates["gate_name"]) == ["东门", "北门", "南门"]
    assert gates["households"].iloc[0] == 320.0
    assert np.isnan(gates["households"].iloc[2])


def test_gates_without_compound_column(tmp_path) -> None:
    path = _write(tmp_path / "g.csv", ["名称,经度,纬度", "定安苑,120.169,30.244"], "utf-8")
    with pytest.raises(
        InputError, match=r"no compound column .*Columns found: 名称.*kind='compounds'"
    ):
        qr.read_points(path, kind="gates", coord_system="wgs84")
    comp = qr.read_points(path, kind="compounds", coord_system="wgs84")
    assert list(comp["compound_id"]) == ["定安苑"]
    assert list(comp["compound_name"]) == ["定安苑"]


def test_non_numeric_households(tmp_path) -> None:
    lines = ["小区,户数,经度,纬度", "a,300,120.1,30.2", "b,约300户,120.2,30.2"]
    with pytest.raises(InputError, match=r"Non-numeric households \(户数\) in row 3 "):
        qr.read_points(
            _write(tmp_path / "h.csv", lines, "utf-8"), kind="gates", coord_system="wgs84"
        )


# --------------------------------------------------------------------------------------------
# Amap TSV
# --------------------------------------------------------------------------------------------
def test_amap_tsv_written(tmp_path) -> None:
    wx, wy = [p[0] for p in WGS], [p[1] for p in WGS]
    gx, gy = qc.wgs84_to_gcj02(wx, wy)
    bx, by = qc.gcj02_to_bd09(gx, gy)
    lines = []
    for i in range(3):
        lines.append(
            "\t".join(
                [
                    f" {NAMES[i]}",
                    f" {ADDRS[i]}",
                    " ",
                    " 购物服务;便民商店/便利店;便民商店/便利店",
                    f" {wx[i]:.6f},{wy[i]:.6f}",
                    f" {gx[i]:.6f},{gy[i]:.6f}",
                    f" {bx[i]:.6f},{by[i]:.6f}",
                ]
            )
        )
    path = _write(tmp_path / "dump.tsv", lines, "utf-8")
    for system in ("gcj02", "bd09", "wgs84"):
        gdf = qr.read_amap_tsv(path, coord_system=system)
        assert list(gdf["name"]) == NAMES  # leading spaces stripped
        assert list(gdf["poi_id"]) == ["amap_1", "amap_2", "amap_3"]
        assert list(gdf["line"]) == [1, 2, 3]
        _assert_near_truth(gdf, tol_m=0.2)  # 6 decimals ~ 0.1 m
    # read_points recognises the format and defaults to the GCJ-02 column
    assert qr.read_points(path).attrs["coord_system"] == "gcj02"
    other = _write(tmp_path / "other.tsv", ["name\tlng\tlat", "a\t120.1\t30.2"], "utf-8")
    with pytest.raises(InputError, match=r"not an Amap TSV dump"):
        qr.read_amap_tsv(other)


@pytest.mark.shared_data
def test_amap_tsv_real(amap_tsv) -> None:
    with pytest.warns(QuarterHourWarning, match=r"duplicated records"):
        gcj = qr.read_amap_tsv(amap_tsv)
    assert len(gcj) > 22_000
    with pytest.warns(QuarterHourWarning, match=r"duplicated records"):
        wgs = qr.read_amap_tsv(amap_tsv, coord_system="wgs84")
    with pytest.warns(QuarterHourWarning, match=r"duplicated records"):
        bd = qr.read_amap_tsv(amap_tsv, coord_system="bd09")
    assert list(gcj["line"]) == list(wgs["line"]) == list(bd["line"])
    # column 5 (WGS-84 made by an approximate inverse, ~2 m) vs our correction of column 6
    d = _geod_m(gcj.geometry.x, gcj.geometry.y, wgs.geometry.x, wgs.geometry.y)
    assert d.max() < 2.5
    d_bd = _geod_m(gcj.geometry.x, gcj.geometry.y, bd.geometry.x, bd.geometry.y)
    assert d_bd.max() < 0.1
    assert gcj["type"].str.contains(";").mean() > 0.99
    assert not gcj["name"].str.startswith(" ").any()


# --------------------------------------------------------------------------------------------
# undeclared GCJ-02 offset
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def haidian_streets(shared_data_dir) -> gpd.GeoDataFrame:
    import osmnx as ox

    path = shared_data_dir / "osm" / "beijing_haidian_xueqing.osm.bz2"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    feats = ox.features_from_xml(path, tags={"highway": True})
    lines = feats[feats.geom_type == "LineString"]
    assert len(lines) > 200
    return lines[["highway", "geometry"]].reset_index(drop=True)


def _points_on_streets(streets: gpd.GeoDataFrame, n: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(streets), n)
    frac = rng.random(n)
    pts = [
        streets.geometry.iloc[i].interpolate(f, normalized=True)
        for i, f in zip(idx, frac, strict=True)
    ]
    return np.array([p.x for p in pts]), np.array([p.y for p in pts])


@pytest.mark.shared_data
def test_check_offset_detects_undeclared_gcj(haidian_streets) -> None:
    x, y = _points_on_streets(haidian_streets, 300, seed=4)
    gx, gy = qc.wgs84_to_gcj02(x, y)
    labelled_wgs = gpd.GeoDataFrame(geometry=gpd.points_from_xy(gx, gy), crs=4326)
    with pytest.warns(QuarterHourWarning, match=r"sit where GCJ-02 .*coord_system='gcj02'"):
        res = qr.check_offset(labelled_wgs, haidian_streets)
    assert res.suspicious
    assert res.likely_system == "gcj02"
    assert res.median_if_gcj02_m < 0.5  # back on the streets
    assert res.median_as_given_m > 10 * max(res.median_if_gcj02_m, 1.0)


@pytest.mark.shared_data
def test_check_offset_quiet_on_true_wgs(haidian_streets) -> None:
    x, y = _points_on_streets(haidian_streets, 300, seed=5)
    # a small realistic scatter (points beside, not on, the street): up to ~15 m
    rng = np.random.default_rng(0)
    x = x + rng.uniform(-1.5e-4, 1.5e-4, x.size)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=4326)
    res = qr.check_offset(pts, haidian_streets)  # filterwarnings=error: no warning allowed
    assert not res.suspicious
    assert res.likely_system == "wgs84"


@pytest.mark.shared_data
def test_read_points_with_streets_warns(tmp_path, haidian_streets) -> None:
    x, y = _points_on_streets(haidian_streets, 80, seed=6)
    gx, gy = qc.wgs84_to_gcj02(x, y)
    lines = ["name,lng,lat"] + [
        f"p{i},{a:.7f},{b:.7f}" for i, (a, b) in enumerate(zip(gx, gy, strict=True))
    ]
    path = _write(tmp_path / "bj.csv", lines, "utf-8")
    with pytest.warns(QuarterHourWarning, match=r"undeclared offset"):
        qr.read_points(path, coord_system="wgs84", streets=haidian_streets)
    qr.read_points(path, coord_system="gcj02", streets=haidian_streets)  # no warning
