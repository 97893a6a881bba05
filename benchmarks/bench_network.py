"""Benchmark (issue 2): one-to-many walking distances on the real Helsinki network.

The task, identical for both sides
----------------------------------
From P random points (default 1,000; seeded; each within 40 m of a random walkable edge), the exact
walking distance to every network node within 1,200 m: the straight access leg from the point to
its nearest edge, then along the edge from the projected position, then along the network.

- quarter_hour: ``WalkNetwork.snap`` + ``augment`` (points inserted as nodes), then
  ``AugmentedGraph.local_rows`` (scipy's compiled Dijkstra on local sub-graphs, bounded at 1,200 m).
- networkx (the osmnx way): the same walk network as a networkx ``MultiGraph`` built with
  ``WalkNetwork.to_networkx()`` (osmnx cannot read PBF; this gives both sides the very same
  graph), each point inserted as a node by splitting its edge at the same snapped position (as an
  osmnx user would after ``ox.distance.nearest_edges``), then
  ``nx.single_source_dijkstra_path_length(G, point, cutoff=1200, weight="length")`` per point.

Loading is timed separately: quarter_hour's ``from_osm_file`` (pyrosm read + cleaning + arrays),
the networkx graph build from it, and, for reference, pyrosm's own
``get_network("walking")`` + ``to_graph(graph_type="networkx")`` (the osmnx-compatible graph an
osmnx user would get from this PBF).

Results are compared node by node: same set of nodes within 1,200 m, distances within 0.01 m.

Run: ``.venv/bin/python benchmarks/bench_network.py`` (``--quick`` for 200 points).
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings
from typing import Any

import networkx as nx
import numpy as np
import pyrosm
import shapely

from quarter_hour import network as qn

LIMIT_M = 1200.0


def random_points(net: qn.WalkNetwork, k: int, seed: int) -> np.ndarray:
    """``k`` points within 40 m of random walkable edges (length-weighted), seeded."""
    rng = np.random.default_rng(seed)
    w = net.edge_length_m / net.edge_length_m.sum()
    e = rng.choice(net.n_edges, size=k, p=w)
    on = shapely.line_interpolate_point(net.edge_geometry[e], rng.random(k), normalized=True)
    return shapely.get_coordinates(on) + rng.uniform(-40, 40, (k, 2))


def qh_distances(net: qn.WalkNetwork, pts: np.ndarray) -> tuple[list[dict[int, float]], float]:
    """quarter_hour: per point, {network node: metres} within the limit; and the wall time."""
    t = time.perf_counter()
    snapped = net.snap(pts, max_snap_m=1e6, name="points")
    aug = net.augment(snapped)
    origins = aug.access_nodes(0)
    out: list[dict[int, float]] = [{} for _ in range(len(pts))]
    n = net.n_nodes
    rows_i, rows_j, rows_d = [], [], []
    for members, local, d, _ in aug.local_rows(origins, limit_m=LIMIT_M):
        base = np.flatnonzero(local < n)
        block = d[:, base]
        r, c = np.nonzero(np.isfinite(block))
        rows_i.append(members[r])
        rows_j.append(local[base[c]])
        rows_d.append(block[r, c])
    i, j, dd = np.concatenate(rows_i), np.concatenate(rows_j), np.concatenate(rows_d)
    elapsed = time.perf_counter() - t
    for a, b, c in zip(i.tolist(), j.tolist(), dd.tolist(), strict=True):
        out[a][b] = c
    return out, elapsed


def nx_insert_points(G: nx.MultiGraph, net: qn.WalkNetwork, snapped: qn.Snapped) -> list[Any]:
    """Insert each snapped point as node ("p", i), splitting its edge at the snapped offset."""
    by_edge: dict[int, list[tuple[float, int]]] = {}
    for i, (e, off) in enumerate(
        zip(snapped.edge.tolist(), snapped.offset_m.tolist(), strict=True)
    ):
        by_edge.setdefault(e, []).append((off, i))
    for e, items in by_edge.items():
        a, b = int(net.edge_u[e]), int(net.edge_v[e])
        key = next(k for k, d in G[a][b].items() if d["eid"] == e)
        length = G[a][b][key]["length"]
        G.remove_edge(a, b, key=key)
        prev, prev_t = a, 0.0
        for t, i in sorted(items):
            s = ("s", i)
            G.add_edge(prev, s, length=t - prev_t)
            G.add_edge(s, ("p", i), length=float(snapped.access_m[i]))
            prev, prev_t = s, t
        G.add_edge(prev, b, length=length - prev_t)
    return [("p", i) for i in range(len(snapped))]


def nx_distances(
    net: qn.WalkNetwork, G: nx.MultiGraph, pts: np.ndarray
) -> tuple[list[dict[int, float]], float, float]:
    """networkx: per point, {network node: metres}; times of (point insertion, Dijkstras)."""
    t0 = time.perf_counter()
    snapped = net.snap(pts, max_snap_m=1e6, name="points")  # same snapping for both sides
    sources = nx_insert_points(G, net, snapped)
    t1 = time.perf_counter()
    out = []
    for s in sources:
        d = nx.single_source_dijkstra_path_length(G, s, cutoff=LIMIT_M, weight="length")
        out.append({k: v for k, v in d.items() if isinstance(k, int)})
    t2 = time.perf_counter()
    return out, t1 - t0, t2 - t1


def compare(a: list[dict[int, float]], b: list[dict[int, float]]) -> dict[str, Any]:
    """Node-by-node agreement (a node within 0.01 m of the limit may fall either side)."""
    max_diff = 0.0
    pairs = 0
    only = 0
    for da, db in zip(a, b, strict=True):
        for k in da.keys() | db.keys():
            x, y = da.get(k, np.inf), db.get(k, np.inf)
            if np.isfinite(x) and np.isfinite(y):
                max_diff = max(max_diff, abs(x - y))
                pairs += 1
            elif min(x, y) < LIMIT_M - 0.01:
                only += 1
    return {"pairs_compared": pairs, "max_abs_diff_m": max_diff, "pairs_on_one_side_only": only}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="200 points")
    args = ap.parse_args(argv)
    k = 200 if args.quick else args.points
    pbf = pyrosm.get_data("helsinki_pbf")
    print(f"quarter_hour bench_network: Helsinki PBF, {k} points, limit {LIMIT_M:g} m")
    print(
        f"machine: {platform.machine()}, {platform.processor() or '?'}; python {platform.python_version()}"
    )

    t = time.perf_counter()
    net = qn.from_osm_file(pbf)
    t_load_qh = time.perf_counter() - t
    print(f"network: {net}")
    t = time.perf_counter()
    G = net.to_networkx()
    t_to_nx = time.perf_counter() - t
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osm = pyrosm.OSM(pbf)
        nodes, edges = osm.get_network(network_type="walking", nodes=True)
        Gp = osm.to_graph(nodes, edges, graph_type="networkx")
    t_pyrosm_nx = time.perf_counter() - t
    print(
        f"load  quarter_hour from_osm_file           {t_load_qh:8.2f} s\n"
        f"load  networkx via WalkNetwork.to_networkx {t_load_qh + t_to_nx:8.2f} s "
        f"(from_osm_file + {t_to_nx:.2f} s)\n"
        f"load  pyrosm walking -> networkx (ref.)    {t_pyrosm_nx:8.2f} s "
        f"({Gp.number_of_nodes():,} nodes, {Gp.number_of_edges():,} directed edges)"
    )

    pts = random_points(net, k, args.seed)
    ours, t_qh = qh_distances(net, pts)
    ref, t_ins, t_dij = nx_distances(net, G, pts)
    agree = compare(ours, ref)
    t_nx = t_ins + t_dij
    print(
        f"dist  quarter_hour snap+augment+local Dijkstra {t_qh:8.3f} s\n"
        f"dist  networkx insert points {t_ins:.3f} s + {k} Dijkstras {t_dij:.3f} s = {t_nx:8.3f} s\n"
        f"ratio distances  networkx / quarter_hour = {t_nx / t_qh:6.1f}x   (target >= 20x)\n"
        f"ratio end to end (load + distances)      = "
        f"{(t_load_qh + t_to_nx + t_nx) / (t_load_qh + t_qh):6.2f}x\n"
        f"agreement: {agree['pairs_compared']:,} (point, node) pairs, max |diff| "
        f"{agree['max_abs_diff_m']:.2e} m, {agree['pairs_on_one_side_only']} on one side only"
    )
    ok = agree["max_abs_diff_m"] <= 0.01 and agree["pairs_on_one_side_only"] == 0
    print("RESULT:", "same results" if ok else "RESULTS DIFFER")


if __name__ == "__main__":
    main()
