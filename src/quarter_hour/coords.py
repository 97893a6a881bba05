"""Chinese coordinate systems: WGS-84, GCJ-02 and BD-09, vectorised over numpy arrays.

* **WGS-84** (EPSG:4326): OpenStreetMap, GPS receivers, most GIS files.
* **GCJ-02** ("Mars coordinates", 火星坐标): the obfuscated system that Chinese law requires of
  published maps; used by Amap/高德, Tencent/腾讯 and Google Maps in mainland China. A GCJ-02 point
  sits 100-700 m from its WGS-84 position, by an amount that varies smoothly across the country.
* **BD-09**: Baidu's second offset applied on top of GCJ-02 (another ~0.5-1 km).

Formula origin
--------------
The forward WGS-84 -> GCJ-02 transform is the widely circulated reconstruction of the official
algorithm (a Krasovsky-ellipsoid ``a = 6378245 m``, ``e^2 = 0.00669342162296594323`` offset made
of polynomial and sine terms in ``lng - 105``, ``lat - 35``), known from the public-domain
"ChinaMapShift"/"eviltransform" code and many re-implementations since about 2010. The GCJ-02 <->
BD-09 step is Baidu's published rotation/scaling (``x_pi = pi * 3000 / 180``). The code below is
written from those formulas; there is no closed-form inverse, so GCJ-02 -> WGS-84 and BD-09 ->
GCJ-02 are computed by fixed-point iteration on the forward transform (see
:func:`gcj02_to_wgs84`), which converges to well under a millimetre.

Out-of-China rule
-----------------
GCJ-02 is only applied in mainland China. Like the usual implementations, this module uses the
rectangle test ``72.004 <= lng <= 137.8347`` and ``0.8293 <= lat <= 55.8271`` (degrees): outside
it, GCJ-02 equals WGS-84. The rectangle is coarse (it includes e.g. Korea, Japan's west and parts
of South-East Asia), which is what Amap and the common libraries do too. BD-09 is treated as
GCJ-02 plus Baidu's offset everywhere.

Accuracy
--------
Forward transforms are exact (to floating point) with respect to the formulas. The iterative
inverses stop when the forward transform of the estimate is within ``1e-10`` degrees (about
0.01 mm) of the input; the tests check a worst case below 0.5 m over a grid covering China.
"""

from __future__ import annotations

import logging
from typing import Literal, TypeVar

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

from ._errors import CRSError, InputError

log = logging.getLogger(__name__)

__all__ = [
    "COORD_SYSTEMS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "convert",
    "distance_m",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "out_of_china",
    "parse_coord_system",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

CoordSystem = Literal["wgs84", "gcj02", "bd09"]
#: The coordinate systems understood by quarter_hour.
COORD_SYSTEMS: tuple[str, ...] = ("wgs84", "gcj02", "bd09")

_ALIASES: dict[str, str] = {
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "wgs": "wgs84",
    "epsg:4326": "wgs84",
    "4326": "wgs84",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "gcj": "gcj02",
    "mars": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "bd09ll": "bd09",
    "bd": "bd09",
}

# Krasovsky 1940 ellipsoid as used by GCJ-02.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
# Out-of-China rectangle (degrees).
_CN_LNG = (72.004, 137.8347)
_CN_LAT = (0.8293, 55.8271)

_TOL_DEG = 1e-10
_MAX_ITER = 50

FloatArray = npt.NDArray[np.float64]
_G = TypeVar("_G", gpd.GeoDataFrame, gpd.GeoSeries)


def parse_coord_system(value: str) -> str:
    """Normalise a coordinate-system name to ``"wgs84"``, ``"gcj02"`` or ``"bd09"``.

    Parameters
    ----------
    value
        A name such as ``"WGS-84"``, ``"gcj02"``, ``"GCJ-02"``, ``"bd09"``, ``"EPSG:4326"``.

    Returns
    -------
    str
        One of :data:`COORD_SYSTEMS`.
    """
    key = str(value).strip().lower().replace("_", "")
    if key not in _ALIASES:
        allowed = ", ".join(COORD_SYSTEMS)
        msg = f"Unknown coordinate system {value!r}; expected one of: {allowed}."
        raise InputError(msg)
    return _ALIASES[key]


def _as_arrays(lng: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    x = np.asarray(lng, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    if x.shape != y.shape:
        msg = f"`lng` and `lat` must have the same shape, got {x.shape} and {y.shape}."
        raise InputError(msg)
    return x, y


def out_of_china(lng: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Whether each point lies outside the GCJ-02 rectangle (where GCJ-02 equals WGS-84).

    Parameters
    ----------
    lng, lat
        Longitudes and latitudes in degrees (any of the three systems; the rectangle is coarse).

    Returns
    -------
    numpy.ndarray of bool
        True outside ``72.004..137.8347`` E x ``0.8293..55.8271`` N. NaN counts as outside.
    """
    x, y = _as_arrays(lng, lat)
    with np.errstate(invalid="ignore"):
        inside = (x >= _CN_LNG[0]) & (x <= _CN_LNG[1]) & (y >= _CN_LAT[0]) & (y <= _CN_LAT[1])
    return ~inside


def _gcj_offset(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 minus WGS-84, in degrees, at WGS-84 point (x=lng, y=lat); no China test."""
    u = x - 105.0
    v = y - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * u * pi) + 20.0 * np.sin(2.0 * u * pi)) * 2.0 / 3.0
    sq = np.sqrt(np.abs(u))
    t_lat = (
        -100.0
        + 2.0 * u
        + 3.0 * v
        + 0.2 * v * v
        + 0.1 * u * v
        + 0.2 * sq
        + common
        + (20.0 * np.sin(v * pi) + 40.0 * np.sin(v / 3.0 * pi)) * 2.0 / 3.0
        + (160.0 * np.sin(v / 12.0 * pi) + 320.0 * np.sin(v * pi / 30.0)) * 2.0 / 3.0
    )
    t_lng = (
        300.0
        + u
        + 2.0 * v
        + 0.1 * u * u
        + 0.1 * u * v
        + 0.1 * sq
        + common
        + (20.0 * np.sin(u * pi) + 40.0 * np.sin(u / 3.0 * pi)) * 2.0 / 3.0
        + (150.0 * np.sin(u / 12.0 * pi) + 300.0 * np.sin(u / 30.0 * pi)) * 2.0 / 3.0
    )
    rad = y / 180.0 * pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (t_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    d_lng = (t_lng * 180.0) / (_A / sqrt_magic * np.cos(rad) * pi)
    return d_lng, d_lat


def wgs84_to_gcj02(lng: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 longitude/latitude (degrees) to GCJ-02 (degrees).

    Points outside China (see :func:`out_of_china`) are returned unchanged. NaN stays NaN.

    Parameters
    ----------
    lng, lat
        WGS-84 longitudes and latitudes in degrees, scalars or arrays of the same shape.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 ``(lng, lat)`` in degrees, float64, same shape as the input.
    """
    x, y = _as_arrays(lng, lat)
    d_lng, d_lat = _gcj_offset(x, y)
    outside = out_of_china(x, y)
    return np.where(outside, x, x + d_lng), np.where(outside, y, y + d_lat)


def gcj02_to_wgs84(
    lng: npt.ArrayLike,
    lat: npt.ArrayLike,
    *,
    tol_deg: float = _TOL_DEG,
    max_iter: int = _MAX_ITER,
) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitude/latitude (degrees) to WGS-84 by iterative inversion.

    Starting from the GCJ-02 point, the WGS-84 estimate is corrected by the residual of the
    forward transform until that residual is below ``tol_deg`` (default 1e-10 degrees, about
    0.01 mm) in both coordinates. The offset field is smooth, so the iteration converges in
    3-6 steps. A point is judged in or out of China by its GCJ-02 position and the offset of
    that side is used throughout, so points near the rectangle's edge do not oscillate.

    Parameters
    ----------
    lng, lat
        GCJ-02 longitudes and latitudes in degrees.
    tol_deg
        Stop when the forward transform of the estimate is within this many degrees.
    max_iter
        Upper bound on iterations.

    Returns
    -------
    tuple of numpy.ndarray
        WGS-84 ``(lng, lat)`` in degrees; unchanged outside China.
    """
    x, y = _as_arrays(lng, lat)
    inside = ~out_of_china(x, y)
    wx = x.copy()
    wy = y.copy()
    for _ in range(max_iter):
        d_lng, d_lat = _gcj_offset(wx, wy)
        rx = np.where(inside, x - (wx + d_lng), 0.0)
        ry = np.where(inside, y - (wy + d_lat), 0.0)
        wx = wx + rx
        wy = wy + ry
        with np.errstate(invalid="ignore"):
            worst = np.nanmax(np.abs(np.concatenate([rx.ravel(), ry.ravel(), [0.0]])))
        if worst < tol_deg:
            break
    return wx, wy


def _bd_forward(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def gcj02_to_bd09(lng: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitude/latitude to BD-09 (Baidu), degrees in and out.

    Parameters
    ----------
    lng, lat
        GCJ-02 longitudes and latitudes in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 ``(lng, lat)`` in degrees.
    """
    x, y = _as_arrays(lng, lat)
    return _bd_forward(x, y)


def bd09_to_gcj02(
    lng: npt.ArrayLike,
    lat: npt.ArrayLike,
    *,
    tol_deg: float = _TOL_DEG,
    max_iter: int = _MAX_ITER,
) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 longitude/latitude to GCJ-02 by iterative inversion, degrees in and out.

    The usual closed-form inverse is approximate (errors of a few centimetres to decimetres);
    here it is only the starting point, refined until the forward transform reproduces the
    input to ``tol_deg`` degrees.

    Parameters
    ----------
    lng, lat
        BD-09 longitudes and latitudes in degrees.
    tol_deg, max_iter
        As in :func:`gcj02_to_wgs84`.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 ``(lng, lat)`` in degrees.
    """
    x, y = _as_arrays(lng, lat)
    # closed-form approximate inverse as the starting point
    u = x - 0.0065
    v = y - 0.006
    z = np.sqrt(u * u + v * v) - 0.00002 * np.sin(v * _X_PI)
    theta = np.arctan2(v, u) - 0.000003 * np.cos(u * _X_PI)
    gx = z * np.cos(theta)
    gy = z * np.sin(theta)
    for _ in range(max_iter):
        fx, fy = _bd_forward(gx, gy)
        rx = x - fx
        ry = y - fy
        gx = gx + rx
        gy = gy + ry
        with np.errstate(invalid="ignore"):
            worst = np.nanmax(np.abs(np.concatenate([rx.ravel(), ry.ravel(), [0.0]])))
        if worst < tol_deg:
            break
    return gx, gy


def wgs84_to_bd09(lng: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 to BD-09 (via GCJ-02), degrees in and out."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lng, lat))


def bd09_to_wgs84(lng: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 to WGS-84 (via GCJ-02), degrees in and out."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lng, lat))


_CONVERTERS = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
    ("bd09", "gcj02"): bd09_to_gcj02,
}


def convert(
    lng: npt.ArrayLike, lat: npt.ArrayLike, *, src: str, dst: str
) -> tuple[FloatArray, FloatArray]:
    """Convert longitude/latitude arrays between any two of WGS-84, GCJ-02 and BD-09.

    Parameters
    ----------
    lng, lat
        Longitudes and latitudes in degrees in system ``src``.
    src, dst
        Coordinate-system names (see :func:`parse_coord_system`).

    Returns
    -------
    tuple of numpy.ndarray
        ``(lng, lat)`` in degrees in system ``dst`` (float64 copies, even when ``src == dst``).
    """
    s = parse_coord_system(src)
    d = parse_coord_system(dst)
    if s == d:
        x, y = _as_arrays(lng, lat)
        return x.copy(), y.copy()
    return _CONVERTERS[(s, d)](lng, lat)


def distance_m(
    lng1: npt.ArrayLike, lat1: npt.ArrayLike, lng2: npt.ArrayLike, lat2: npt.ArrayLike
) -> FloatArray:
    """Great-circle (haversine) distance in metres between points given in degrees.

    Uses a sphere of radius 6,371,008.8 m (the mean Earth radius); good to about 0.5 % and far
    better than that for the metre-scale differences this module measures.
    """
    x1, y1 = _as_arrays(lng1, lat1)
    x2, y2 = _as_arrays(lng2, lat2)
    p1, p2 = np.radians(y1), np.radians(y2)
    dphi = p2 - p1
    dlmb = np.radians(x2 - x1)
    h = np.sin(dphi / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2.0) ** 2
    return 2.0 * 6371008.8 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def to_wgs84(data: _G, coord_system: str) -> _G:
    """Return a copy of a GeoDataFrame/GeoSeries converted from ``coord_system`` to WGS-84.

    Any geometry type is converted vertex by vertex (points, lines, polygons).

    Parameters
    ----------
    data
        Geometries whose coordinates are longitude/latitude degrees in ``coord_system``. Its
        CRS may be unset or geographic (EPSG:4326 is often attached to GCJ-02 data by mistake;
        it is ignored for ``"gcj02"``/``"bd09"``). A projected CRS is only accepted with
        ``"wgs84"``, in which case the data are simply reprojected.
    coord_system
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"`` (aliases as in :func:`parse_coord_system`).

    Returns
    -------
    geopandas.GeoDataFrame or geopandas.GeoSeries
        A new object of the same type, with CRS EPSG:4326 (WGS-84).
    """
    system = parse_coord_system(coord_system)
    crs = data.crs
    if system == "wgs84":
        if crs is None:
            return data.set_crs(4326)
        return data.to_crs(4326)
    if crs is not None and not crs.is_geographic:
        msg = (
            f"Cannot read {system.upper()} coordinates from data in the projected CRS "
            f"{crs.to_string()!r}: GCJ-02 and BD-09 are longitude/latitude offsets. Pass the "
            "original longitude/latitude values (CRS unset or EPSG:4326)."
        )
        raise CRSError(msg)
    func = _CONVERTERS[(system, "wgs84")]

    def _xy(coords: FloatArray) -> FloatArray:
        gx, gy = func(coords[:, 0], coords[:, 1])
        return np.column_stack([gx, gy])

    geoms = shapely.transform(np.asarray(data.geometry.values), _xy)
    out = data.copy()
    if isinstance(out, gpd.GeoDataFrame):
        out[out.geometry.name] = gpd.GeoSeries(geoms, index=out.index, crs=None)
        out = out.set_crs(4326, allow_override=True)
    else:
        out = gpd.GeoSeries(geoms, index=out.index, name=out.name, crs=4326)
    log.debug("Converted %s geometries from %s to WGS-84", f"{len(out):,}", system)
    return out
