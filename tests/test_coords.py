"""Tests for quarter_hour.coords: WGS-84 <-> GCJ-02 <-> BD-09."""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
from shapely.geometry import LineString, Point

from quarter_hour import CRSError, InputError
from quarter_hour import coords as qc

GEOD = pyproj.Geod(ellps="WGS84")


def _geod_m(x1, y1, x2, y2) -> np.ndarray:
    """Ellipsoidal distance in metres (pyproj, independent of quarter_hour)."""
    _, _, d = GEOD.inv(np.asarray(x1), np.asarray(y1), np.asarray(x2), np.asarray(y2))
    return np.asarray(d)


@pytest.fixture(scope="module")
def china_grid() -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 points on a 0.25-degree grid over mainland China's bounding box (~36,000)."""
    lng, lat = np.meshgrid(np.arange(73.5, 135.0, 0.25), np.arange(18.0, 53.5, 0.25))
    return lng.ravel(), lat.ravel()


# Published test vectors from public implementations (independent code, same formulas).
# coordtransform_rs (port of wandergis/coordTransform, MIT): wgs84->gcj02 and gcj02->bd09 of
# (116.404, 39.915).
# gcoord (hujiulong/gcoord, MIT), test/unit/crs/GCJ02.spec.js: gcj02->bd09 of (123, 45) and
# gcj02->wgs84 of (123, 45) to 5 decimals; (183, 45) unchanged (outside China).
@pytest.mark.parametrize(
    ("func", "src", "expected", "tol_deg"),
    [
        (qc.wgs84_to_gcj02, (116.404, 39.915), (116.41024449916938, 39.91640428150164), 1e-9),
        (qc.gcj02_to_bd09, (116.404, 39.915), (116.41036949371029, 39.92133699351021), 1e-9),
        (qc.gcj02_to_bd09, (123.0, 45.0), (123.00636499, 45.00636899), 1e-5),
        (qc.gcj02_to_wgs84, (123.0, 45.0), (122.99395597, 44.99804071), 1e-5),
        (qc.gcj02_to_wgs84, (183.0, 45.0), (183.0, 45.0), 0.0),
    ],
)
def test_published_vectors(func, src, expected, tol_deg) -> None:
    x, y = func(*src)
    assert abs(float(x) - expected[0]) <= tol_deg
    assert abs(float(y) - expected[1]) <= tol_deg


def test_geotool_vector_within_5cm() -> None:
    """Rust `geotool` test constants: WGS84 (121.0917077, 30.6107779) -> GCJ02 -> BD09."""
    gx, gy = qc.wgs84_to_gcj02(121.0917077, 30.6107779)
    assert _geod_m(gx, gy, 121.09626935575027, 30.608604331756705) < 0.05
    bx, by = qc.wgs84_to_bd09(121.0917077, 30.6107779)
    assert _geod_m(bx, by, 121.10271732371203, 30.61484572185035) < 0.05


def test_offset_size_is_hundreds_of_metres(china_grid) -> None:
    lng, lat = china_grid
    gx, gy = qc.wgs84_to_gcj02(lng, lat)
    d = _geod_m(lng, lat, gx, gy)
    # GCJ-02 shifts mainland points by roughly 100-700 m, never zero, never kilometres
    assert d.min() > 20
    assert d.max() < 1000
    assert 200 < np.median(d) < 700


def test_gcj_inverse_within_half_metre_across_china(china_grid) -> None:
    lng, lat = china_grid
    assert lng.size > 30_000
    gx, gy = qc.wgs84_to_gcj02(lng, lat)
    wx, wy = qc.gcj02_to_wgs84(gx, gy)
    err = _geod_m(lng, lat, wx, wy)
    assert err.max() < 0.5
    # and in fact far better: a millimetre
    assert err.max() < 1e-3


def test_bd_inverse_within_half_metre_across_china(china_grid) -> None:
    lng, lat = china_grid
    bx, by = qc.wgs84_to_bd09(lng, lat)
    wx, wy = qc.bd09_to_wgs84(bx, by)
    assert _geod_m(lng, lat, wx, wy).max() < 0.5
    gx, gy = qc.wgs84_to_gcj02(lng, lat)
    g2x, g2y = qc.bd09_to_gcj02(bx, by)
    assert _geod_m(gx, gy, g2x, g2y).max() < 1e-3


def test_outside_china_gcj_is_wgs() -> None:
    lng = np.array([24.94, -122.27, 139.69, 72.0, 100.0])  # Helsinki, Oakland, Tokyo, edges
    lat = np.array([60.17, 37.80, 35.69, 30.0, 56.0])
    assert qc.out_of_china(lng, lat).all()
    gx, gy = qc.wgs84_to_gcj02(lng, lat)
    np.testing.assert_array_equal(gx, lng)
    np.testing.assert_array_equal(gy, lat)
    wx, wy = qc.gcj02_to_wgs84(lng, lat)
    np.testing.assert_array_equal(wx, lng)
    np.testing.assert_array_equal(wy, lat)
    assert not qc.out_of_china(116.4, 39.9)


def test_inverse_near_rectangle_edge_converges() -> None:
    # GCJ points just inside the rectangle whose WGS pre-image may fall just outside
    lng = np.array([72.0045, 137.834, 100.0, 100.0])
    lat = np.array([30.0, 30.0, 0.8295, 55.827])
    wx, wy = qc.gcj02_to_wgs84(lng, lat)
    assert np.isfinite(wx).all()
    assert np.isfinite(wy).all()


def test_nan_passes_through() -> None:
    wx, wy = qc.gcj02_to_wgs84([116.4, np.nan], [39.9, np.nan])
    assert np.isfinite(wx[0])
    assert np.isnan(wx[1])
    assert np.isnan(wy[1])


def test_shape_mismatch_and_unknown_system() -> None:
    with pytest.raises(InputError, match="same shape"):
        qc.wgs84_to_gcj02([1.0, 2.0], [1.0])
    with pytest.raises(InputError, match=r"Unknown coordinate system 'utm'.*wgs84, gcj02, bd09"):
        qc.convert(116.4, 39.9, src="utm", dst="wgs84")


@pytest.mark.parametrize("name", ["WGS-84", "gcj_02", "GCJ02", "bd-09", "EPSG:4326"])
def test_parse_aliases(name) -> None:
    assert qc.parse_coord_system(name) in qc.COORD_SYSTEMS


def test_convert_all_pairs_round_trip() -> None:
    lng, lat = np.array([116.3, 120.19, 87.6]), np.array([39.9, 30.25, 43.8])
    for src in qc.COORD_SYSTEMS:
        for dst in qc.COORD_SYSTEMS:
            x, y = qc.convert(lng, lat, src=src, dst=dst)
            bx, by = qc.convert(x, y, src=dst, dst=src)
            assert _geod_m(lng, lat, bx, by).max() < 1e-3


def test_distance_m_matches_geod() -> None:
    d = qc.distance_m(116.3, 39.9, 116.31, 39.91)
    assert float(d) == pytest.approx(float(_geod_m(116.3, 39.9, 116.31, 39.91)), rel=5e-3)


def test_to_wgs84_geoseries_and_frame() -> None:
    w = (116.35, 40.0)
    g = qc.wgs84_to_gcj02(*w)
    s = gpd.GeoSeries([Point(float(g[0]), float(g[1]))], crs=4326)
    out = qc.to_wgs84(s, "gcj02")
    assert out.crs.to_epsg() == 4326
    assert _geod_m(out.x.iloc[0], out.y.iloc[0], *w) < 1e-3
    assert s.x.iloc[0] == float(g[0])  # input untouched

    line = LineString([(float(g[0]), float(g[1])), (float(g[0]) + 0.01, float(g[1]))])
    df = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[Point(float(g[0]), float(g[1])), line])
    out2 = qc.to_wgs84(df, "GCJ-02")
    assert list(out2["name"]) == ["a", "b"]
    x0, y0 = out2.geometry.iloc[1].coords[0]
    assert _geod_m(x0, y0, *w) < 1e-3


def test_to_wgs84_projected_crs() -> None:
    s = gpd.GeoSeries([Point(500000, 4400000)], crs=32650)
    assert qc.to_wgs84(s, "wgs84").crs.to_epsg() == 4326
    with pytest.raises(CRSError, match=r"projected CRS.*longitude/latitude"):
        qc.to_wgs84(s, "gcj02")


def _amap_triples(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    df = pd.read_csv(
        path, sep="\t", header=None, dtype=str, quoting=csv.QUOTE_NONE, keep_default_na=False
    )
    out = {}
    for col, name in [(4, "wgs84"), (5, "gcj02"), (6, "bd09")]:
        xy = df[col].str.strip().str.split(",", expand=True).astype(float).to_numpy()
        out[name] = (xy[:, 0], xy[:, 1])
    return out


@pytest.mark.shared_data
def test_real_amap_triples(amap_tsv: Path) -> None:
    t = _amap_triples(amap_tsv)
    n = t["gcj02"][0].size
    assert n > 20_000
    # GCJ -> BD exact (the README says < 0.1 m), both directions
    assert _geod_m(*qc.gcj02_to_bd09(*t["gcj02"]), *t["bd09"]).max() < 0.1
    assert _geod_m(*qc.bd09_to_gcj02(*t["bd09"]), *t["gcj02"]).max() < 0.1
    # WGS column was made by an approximate inverse, good to ~2 m
    assert _geod_m(*qc.gcj02_to_wgs84(*t["gcj02"]), *t["wgs84"]).max() < 2.5
    assert _geod_m(*qc.bd09_to_wgs84(*t["bd09"]), *t["wgs84"]).max() < 2.5
    # and the raw offset is hundreds of metres, so the agreement is not trivial
    assert np.median(_geod_m(*t["wgs84"], *t["gcj02"])) > 300
