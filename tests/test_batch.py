"""Batch scoring: serial and on a real Dask LocalCluster give identical results."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from quarter_hour import batch
from quarter_hour.rubric import load_rubric

from ._city import CRS, X0, Y0, grid_network, make_gates, make_pois


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    net = grid_network()
    gates = make_gates(14)
    # a community whose gates are 20 km away from every street: no gate snaps
    far = gpd.GeoDataFrame(
        {"community_id": ["远郊社区"] * 2, "gate_id": ["a", "b"], "compound_id": ["x", "x"],
         "households": [50.0, 50.0]},
        geometry=gpd.points_from_xy([X0 + 20_000, X0 + 20_050], [Y0, Y0]), crs=CRS,
    )  # fmt: skip
    gates = pd.concat([gates, far], ignore_index=True)
    root = tmp_path_factory.mktemp("city")
    net_path = root / "streets.gpkg"
    net.edges_gdf()[["geometry"]].to_file(net_path, layer="edges")
    checklists = {"社区03": {"org_body": 2, "org_plan": 4}}
    return {
        "net": net,
        "net_path": net_path,
        "gates": gates,
        "pois": make_pois(450),
        "checklists": checklists,
    }


def _results(out: Path) -> dict[str, object]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.glob("*.json"))}


def test_serial_batch_scores_and_reports_failures(city: dict[str, object], tmp_path: Path) -> None:
    res = batch.score_batch(
        city["gates"],
        city["net"],
        city["pois"],
        out_dir=tmp_path,
        checklists=city["checklists"],
        chunk_size=4,
    )
    s = res.summary
    assert len(s) == 15
    assert res.n_failed == 1
    bad = s.set_index("community_id").loc["远郊社区"]
    assert bad["status"] == "failed"
    assert "none of its 2 gate(s) lies within 300 m" in bad["error"]
    assert (s.loc[s["status"] == "ok", "grade"].isin(["不合格", "合格", "良好", "优秀"])).all()
    # the checklist counted for its community only
    orgs = s.set_index("community_id")["organisation_points"]
    assert orgs["社区03"] == 6
    assert orgs["社区04"] == 0
    assert (tmp_path / "summary.csv").is_file()
    assert (tmp_path / "社区00.json").is_file()
    data = json.loads((tmp_path / "远郊社区.json").read_text(encoding="utf-8"))
    assert data["status"] == "failed"


def test_batch_equals_single_community_scoring(city: dict[str, object], tmp_path: Path) -> None:
    from quarter_hour import reach, scoring

    res = batch.score_batch(
        city["gates"], city["net"], city["pois"], out_dir=tmp_path, chunk_size=4
    )
    gates = city["gates"]
    one = gates[gates["community_id"] == "社区05"]
    cov = reach.coverage(city["net"], one, city["pois"], categories=list(load_rubric().categories))
    comps = one.groupby("compound_id", sort=False)["households"].max().reset_index()
    card = scoring.score(cov, compounds=comps, community="社区05")
    row = res.summary.set_index("community_id").loc["社区05"]
    assert row["total"] == pytest.approx(card.total, abs=1e-9)
    assert row["grade"] == card.grade
    rebuilt = batch.load_scorecard(tmp_path, "社区05")
    assert rebuilt.total == pytest.approx(card.total, abs=1e-9)
    assert rebuilt.items["points"].to_list() == pytest.approx(card.items["points"].to_list())


def test_rerun_skips_done_and_retries_changed(city: dict[str, object], tmp_path: Path) -> None:
    kw = {"out_dir": tmp_path, "chunk_size": 4}
    first = batch.score_batch(city["gates"], city["net"], city["pois"], **kw)
    assert first.n_skipped == 0
    again = batch.score_batch(city["gates"], city["net"], city["pois"], **kw)
    assert again.n_skipped == first.n_ok == 14
    assert again.timings["chunks"] == 1  # only the failed community's chunk is retried
    cols = [c for c in first.summary.columns if c != "skipped"]
    pd.testing.assert_frame_equal(first.summary[cols], again.summary[cols])
    # a new checklist for one community recomputes that community's chunk only
    third = batch.score_batch(
        city["gates"], city["net"], city["pois"], checklists={"社区07": {"org_body": 2}}, **kw
    )
    assert third.n_skipped == 13
    assert third.summary.set_index("community_id").loc["社区07", "organisation_points"] == 2


def test_folder_of_files_with_a_bad_file(city: dict[str, object], tmp_path: Path) -> None:
    folder = tmp_path / "gates"
    folder.mkdir()
    g = city["gates"].to_crs(4326)
    for cid in ["社区00", "社区01"]:
        sub = g[g["community_id"] == cid].drop(columns="community_id")
        sub.to_file(folder / f"{cid}.geojson", driver="GeoJSON")
    (folder / "坏文件.csv").write_text("this is, not\na gates table\n", encoding="utf-8")
    res = batch.score_batch(folder, city["net"], city["pois"], out_dir=tmp_path / "out")
    s = res.summary.set_index("community_id")
    assert s.loc["社区00", "status"] == "ok"
    assert s.loc["社区01", "status"] == "ok"
    assert s.loc["坏文件", "status"] == "failed"
    assert "could not read 坏文件.csv" in s.loc["坏文件", "error"]


def test_network_per_city(city: dict[str, object], tmp_path: Path) -> None:
    g = city["gates"].copy()
    g["city"] = np.where(g["community_id"] < "社区07", "甲市", "乙市")
    res = batch.score_batch(g, {"甲市": city["net_path"]}, city["pois"], out_dir=tmp_path)
    s = res.summary.set_index("community_id")
    assert (s.loc[s["city"] == "甲市", "status"] == "ok").all()
    assert s.loc["社区08", "status"] == "failed"
    assert "no network for city '乙市'" in s.loc["社区08", "error"]


def test_dask_local_cluster_equals_serial(city: dict[str, object], tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    kw = {"checklists": city["checklists"], "chunk_size": 3}
    serial = batch.score_batch(
        city["gates"], city["net_path"], city["pois"], out_dir=tmp_path / "serial", **kw
    )
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        par = batch.score_batch(
            city["gates"],
            city["net_path"],
            city["pois"],
            out_dir=tmp_path / "dask",
            scheduler=cluster.scheduler_address,
            **kw,
        )
        # a network object is scattered to the workers instead of loaded by each
        par2 = batch.score_batch(
            city["gates"],
            city["net"],
            city["pois"],
            out_dir=tmp_path / "dask2",
            scheduler=cluster.scheduler_address,
            **kw,
        )
    pd.testing.assert_frame_equal(serial.summary, par.summary)
    assert _results(tmp_path / "serial") == _results(tmp_path / "dask")
    assert par.n_failed == 1
    assert par.n_ok == 14
    assert np.allclose(par2.summary["total"].fillna(-1), par.summary["total"].fillna(-1), atol=1e-6)
