"""The seeded synthetic city (quarter_hour.synthetic): valid, deterministic, distances exact."""

from __future__ import annotations

import time

import networkx as nx
import numpy as np
import pytest
import shapely

from quarter_hour import InputError
from quarter_hour.synthetic import (
    BENCH_CATEGORIES,
    CATEGORY_IDS,
    synthetic_city,
    synthetic_communities,
)

from ._reference import reference_distances, reference_graph

SMALL = {"n_nodes": 1600, "n_compounds": 40, "n_facilities": 400}


@pytest.fixture(scope="module")
def city():  # type: ignore[no-untyped-def]
    return synthetic_city(**SMALL, seed=3)


def test_contract_columns(city) -> None:  # type: ignore[no-untyped-def]
    net, gates, pois = city
    assert net.crs.to_epsg() == 32650
    assert net.n_nodes > 1500
    assert net.n_edges > 2500
    assert np.allclose(net.edge_length_m, shapely.length(net.edge_geometry))
    assert {"highway", "name"} <= set(net.edge_attrs.columns)
    assert list(gates.columns) == [
        "gate_id",
        "compound_id",
        "compound_name",
        "households",
        "geometry",
    ]
    assert gates["gate_id"].is_unique
    assert gates["compound_id"].nunique() == 40
    assert len(gates) == 160  # 4 gates per compound on average, exactly
    n_gates = gates.groupby("compound_id").size()
    assert n_gates.between(1, 6).all()
    assert (gates.groupby("compound_id")["households"].nunique() == 1).all()
    assert (gates["households"] > 0).all()
    assert list(pois.columns) == ["poi_id", "name", "category", "address", "rule", "geometry"]
    assert pois["poi_id"].is_unique
    assert len(pois) == 400
    assert set(pois["category"]) <= set(CATEGORY_IDS)
    assert (gates.geom_type == "Point").all()
    assert (pois.geom_type == "Point").all()
    assert gates.crs == net.crs
    assert pois.crs == net.crs


def test_points_sit_beside_streets(city) -> None:  # type: ignore[no-untyped-def]
    net, gates, pois = city
    for pts in (gates, pois):
        snapped = net.snap(pts, max_snap_m=100)
        assert snapped.ok.all()
        assert np.nanmax(snapped.access_m) < 60


def test_category_mix_is_skewed() -> None:
    _, _, pois = synthetic_city(n_nodes=900, n_compounds=10, n_facilities=3000, seed=0,
                                categories=BENCH_CATEGORIES)  # fmt: skip
    counts = pois["category"].value_counts()
    assert set(counts.index) == set(BENCH_CATEGORIES)
    assert counts["specialty_dining"] > 5 * counts["wet_market"]


def test_deterministic_by_seed(city) -> None:  # type: ignore[no-untyped-def]
    net, gates, pois = city
    net2, gates2, pois2 = synthetic_city(**SMALL, seed=3)
    assert np.array_equal(net.node_xy, net2.node_xy)
    assert np.array_equal(net.edge_u, net2.edge_u)
    assert gates.equals(gates2)
    assert pois.equals(pois2)
    net3, gates3, _ = synthetic_city(**SMALL, seed=4)
    assert not np.array_equal(net.node_xy[:10], net3.node_xy[:10])
    assert not gates.geometry.geom_equals(gates3.geometry).all()


def test_direct_build_equals_from_lines() -> None:
    a = synthetic_city(n_nodes=400, n_compounds=5, n_facilities=50, seed=7)[0]
    b = synthetic_city(n_nodes=400, n_compounds=5, n_facilities=50, seed=7, via_lines=True)[0]
    assert (a.n_nodes, a.n_edges) == (b.n_nodes, b.n_edges)
    assert a.total_length_m == pytest.approx(b.total_length_m, abs=1e-6)


def test_distances_agree_with_networkx(city) -> None:  # type: ignore[no-untyped-def]
    net, gates, pois = city
    origins = shapely.get_coordinates(gates.geometry.to_numpy()[:6])
    near = pois.distance(gates.geometry.iloc[0]).sort_values().index[:40]
    targets = shapely.get_coordinates(pois.geometry.loc[near].to_numpy())
    ours = net.distances(origins, targets, limit_m=1200.0)
    G = reference_graph(net.edge_u, net.edge_v, net.edge_geometry, np.vstack([origins, targets]))
    checked = 0
    for i in range(len(origins)):
        ref = reference_distances(G, ("p", i), cutoff=1200.0)
        for j in range(len(targets)):
            want = ref.get(("p", len(origins) + j), np.inf)
            if np.isfinite(want):
                assert ours[i, j] == pytest.approx(want, abs=0.01)
                checked += 1
            else:
                assert not ours[i, j] < 1200 - 0.01
    assert checked >= 10
    assert nx.is_connected(nx.Graph(list(zip(net.edge_u, net.edge_v, strict=True))))


def test_communities_group_whole_compounds(city) -> None:  # type: ignore[no-untyped-def]
    _, gates, _ = city
    out = synthetic_communities(gates, compounds_per_community=8)
    assert "community_id" in out.columns
    assert "community_id" not in gates.columns
    assert (out.groupby("compound_id")["community_id"].nunique() == 1).all()
    n = out["community_id"].nunique()
    assert 2 <= n <= 20
    assert out["community_id"].equals(
        synthetic_communities(gates, compounds_per_community=8)["community_id"]
    )


def test_bad_arguments() -> None:
    with pytest.raises(InputError, match="do not fit"):
        synthetic_city(n_nodes=100, n_compounds=500)
    with pytest.raises(InputError, match="distinct"):
        synthetic_city(n_nodes=400, n_compounds=5, categories=["a", "a"])
    with pytest.raises(ValueError, match="geographic"):
        synthetic_city(n_nodes=400, n_compounds=5, crs="EPSG:4326")


def test_fast_at_small_size() -> None:
    t = time.perf_counter()
    synthetic_city(n_nodes=10_000, n_compounds=500, n_facilities=3000, seed=1)
    assert time.perf_counter() - t < 5
