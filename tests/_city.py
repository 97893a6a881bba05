"""A small synthetic city for the batch and CLI tests (perturbed grid near Beijing, UTM 50N)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from quarter_hour.network import WalkNetwork
from quarter_hour.rubric import load_rubric

CRS = "EPSG:32650"  # UTM 50N (Beijing)
X0, Y0 = 440_000.0, 4_420_000.0


def grid_network(n_side: int = 22, spacing_m: float = 100.0, seed: int = 0) -> WalkNetwork:
    """A perturbed street grid (n_side x n_side nodes)."""
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(n_side), np.arange(n_side), indexing="ij")
    xy = np.column_stack([X0 + jj.ravel() * spacing_m, Y0 + ii.ravel() * spacing_m])
    xy = xy + rng.uniform(-0.2, 0.2, xy.shape) * spacing_m
    idx = np.arange(n_side * n_side).reshape(n_side, n_side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()]).astype(np.int64)
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()]).astype(np.int64)
    geom = shapely.linestrings(np.stack([xy[u], xy[v]], axis=1))
    return WalkNetwork(
        pyproj.CRS.from_user_input(CRS), xy, u, v, geom, shapely.length(geom), source="test grid"
    )


def make_gates(n: int, seed: int = 1) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n):
        centre = rng.uniform([X0 + 200, Y0 + 200], [X0 + 1900, Y0 + 1900])
        for k in range(int(rng.integers(1, 4))):
            cc = centre + rng.normal(0, 150, 2)
            hh = float(rng.integers(100, 800))
            for gi in range(int(rng.integers(1, 3))):
                p = cc + rng.normal(0, 40, 2)
                rows.append((f"社区{c:02d}", f"k{k}_g{gi}", f"k{k}", hh, p[0], p[1]))
    df = pd.DataFrame(
        rows, columns=["community_id", "gate_id", "compound_id", "households", "x", "y"]
    )
    return gpd.GeoDataFrame(
        df.drop(columns=["x", "y"]), geometry=gpd.points_from_xy(df.x, df.y), crs=CRS
    )


def make_pois(n: int, seed: int = 2) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    cats = list(load_rubric().categories)
    xy = rng.uniform([X0, Y0], [X0 + 2100, Y0 + 2100], (n, 2))
    return gpd.GeoDataFrame(
        {"poi_id": [f"p{i}" for i in range(n)], "name": [f"店{i}" for i in range(n)],
         "category": rng.choice(cats, n)},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS,
    )  # fmt: skip
