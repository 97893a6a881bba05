"""Batch scoring benchmark: 1,000 synthetic communities on a 100,000-node synthetic city.

Runs the same batch serially and on a 2-worker local Dask cluster (network scattered to the
workers, and network loaded once by each worker from a loader function), and prints wall times,
peak memory (serial process, and per worker) and the speed-up.

    .venv/bin/python benchmarks/bench_batch.py            # full size
    .venv/bin/python benchmarks/bench_batch.py --small    # a quick check (10,000 nodes)
"""

from __future__ import annotations

import argparse
import functools
import resource
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

from quarter_hour import batch
from quarter_hour.network import WalkNetwork
from quarter_hour.synthetic import synthetic_city, synthetic_communities


def city(n_nodes: int, n_compounds: int, n_facilities: int, seed: int) -> tuple:
    return synthetic_city(
        n_nodes=n_nodes, n_compounds=n_compounds, n_facilities=n_facilities, seed=seed
    )


def network_only(n_nodes: int, n_compounds: int, n_facilities: int, seed: int) -> WalkNetwork:
    """A loader a worker calls once (cached per worker process): the same seeded network."""
    return city(n_nodes, n_compounds, n_facilities, seed)[0]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--small", action="store_true", help="10,000 nodes, 100 communities")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunk-size", type=int, default=batch.DEFAULT_CHUNK_SIZE)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    n_nodes, n_comm = (10_000, 100) if a.small else (100_000, 1_000)
    cpc = 5  # compounds per community
    size = (n_nodes, n_comm * cpc, 30_000 if not a.small else 3_000, a.seed)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net, gates, pois = city(*size)
        gates = synthetic_communities(gates, compounds_per_community=cpc, seed=a.seed)
    t_gen = time.perf_counter() - t
    print(
        f"city: {net.n_nodes:,} nodes, {net.n_edges:,} edges, {gates['compound_id'].nunique():,} compounds, "
        f"{len(gates):,} gates, {gates['community_id'].nunique():,} communities, {len(pois):,} facilities "
        f"(generated in {t_gen:.1f} s)"
    )
    tmp = Path(tempfile.mkdtemp(prefix="qh-bench-"))
    kw = {"chunk_size": a.chunk_size, "overwrite": True}
    rows = []
    try:
        rss0 = peak_rss_mib()
        t = time.perf_counter()
        serial = batch.score_batch(gates, net, pois, out_dir=tmp / "serial", **kw)
        t_serial = time.perf_counter() - t
        rows.append(("serial", t_serial, serial.timings["read_s"], peak_rss_mib(), None))
        print(
            f"serial: {t_serial:.1f} s ({serial.timings['chunks']:.0f} chunks), peak RSS of this "
            f"process {peak_rss_mib():,.0f} MiB (before: {rss0:,.0f})"
        )

        from distributed import Client, LocalCluster

        for ship in ("scatter", "load"):
            source = net if ship == "scatter" else functools.partial(network_only, *size)
            with (
                LocalCluster(
                    n_workers=a.workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                ) as cluster,
                Client(cluster) as client,
            ):
                client.run(
                    lambda: __import__("quarter_hour.batch")
                )  # warm imports, as a long-lived cluster has
                t = time.perf_counter()
                par = batch.score_batch(
                    gates,
                    source,
                    pois,
                    out_dir=tmp / ship,
                    scheduler=cluster.scheduler_address,
                    **kw,
                )
                t_par = time.perf_counter() - t
                mem = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
            same = serial.summary.drop(columns="file").equals(par.summary.drop(columns="file"))
            peak = max(mem.values())
            rows.append(
                (f"dask {a.workers} workers ({ship})", t_par, par.timings["read_s"], peak, same)
            )
            print(
                f"dask {a.workers} workers, network {ship}: {t_par:.1f} s, peak RSS per worker "
                f"{', '.join(f'{v:,.0f}' for v in mem.values())} MiB, speed-up {t_serial / t_par:.2f}x, "
                f"identical to serial: {same}"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    table = pd.DataFrame(
        rows, columns=["run", "wall_s", "of_which_reading_s", "peak_rss_mib", "same_as_serial"]
    )
    table["speed_up"] = table["wall_s"].iloc[0] / table["wall_s"]
    print()
    print(table.to_string(index=False, float_format=lambda x: f"{x:,.2f}"))
    grades = serial.summary["grade"].value_counts().to_dict()
    print(f"grades: {grades}; failed: {serial.n_failed}")


if __name__ == "__main__":
    main()
