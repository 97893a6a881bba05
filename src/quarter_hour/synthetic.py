"""Seeded synthetic cities for benchmarks, batch tests and demos.

:func:`synthetic_city` builds, from a seed, a city shaped like a Chinese urban district:

- a *perturbed street grid*: a square grid of about ``n_nodes`` junctions ``spacing_m`` apart,
  each junction jittered, a share of the street segments removed (dead ends, superblocks), a few
  diagonal short-cuts added, some streets slightly bent (an interior vertex), every tenth street
  a ``primary`` road; only the largest connected component is kept;
- *residential compounds* (小区): non-overlapping blocks of one to two grid cells with one to six
  gates each, set a few metres inside the block edge, next to its perimeter streets, and a
  ``households`` count per compound;
- *facilities*: points a few metres off the streets, with a skewed (Zipf-like) category mix
  (many restaurants and convenience stores, few wet markets), half of them clustered in
  commercial centres.

Everything follows ``docs/CONTRACTS.md``: ``gates`` has ``gate_id``, ``compound_id``,
``compound_name``, ``households``; ``pois`` has ``poi_id``, ``name``, ``category``, ``address``,
``rule``. The same arguments and seed always give the same city.

:func:`synthetic_communities` groups the compounds into spatially contiguous communities (a
``community_id`` column) for batch scoring.

Example
-------
>>> from quarter_hour.synthetic import synthetic_city
>>> net, gates, pois = synthetic_city(n_nodes=2_500, n_compounds=50, n_facilities=500, seed=1)
>>> net.n_nodes > 2_000 and gates["compound_id"].nunique() == 50
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray

from ._errors import CRSError, InputError
from .network import WalkNetwork, from_lines

__all__ = [
    "BENCH_CATEGORIES",
    "CATEGORY_IDS",
    "synthetic_city",
    "synthetic_communities",
]

#: The 28 spatial category ids of Annex 2 (docs/CONTRACTS.md), basic then quality.
CATEGORY_IDS: tuple[str, ...] = (
    "convenience_store", "supermarket", "wet_market", "fresh_food", "breakfast", "repair",
    "laundry_tailor", "hair_beauty", "photo_print", "pharmacy", "housekeeping", "post_express",
    "recycling", "community_service",
    "bookstore", "sport_fitness", "specialty_dining", "elderly_care", "childcare",
    "health_station", "education_training", "leisure_entertainment", "tourist_service",
    "florist_gift", "bakery", "tea_coffee_bar", "pet_service", "smart_locker",
)  # fmt: skip

#: The 29 categories of the scale benchmark (issue 3): the 28 of Annex 2 plus one more that a
#: rubric of another city might ask for.
BENCH_CATEGORIES: tuple[str, ...] = (*CATEGORY_IDS, "public_toilet")

# How common each kind of business is, from most to least (drives the skewed mix).
_ABUNDANCE_ORDER: tuple[str, ...] = (
    "specialty_dining", "convenience_store", "hair_beauty", "education_training",
    "tea_coffee_bar", "breakfast", "post_express", "smart_locker", "pharmacy", "fresh_food",
    "leisure_entertainment", "sport_fitness", "bakery", "laundry_tailor", "repair",
    "photo_print", "housekeeping", "florist_gift", "supermarket", "pet_service", "recycling",
    "health_station", "public_toilet", "childcare", "elderly_care", "bookstore",
    "community_service", "tourist_service", "wet_market",
)  # fmt: skip

_ORIGIN = {"EPSG:32650": (440_000.0, 4_420_000.0)}  # central Beijing in UTM 50N


def _category_weights(categories: Sequence[str], skew: float) -> NDArray[np.float64]:
    """Zipf-like weights: rank r (0-based, by typical abundance) gets 1 / (r + 1) ** skew."""
    known = {c: i for i, c in enumerate(_ABUNDANCE_ORDER)}
    order = sorted(range(len(categories)), key=lambda i: (known.get(categories[i], 10**6), i))
    w = np.empty(len(categories))
    w[order] = 1.0 / (np.arange(len(categories)) + 1.0) ** skew
    return w / w.sum()


def _grid_streets(
    rng: np.random.Generator,
    side: int,
    spacing_m: float,
    origin: tuple[float, float],
    remove_share: float,
    diagonal_share: float,
    bend_share: float,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], NDArray[Any], pd.DataFrame]:
    """Junction coordinates, edge ends, edge geometries and attributes of the perturbed grid."""
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")  # ii: column, jj: row
    node_xy = np.stack([ii.ravel(), jj.ravel()], axis=1) * spacing_m + np.asarray(origin)
    node_xy = node_xy + rng.uniform(-0.2, 0.2, node_xy.shape) * spacing_m
    nid = np.arange(side * side).reshape(side, side)
    # horizontal (along x) and vertical (along y) segments
    hu, hv = nid[:-1, :].ravel(), nid[1:, :].ravel()
    h_row = jj[:-1, :].ravel()
    vu, vv = nid[:, :-1].ravel(), nid[:, 1:].ravel()
    v_col = ii[:, :-1].ravel()
    u = np.r_[hu, vu]
    v = np.r_[hv, vv]
    line_no = np.r_[h_row, v_col]  # which street (row or column) the segment belongs to
    primary = line_no % 10 == 5
    keep = primary | (rng.random(len(u)) >= remove_share)  # main roads are never cut
    u, v, primary, line_no_kept = u[keep], v[keep], primary[keep], line_no[keep]
    # diagonal short-cuts across some cells (paths through parks and squares)
    cells = nid[:-1, :-1].ravel()
    diag = cells[rng.random(len(cells)) < diagonal_share]
    du, dv = diag, diag + side + 1  # (i, j) -> (i + 1, j + 1)
    n_grid = len(u)
    u = np.r_[u, du]
    v = np.r_[v, dv]
    highway = np.where(primary, "primary", "residential").astype(object)
    highway = np.r_[highway, np.full(len(du), "footway", dtype=object)]
    # geometry: straight, or bent through a displaced midpoint
    a, b = node_xy[u], node_xy[v]
    mid = (a + b) / 2
    bend = rng.random(len(u)) < bend_share
    bend[n_grid:] = False
    normal = np.stack([-(b - a)[:, 1], (b - a)[:, 0]], axis=1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    mid = mid + bend[:, None] * normal * rng.uniform(-0.1, 0.1, (len(u), 1)) * spacing_m
    n_vert = np.where(bend, 3, 2)
    coords = np.empty((int(n_vert.sum()), 2))
    start = np.r_[0, np.cumsum(n_vert)[:-1]]
    coords[start] = a
    coords[start + n_vert - 1] = b
    coords[start[bend] + 1] = mid[bend]
    geoms = shapely.linestrings(coords, indices=np.repeat(np.arange(len(u)), n_vert))
    is_h = np.r_[np.ones(len(hu), bool), np.zeros(len(vu), bool)][keep]
    street = np.char.add(np.where(is_h, "纬", "经"), line_no_kept.astype(str))
    name = np.r_[np.char.add(street, "路"), np.full(len(du), "绿道")].astype(object)
    attrs = pd.DataFrame({"highway": highway, "name": name})
    return node_xy, u.astype(np.int64), v.astype(np.int64), np.asarray(geoms, dtype=object), attrs


def synthetic_city(
    n_nodes: int = 100_000,
    spacing_m: float = 80.0,
    n_compounds: int = 5000,
    gates_per_compound: float = 4.0,
    n_facilities: int = 30_000,
    categories: Sequence[str] = CATEGORY_IDS,
    seed: int = 0,
    crs: Any = "EPSG:32650",
    *,
    remove_share: float = 0.06,
    diagonal_share: float = 0.02,
    bend_share: float = 0.1,
    category_skew: float = 1.0,
    clustered_share: float = 0.5,
    via_lines: bool = False,
) -> tuple[WalkNetwork, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A seeded synthetic city: walk network, compound gates and facilities.

    Parameters
    ----------
    n_nodes
        About how many street junctions (the grid is ``round(sqrt(n_nodes))`` on a side; the
        largest connected component is kept, so a few less).
    spacing_m
        Grid spacing (block size) in metres; junctions are jittered by up to 20% of it.
    n_compounds
        Number of residential compounds (blocks of 1x1 to 2x2 grid cells, never overlapping).
    gates_per_compound
        Mean number of gates per compound; each compound gets 1 to 6 and the total is exactly
        ``round(n_compounds * gates_per_compound)``.
    n_facilities
        Number of facility rows (one category each).
    categories
        Category ids of the facilities (default: the 28 of Annex 2; :data:`BENCH_CATEGORIES`
        adds a 29th). Their mix is skewed: common kinds (restaurants, convenience stores) get many
        facilities, rare kinds (wet markets, tourist points) few.
    seed
        Random seed; the same arguments and seed give the same city.
    crs
        Projected CRS (metres) the city is laid out in (default UTM 50N, around Beijing).
    remove_share, diagonal_share, bend_share
        Share of grid segments removed (never on the primary roads), of grid cells crossed by a
        diagonal footway, and of segments bent through a displaced midpoint.
    category_skew
        Zipf exponent of the category mix (0 = uniform).
    clustered_share
        Share of facilities placed around commercial centres rather than uniformly.
    via_lines
        Build the network through :func:`quarter_hour.network.from_lines` (slower; the default
        builds the same network directly from the grid's arrays, see the module tests).

    Returns
    -------
    (net, gates, pois)
        The :class:`~quarter_hour.network.WalkNetwork`, the gates GeoDataFrame (``gate_id``,
        ``compound_id``, ``compound_name``, ``households``, geometry) and the facilities
        GeoDataFrame (``poi_id``, ``name``, ``category``, ``address``, ``rule``, geometry), both in
        ``crs``.
    """
    target = pyproj.CRS.from_user_input(crs)
    if not target.is_projected:
        msg = f"`crs` {target.to_string()!r} is geographic; a synthetic city is laid out in metres."
        raise CRSError(msg)
    side = round(float(np.sqrt(n_nodes)))
    if side < 4:
        msg = f"`n_nodes` must be at least 16, got {n_nodes!r}."
        raise InputError(msg)
    if not spacing_m > 0:
        msg = f"`spacing_m` must be positive, got {spacing_m!r}."
        raise InputError(msg)
    cats = [str(c) for c in categories]
    if not cats or len(set(cats)) != len(cats):
        msg = f"`categories` must be distinct and not empty, got {list(categories)!r}."
        raise InputError(msg)
    if not 1 <= gates_per_compound <= 6:
        msg = f"`gates_per_compound` must be between 1 and 6, got {gates_per_compound!r}."
        raise InputError(msg)
    # compounds live in 3x3-cell "superblocks", one per superblock: room for (side-1)//3 ** 2
    n_super = (side - 1) // 3
    if n_compounds > n_super**2:
        msg = (
            f"{n_compounds} compounds do not fit a {side}x{side} grid (at most {n_super**2}); "
            "raise `n_nodes` or lower `n_compounds`."
        )
        raise InputError(msg)
    rng = np.random.default_rng(seed)
    origin = _ORIGIN.get(target.to_string(), (500_000.0, 4_000_000.0))

    # ---- streets ------------------------------------------------------------------------------
    node_xy, u, v, geoms, attrs = _grid_streets(
        rng, side, spacing_m, origin, remove_share, diagonal_share, bend_share
    )
    if via_lines:
        lines = gpd.GeoDataFrame(attrs, geometry=geoms, crs=target)
        net = from_lines(lines, crs=target, snap_tolerance_m=0.0, largest_component=True)
    else:
        net = WalkNetwork(
            crs=target,
            node_xy=node_xy,
            edge_u=u,
            edge_v=v,
            edge_geometry=geoms,
            edge_length_m=shapely.length(geoms),
            edge_attrs=attrs,
            source=f"synthetic_city(seed={seed})",
            report={"input_features": len(geoms), "dropped_invalid": 0, "dropped_zero_length": 0},
        ).largest_component()
    net = WalkNetwork(
        net.crs, net.node_xy, net.edge_u, net.edge_v, net.edge_geometry, net.edge_length_m,
        net.edge_attrs, f"synthetic_city(seed={seed})", net.report,
    )  # fmt: skip

    # ---- compounds and gates ------------------------------------------------------------------
    # corner junctions come from the jittered grid (before the component filter: positions only)
    grid_xy = node_xy.reshape(side, side, 2)
    pick = rng.choice(n_super**2, size=n_compounds, replace=False)
    pick.sort()
    si, sj = pick // n_super, pick % n_super
    w = rng.integers(1, 3, n_compounds)
    h = rng.integers(1, 3, n_compounds)
    ci = 3 * si + rng.integers(0, 4 - w)  # lower-left cell inside the superblock
    cj = 3 * sj + rng.integers(0, 4 - h)
    corners = np.stack(
        [grid_xy[ci, cj], grid_xy[ci + w, cj], grid_xy[ci + w, cj + h], grid_xy[ci, cj + h]],
        axis=1,
    )  # (n, 4, 2), counter-clockwise
    centre = corners.mean(axis=1)
    n_gates = _gate_counts(rng, n_compounds, gates_per_compound)
    comp_of_gate = np.repeat(np.arange(n_compounds), n_gates)
    k_in = np.arange(len(comp_of_gate)) - np.repeat(np.cumsum(n_gates) - n_gates, n_gates)
    # sides in a random order per compound, so that up to four gates face four streets
    side_order = np.argsort(rng.random((n_compounds, 4)), axis=1)
    gate_side = side_order[comp_of_gate, k_in % 4]
    a = corners[comp_of_gate, gate_side]
    b = corners[comp_of_gate, (gate_side + 1) % 4]
    t = rng.uniform(0.15, 0.85, len(comp_of_gate))[:, None]
    on_edge = a + t * (b - a)
    inward = centre[comp_of_gate] - on_edge
    inward /= np.linalg.norm(inward, axis=1, keepdims=True)
    gate_xy = on_edge + inward * rng.uniform(4.0, 20.0, (len(comp_of_gate), 1))
    households = np.round(rng.lognormal(np.log(400), 0.6, n_compounds) * w * h)
    cid = np.char.add("C", np.char.zfill(np.arange(n_compounds).astype(str), 5))
    gid = np.char.add(np.char.add(cid[comp_of_gate], "-G"), (k_in + 1).astype(str))
    gates = gpd.GeoDataFrame(
        {
            "gate_id": gid.astype(object),
            "compound_id": cid[comp_of_gate].astype(object),
            "compound_name": np.char.add("合成小区", cid[comp_of_gate]).astype(object),
            "households": households[comp_of_gate].astype(float),
        },
        geometry=shapely.points(gate_xy),
        crs=target,
    )

    # ---- facilities ---------------------------------------------------------------------------
    pois = _facilities(rng, net, n_facilities, cats, category_skew, clustered_share, spacing_m)
    return net, gates, pois


def _gate_counts(rng: np.random.Generator, n: int, mean: float) -> NDArray[np.int64]:
    """1..6 gates per compound, summing to exactly ``round(n * mean)``."""
    total = round(n * mean)
    p = np.exp(-0.5 * ((np.arange(1, 7) - mean) / 1.2) ** 2)
    counts = rng.choice(np.arange(1, 7), size=n, p=p / p.sum()).astype(np.int64)
    diff = total - int(counts.sum())
    while diff != 0:
        step = 1 if diff > 0 else -1
        can = np.flatnonzero((counts < 6) if step > 0 else (counts > 1))
        chosen = rng.choice(can, size=min(abs(diff), len(can)), replace=False)
        counts[chosen] += step
        diff = total - int(counts.sum())
    return counts


def _facilities(
    rng: np.random.Generator,
    net: WalkNetwork,
    n: int,
    cats: list[str],
    skew: float,
    clustered_share: float,
    spacing_m: float,
) -> gpd.GeoDataFrame:
    """Facilities a few metres off the streets; a share clustered around commercial centres."""
    cat_idx = rng.choice(len(cats), size=n, p=_category_weights(cats, skew))
    lo, hi = net.node_xy.min(axis=0), net.node_xy.max(axis=0)
    n_cl = round(n * clustered_share)
    n_centres = max(1, n // 300)
    centres = rng.uniform(lo, hi, (n_centres, 2))
    anchor = np.r_[
        centres[rng.integers(0, n_centres, n_cl)] + rng.normal(0, 4 * spacing_m, (n_cl, 2)),
        rng.uniform(lo, hi, (n - n_cl, 2)),
    ]
    anchor = np.clip(anchor, lo, hi)
    # put each facility beside the street nearest its anchor, 3-30 m off it
    edge = net._tree.query_nearest(shapely.points(anchor), all_matches=False)[1]
    pos = shapely.line_locate_point(net.edge_geometry[edge], shapely.points(anchor))
    on = shapely.get_coordinates(shapely.line_interpolate_point(net.edge_geometry[edge], pos))
    a, b = net.node_xy[net.edge_u[edge]], net.node_xy[net.edge_v[edge]]
    normal = np.stack([-(b - a)[:, 1], (b - a)[:, 0]], axis=1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    off = rng.uniform(3.0, 30.0, (n, 1)) * rng.choice([-1.0, 1.0], (n, 1))
    xy = on + normal * off
    cat_arr = np.asarray(cats, dtype=object)[cat_idx]
    pid = np.char.add("P", np.char.zfill(np.arange(n).astype(str), 6)).astype(object)
    return gpd.GeoDataFrame(
        {
            "poi_id": pid,
            "name": np.char.add(
                np.asarray(cats)[cat_idx], np.char.add("#", pid.astype(str))
            ).astype(object),
            "category": cat_arr,
            "address": None,
            "rule": "synthetic",
        },
        geometry=shapely.points(xy),
        crs=net.crs,
    )


def synthetic_communities(
    gates: gpd.GeoDataFrame,
    *,
    compounds_per_community: int = 10,
    seed: int = 0,
) -> gpd.GeoDataFrame:
    """Group compounds into spatially contiguous communities (社区) for batch scoring.

    The city's extent is tiled into square cells sized so that a cell holds about
    ``compounds_per_community`` compounds; each compound belongs to the cell of its gates'
    centroid. ``seed`` shifts the tiling (different seeds give different groupings).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``gates`` with a ``community_id`` column (``"S0001"``...), numbered from the
        south-west in row order; every gate of a compound gets its compound's community.
    """
    if "compound_id" not in gates.columns:
        msg = "`gates` has no `compound_id` column."
        raise InputError(msg)
    if compounds_per_community < 1:
        msg = f"`compounds_per_community` must be >= 1, got {compounds_per_community!r}."
        raise InputError(msg)
    xy = shapely.get_coordinates(gates.geometry.to_numpy())
    cen = pd.DataFrame(xy, columns=["x", "y"]).groupby(gates["compound_id"].to_numpy()).mean()
    n_c = len(cen)
    lo = cen.min().to_numpy()
    span = np.maximum(cen.max().to_numpy() - lo, 1.0)
    n_cells = max(1.0, n_c / compounds_per_community)
    cell = float(np.sqrt(span[0] * span[1] / n_cells)) or 1.0
    shift = np.random.default_rng(seed).uniform(0, cell, 2)
    ij = np.floor((cen.to_numpy() - lo + shift) / cell).astype(np.int64)
    key = ij[:, 1] * (int(ij[:, 0].max()) + 1) + ij[:, 0]
    _, label = np.unique(key, return_inverse=True)
    community = pd.Series(
        np.char.add("S", np.char.zfill((np.asarray(label).ravel() + 1).astype(str), 4)),
        index=cen.index,
    )
    out = gates.copy()
    out["community_id"] = community.reindex(out["compound_id"].to_numpy()).to_numpy().astype(object)
    return out
