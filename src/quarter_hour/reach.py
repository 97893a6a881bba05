"""Reach: which categories of business each residential compound can walk to.

The rubric's spatial rule (Annex 2): the population served is the community's residents, the
origin is the residential compound's gate (居住小区大门), and the range is a 15-minute walk, about
1.2 km. A compound reaches a category when at least one facility of that category lies within the
walk limit of at least one of its gates (residents leave by any gate), along the street network,
with the straight access legs from gate and facility to their streets counted.

Method
------
- Gates and facilities snap onto their nearest walkable edge (:meth:`WalkNetwork.snap`) and are
  inserted into the graph as nodes (:meth:`WalkNetwork.augment`), so every distance is exact.
- *Nearest facility per category*: one multi-source bounded Dijkstra per category from that
  category's facilities (scipy ``dijkstra(min_only=True, limit=...)``). Its cost grows with the
  network area within the limit of those facilities times the number of categories, not with
  compounds x facilities.
- *Counts within the limit*: a bounded search from every gate on local sub-graphs
  (:meth:`AugmentedGraph.pairs_within`), which yields every (gate, facility) pair within the limit
  exactly; a facility reachable from two gates of one compound counts once.
The two are independent computations of the same fact (reachable <=> count > 0); the tests check
that they agree.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import InputError, QuarterHourWarning
from .network import DEFAULT_MAX_SNAP_M, AugmentedGraph, Snapped, WalkNetwork

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_LIMIT_M",
    "DEFAULT_MINUTES",
    "DEFAULT_SPEED_M_PER_MIN",
    "ReachInputs",
    "coverage",
    "prepare",
    "walk_limit_m",
]

#: The rubric's walk: 15 minutes at 80 m/min = 1,200 m ("步行15分钟约1.2千米").
DEFAULT_MINUTES = 15.0
DEFAULT_SPEED_M_PER_MIN = 80.0
DEFAULT_LIMIT_M = DEFAULT_MINUTES * DEFAULT_SPEED_M_PER_MIN


def walk_limit_m(
    minutes: float = DEFAULT_MINUTES, speed_m_per_min: float = DEFAULT_SPEED_M_PER_MIN
) -> float:
    """Walk limit in metres for a time budget and walking speed (15 min x 80 m/min = 1,200 m)."""
    if not (minutes > 0 and speed_m_per_min > 0):
        msg = f"`minutes` and `speed_m_per_min` must be positive, got {minutes!r}, {speed_m_per_min!r}."
        raise InputError(msg)
    return float(minutes) * float(speed_m_per_min)


def _limits(limit_m: float | Sequence[float]) -> list[float]:
    limits = [float(x) for x in (limit_m if isinstance(limit_m, Sequence) else [limit_m])]
    if not limits or any(not (np.isfinite(x) and x > 0) for x in limits):
        msg = (
            f"`limit_m` must be one or more positive, finite distances in metres, got {limit_m!r}."
        )
        raise InputError(msg)
    return sorted(set(limits))


def validate_gates(gates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Check a gates table (see docs/CONTRACTS.md) and return it indexed by ``gate_id``.

    The checks are :func:`quarter_hour.gates.validate_gates` (missing columns or CRS, missing
    compound ids, duplicate gate ids, non-point geometry); a table without ``gate_id`` uses its
    index as the gate ids.
    """
    from .gates import validate_gates as _validate

    if isinstance(gates, gpd.GeoDataFrame) and "gate_id" not in gates.columns:
        gates = gates.assign(gate_id=gates.index.astype(str))
    g = _validate(gates)
    return g.set_index(pd.Index(g["gate_id"].to_numpy(), name=None), drop=False)


def validate_pois(pois: gpd.GeoDataFrame, *, category_col: str = "category") -> gpd.GeoDataFrame:
    """Check a facilities table (see docs/CONTRACTS.md); return it with a fresh 0..k-1 index."""
    if not isinstance(pois, gpd.GeoDataFrame):
        msg = f"`pois` must be a GeoDataFrame of Points, got {type(pois).__name__}."
        raise InputError(msg)
    if category_col not in pois.columns:
        msg = (
            f"Column {category_col!r} not found in `pois`. Available columns: "
            f"{list(pois.columns)}. Classify records first with quarter_hour.taxonomy.classify()."
        )
        raise InputError(msg)
    p = pois.copy()
    if "poi_id" not in p.columns:
        p["poi_id"] = p.index.astype(str)
    p["poi_id"] = p["poi_id"].astype(str)
    if "name" not in p.columns:
        p["name"] = None
    p[category_col] = p[category_col].astype(str)
    dup = p.duplicated(["poi_id", category_col])
    if dup.any():
        ids = p.loc[dup, "poi_id"].unique().tolist()[:10]
        msg = (
            f"`pois` lists the same (poi_id, {category_col}) more than once: {ids}. Deduplicate "
            "the records (quarter_hour.readers deduplicates on read)."
        )
        raise InputError(msg)
    return p.reset_index(drop=True)


class ReachInputs:
    """Gates and facilities snapped onto one augmented network, reused across questions.

    Build it with :func:`prepare`; :func:`coverage` and the isochrone functions accept it so
    that snapping and graph augmentation happen once.
    """

    def __init__(
        self,
        net: WalkNetwork,
        gates: gpd.GeoDataFrame,
        pois: gpd.GeoDataFrame | None,
        gates_snapped: Snapped,
        pois_snapped: Snapped | None,
        aug: AugmentedGraph,
        category_col: str,
    ) -> None:
        self.net = net
        self.gates = gates
        self.pois = pois
        self.gates_snapped = gates_snapped
        self.pois_snapped = pois_snapped
        self.aug = aug
        self.category_col = category_col

    @property
    def gate_nodes(self) -> np.ndarray:
        """Access-node index of each gate (in ``gates`` order) in the augmented graph."""
        return self.aug.access_nodes(0)

    @property
    def poi_nodes(self) -> np.ndarray:
        """Access-node index of each facility row (in ``pois`` order)."""
        return self.aug.access_nodes(1) if self.pois is not None else np.empty(0, dtype=np.int64)

    @property
    def unsnapped_gates(self) -> list[str]:
        """Gate ids farther than ``max_snap_m`` from the network."""
        return [str(x) for x in self.gates_snapped.far_ids]

    def unreachable_compounds(self) -> list[str]:
        """Compounds none of whose gates could be snapped."""
        ok = pd.Series(self.gates_snapped.ok, index=self.gates.index)
        by = ok.groupby(self.gates["compound_id"]).any()
        return by.index[~by.to_numpy()].tolist()


def prepare(
    net: WalkNetwork,
    gates: gpd.GeoDataFrame,
    pois: gpd.GeoDataFrame | None = None,
    *,
    category_col: str = "category",
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
) -> ReachInputs:
    """Validate, snap and insert gates (and facilities) into the network once.

    Parameters
    ----------
    net
        The walk network (projected CRS, metres).
    gates
        Gates table (docs/CONTRACTS.md): ``gate_id``, ``compound_id``, Point geometry in any CRS
        (reprojected to the network's).
    pois
        Facilities table: ``poi_id``, ``name``, ``category``, Point geometry; optional.
    category_col
        Column of ``pois`` holding the category id.
    max_snap_m
        Points farther than this (m) from every walkable edge are not snapped; they are named in a
        warning and count as reaching nothing.
    """
    g = validate_gates(gates)
    sg = net.snap(g, max_snap_m=max_snap_m, name="gates")
    if pois is not None:
        p = validate_pois(pois, category_col=category_col)
        sp_ = net.snap(p, max_snap_m=max_snap_m, name="pois")
        aug = net.augment(sg, sp_)
    else:
        p, sp_ = None, None
        aug = net.augment(sg)
    return ReachInputs(net, g, p, sg, sp_, aug, category_col)


def coverage(
    net: WalkNetwork | ReachInputs,
    gates: gpd.GeoDataFrame | None = None,
    pois: gpd.GeoDataFrame | None = None,
    *,
    limit_m: float | Sequence[float] = DEFAULT_LIMIT_M,
    categories: Sequence[str] | None = None,
    category_col: str = "category",
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    search_m: float | None = None,
    compounds: pd.DataFrame | None = None,
    method: Literal["auto", "pairs", "per_category"] = "auto",
) -> pd.DataFrame:
    """Compound x category coverage within the walk limit.

    Parameters
    ----------
    net
        A :class:`WalkNetwork`, or the :class:`ReachInputs` from :func:`prepare` (then ``gates``
        and ``pois`` are taken from it).
    gates, pois
        See :func:`prepare`.
    limit_m
        Walk limit in metres (default 1,200 = 15 min x 80 m/min), or several limits at once (for
        example ``[400, 800, 1200]`` for 5/10/15 minutes): one block of rows per limit.
    categories
        Categories to report (rows for every one, even with no facility). Default: those present
        in ``pois``.
    category_col, max_snap_m
        See :func:`prepare`.
    search_m
        How far to look for the nearest facility (m). Default: the largest limit. A larger value
        reports ``nearest_m`` for compounds that miss the limit (how far off they are).
    compounds
        Optional compounds table (``compound_id``): compounds listed there without any gate get
        rows that reach nothing, and a warning names them.
    method
        How the nearest facility is found. ``"pairs"``: the closest of the exact (gate, facility)
        pairs within the limit that also give the counts (one search per gate, on local
        sub-graphs). ``"per_category"``: one multi-source bounded Dijkstra per category from its
        facilities (needed when ``search_m`` exceeds the limit). ``"auto"`` (default) uses
        ``"pairs"`` unless ``search_m`` is larger than the limit. Both are exact; the tests check
        that they agree.

    Returns
    -------
    pandas.DataFrame
        One row per (limit, compound, category) with columns ``limit_m``, ``compound_id``,
        ``category``, ``reachable``, ``nearest_m``, ``nearest_poi_id``, ``nearest_poi_name``,
        ``nearest_gate_id``, ``count`` (see docs/CONTRACTS.md). ``attrs["limit_m"]`` is the
        largest limit; ``attrs["unsnapped_gates"]`` / ``attrs["unsnapped_pois"]`` list points
        that were too far from the network.
    """
    if isinstance(net, ReachInputs):
        ri = net
    else:
        if gates is None or pois is None:
            msg = "coverage() needs `gates` and `pois` (or a ReachInputs from prepare())."
            raise InputError(msg)
        ri = prepare(net, gates, pois, category_col=category_col, max_snap_m=max_snap_m)
    if ri.pois is None:
        msg = "coverage() needs facilities: call prepare(net, gates, pois)."
        raise InputError(msg)
    limits = _limits(limit_m)
    top = limits[-1]
    search = top if search_m is None else max(float(search_m), top)
    if method not in ("auto", "pairs", "per_category"):
        msg = f"`method` must be 'auto', 'pairs' or 'per_category', got {method!r}."
        raise InputError(msg)
    if method == "auto":
        method = "pairs" if search <= top else "per_category"
    elif method == "pairs" and search > top:
        msg = "`method='pairs'` finds facilities within the limit only; use 'per_category' with `search_m`."
        raise InputError(msg)
    g, p, aug = ri.gates, ri.pois, ri.aug
    cat = p[ri.category_col].to_numpy()
    cats = list(categories) if categories is not None else sorted(pd.unique(cat).tolist())
    unknown_empty = [c for c in cats if not (cat == c).any()]
    if unknown_empty:
        msg = (
            f"No facilities at all for categories {unknown_empty}: no compound reaches them. "
            "Check the facility data and the category mapping (quarter_hour.taxonomy)."
        )
        warnings.warn(msg, QuarterHourWarning, stacklevel=2)
    gate_nodes = ri.gate_nodes
    poi_nodes = ri.poi_nodes
    compound = g["compound_id"].to_numpy()
    gate_ids = g.index.to_numpy()
    compounds_ = pd.unique(compound)
    if compounds is not None:
        listed = pd.Index(compounds["compound_id"].astype(str).unique())
        no_gates = listed.difference(pd.Index(compounds_), sort=False).tolist()
        if no_gates:
            msg = (
                f"{len(no_gates)} compounds have no gates: {', '.join(no_gates[:10])}"
                f"{' ...' if len(no_gates) > 10 else ''}. They reach nothing; add their gates."
            )
            warnings.warn(msg, QuarterHourWarning, stacklevel=2)
            compounds_ = np.r_[compounds_, np.asarray(no_gates, dtype=object)]
    compounds = compounds_
    comp_pos = pd.Index(compounds).get_indexer(compound)
    n_c = len(compounds)

    near_d = np.full((len(cats), n_c), np.inf)
    near_poi = np.full((len(cats), n_c), -1, dtype=np.int64)
    near_gate = np.full((len(cats), n_c), -1, dtype=np.int64)
    poi_ok = ri.pois_snapped.ok if ri.pois_snapped is not None else np.zeros(len(p), bool)
    counts = {lim: np.zeros((len(cats), n_c), dtype=np.int64) for lim in limits}

    # --- exact (gate, facility) pairs within the largest limit, on local sub-graphs -------------
    if len(p) and len(g):
        ok_rows = np.flatnonzero(poi_ok & np.isin(cat, cats))
        # one search per compound (a virtual source joined to its gates), not one per gate;
        # gi names the gate each shortest walk leaves by
        snapped_gate = np.flatnonzero(ri.gates_snapped.ok)
        gi, pj, d = aug.pairs_within(
            gate_nodes[snapped_gate],
            poi_nodes[ok_rows],
            limit_m=top,
            groups=comp_pos[snapped_gate],
        )
        gi = snapped_gate[gi]
        pj = ok_rows[pj]
        k_of = pd.Index(cats).get_indexer(cat[pj]).astype(np.int64)
        c_of = comp_pos[gi]
        # a facility reachable from several gates of one compound counts once, at its best gate:
        # one int64 key per (compound, category, facility row), then the closest pair per key
        n_k, n_p = len(cats), len(p)
        key = (c_of.astype(np.int64) * n_k + k_of) * n_p + pj
        order = np.lexsort((d, key))
        key, d, gi = key[order], d[order], gi[order]
        first = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, dtype=bool)
        key, d, gi = key[first], d[first], gi[first]
        pj = key % n_p
        ck = key // n_p  # compound * n_k + category
        for lim in limits:
            n = np.bincount(ck[d <= lim], minlength=n_c * n_k).reshape(n_c, n_k)
            counts[lim] = n.T.copy()
        if method == "pairs":
            # nearest facility per (compound, category): the closest of those pairs
            order = np.lexsort((pj, d, ck))
            head = order[np.r_[True, ck[order][1:] != ck[order][:-1]]] if len(ck) else order
            hc, hk = ck[head] // n_k, ck[head] % n_k
            near_d[hk, hc] = d[head]
            near_poi[hk, hc] = pj[head]
            near_gate[hk, hc] = gi[head]

    # --- or: one multi-source bounded Dijkstra per category (any search radius) ----------------
    if method == "per_category":
        for ci, c in enumerate(cats):
            rows = np.flatnonzero((cat == c) & poi_ok)
            if len(rows) == 0:
                continue
            dist, which = aug.nearest_source(poi_nodes[rows], limit_m=search)
            dg = dist[gate_nodes]
            wg = which[gate_nodes]
            # best gate per compound: sort by (compound, distance), first of each compound
            order = np.lexsort((dg, comp_pos))
            firsts = order[np.r_[True, comp_pos[order][1:] != comp_pos[order][:-1]]]
            cp = comp_pos[firsts]
            near_d[ci, cp] = dg[firsts]
            hit = np.isfinite(dg[firsts])
            near_gate[ci, cp[hit]] = firsts[hit]
            near_poi[ci, cp[hit]] = rows[wg[firsts[hit]]]

    # --- assemble the long table ---------------------------------------------------------------
    poi_id = p["poi_id"].to_numpy()
    poi_name = p["name"].to_numpy()
    frames = []
    kk = np.repeat(np.arange(len(cats)), n_c)
    cc = np.tile(np.arange(n_c), len(cats))
    nd = near_d[kk, cc]
    npoi = near_poi[kk, cc]
    ngate = near_gate[kk, cc]
    has = npoi >= 0
    for lim in limits:
        reach = nd <= lim
        frames.append(
            pd.DataFrame(
                {
                    "limit_m": lim,
                    "compound_id": compounds[cc],
                    "category": np.asarray(cats, dtype=object)[kk],
                    "reachable": reach,
                    "nearest_m": np.where(np.isfinite(nd), nd, np.nan),
                    "nearest_poi_id": np.where(has, poi_id[np.maximum(npoi, 0)], None),
                    "nearest_poi_name": np.where(has, poi_name[np.maximum(npoi, 0)], None),
                    "nearest_gate_id": np.where(has, gate_ids[np.maximum(ngate, 0)], None),
                    "count": counts[lim][kk, cc],
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out.attrs["limit_m"] = top
    out.attrs["limits_m"] = limits
    out.attrs["search_m"] = search
    out.attrs["unsnapped_gates"] = ri.unsnapped_gates
    out.attrs["unsnapped_pois"] = (
        [str(x) for x in ri.pois_snapped.far_ids] if ri.pois_snapped is not None else []
    )
    out.attrs["empty_categories"] = unknown_empty
    out.attrs["crs"] = ri.net.crs.to_string()
    return out
