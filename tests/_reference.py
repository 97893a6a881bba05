"""Independent reference computations for the tests (networkx, brute force).

Nothing here uses quarter_hour's CSR graph or its snapping: points are assigned to their nearest
edge by brute-force shapely distances and inserted into a networkx graph by splitting edges, then
networkx's Dijkstra gives the distances.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
import shapely


def reference_graph(
    edge_u: np.ndarray, edge_v: np.ndarray, edge_geoms: np.ndarray, points_xy: np.ndarray
) -> nx.MultiGraph:
    """A networkx graph of the edges with each point inserted as node ``("p", j)``."""
    G = nx.MultiGraph()
    for i, (a, b, g) in enumerate(zip(edge_u, edge_v, edge_geoms, strict=True)):
        G.add_edge(("n", int(a)), ("n", int(b)), key=i, length=float(g.length))
    if len(points_xy) == 0:
        return G
    pts = shapely.points(points_xy)
    # brute-force nearest edge for each point
    dist = shapely.distance(pts[:, None], np.asarray(edge_geoms)[None, :])
    nearest = dist.argmin(axis=1)
    by_edge: dict[int, list[tuple[float, int]]] = {}
    for j, e in enumerate(nearest):
        t = float(edge_geoms[e].project(pts[j]))
        by_edge.setdefault(int(e), []).append((t, j))
    for e, items in by_edge.items():
        a, b = ("n", int(edge_u[e])), ("n", int(edge_v[e]))
        length = float(edge_geoms[e].length)
        G.remove_edge(a, b, key=e)
        items.sort()
        prev, prev_t = a, 0.0
        for t, j in items:
            s = ("s", e, j)
            G.add_edge(prev, s, length=t - prev_t)
            G.add_edge(s, ("p", j), length=float(dist[j, e]))
            prev, prev_t = s, t
        G.add_edge(prev, b, length=length - prev_t)
    return G


def reference_distances(
    G: nx.MultiGraph, source: Any, cutoff: float | None = None
) -> dict[Any, float]:
    """networkx single-source Dijkstra on edge ``length``."""
    return nx.single_source_dijkstra_path_length(G, source, cutoff=cutoff, weight="length")
