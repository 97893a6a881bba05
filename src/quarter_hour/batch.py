"""Score many communities at once: serially, or in parallel on a Dask cluster.

A batch is a gates table with a community column (or a folder holding one gates file per
community), one street network (or one per city, through a ``city`` column), and one facilities
table. Every community gets its own result file, ``out_dir/<community_id>.json`` (the whole
scorecard, or the error that stopped it), and the batch a summary table, ``out_dir/summary.csv``.

How the work is divided
-----------------------
Coverage is computed once for many communities, not once per community. Communities are grouped
by their street network (city), then cut into spatially compact *chunks* of ``chunk_size``
communities (ordered along a Hilbert curve through their centres). One task handles one chunk:

1. it takes the network from a per-process cache (a large network is loaded once per worker
   process and reused by every chunk of that city the worker runs), or from the copy Dask
   scattered to every worker when the network was given as an object;
2. it clips the network to the chunk's gates' bounding box grown by the walk limit plus the snap
   limit: no walk of ``limit_m`` leaves that box and every gate and facility that matters snaps to
   the same edge as on the whole network, so the clipped distances are exact, while the cost of a
   chunk grows with its area, not the city's;
3. it runs one :func:`quarter_hour.reach.coverage` for all compounds of the chunk (one bounded
   multi-source search per category), then scores each community from its rows
   (:func:`quarter_hour.scoring.score`), which is cheap;
4. it writes each community's JSON file and returns small summary rows.

What is shipped to a worker per task: the chunk's gates and the facilities within reach of them
(both clipped on the client, a few kB to a few MB), the rubric and checklists, and the network's
*path* (or a Dask future for a scattered network object). Result files are written by the workers,
so ``out_dir`` must be visible to them (a local cluster, or a shared file system).

Chunks do not depend on the number of workers, so serial and parallel runs compute the same
numbers bit for bit. A community that fails (unreadable file, no gate within ``max_snap_m`` of the
network, no network for its city) is reported in the summary and does not stop the others.
Re-running skips communities whose result file is already there for the same inputs and
parameters; failed ones are retried.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import re
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import InputError, InputFileError, QuarterHourError
from .network import DEFAULT_MAX_SNAP_M, WalkNetwork

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "BatchResult",
    "clip_network",
    "load_scorecard",
    "read_communities",
    "result_path",
    "score_batch",
]

#: Communities per task. Fixed (not derived from the number of workers) so that serial and
#: parallel runs group communities identically and give identical numbers.
DEFAULT_CHUNK_SIZE = 50

SUMMARY_FILE = "summary.csv"
_NETWORK_CACHE_SIZE = 2
_SAFE = re.compile(r"[^\w\-.一-鿿]+")

NetworkSource = str | os.PathLike[str] | WalkNetwork | Callable[[], WalkNetwork]


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------
@dataclass
class BatchResult:
    """What :func:`score_batch` did.

    Attributes
    ----------
    summary
        One row per community in input order: ``community_id``, ``city``, ``status`` ("ok",
        "failed"), ``skipped`` (True when an earlier run's result was reused), ``total``,
        ``grade``, ``grade_en``, ``passed``, ``<group>_points`` per rubric group, ``n_compounds``,
        ``n_gates``, ``n_unsnapped_gates``, ``not_assessed``, ``reasons``, ``error``, ``file``.
    out_dir
        The folder holding ``<community_id>.json`` files and ``summary.csv``.
    timings
        Seconds spent reading inputs, computing and writing (``read_s``, ``compute_s``,
        ``total_s``), and the number of chunks run.
    """

    summary: pd.DataFrame
    out_dir: Path
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def n_ok(self) -> int:
        """Communities scored (now or in an earlier run)."""
        return int((self.summary["status"] == "ok").sum())

    @property
    def n_failed(self) -> int:
        """Communities that could not be scored."""
        return int((self.summary["status"] == "failed").sum())

    @property
    def n_skipped(self) -> int:
        """Communities whose earlier result was reused."""
        return int(self.summary["skipped"].sum())

    @property
    def failed(self) -> pd.DataFrame:
        """The failed communities and why."""
        return self.summary.loc[
            self.summary["status"] == "failed", ["community_id", "city", "error"]
        ]


# --------------------------------------------------------------------------------------------
# reading the communities
# --------------------------------------------------------------------------------------------
def _fail_msg(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, QuarterHourError):
        return text
    return f"{type(exc).__name__}: {text}"


def read_communities(
    source: gpd.GeoDataFrame | str | os.PathLike[str],
    *,
    community_col: str = "community_id",
    coord_system: str | None = None,
    encoding: str | None = None,
) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """Read the gates of many communities.

    Parameters
    ----------
    source
        A gates GeoDataFrame or table file (CSV, Excel, GeoJSON, GeoPackage ...; see
        :func:`quarter_hour.readers.read_points`) with a ``community_col`` column, or a folder
        with one gates file per community (the file name without extension is the community id).
    community_col
        Column naming each gate's community (table form).
    coord_system
        Coordinate system of the coordinates in the files (``wgs84``, ``gcj02``, ``bd09``).
    encoding
        Text encoding of CSV files (detected when None).

    Returns
    -------
    gates : geopandas.GeoDataFrame
        ``community_id``, ``gate_id``, ``compound_id``, ``compound_name``, ``households`` and
        ``city`` when given, in WGS-84.
    failed : dict
        ``{community_id: reason}`` for files that could not be read (folder form) or communities
        whose rows are unusable (no compound id, no position, duplicated gate ids).
    """
    from . import readers

    failed: dict[str, str] = {}
    if isinstance(source, gpd.GeoDataFrame):
        frame = source.copy()
        if frame.crs is None:
            msg = "The gates table has no CRS; set it first, e.g. `gates.set_crs(4326)`."
            raise InputError(msg)
    else:
        path = Path(source)
        if not path.exists():
            msg = f"{path} does not exist. Give a gates table or a folder of gates files."
            raise InputFileError(msg)
        if path.is_dir():
            frames = []
            files = sorted(
                p for p in path.iterdir() if p.is_file() and not p.name.startswith((".", "~"))
            )
            if not files:
                msg = f"The folder {path} holds no gates files."
                raise InputFileError(msg)
            for p in files:
                cid = p.name.split(".")[0]
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        g = readers.read_points(
                            p, kind="gates", coord_system=coord_system, encoding=encoding
                        )
                except Exception as exc:  # a bad file fails its community only
                    failed[cid] = f"could not read {p.name}: {_fail_msg(exc)}"
                    continue
                g = g.copy()
                g[community_col] = cid
                frames.append(g)
            if not frames:
                frame = gpd.GeoDataFrame(
                    {community_col: [], "gate_id": [], "compound_id": []},
                    geometry=gpd.GeoSeries([], crs=4326),
                    crs=4326,
                )
            else:
                frame = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)
        else:
            frame = readers.read_points(
                path, kind="gates", coord_system=coord_system, encoding=encoding
            )
    if community_col not in frame.columns:
        msg = (
            f"The gates table has no {community_col!r} column naming each gate's community. "
            f"Columns found: {list(map(str, frame.columns))}. Pass `community_col=` or give a "
            "folder with one file per community."
        )
        raise InputError(msg)
    if "compound_id" not in frame.columns:
        msg = f"The gates table has no 'compound_id' column. Columns found: {list(map(str, frame.columns))}."
        raise InputError(msg)
    frame = frame.rename(columns={community_col: "community_id"})
    frame = frame.loc[frame["community_id"].notna()].copy()
    frame["community_id"] = frame["community_id"].astype(str)
    if "gate_id" not in frame.columns:
        frame["gate_id"] = frame.groupby("community_id").cumcount().astype(str)
    frame["gate_id"] = frame["gate_id"].astype(str)
    if "households" not in frame.columns:
        frame["households"] = np.nan
    frame["households"] = pd.to_numeric(frame["households"], errors="coerce").astype(float)
    if "compound_name" not in frame.columns:
        frame["compound_name"] = None
    if "city" in frame.columns:
        frame["city"] = frame["city"].astype("string").fillna("").astype(str)
    frame = frame.to_crs(4326) if frame.crs is not None else frame.set_crs(4326)
    # per-community checks: a bad community fails alone
    geom = frame.geometry
    bad_geom = geom.isna() | geom.is_empty | (geom.geom_type != "Point")
    for cid, rows in frame.groupby("community_id", sort=False):
        problems = []
        if rows["compound_id"].isna().any():
            problems.append(f"{int(rows['compound_id'].isna().sum())} gate(s) have no compound_id")
        nb = int(bad_geom.loc[rows.index].sum())
        if nb:
            problems.append(f"{nb} gate(s) have no point position")
        dup = rows["gate_id"][rows["gate_id"].duplicated()].unique().tolist()
        if dup:
            problems.append(f"duplicated gate ids {dup[:5]}")
        if problems:
            failed[str(cid)] = "; ".join(problems) + "."
    frame["compound_id"] = frame["compound_id"].astype(str)
    cols = [
        "community_id",
        *(["city"] if "city" in frame.columns else []),
        "gate_id",
        "compound_id",
        "compound_name",
        "households",
    ]
    return gpd.GeoDataFrame(frame[cols], geometry=frame.geometry, crs=4326), failed


def _read_pois(
    pois: Any, *, coord_system: str | None, encoding: str | None, taxonomy: Any
) -> gpd.GeoDataFrame:
    from . import readers

    if isinstance(pois, gpd.GeoDataFrame):
        p = pois
    else:
        p = readers.read_points(pois, kind="pois", coord_system=coord_system, encoding=encoding)
    if "category" not in p.columns:
        from . import taxonomy as tx

        tax = (
            tx.load_taxonomy(taxonomy)
            if taxonomy is not None and not isinstance(taxonomy, tx.Taxonomy)
            else taxonomy
        )
        p = tx.classify(p, taxonomy=tax)
    if p.crs is None:
        msg = "The facilities table has no CRS; set it first, e.g. `pois.set_crs(4326)`."
        raise InputError(msg)
    p = p.to_crs(4326)
    keep = [c for c in ("poi_id", "name", "category", "address") if c in p.columns]
    out = gpd.GeoDataFrame(p[keep].copy(), geometry=p.geometry.to_numpy(), crs=4326)
    if "poi_id" not in out.columns:
        out["poi_id"] = np.arange(len(out)).astype(str)
    out["poi_id"] = out["poi_id"].astype(str)
    if "name" not in out.columns:
        out["name"] = None
    ok = out.geometry.notna() & ~out.geometry.is_empty
    return out.loc[ok].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# networks: per-process cache, clipping
# --------------------------------------------------------------------------------------------
_CACHE: OrderedDict[str, tuple[WalkNetwork, np.ndarray]] = OrderedDict()


def _network_key(source: Any) -> str:
    if isinstance(source, str | os.PathLike):
        p = Path(source).resolve()
        st = p.stat() if p.exists() else None
        return f"path:{p}:{st.st_size if st else 0}:{st.st_mtime_ns if st else 0}"
    if isinstance(source, WalkNetwork):
        return f"net:{_hash_network(source)}"
    from dask.base import tokenize

    return f"call:{tokenize(source)}"


def _hash_network(net: WalkNetwork) -> str:
    h = hashlib.sha1()
    h.update(net.crs.to_wkt().encode())
    for a in (net.node_xy, net.edge_u, net.edge_v, net.edge_length_m):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def _edge_bounds(net: WalkNetwork) -> np.ndarray:
    return np.asarray(shapely.bounds(net.edge_geometry), dtype=float).reshape(-1, 4)


def _get_network(source: Any, key: str) -> tuple[WalkNetwork, np.ndarray]:
    """The network and its edge bounding boxes, loaded once per process (LRU of a few)."""
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    if isinstance(source, WalkNetwork):
        net = source
    elif isinstance(source, str | os.PathLike):
        from . import network

        t = time.perf_counter()
        net = network.load(source)
        log.info(
            "Loaded network %s in %.1f s (pid %s)", source, time.perf_counter() - t, os.getpid()
        )
    else:
        net = source()
        if not isinstance(net, WalkNetwork):
            msg = f"The network loader {source!r} returned {type(net).__name__}, not a WalkNetwork."
            raise InputError(msg)
    entry = (net, _edge_bounds(net))
    _CACHE[key] = entry
    while len(_CACHE) > _NETWORK_CACHE_SIZE:
        _CACHE.popitem(last=False)
    return entry


def clip_network(
    net: WalkNetwork,
    bounds: tuple[float, float, float, float],
    *,
    edge_bounds: np.ndarray | None = None,
) -> WalkNetwork:
    """The part of a network whose edges' bounding boxes meet ``bounds`` (network CRS, metres).

    Whole edges are kept (none is cut), so lengths and geometry are those of the full network.
    With ``bounds`` = the gates' box grown by ``limit_m + max_snap_m``, every walk of at most
    ``limit_m`` from those gates stays inside, so distances within the limit are exact.

    Parameters
    ----------
    net
        The network.
    bounds
        ``(minx, miny, maxx, maxy)`` in the network's CRS.
    edge_bounds
        Precomputed ``shapely.bounds`` of the edges (for repeated clips of one network).

    Returns
    -------
    WalkNetwork
        A smaller network in the same CRS (``report["clipped_to"]`` records the box).
    """
    eb = _edge_bounds(net) if edge_bounds is None else edge_bounds
    x0, y0, x1, y1 = bounds
    keep_edge = (eb[:, 0] <= x1) & (eb[:, 2] >= x0) & (eb[:, 1] <= y1) & (eb[:, 3] >= y0)
    keep_node = np.zeros(net.n_nodes, dtype=bool)
    keep_node[net.edge_u[keep_edge]] = True
    keep_node[net.edge_v[keep_edge]] = True
    return net.subset(keep_node, keep_edge, clipped_to=tuple(round(float(b), 1) for b in bounds))


# --------------------------------------------------------------------------------------------
# one chunk
# --------------------------------------------------------------------------------------------
@dataclass
class _Chunk:
    index: int
    city: str
    network_key: str
    gates: gpd.GeoDataFrame  # WGS-84, columns of read_communities
    pois: gpd.GeoDataFrame  # WGS-84, within reach of the gates
    todo: list[str]  # communities to write (the others are already done)
    keys: dict[str, str]  # community -> fingerprint written into its file
    checklists: dict[str, Any]


@dataclass
class _Job:
    rubric: Any
    limit_m: float
    max_snap_m: float
    out_dir: str
    sources: dict[str, Any]
    full_scorecards: bool = False


def _safe_name(cid: str) -> str:
    safe = _SAFE.sub("_", cid).strip("._") or "community"
    if safe != cid or len(safe) > 80:
        safe = f"{safe[:60]}-{hashlib.sha1(cid.encode()).hexdigest()[:8]}"
    return safe


def result_path(out_dir: str | os.PathLike[str], community_id: str) -> Path:
    """The result file of a community: ``out_dir/<community_id>.json`` (unsafe characters replaced)."""
    return Path(out_dir) / f"{_safe_name(str(community_id))}.json"


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(
        json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False),
        encoding="utf-8",
    )
    os.replace(tmp, path)


def _summary_row(cid: str, city: str, status: str, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"community_id": cid, "city": city, "status": status, "skipped": False}
    row.update(kw)
    return row


def _row_from_result(
    cid: str, city: str, res: Mapping[str, Any], extra: Mapping[str, Any], group_cols: Sequence[str]
) -> dict[str, Any]:
    row = _summary_row(
        cid,
        city,
        "ok",
        total=res["total"],
        grade=res["grade"],
        grade_en=res["grade_en"],
        passed=res["passed"],
    )
    row.update({k: res.get(k) for k in group_cols})
    row.update(
        n_compounds=extra.get("n_compounds"),
        n_gates=extra.get("n_gates"),
        n_unsnapped_gates=len(extra.get("unsnapped_gates", [])),
        not_assessed=res.get("not_assessed", ""),
        reasons=res.get("reasons", ""),
        error="",
    )
    return row


def _clean(v: Any) -> Any:
    from .scoring import to_jsonable

    return to_jsonable(v)


def _project(gdf: gpd.GeoDataFrame, crs: Any) -> gpd.GeoDataFrame:
    return gdf.to_crs(crs) if len(gdf) else gdf.set_crs(crs, allow_override=True)


def _run_chunk(chunk: _Chunk, job: _Job, network: Any) -> list[dict[str, Any]]:
    """Coverage for all compounds of a chunk, then one scorecard per community."""
    from . import reach, scoring

    rows: list[dict[str, Any]] = []
    out_dir = Path(job.out_dir)
    try:
        if isinstance(network, tuple):  # (source, key): load through the per-process cache
            net, eb = _get_network(network[0], network[1])
        else:  # a network object (scattered by Dask, or passed in serial mode)
            net, eb = _get_network(network, chunk.network_key)
        g_all = _project(chunk.gates, net.crs)
        # namespace ids: compounds and gates of different communities may share ids
        comm_pos = {c: i for i, c in enumerate(pd.unique(g_all["community_id"]))}
        prefix = g_all["community_id"].map(comm_pos).astype(str) + "|"
        g = gpd.GeoDataFrame(
            {
                "gate_id": (prefix + g_all["gate_id"]).to_numpy(),
                "compound_id": (prefix + g_all["compound_id"]).to_numpy(),
                "community_id": g_all["community_id"].to_numpy(),
            },
            geometry=g_all.geometry.to_numpy(),
            crs=net.crs,
        )
        x0, y0, x1, y1 = g.total_bounds
        pad = job.limit_m + job.max_snap_m
        sub = clip_network(net, (x0 - pad, y0 - pad, x1 + pad, y1 + pad), edge_bounds=eb)
        p = _project(chunk.pois, net.crs)
        r = job.limit_m
        if len(p):
            p = p.loc[p.geometry.intersects(shapely.box(x0 - r, y0 - r, x1 + r, y1 + r))]
        p = p.reset_index(drop=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ri = reach.prepare(sub, g, p, max_snap_m=job.max_snap_m)
            cov = reach.coverage(ri, limit_m=job.limit_m, categories=list(job.rubric.categories))
        chunk_notes = [str(w.message) for w in caught if "were not snapped" not in str(w.message)]
    except Exception as exc:
        log.debug("chunk %s failed", chunk.index, exc_info=True)
        for cid in chunk.todo:
            _fail(rows, out_dir, cid, chunk.city, exc, {})
        return rows

    unsnapped = set(cov.attrs.get("unsnapped_gates", []))
    unreachable = set(ri.unreachable_compounds())
    comp_of = dict(zip(g["compound_id"], g_all["compound_id"], strict=True))
    gate_of = dict(zip(g["gate_id"], g_all["gate_id"], strict=True))
    group_cols = tuple(f"{gr.id}_points" for gr in job.rubric.groups)

    # per-community checks; the good ones are scored together in one score_many call
    extras: dict[str, dict[str, Any]] = {}
    entries: dict[str, Any] = {}
    members = []
    for cid in chunk.todo:
        sel = (g["community_id"] == cid).to_numpy()
        gc, gsub = g.loc[sel], g_all.loc[sel]
        comps = pd.unique(gc["compound_id"])
        un_gates = sorted(gate_of[x] for x in gc["gate_id"] if x in unsnapped)
        extras[cid] = {"n_compounds": len(comps), "n_gates": len(gc), "unsnapped_gates": un_gates}
        try:
            if all(c in unreachable for c in comps):
                msg = (
                    f"none of its {len(gc)} gate(s) lies within {job.max_snap_m:g} m of the walk "
                    f"network{' of ' + chunk.city if chunk.city else ''}; check their coordinate "
                    "system (WGS-84/GCJ-02/BD-09) and that the network covers them."
                )
                raise InputError(msg)
            if chunk.checklists.get(cid) is not None:
                read = scoring.read_checklist(chunk.checklists[cid], job.rubric)
                entries[cid] = {k: {"points": pts, "evidence": ev} for k, (pts, ev) in read.items()}
            m = (
                gc.assign(households=gsub["households"].to_numpy())
                .groupby("compound_id", sort=False)["households"]
                .max()
                .reset_index()
            )
            m["community"] = cid
            members.append(m)
        except Exception as exc:
            _fail(rows, out_dir, cid, chunk.city, exc, extras[cid])
    if not members:
        return rows
    comp_table = pd.concat(members, ignore_index=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = scoring.score_many(cov, comp_table, job.rubric, checklists=entries or None)
    notes = chunk_notes + [str(w.message) for w in caught]
    cov_named = cov.assign(
        compound_id=cov["compound_id"].map(comp_of),
        nearest_gate_id=cov["nearest_gate_id"].map(
            lambda v: gate_of.get(v) if v is not None else None
        ),
    )
    cov_cols = [
        "compound_id",
        "category",
        "reachable",
        "nearest_m",
        "nearest_poi_id",
        "nearest_poi_name",
        "nearest_gate_id",
        "count",
    ]
    by_comp = {k: v for k, v in cov_named.groupby(cov["compound_id"].to_numpy(), sort=False)}
    households = dict(zip(comp_table["compound_id"], comp_table["households"], strict=True))
    for cid in pd.unique(comp_table["community"]):
        extra = extras[cid]
        try:
            result = {k: _clean(v) for k, v in table.loc[cid].to_dict().items()}
            keys = comp_table.loc[comp_table["community"] == cid, "compound_id"].tolist()
            rows_c = pd.concat([by_comp[k] for k in keys], ignore_index=True)[cov_cols]
            data = {
                "community_id": cid,
                "city": chunk.city,
                "status": "ok",
                "key": chunk.keys[cid],
                **extra,
                "notes": notes,
                "result": result,
                "compounds": [
                    {"compound_id": comp_of[k], "households": _clean(households[k])} for k in keys
                ],
                # pandas' C JSON encoder (NaN -> null); a Python walk over ~1,000 values per
                # community was a third of the batch's time
                "coverage": {
                    c: json.loads(rows_c[c].to_json(orient="records", double_precision=15))
                    for c in cov_cols
                },
                "coverage_limit_m": job.limit_m,
                "checklist": entries.get(cid),
                "rubric": job.rubric.name,
                "sources": job.sources,
            }
            if job.full_scorecards:
                data["scorecard"] = _scorecard(data, job.rubric).to_dict()
            _write_json(result_path(out_dir, cid), data)
            rows.append(_row_from_result(cid, chunk.city, result, extra, group_cols))
        except Exception as exc:
            _fail(rows, out_dir, cid, chunk.city, exc, extra)
    return rows


def _fail(
    rows: list[dict[str, Any]],
    out_dir: Path,
    cid: str,
    city: str,
    exc: BaseException,
    extra: Mapping[str, Any],
) -> None:
    msg = _fail_msg(exc)
    log.debug("community %s failed", cid, exc_info=True)
    _write_json(
        result_path(out_dir, cid),
        {"community_id": cid, "city": city, "status": "failed", "error": msg, "key": None, **extra},
    )
    rows.append(
        _summary_row(
            cid,
            city,
            "failed",
            error=msg,
            n_compounds=extra.get("n_compounds"),
            n_gates=extra.get("n_gates"),
            n_unsnapped_gates=len(extra.get("unsnapped_gates", [])),
        )
    )


def _scorecard(data: Mapping[str, Any], rubric: Any) -> Any:
    from . import scoring

    cov = pd.DataFrame(data["coverage"])
    cov["nearest_m"] = cov["nearest_m"].astype(float)
    cov.attrs["limit_m"] = data["coverage_limit_m"]
    comps = pd.DataFrame(data["compounds"])
    comps["households"] = comps["households"].astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scoring.score(
            cov,
            rubric,
            compounds=comps,
            checklist=data.get("checklist"),
            community=data["community_id"],
            sources=data.get("sources"),
        )


def load_scorecard(
    out_dir: str | os.PathLike[str], community_id: str, *, rubric: Any = None
) -> Any:
    """Rebuild the full :class:`~quarter_hour.scoring.Scorecard` of one community of a batch.

    The result file keeps the community's coverage rows, compounds and checklist, so the card is
    recomputed exactly (for reports and maps) without touching the network again.

    Parameters
    ----------
    out_dir
        The batch's output folder.
    community_id
        The community.
    rubric
        The rubric the batch used (default: the shipped one named in the file).

    Returns
    -------
    quarter_hour.scoring.Scorecard
    """
    from .rubric import Rubric, load_rubric

    path = result_path(out_dir, community_id)
    if not path.is_file():
        msg = f"No result for community {community_id!r} in {out_dir} (looked for {path.name})."
        raise InputFileError(msg)
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("status") != "ok":
        msg = f"Community {community_id!r} failed in that batch: {data.get('error')}"
        raise InputError(msg)
    rub = (
        rubric
        if isinstance(rubric, Rubric)
        else load_rubric(rubric or data.get("rubric") or "hangjin_2023")
    )
    return _scorecard(data, rub)


# --------------------------------------------------------------------------------------------
# planning
# --------------------------------------------------------------------------------------------
def _row_hashes(df: pd.DataFrame) -> np.ndarray:
    """One uint64 per row from its attributes and (for GeoDataFrames) its rounded coordinates.

    Hashed once for a whole table; a community's fingerprint is then a digest of its rows'
    hashes (hashing each community's slice separately cost ~6 ms each).
    """
    plain = df.drop(columns=[df.geometry.name]) if isinstance(df, gpd.GeoDataFrame) else df
    h = pd.util.hash_pandas_object(plain.astype(str), index=False).to_numpy()
    if isinstance(df, gpd.GeoDataFrame):
        xy = pd.DataFrame(np.round(shapely.get_coordinates(df.geometry.to_numpy()), 7))
        h = h ^ pd.util.hash_pandas_object(xy, index=False).to_numpy()
    return np.asarray(h, dtype=np.uint64)


def _fingerprint_frame(df: pd.DataFrame) -> str:
    return hashlib.sha1(_row_hashes(df).tobytes()).hexdigest()


def _checklist_fingerprint(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str | os.PathLike):
        p = Path(value)
        return hashlib.sha1(p.read_bytes()).hexdigest() if p.is_file() else str(p)
    return json.dumps(value, sort_keys=True, default=str)


def _resolve_checklists(checklists: Any, ids: Sequence[str]) -> dict[str, Any]:
    if checklists is None:
        return {}
    if isinstance(checklists, Mapping):
        return {str(k): v for k, v in checklists.items()}
    path = Path(checklists)
    if path.is_dir():
        out: dict[str, Any] = {}
        for p in sorted(path.iterdir()):
            if p.suffix.lower() in (".toml", ".json", ".yaml", ".yml"):
                out[p.name.rsplit(".", 1)[0]] = p
        return out
    if path.is_file():  # one checklist for every community
        return dict.fromkeys(ids, path)
    msg = f"`checklists` {str(path)!r} is neither a folder of checklist files nor a file."
    raise InputFileError(msg)


def _hilbert_order(gates: gpd.GeoDataFrame) -> list[str]:
    """Community ids ordered along a Hilbert curve through their gates' centres."""
    xy = gates.get_coordinates()
    centre = xy.groupby(gates["community_id"].to_numpy(), sort=False).mean()
    pts = gpd.GeoSeries(gpd.points_from_xy(centre["x"], centre["y"]), index=centre.index)
    if len(pts) <= 1:
        return [str(x) for x in pts.index]
    d = pts.hilbert_distance(total_bounds=pts.total_bounds, level=16)
    order = np.lexsort((np.asarray(pts.index, dtype=str), d.to_numpy()))
    return [str(x) for x in np.asarray(pts.index)[order]]


def _deg_pad(metres: float, lat: float) -> tuple[float, float]:
    """A box half-width in degrees (lon, lat) that is at least ``metres`` everywhere near ``lat``."""
    dlat = metres * 1.05 / 110_574.0 + 1e-4
    cos = max(math.cos(math.radians(min(abs(lat) + dlat, 89.0))), 1e-3)
    return dlat / cos, dlat


@dataclass
class _Plan:
    chunks: list[_Chunk]
    networks: dict[str, Any]  # network key -> source
    rows: dict[str, dict[str, Any]]  # rows known before running (failed on read, skipped)
    order: list[str]


def _plan(
    gates: gpd.GeoDataFrame,
    failed: dict[str, str],
    networks: Any,
    pois: gpd.GeoDataFrame,
    checklists: dict[str, Any],
    job: _Job,
    *,
    chunk_size: int,
    overwrite: bool,
    params_key: str,
) -> _Plan:
    order = [str(c) for c in pd.unique(gates["community_id"])]
    order += [c for c in failed if c not in set(order)]
    rows: dict[str, dict[str, Any]] = {}
    city_of: dict[str, str] = {}
    has_city = "city" in gates.columns
    for cid, city in (
        gates.groupby("community_id", sort=False)["city"].first().items() if has_city else []
    ):
        city_of[str(cid)] = str(city)
    for cid, reason in failed.items():
        rows[cid] = _summary_row(cid, city_of.get(cid, ""), "failed", error=reason)
    if isinstance(networks, Mapping):
        if not has_city:
            msg = (
                "A network per city was given, but the gates table has no 'city' column saying "
                "which city each community is in."
            )
            raise InputError(msg)
        net_of_city = {str(k): v for k, v in networks.items()}
    else:
        net_of_city = {}
    keys: dict[str, Any] = {}
    chunks: list[_Chunk] = []
    group_cols = [f"{gr.id}_points" for gr in job.rubric.groups]
    ok = gates.loc[~gates["community_id"].isin(list(failed))]
    groups = ok.groupby("city", sort=True) if has_city else [("", ok)]
    for city, g_city in groups:
        city = str(city)
        if net_of_city:
            if city not in net_of_city:
                reason = (
                    f"no network for city {city!r}; networks are given for "
                    f"{sorted(net_of_city)[:10]}."
                )
                for cid in pd.unique(g_city["community_id"]):
                    rows[str(cid)] = _summary_row(str(cid), city, "failed", error=reason)
                continue
            source = net_of_city[city]
        else:
            source = networks
        nkey = _network_key(source)
        keys[nkey] = source
        ordered = _hilbert_order(g_city)
        by_comm = dict(iter(g_city.groupby("community_id", sort=False)))
        row_hash = _row_hashes(g_city)
        rows_of = g_city.groupby("community_id", sort=False).indices
        for start in range(0, len(ordered), chunk_size):
            ids = ordered[start : start + chunk_size]
            ckeys: dict[str, str] = {}
            todo: list[str] = []
            for cid in ids:
                k = hashlib.sha1(
                    (
                        params_key
                        + nkey
                        + hashlib.sha1(row_hash[rows_of[cid]].tobytes()).hexdigest()
                        + _checklist_fingerprint(checklists.get(cid))
                    ).encode()
                ).hexdigest()
                ckeys[cid] = k
                prev = _done(job.out_dir, cid, k, group_cols) if not overwrite else None
                if prev is not None:
                    rows[cid] = prev
                else:
                    todo.append(cid)
            if not todo:
                continue
            cg = pd.concat([by_comm[c] for c in ids])
            cg = gpd.GeoDataFrame(cg, geometry="geometry", crs=4326)
            x0, y0, x1, y1 = cg.total_bounds
            dx, dy = _deg_pad(job.limit_m, max(abs(y0), abs(y1)))
            cp = pois.cx[x0 - dx : x1 + dx, y0 - dy : y1 + dy] if len(pois) else pois
            chunks.append(
                _Chunk(
                    len(chunks),
                    city,
                    nkey,
                    cg,
                    cp.copy(),
                    todo,
                    ckeys,
                    {c: checklists[c] for c in ids if c in checklists},
                )
            )
    return _Plan(chunks, keys, rows, order)


def _done(out_dir: str, cid: str, key: str, group_cols: Sequence[str]) -> dict[str, Any] | None:
    path = result_path(out_dir, cid)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("status") != "ok" or data.get("key") != key:
        return None
    row = _row_from_result(cid, data.get("city", ""), data["result"], data, group_cols)
    row["skipped"] = True
    return row


# --------------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------------
def _progress(total: int, enabled: bool, desc: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, unit="chunk", leave=False)


def _run_serial(plan: _Plan, job: _Job, progress: bool) -> Iterator[list[dict[str, Any]]]:
    with _progress(len(plan.chunks), progress, "scoring") as bar:
        for ch in plan.chunks:
            yield _run_chunk(ch, job, (plan.networks[ch.network_key], ch.network_key))
            bar.update(1)


@contextlib.contextmanager
def _client(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. "Port 8787 is already in use"
        cluster = LocalCluster(
            n_workers=int(workers or 1), threads_per_worker=1, processes=True,
            host="127.0.0.1", dashboard_address=None,
        )  # fmt: skip
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def _run_dask(
    plan: _Plan, job: _Job, client: Any, progress: bool, ship: str
) -> Iterator[list[dict[str, Any]]]:
    from distributed import as_completed

    handles: dict[str, Any] = {}
    for key, source in plan.networks.items():
        if ship == "scatter" or (ship == "auto" and isinstance(source, WalkNetwork)):
            net = source if isinstance(source, WalkNetwork) else _get_network(source, key)[0]
            handles[key] = client.scatter(net, broadcast=True, hash=False)
        else:
            handles[key] = (source, key)
    job_f = client.scatter(job, broadcast=True, hash=False)
    futures = [
        client.submit(_run_chunk, ch, job_f, handles[ch.network_key], pure=False)
        for ch in plan.chunks
    ]
    with _progress(len(futures), progress, "scoring") as bar:
        for fut in as_completed(futures):
            yield fut.result()
            bar.update(1)


def score_batch(
    communities: gpd.GeoDataFrame | str | os.PathLike[str],
    networks: NetworkSource | Mapping[str, NetworkSource],
    pois: gpd.GeoDataFrame | str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str],
    rubric: Any = None,
    checklists: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    community_col: str = "community_id",
    coord_system: str | None = None,
    pois_coord_system: str | None = None,
    encoding: str | None = None,
    taxonomy: Any = None,
    overwrite: bool = False,
    full_scorecards: bool = False,
    ship: str = "auto",
    progress: bool = False,
) -> BatchResult:
    """Score many communities and write one result file per community plus a summary.

    Parameters
    ----------
    communities
        Gates of all communities: a GeoDataFrame or table file with ``community_id`` (see
        ``community_col``), ``compound_id``, optional ``gate_id``, ``households`` and ``city``;
        or a folder with one gates file per community. See :func:`read_communities`.
    networks
        One network for all (a file path :func:`quarter_hour.network.load` reads, a
        :class:`~quarter_hour.network.WalkNetwork`, or a picklable zero-argument function that
        returns one), or ``{city: network}`` matched against the gates' ``city`` column.
    pois
        Facilities: a GeoDataFrame or file; classified with :func:`quarter_hour.taxonomy.classify`
        when it has no ``category`` column.
    out_dir
        Folder for ``<community_id>.json`` files and ``summary.csv`` (created). On a cluster, it
        must be visible to the workers.
    rubric
        A :class:`~quarter_hour.rubric.Rubric`, a shipped rubric name or a file (default 杭锦旗
        2023). Its walk (minutes x speed) sets the walk limit.
    checklists
        Non-spatial items per community: ``{community_id: checklist}`` (mapping or file, as
        :func:`quarter_hour.scoring.score` takes), a folder of ``<community_id>.toml``/``.json``
        files, or one file used for every community.
    workers
        Run on a new local Dask cluster of this many single-threaded worker processes. None
        (default) runs serially in this process.
    scheduler
        Address of an existing Dask scheduler (``"tcp://host:8786"``); overrides ``workers``.
    max_snap_m
        Gates and facilities farther than this (m) from the network are not snapped.
    chunk_size
        Communities per task (they share one coverage computation). The result does not depend
        on ``workers``; it may differ in the last bits of a distance with ``chunk_size``.
    community_col
        Column naming each gate's community.
    coord_system, pois_coord_system
        Coordinate systems of the gates and facilities files (``wgs84``, ``gcj02``, ``bd09``).
    encoding
        Text encoding of CSV inputs (detected when None).
    taxonomy
        Category mapping file or :class:`~quarter_hour.taxonomy.Taxonomy` for unclassified
        facilities (default: the shipped one).
    overwrite
        Recompute every community, ignoring earlier results in ``out_dir``.
    full_scorecards
        Also store the whole scorecard (:meth:`~quarter_hour.scoring.Scorecard.to_dict`) in
        each result file. Off by default: building a card costs ~0.1 s per community, and the
        file already keeps the points, the grade and the coverage rows from which
        :func:`load_scorecard` rebuilds the card exactly.
    ship
        How networks reach Dask workers: ``"auto"`` (paths and loader functions are loaded by each
        worker once and cached; network objects are scattered), ``"scatter"`` (load on the
        client and broadcast to every worker) or ``"load"``.
    progress
        Show a progress bar (tqdm).

    Returns
    -------
    BatchResult
        The summary table (also written to ``out_dir/summary.csv``) and timings.

    Raises
    ------
    InputError, InputFileError
        When the inputs as a whole are unusable (no community column, no facilities file, a
        network per city without a ``city`` column). Problems of single communities are reported
        in the summary instead.
    """
    from .rubric import Rubric, load_rubric

    t0 = time.perf_counter()
    if ship not in ("auto", "scatter", "load"):
        msg = f"`ship` must be 'auto', 'scatter' or 'load', got {ship!r}."
        raise InputError(msg)
    if int(chunk_size) < 1:
        msg = f"`chunk_size` must be at least 1, got {chunk_size!r}."
        raise InputError(msg)
    if workers is not None and int(workers) < 1:
        msg = f"`workers` must be at least 1, got {workers!r}."
        raise InputError(msg)
    rub = rubric if isinstance(rubric, Rubric) else load_rubric(rubric or "hangjin_2023")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gates, failed = read_communities(
        communities, community_col=community_col, coord_system=coord_system, encoding=encoding
    )
    p = _read_pois(pois, coord_system=pois_coord_system, encoding=encoding, taxonomy=taxonomy)
    ids = [str(c) for c in pd.unique(gates["community_id"])]
    cl = _resolve_checklists(checklists, ids)
    sources = {
        "networks": {str(k): str(v) for k, v in networks.items()}
        if isinstance(networks, Mapping)
        else (
            str(networks)
            if isinstance(networks, str | os.PathLike)
            else getattr(networks, "source", "")
        ),
        "pois": str(pois) if isinstance(pois, str | os.PathLike) else "GeoDataFrame",
    }
    job = _Job(
        rub, float(rub.walk.limit_m), float(max_snap_m), str(out), sources, bool(full_scorecards)
    )
    params_key = hashlib.sha1(
        (
            rub.to_toml()
            + f"|{job.limit_m!r}|{job.max_snap_m!r}|{int(chunk_size)}|"
            + _fingerprint_frame(p)
        ).encode()
    ).hexdigest()
    plan = _plan(
        gates,
        failed,
        networks,
        p,
        cl,
        job,
        chunk_size=int(chunk_size),
        overwrite=overwrite,
        params_key=params_key,
    )
    for cid, row in plan.rows.items():
        if row["status"] == "failed":
            _write_json(
                result_path(out, cid),
                {
                    "community_id": cid,
                    "city": row["city"],
                    "status": "failed",
                    "error": row["error"],
                    "key": None,
                },
            )
    t_read = time.perf_counter() - t0
    log.info(
        "Batch: %s communities, %s chunks to run, %s done earlier, %s failed on input",
        f"{len(plan.order):,}",
        len(plan.chunks),
        sum(1 for r in plan.rows.values() if r["skipped"]),
        sum(1 for r in plan.rows.values() if r["status"] == "failed"),
    )
    rows = dict(plan.rows)
    t1 = time.perf_counter()
    if plan.chunks:
        if workers is None and scheduler is None:
            for res in _run_serial(plan, job, progress):
                rows.update({r["community_id"]: r for r in res})
        else:
            with _client(workers, scheduler) as client:
                for res in _run_dask(plan, job, client, progress, ship):
                    rows.update({r["community_id"]: r for r in res})
    t_compute = time.perf_counter() - t1
    summary = _summary_frame([rows[c] for c in plan.order if c in rows], rub, out)
    summary.to_csv(out / SUMMARY_FILE, index=False, encoding="utf-8-sig")
    timings = {
        "read_s": t_read,
        "compute_s": t_compute,
        "total_s": time.perf_counter() - t0,
        "chunks": float(len(plan.chunks)),
    }
    return BatchResult(summary=summary, out_dir=out, timings=timings)


def _summary_frame(rows: list[dict[str, Any]], rubric: Any, out: Path) -> pd.DataFrame:
    group_cols = [f"{g.id}_points" for g in rubric.groups]
    cols = [
        "community_id",
        "city",
        "status",
        "skipped",
        "total",
        "grade",
        "grade_en",
        "passed",
        *group_cols,
        "n_compounds",
        "n_gates",
        "n_unsnapped_gates",
        "not_assessed",
        "reasons",
        "error",
    ]
    df = pd.DataFrame(rows, columns=cols)
    df["file"] = [result_path(out, c).name for c in df["community_id"]]
    df["skipped"] = df["skipped"].fillna(False).astype(bool)
    for c in ("error", "not_assessed", "reasons"):
        df[c] = df[c].fillna("")
    return df
