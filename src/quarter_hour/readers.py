"""Read business points (POIs), gates and compound points as planners receive them.

Formats: CSV/TSV text (UTF-8, UTF-8 with BOM, GBK/GB18030, detected with charset-normalizer),
Excel ``.xlsx``, GeoJSON, GeoPackage, Shapefile (through pyogrio), the headerless Amap TSV dump
format, and a (Geo)DataFrame already in memory.

Whatever comes in, what comes out is a GeoDataFrame of points in **WGS-84 (EPSG:4326)** with the
columns of ``docs/CONTRACTS.md``:

* ``kind="pois"``: ``poi_id``, ``name``, ``address``, ``type``, ``typecode`` (then every other
  column of the input, unchanged, e.g. OSM tags for the taxonomy);
* ``kind="gates"``: ``gate_id``, ``compound_id``, ``compound_name``, ``households``;
* ``kind="compounds"`` (one point per compound, see :func:`quarter_hour.gates.gates_from_points`):
  ``compound_id``, ``compound_name``, ``households``.

Coordinate systems
------------------
Amap/高德 and Tencent publish GCJ-02, Baidu publishes BD-09, OSM and GPS are WGS-84; a point read in
the wrong system lands 300-700 m away. Every input must therefore say which system it is in:
``coord_system="gcj02"`` (or ``provider="amap"``). Files carrying a CRS (GeoJSON, GeoPackage,
Shapefile with ``.prj``, a GeoDataFrame with ``crs``) are taken as declared WGS-84 unless
``coord_system`` says otherwise. A table (CSV, Excel, DataFrame) with points in China and no
declaration is refused with an explanation: the three systems cannot be told apart from the
numbers alone. Points outside China are read as WGS-84 (GCJ-02 equals WGS-84 there).
When a street network is at hand, :func:`check_offset` tells whether "WGS-84" points sit where
GCJ-02 or BD-09 data would.

Row numbers in messages are those a spreadsheet shows (the header is row 1); for a DataFrame they
are its index labels.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import charset_normalizer
import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely import STRtree

from . import coords
from ._errors import CRSError, InputError, InputFileError, QuarterHourWarning

log = logging.getLogger(__name__)

__all__ = [
    "PROVIDER_SYSTEMS",
    "OffsetCheck",
    "check_offset",
    "detect_encoding",
    "read_amap_tsv",
    "read_points",
]

Kind = Literal["pois", "gates", "compounds"]

#: Default coordinate system of each data provider.
PROVIDER_SYSTEMS: dict[str, str] = {
    "amap": "gcj02",
    "gaode": "gcj02",
    "高德": "gcj02",
    "autonavi": "gcj02",
    "tencent": "gcj02",
    "qq": "gcj02",
    "腾讯": "gcj02",
    "baidu": "bd09",
    "百度": "bd09",
    "osm": "wgs84",
    "openstreetmap": "wgs84",
    "gps": "wgs84",
    "tianditu": "wgs84",  # CGCS2000, within centimetres of WGS-84
    "天地图": "wgs84",
}

# China's extent as used for the swapped-coordinates test (degrees).
_CN_LNG = (73.0, 136.0)
_CN_LAT = (3.0, 54.0)

# Coordinate column pairs, tried in order (names compared lower-cased and stripped).
_LNGLAT_PAIRS: tuple[tuple[str, str], ...] = (
    ("lng", "lat"),
    ("lon", "lat"),
    ("long", "lat"),
    ("longitude", "latitude"),
    ("经度", "纬度"),
    ("x", "y"),
    ("point_x", "point_y"),
    ("wgs84_lng", "wgs84_lat"),
    ("gcj02_lng", "gcj02_lat"),
    ("bd09_lng", "bd09_lat"),
)
_LOCATION_COLS = ("location", "lnglat", "lng_lat", "经纬度", "坐标", "coordinates")
_WKT_COLS = ("geometry", "wkt", "geom", "the_geom")

_ALIASES: dict[str, tuple[str, ...]] = {
    "poi_id": ("poi_id", "id", "uid", "poiid", "osm_id", "osmid", "编号", "序号", "poi编号"),
    "name": ("name", "名称", "名字", "poi名称", "店名", "商户名称", "门店名称", "title"),
    "address": ("address", "addr", "地址", "详细地址", "poi地址"),
    "type": ("type", "类型", "类别", "poi类型", "分类", "行业", "业态"),
    "typecode": ("typecode", "type_code", "类型编码", "类型代码", "分类编码", "类别编码"),
    "gate_id": ("gate_id", "大门编号", "大门id", "门编号", "出入口编号"),
    "gate_name": ("gate_name", "gate", "大门", "大门名称", "门", "出入口", "出入口名称"),
    "compound_id": ("compound_id", "小区编号", "小区id", "小区代码", "小区编码"),
    "compound_name": (
        "compound_name",
        "compound",
        "小区",
        "小区名称",
        "小区名",
        "楼盘",
        "楼盘名称",
    ),
    "households": ("households", "户数", "住户数", "总户数", "居民户数", "hh"),
}
_KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "pois": ("poi_id", "name", "address", "type", "typecode"),
    "gates": ("gate_id", "compound_id", "compound_name", "households", "gate_name"),
    "compounds": ("compound_id", "compound_name", "households"),
}
_ID_FIELD = {"pois": "poi_id", "gates": "gate_id", "compounds": "compound_id"}

_TEXT_SUFFIXES = {".csv", ".txt", ".tsv", ".tab"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
_GEO_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb", ".gml", ".kml", ".zip"}
_CANDIDATE_ENCODINGS = ["utf_8", "gb18030", "big5", "cp1252"]
_FLOAT = r"\s*-?\d+(?:\.\d+)?\s*"
_LNGLAT_RE = re.compile(rf"^{_FLOAT},{_FLOAT}$")


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------
def _rows_text(rows: Sequence[Any], limit: int = 12, *, word: str = "row") -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" and {len(rows) - limit:,} more" if len(rows) > limit else ""
    return f"{word}{'' if len(rows) == 1 else 's'} {shown}{more}"


def _norm(col: object) -> str:
    return str(col).strip().lstrip("\ufeff").lower()


def _find_col(columns: Sequence[object], names: Sequence[str]) -> object | None:
    lookup = {_norm(c): c for c in reversed(list(columns))}
    for n in names:
        if n in lookup:
            return lookup[n]
    return None


def _clean_str(values: pd.Series) -> pd.Series:
    """Strings stripped of surrounding spaces, missing/blank as None (object dtype)."""
    out = values.astype(object).where(values.notna(), None)
    out = out.map(lambda v: None if v is None else (str(v).strip() or None))
    return out.astype(object)


# --------------------------------------------------------------------------------------------
# encodings
# --------------------------------------------------------------------------------------------
def detect_encoding(raw: bytes, *, where: str = "the data") -> str:
    """Detect the text encoding of a Chinese (or other) table.

    UTF-8 with a byte-order mark gives ``"utf-8-sig"``; valid UTF-8 gives ``"utf-8"``; otherwise
    charset-normalizer chooses among GB18030 (a superset of GBK and GB2312), Big5 and cp1252.

    Parameters
    ----------
    raw
        The file's bytes.
    where
        Name of the file, for messages.

    Returns
    -------
    str
        A Python codec name.

    Raises
    ------
    InputError
        When some lines are UTF-8 and others are not (a file pasted together from two sources),
        or when no candidate encoding decodes the bytes.
    """
    if raw.startswith(codecs.BOM_UTF8):
        try:
            raw[3:].decode("utf-8")
        except UnicodeDecodeError:
            _raise_mixed(raw[3:], where)
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    _raise_mixed(raw, where, only_if_mixed=True)
    best = charset_normalizer.from_bytes(raw, cp_isolation=_CANDIDATE_ENCODINGS).best()
    if best is None:
        msg = (
            f"Cannot decode {where}: it is not UTF-8, GBK/GB18030, Big5 or cp1252 text. Save it "
            "from Excel or WPS as 'CSV UTF-8', or pass the right `encoding=`."
        )
        raise InputError(msg)
    enc = str(best.encoding)
    if enc in {"gb2312", "gbk", "gb18030", "hz"}:
        enc = "gb18030"
    return enc


def _raise_mixed(raw: bytes, where: str, *, only_if_mixed: bool = False) -> None:
    utf8_lines: list[int] = []
    other_lines: list[int] = []
    for i, line in enumerate(raw.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            other_lines.append(i)
        else:
            utf8_lines.append(i)
    if only_if_mixed and not (utf8_lines and other_lines):
        return
    msg = (
        f"{where} mixes text encodings: lines {', '.join(map(str, utf8_lines[:8]))} are UTF-8 "
        f"but lines {', '.join(map(str, other_lines[:8]))}"
        f"{' ...' if len(other_lines) > 8 else ''} are not (probably GBK pasted into a UTF-8 "
        "file, or the reverse). Re-save the whole file in one encoding (UTF-8) and read it again."
    )
    raise InputError(msg)


def _decode(raw: bytes, where: str, encoding: str | None) -> tuple[str, str]:
    if encoding is not None:
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            msg = (
                f"{where} is not valid {encoding} (byte {exc.start}: {exc.reason}). Leave "
                "`encoding=None` to detect it, or pass the file's real encoding."
            )
            raise InputError(msg) from None
        except LookupError:
            msg = f"Unknown `encoding` {encoding!r} for {where}."
            raise InputError(msg) from None
    enc = detect_encoding(raw, where=where)
    text = raw.decode(enc)
    log.info("Detected encoding %s for %s", enc, where)
    return text, enc


# --------------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------------
@dataclass
class _Loaded:
    frame: pd.DataFrame
    where: str
    rows: list[Any]  # row number per frame row, for messages
    geometry: gpd.GeoSeries | None = None
    crs_declared: bool = False
    encoding: str | None = None
    amap: bool = False
    id_prefix: str = ""
    notes: dict[str, Any] = field(default_factory=dict)


def _is_amap_tsv(text: str) -> bool:
    for line in text.splitlines()[:5]:
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) < 7:
            return False
        return all(_LNGLAT_RE.match(c) for c in cells[4:7])
    return False


def _load_text(path: Path, encoding: str | None) -> _Loaded:
    where = str(path)
    raw = path.read_bytes()
    if not raw.strip():
        msg = f"{where} is empty: no header and no rows. Check that the export finished."
        raise InputFileError(msg)
    text, enc = _decode(raw, where, encoding)
    if _is_amap_tsv(text):
        frame = _parse_amap_text(text)
        rows = list(frame["line"])
        return _Loaded(frame, where, rows, encoding=enc, amap=True, id_prefix="amap_")
    sample = "\n".join(text.splitlines()[:20])
    try:
        sep = csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        sep = ","
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True
        )
    except pd.errors.EmptyDataError:
        msg = f"{where} is empty: no header and no rows."
        raise InputFileError(msg) from None
    except pd.errors.ParserError as exc:
        msg = f"{where} is not a well-formed table (separator {sep!r}): {exc}"
        raise InputFileError(msg) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    rows = [i + 2 for i in range(len(frame))]
    return _Loaded(frame, where, rows, encoding=enc, id_prefix=f"{path.stem}_")


def _load_excel(path: Path, layer: str | int | None) -> _Loaded:
    where = str(path)
    sheet: str | int = 0 if layer is None else layer
    try:
        frame = pd.read_excel(path, sheet_name=sheet, dtype=object)
    except ValueError as exc:
        msg = f"Cannot read sheet {sheet!r} of {where}: {exc}"
        raise InputFileError(msg) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.dropna(how="all")
    rows = [int(i) + 2 for i in frame.index]
    return _Loaded(frame.reset_index(drop=True), where, rows, id_prefix=f"{path.stem}_")


def _dbf_encoding(path: Path) -> str | None:
    """Encoding of a Shapefile's .dbf when it has no .cpg (GBK is common in China)."""
    if path.suffix.lower() != ".shp" or path.with_suffix(".cpg").exists():
        return None
    dbf = path.with_suffix(".dbf")
    if not dbf.exists():
        return None
    raw = dbf.read_bytes()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        best = charset_normalizer.from_bytes(raw, cp_isolation=["gb18030", "big5", "cp1252"])
        guess = best.best()
        enc = "gb18030" if guess is None else str(guess.encoding)
        log.info("Detected encoding %s for %s (no .cpg file)", enc, dbf)
        return enc
    return "utf-8"


def _load_geo(path: Path, layer: str | int | None, encoding: str | None) -> _Loaded:
    where = str(path)
    if path.stat().st_size == 0:
        msg = f"{where} is empty (0 bytes)."
        raise InputFileError(msg)
    kwargs: dict[str, Any] = {}
    enc = encoding or _dbf_encoding(path)
    if enc is not None:
        kwargs["encoding"] = enc
    if layer is not None:
        kwargs["layer"] = layer
    try:
        gdf = gpd.read_file(path, engine="pyogrio", **kwargs)
    except Exception as exc:
        msg = f"Cannot read {where} as a GIS file: {exc}"
        raise InputFileError(msg) from exc
    rows = [i + 1 for i in range(len(gdf))]
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    return _Loaded(
        frame,
        where,
        rows,
        geometry=gdf.geometry,
        crs_declared=gdf.crs is not None,
        encoding=enc,
        id_prefix=f"{path.stem}_",
        notes={"feature_numbers": True},
    )


def _load(source: Any, *, encoding: str | None, layer: str | int | None) -> _Loaded:
    if isinstance(source, gpd.GeoDataFrame):
        frame = pd.DataFrame(source.drop(columns=source.geometry.name))
        return _Loaded(
            frame.reset_index(drop=True),
            "the input GeoDataFrame",
            list(source.index),
            geometry=source.geometry.reset_index(drop=True),
            crs_declared=source.crs is not None,
            id_prefix="poi_",
        )
    if isinstance(source, pd.DataFrame):
        return _Loaded(
            source.reset_index(drop=True),
            "the input DataFrame",
            list(source.index),
            id_prefix="poi_",
        )
    if not isinstance(source, str | Path):
        msg = (
            "`source` must be a file path, a GeoDataFrame or a DataFrame, got "
            f"{type(source).__name__}."
        )
        raise InputError(msg)
    path = Path(source).expanduser()
    if not path.exists():
        msg = f"File not found: {path} (resolved to {path.resolve()}). Check the path."
        raise InputFileError(msg)
    if path.is_dir():
        msg = f"{path} is a folder; pass the data file inside it."
        raise InputFileError(msg)
    suffix = path.suffix.lower()
    if suffix in _TEXT_SUFFIXES:
        return _load_text(path, encoding)
    if suffix in _EXCEL_SUFFIXES:
        if path.stat().st_size == 0:
            msg = f"{path} is empty (0 bytes)."
            raise InputFileError(msg)
        return _load_excel(path, layer)
    if suffix in _GEO_SUFFIXES:
        return _load_geo(path, layer, encoding)
    known = sorted(_TEXT_SUFFIXES | _EXCEL_SUFFIXES | _GEO_SUFFIXES)
    msg = f"Unknown file type {suffix!r} for {path}; expected one of: {', '.join(known)}."
    raise InputFileError(msg)


# --------------------------------------------------------------------------------------------
# coordinates
# --------------------------------------------------------------------------------------------
def _coordinate_columns(
    loaded: _Loaded, lng_col: str | None, lat_col: str | None
) -> tuple[pd.Series, pd.Series, str]:
    """Raw longitude and latitude values (strings or numbers) and a description of their origin."""
    frame = loaded.frame
    cols = list(frame.columns)
    if lng_col is not None or lat_col is not None:
        missing = [c for c in (lng_col, lat_col) if c is None or c not in frame.columns]
        if missing:
            msg = (
                f"Coordinate column(s) {missing} not found in {loaded.where}. Columns found: "
                f"{', '.join(map(str, cols))}."
            )
            raise InputError(msg)
        return frame[lng_col], frame[lat_col], f"columns {lng_col}/{lat_col}"
    for a, b in _LNGLAT_PAIRS:
        ca, cb = _find_col(cols, (a,)), _find_col(cols, (b,))
        if ca is not None and cb is not None:
            return frame[ca], frame[cb], f"columns {ca}/{cb}"
    loc = _find_col(cols, _LOCATION_COLS)
    if loc is not None:
        parts = (
            frame[loc]
            .astype(object)
            .map(lambda v: re.split(r"[,，;\s]+", str(v).strip()) if pd.notna(v) else [])
        )
        lng = parts.map(lambda p: p[0] if len(p) == 2 else None)
        lat = parts.map(lambda p: p[1] if len(p) == 2 else None)
        return lng, lat, f"column {loc} ('lng,lat')"
    if loaded.geometry is not None:
        geom = loaded.geometry
        if geom.crs is not None and not geom.crs.is_geographic:
            geom = geom.to_crs(4326)
        elif geom.crs is not None and geom.crs.to_epsg() != 4326:
            geom = geom.to_crs(4326)
        arr = np.asarray(geom.values, dtype=object)
        types = shapely.get_type_id(arr)  # -1 missing, 0 point, 4 multipoint
        one_pt = (types == 4) & (shapely.get_num_geometries(arr) == 1)
        arr[one_pt] = shapely.get_geometry(arr[one_pt], 0)
        bad = ~np.isin(types, (-1, 0)) & ~one_pt
        if bad.any():
            rows = [loaded.rows[i] for i in np.flatnonzero(bad)]
            kinds = sorted({g.geom_type for g in arr[bad]})
            msg = (
                f"{loaded.where} has non-point geometries ({', '.join(kinds)}) in "
                f"{_rows_text(rows, word='feature')}. read_points reads points; for compound polygons use "
                "quarter_hour.gates.gates_from_polygons."
            )
            raise InputError(msg)
        x = pd.Series(shapely.get_x(arr), dtype=float)
        y = pd.Series(shapely.get_y(arr), dtype=float)
        return x, y, "geometry"
    wkt = _find_col(cols, _WKT_COLS)
    if wkt is not None:
        geoms = shapely.from_wkt(
            frame[wkt].astype(object).where(frame[wkt].notna(), None), on_invalid="ignore"
        )
        ok = shapely.get_type_id(geoms) == 0
        x = pd.Series(np.where(ok, shapely.get_x(geoms), np.nan), dtype=float)
        y = pd.Series(np.where(ok, shapely.get_y(geoms), np.nan), dtype=float)
        return x, y, f"column {wkt} (WKT)"
    pairs = ", ".join(f"{a}/{b}" for a, b in _LNGLAT_PAIRS)
    msg = (
        f"No coordinates found in {loaded.where}. Columns found: {', '.join(map(str, cols))}. "
        f"Expected a pair such as {pairs}; a single 'location' column holding 'lng,lat' (Amap); "
        "or a geometry. Name the columns with `lng_col=` and `lat_col=`."
    )
    raise InputError(msg)


def _parse_numbers(raw: pd.Series) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Numeric values and a mask of cells that were given but are not numbers."""
    text = raw.astype(object).map(lambda v: None if pd.isna(v) else str(v).strip() or None)
    num = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    given = text.notna().to_numpy()
    return num, given & np.isnan(num)


def _check_coordinates(
    lng_raw: pd.Series,
    lat_raw: pd.Series,
    loaded: _Loaded,
    *,
    fix_swapped: bool,
    drop_invalid: bool,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    lng, bad_lng = _parse_numbers(lng_raw)
    lat, bad_lat = _parse_numbers(lat_raw)
    rows = loaded.rows
    problems: list[str] = []
    invalid = np.zeros(len(lng), dtype=bool)

    nonnum = bad_lng | bad_lat
    if nonnum.any():
        idx = np.flatnonzero(nonnum)
        examples = ", ".join(f"{rows[i]}: {lng_raw.iloc[i]!r}/{lat_raw.iloc[i]!r}" for i in idx[:3])
        problems.append(
            f"non-numeric coordinates in {_rows_text([rows[i] for i in idx])} (e.g. {examples})"
        )
        invalid |= nonnum
    missing = (np.isnan(lng) | np.isnan(lat)) & ~nonnum
    if missing.any():
        problems.append(
            f"missing coordinates in {_rows_text([rows[i] for i in np.flatnonzero(missing)])}"
        )
        invalid |= missing

    ok = ~invalid
    with np.errstate(invalid="ignore"):
        in_cn = (
            (lng >= _CN_LNG[0]) & (lng <= _CN_LNG[1]) & (lat >= _CN_LAT[0]) & (lat <= _CN_LAT[1])
        )
        swapped_cn = (
            (lat >= _CN_LNG[0]) & (lat <= _CN_LNG[1]) & (lng >= _CN_LAT[0]) & (lng <= _CN_LAT[1])
        )
        impossible = (np.abs(lat) > 90) & (np.abs(lng) <= 90)
    swap = ok & (swapped_cn | impossible) & ~in_cn
    if fix_swapped and swap.any():
        lng, lat = np.where(swap, lat, lng), np.where(swap, lng, lat)
        msg = (
            f"Longitude and latitude look swapped in {swap.sum():,} of {ok.sum():,} points of "
            f"{loaded.where} ({_rows_text([rows[i] for i in np.flatnonzero(swap)])}): their "
            "'longitude' reads as a latitude of China and their 'latitude' as a longitude. "
            "Swapped them back; pass fix_swapped=False to keep them as given."
        )
        warnings.warn(msg, QuarterHourWarning, stacklevel=3)

    with np.errstate(invalid="ignore"):
        out_of_range = ok & ((np.abs(lng) > 180) | (np.abs(lat) > 90))
        null_island = ok & (lng == 0) & (lat == 0)
    if out_of_range.any():
        idx = np.flatnonzero(out_of_range)
        examples = ", ".join(f"{rows[i]}: ({lng[i]}, {lat[i]})" for i in idx[:3])
        problems.append(
            f"coordinates out of range (|lng| > 180 or |lat| > 90) in "
            f"{_rows_text([rows[i] for i in idx])} (e.g. {examples})"
        )
        invalid |= out_of_range
    if null_island.any():
        problems.append(
            "coordinates (0, 0), a placeholder for an unknown position, in "
            f"{_rows_text([rows[i] for i in np.flatnonzero(null_island)])}"
        )
        invalid |= null_island

    if problems:
        what = "; ".join(problems)
        if not drop_invalid:
            msg = (
                f"Bad coordinates in {loaded.where}: {what}. Fix these rows, or pass "
                "drop_invalid=True to drop them with a warning."
            )
            raise InputError(msg)
        msg = f"Dropped {invalid.sum():,} points of {loaded.where} with {what}."
        warnings.warn(msg, QuarterHourWarning, stacklevel=3)
    return lng, lat, invalid


def _resolve_system(
    coord_system: str | None,
    provider: str | None,
    lng: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    loaded: _Loaded,
) -> str:
    if coord_system is not None:
        return coords.parse_coord_system(coord_system)
    if provider is not None:
        key = str(provider).strip().lower()
        if key not in PROVIDER_SYSTEMS:
            msg = (
                f"Unknown `provider` {provider!r}; expected one of: "
                f"{', '.join(PROVIDER_SYSTEMS)}, or pass `coord_system=` directly."
            )
            raise InputError(msg)
        return PROVIDER_SYSTEMS[key]
    if loaded.amap:
        return "gcj02"
    if loaded.crs_declared:
        log.info(
            "Taking %s as WGS-84 from its CRS; pass coord_system='gcj02' or 'bd09' if the points "
            "came from Amap/Tencent or Baidu",
            loaded.where,
        )
        return "wgs84"
    inside = ~coords.out_of_china(lng, lat)
    if not inside.any():
        log.info(
            "%s: no point inside China, reading it as WGS-84 (GCJ-02 is WGS-84 there)", loaded.where
        )
        return "wgs84"
    msg = (
        f"{loaded.where} does not say which coordinate system its {int(inside.sum()):,} points "
        "in China are in, and the numbers alone cannot tell. China uses three: WGS-84 (GPS, "
        "OpenStreetMap, 天地图), GCJ-02 (Amap/高德, Tencent/腾讯; offset 300-700 m from WGS-84) "
        "and BD-09 (Baidu/百度; a further offset). Reading them in the wrong system puts every "
        "point several hundred metres off. Pass coord_system='wgs84', 'gcj02' or 'bd09' "
        "(or provider='amap' / 'baidu' / 'osm')."
    )
    raise CRSError(msg)


# --------------------------------------------------------------------------------------------
# columns and duplicates
# --------------------------------------------------------------------------------------------
def _standard_columns(
    loaded: _Loaded, kind: str, id_col: str | None, used: set[object]
) -> tuple[pd.DataFrame, bool]:
    frame = loaded.frame
    cols = list(frame.columns)
    out = pd.DataFrame(index=frame.index)
    found: dict[str, object] = {}
    for fld in _KIND_FIELDS[kind]:
        if fld == _ID_FIELD[kind] and id_col is not None:
            if id_col not in frame.columns:
                msg = (
                    f"`id_col` {id_col!r} not found in {loaded.where}. Columns found: "
                    f"{', '.join(map(str, cols))}."
                )
                raise InputError(msg)
            found[fld] = id_col
            continue
        c = _find_col([c for c in cols if c not in found.values()], _ALIASES[fld])
        if c is not None:
            found[fld] = c
    if kind == "compounds" and "compound_name" not in found:
        c = _find_col([c for c in cols if c not in found.values()], _ALIASES["name"])
        if c is not None:
            found["compound_name"] = c
    for fld, c in found.items():
        out[fld] = _clean_str(frame[c]) if fld != "households" else frame[c]
    has_id = _ID_FIELD[kind] in found

    if "households" in found:
        hh, bad = _parse_numbers(frame[found["households"]])
        if bad.any():
            rows = [loaded.rows[i] for i in np.flatnonzero(bad)]
            msg = (
                f"Non-numeric households (户数) in {_rows_text(rows)} of {loaded.where} "
                f"(column {found['households']}). Give a number or leave the cell empty."
            )
            raise InputError(msg)
        out["households"] = hh
    for fld in _KIND_FIELDS[kind]:
        if fld not in out:
            out[fld] = np.nan if fld == "households" else None

    prefix = loaded.id_prefix
    if kind == "pois":
        gen = pd.Series([f"{prefix}{r}" for r in loaded.rows], index=out.index, dtype=object)
        out["poi_id"] = out["poi_id"].where(out["poi_id"].notna(), gen)
    elif kind == "compounds":
        if "compound_id" not in found and "compound_name" in found:
            out["compound_id"] = out["compound_name"]
        gen = pd.Series([f"c{r}" for r in loaded.rows], index=out.index, dtype=object)
        out["compound_id"] = out["compound_id"].where(out["compound_id"].notna(), gen)
    else:  # gates
        if "compound_id" not in found and "compound_name" not in found:
            msg = (
                f"{loaded.where} has no compound column for its gates. Columns found: "
                f"{', '.join(map(str, cols))}. Add a compound id or name column (e.g. "
                "'compound_id', '小区', '小区名称'); or, if each row is one compound rather than "
                "a surveyed gate, read it with kind='compounds' and pass it to "
                "quarter_hour.gates.gates_from_points."
            )
            raise InputError(msg)
        out["compound_id"] = out["compound_id"].where(
            out["compound_id"].notna(), out["compound_name"]
        )
        missing = out["compound_id"].isna().to_numpy()
        if missing.any():
            rows = [loaded.rows[i] for i in np.flatnonzero(missing)]
            msg = f"Gates without a compound in {_rows_text(rows)} of {loaded.where}."
            raise InputError(msg)
        if out["gate_id"].isna().any():
            seq = out.groupby("compound_id", sort=False).cumcount() + 1
            gen = out["compound_id"].astype(str) + "_g" + seq.astype(str)
            out["gate_id"] = out["gate_id"].where(out["gate_id"].notna(), gen)
    for fld in ("poi_id", "gate_id", "compound_id"):
        if fld in out:
            out[fld] = out[fld].astype(str).astype(object)
    used.update(found.values())
    extra = [c for c in cols if c not in used and c not in out.columns]
    for c in extra:
        out[c] = frame[c]
    order = [*_KIND_FIELDS[kind], *[c for c in out.columns if c not in _KIND_FIELDS[kind]]]
    return out[order], has_id


def _dedupe(
    out: pd.DataFrame,
    lng: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    *,
    kind: str,
    has_id: bool,
    dedupe_m: float,
    where: str,
) -> npt.NDArray[np.bool_]:
    """Boolean mask of rows to keep."""
    keep = np.ones(len(out), dtype=bool)
    id_field = _ID_FIELD[kind]
    if has_id:
        dup = out[id_field].duplicated(keep="first").to_numpy()
        if dup.any():
            keep &= ~dup
            msg = (
                f"Dropped {dup.sum():,} duplicated records of {where} (same {id_field}; kept the "
                "first of each)."
            )
            warnings.warn(msg, QuarterHourWarning, stacklevel=3)
        return keep
    if dedupe_m <= 0:
        return keep
    if kind == "gates":
        key = out["compound_id"].astype(str) + "\x1f" + out["gate_name"].fillna("").astype(str)
    else:
        name_col = "name" if kind == "pois" else "compound_name"
        key = out[name_col]
    keyed = key.notna().to_numpy()
    if not keyed.any():
        return keep
    groups = pd.Series(np.arange(len(out)))[keyed].groupby(key[keyed].to_numpy(), sort=False)
    dropped = 0
    for _, members in groups:
        if len(members) < 2:
            continue
        idx = members.to_numpy()
        kept: list[int] = []
        for i in idx:
            if kept:
                d = coords.distance_m(lng[kept], lat[kept], lng[i], lat[i])
                if (d <= dedupe_m).any():
                    keep[i] = False
                    dropped += 1
                    continue
            kept.append(int(i))
    if dropped:
        what = "name" if kind != "gates" else "compound and gate name"
        msg = (
            f"Dropped {dropped:,} duplicated records of {where} (same {what} within "
            f"{dedupe_m:g} m of an earlier record; kept the first). Pass dedupe_m=0 to keep them."
        )
        warnings.warn(msg, QuarterHourWarning, stacklevel=3)
    return keep


# --------------------------------------------------------------------------------------------
# public readers
# --------------------------------------------------------------------------------------------
def read_points(
    source: str | Path | pd.DataFrame | gpd.GeoDataFrame,
    *,
    kind: Kind = "pois",
    coord_system: str | None = None,
    provider: str | None = None,
    encoding: str | None = None,
    layer: str | int | None = None,
    id_col: str | None = None,
    lng_col: str | None = None,
    lat_col: str | None = None,
    fix_swapped: bool = True,
    drop_invalid: bool = False,
    dedupe_m: float = 5.0,
    streets: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
) -> gpd.GeoDataFrame:
    """Read points (businesses, gates or compounds) from a file or a table, into WGS-84.

    Parameters
    ----------
    source
        Path to a ``.csv``/``.txt``/``.tsv`` (any of UTF-8, UTF-8 with BOM, GBK/GB18030; the Amap
        headerless TSV dump is recognised), ``.xlsx``, ``.geojson``, ``.gpkg``, ``.shp`` file, or
        a DataFrame/GeoDataFrame.
    kind
        ``"pois"`` (businesses), ``"gates"`` (小区大门, one row per gate) or ``"compounds"`` (one
        point per compound).
    coord_system
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"``: the system of the coordinates as given. Required
        for tables of points in China unless ``provider`` is given (see the module notes).
    provider
        Where the data came from; sets ``coord_system`` when that is not given:
        ``"amap"``/``"tencent"`` -> GCJ-02, ``"baidu"`` -> BD-09, ``"osm"``/``"gps"`` -> WGS-84.
    encoding
        Text encoding of a CSV/TSV or Shapefile ``.dbf``; detected when None (logged at INFO).
    layer
        Excel sheet (name or 0-based number) or GeoPackage layer.
    id_col
        Column holding the record id (``poi_id``, ``gate_id`` or ``compound_id``); otherwise a
        column with a usual name (``id``, ``编号`` ...) is used, or ids are made from row numbers.
    lng_col, lat_col
        Coordinate columns, when their names are not among the usual ones (``lng``/``lat``,
        ``lon``/``lat``, ``longitude``/``latitude``, ``x``/``y``, ``经度``/``纬度``, ``location``).
    fix_swapped
        Swap back, with a warning, points whose longitude and latitude are exchanged (detected
        for China: a "longitude" of 3-54 with a "latitude" of 73-136, or |latitude| > 90).
    drop_invalid
        Drop rows with missing, non-numeric or out-of-range coordinates with a warning, instead
        of raising.
    dedupe_m
        Without an id column, records with the same name (gates: same compound and gate name)
        within this many metres of an earlier one are dropped as duplicates, with a warning.
        With an id column, duplicated ids are dropped. ``0`` keeps name duplicates.
    streets
        Optional street lines (any CRS). When given and the points are read as WGS-84, runs
        :func:`check_offset` and warns if they sit where GCJ-02/BD-09 data would.

    Returns
    -------
    geopandas.GeoDataFrame
        Points in EPSG:4326 (WGS-84) with the contract columns for ``kind`` first, then the
        other input columns. ``attrs`` holds ``source``, ``coord_system`` (as given),
        ``encoding`` and ``coordinates`` (which columns were used).

    Raises
    ------
    InputFileError
        Missing, empty or unreadable file.
    InputError
        No coordinate columns (the message lists the columns found), bad coordinates (the message
        lists the rows), mixed encodings, missing compound column for gates.
    CRSError
        Points in China with no declared coordinate system.
    """
    if kind not in _KIND_FIELDS:
        msg = f"Unknown `kind` {kind!r}; expected one of: {', '.join(_KIND_FIELDS)}."
        raise InputError(msg)
    loaded = _load(source, encoding=encoding, layer=layer)
    if loaded.amap and coord_system is not None and lng_col is None:
        col = {"wgs84": "loc_wgs84", "gcj02": "loc_gcj02", "bd09": "loc_bd09"}
        loaded.frame["location"] = loaded.frame[col[coords.parse_coord_system(coord_system)]]
    if len(loaded.frame) == 0:
        msg = (
            f"{loaded.where} has a header but no data rows. Columns found: "
            f"{', '.join(map(str, loaded.frame.columns))}."
        )
        raise InputFileError(msg)

    lng_raw, lat_raw, how = _coordinate_columns(loaded, lng_col, lat_col)
    lng, lat, invalid = _check_coordinates(
        lng_raw, lat_raw, loaded, fix_swapped=fix_swapped, drop_invalid=drop_invalid
    )
    valid = ~invalid
    system = _resolve_system(coord_system, provider, lng[valid], lat[valid], loaded)
    geo_crs = loaded.geometry.crs if loaded.geometry is not None else None
    if (
        how == "geometry"
        and system != "wgs84"
        and geo_crs is not None
        and not geo_crs.is_geographic
    ):
        msg = (
            f"{loaded.where} is in the projected CRS {geo_crs.to_string()!r}, so its points "
            f"cannot be {system.upper()} longitude/latitude offsets. Drop `coord_system=` to "
            "read it as the CRS says, or supply the original longitude/latitude values."
        )
        raise CRSError(msg)

    used: set[object] = set()
    for s in (lng_raw, lat_raw):
        if s.name is not None and s.name in loaded.frame.columns:
            used.add(s.name)
    if how.startswith("column ") and "(" in how:
        used.add(how.split(" ")[1])
    if loaded.amap:
        used.update({"loc_wgs84", "loc_gcj02", "loc_bd09", "location"})
    out, has_id = _standard_columns(loaded, kind, id_col, used)

    keep = valid.copy()
    keep[valid] = _dedupe(
        out[valid].reset_index(drop=True),
        lng[valid],
        lat[valid],
        kind=kind,
        has_id=has_id,
        dedupe_m=dedupe_m,
        where=loaded.where,
    )
    out = out[keep].reset_index(drop=True)
    x, y = coords.convert(lng[keep], lat[keep], src=system, dst="wgs84")
    gdf = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(x, y), crs=4326)
    gdf.attrs.update(
        {
            "source": loaded.where,
            "coord_system": system,
            "encoding": loaded.encoding,
            "coordinates": how,
            "kind": kind,
        }
    )
    log.info(
        "Read %s %s from %s (%s, %s -> WGS-84)",
        f"{len(gdf):,}",
        kind,
        loaded.where,
        how,
        system,
    )
    if streets is not None and system == "wgs84" and len(gdf):
        check_offset(gdf, streets)
    return gdf


def _parse_amap_text(text: str) -> pd.DataFrame:
    frame = pd.read_csv(
        io.StringIO(text),
        sep="\t",
        header=None,
        dtype=str,
        keep_default_na=False,
        quoting=csv.QUOTE_NONE,
        skip_blank_lines=False,
    )
    if frame.shape[1] < 7:
        msg = f"An Amap TSV dump has 7 tab-separated columns; found {frame.shape[1]}."
        raise InputError(msg)
    frame = frame.iloc[:, :7].map(lambda v: v.strip() if isinstance(v, str) else v)
    frame.columns = ["name", "address", "telephone", "type", "loc_wgs84", "loc_gcj02", "loc_bd09"]
    frame.insert(0, "line", np.arange(1, len(frame) + 1))
    blank = (frame[["name", "loc_gcj02"]] == "").all(axis=1)
    frame = frame[~blank].reset_index(drop=True)
    frame["location"] = frame["loc_gcj02"]
    return frame


def read_amap_tsv(
    path: str | Path,
    *,
    coord_system: str = "gcj02",
    encoding: str | None = None,
    dedupe_m: float = 5.0,
    drop_invalid: bool = False,
) -> gpd.GeoDataFrame:
    """Read an Amap (高德) POI dump: headerless TSV, cells with leading spaces.

    Columns of the file: name, address, telephone, type ("大类;中类;小类"), then "lng,lat" in
    WGS-84, GCJ-02 and BD-09 (see ``../shared/data/README.md``).

    Parameters
    ----------
    path
        The ``.tsv``/``.txt`` file.
    coord_system
        Which of the three position columns to read (``"gcj02"``, Amap's native one, by
        default); the result is converted to WGS-84 either way.
    encoding, dedupe_m, drop_invalid
        As in :func:`read_points`.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points with ``poi_id`` (``amap_<line>``), ``name``, ``address``, ``type``,
        ``typecode`` (empty: the dump has none), ``line`` (1-based line of the file),
        ``telephone``.
    """
    p = Path(path).expanduser()
    if p.exists() and p.is_file() and p.stat().st_size and p.suffix.lower() in _TEXT_SUFFIXES:
        text, _ = _decode(p.read_bytes(), str(p), encoding)
        if not _is_amap_tsv(text):
            msg = (
                f"{p} is not an Amap TSV dump: expected 7 tab-separated columns with 'lng,lat' "
                "in columns 5-7. Use read_points for other tables."
            )
            raise InputError(msg)
    return read_points(
        p,
        kind="pois",
        coord_system=coord_system,
        encoding=encoding,
        dedupe_m=dedupe_m,
        drop_invalid=drop_invalid,
    )


# --------------------------------------------------------------------------------------------
# undeclared GCJ-02 offset
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OffsetCheck:
    """Result of :func:`check_offset`: median point-to-street distances, in metres."""

    #: points used (a sample when there are many)
    n_points: int
    #: median distance to the nearest street with the points as given (read as WGS-84)
    median_as_given_m: float
    #: ... if the points were really GCJ-02 and are corrected to WGS-84
    median_if_gcj02_m: float
    #: ... if the points were really BD-09
    median_if_bd09_m: float
    #: the system that puts the points closest to the streets
    likely_system: str
    #: whether a warning was issued
    suspicious: bool


def check_offset(
    points_wgs84: gpd.GeoDataFrame | gpd.GeoSeries,
    street_lines_wgs84: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    max_points: int = 5000,
    ratio: float = 2.0,
    min_gain_m: float = 15.0,
    seed: int = 0,
) -> OffsetCheck:
    """Warn when "WGS-84" points sit where undeclared GCJ-02 (or BD-09) data would.

    Businesses and gates lie beside streets. The median distance from the points to the nearest
    street line is computed three ways: as given; as if the points were GCJ-02 (corrected to
    WGS-84); as if they were BD-09. If a correction brings them at least ``ratio`` times and
    ``min_gain_m`` metres closer, the file was probably Amap/Tencent (GCJ-02) or Baidu (BD-09)
    data labelled WGS-84, and a :class:`~quarter_hour.QuarterHourWarning` says so.

    Parameters
    ----------
    points_wgs84
        Points as read (CRS EPSG:4326 or unset, meaning WGS-84 degrees).
    street_lines_wgs84
        Street lines in WGS-84 (e.g. from OpenStreetMap); any CRS is reprojected.
    max_points
        Use a seeded random sample of at most this many points.
    ratio, min_gain_m
        How much closer (factor and metres) a correction must bring the points to warn.
    seed
        Seed of the sample.

    Returns
    -------
    OffsetCheck
        Medians in metres (measured in a local UTM projection) and the likely system.
    """
    pts = points_wgs84.geometry if isinstance(points_wgs84, gpd.GeoDataFrame) else points_wgs84
    lines = (
        street_lines_wgs84.geometry
        if isinstance(street_lines_wgs84, gpd.GeoDataFrame)
        else street_lines_wgs84
    )
    pts = pts[pts.notna() & ~pts.is_empty]
    if pts.crs is None:
        pts = pts.set_crs(4326)
    pts = pts.to_crs(4326)
    lines = lines[lines.notna() & ~lines.is_empty]
    lines = lines.set_crs(4326) if lines.crs is None else lines.to_crs(4326)
    if len(pts) == 0 or len(lines) == 0:
        msg = "check_offset needs at least one point and one street line."
        raise InputError(msg)
    if len(pts) > max_points:
        pts = pts.sample(max_points, random_state=seed)
    x = shapely.get_x(pts.values)
    y = shapely.get_y(pts.values)
    utm = lines.estimate_utm_crs()
    lines_m = lines.to_crs(utm)
    tree = STRtree(np.asarray(lines_m.values))
    medians: dict[str, float] = {}
    for system in coords.COORD_SYSTEMS:
        cx, cy = coords.convert(x, y, src=system, dst="wgs84")
        cand = gpd.GeoSeries(gpd.points_from_xy(cx, cy), crs=4326).to_crs(utm)
        _, dist = tree.query_nearest(
            np.asarray(cand.values), return_distance=True, all_matches=False
        )
        medians[system] = float(np.median(dist))
    likely = min(medians, key=lambda k: medians[k])
    given = medians["wgs84"]
    suspicious = (
        likely != "wgs84"
        and given >= ratio * medians[likely]
        and given - medians[likely] >= min_gain_m
    )
    result = OffsetCheck(len(pts), given, medians["gcj02"], medians["bd09"], likely, suspicious)
    log.info(
        "Offset check: median distance to street %.1f m as given, %.1f m as GCJ-02, "
        "%.1f m as BD-09 (%d points)",
        given,
        medians["gcj02"],
        medians["bd09"],
        len(pts),
    )
    if suspicious:
        label = {"gcj02": "GCJ-02 (Amap/高德, Tencent)", "bd09": "BD-09 (Baidu/百度)"}[likely]
        msg = (
            f"Points declared WGS-84 sit where {label} data would: their median distance to the "
            f"nearest street is {given:.0f} m as given but {medians[likely]:.0f} m if they are "
            f"corrected from {likely.upper()} to WGS-84 ({len(pts):,} points). The data are "
            f"probably {label} with an undeclared offset; re-read them with "
            f"coord_system='{likely}'."
        )
        warnings.warn(msg, QuarterHourWarning, stacklevel=2)
    return result
