"""The ``quarter-hour`` command line, every sub-command run in a subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

from ._city import grid_network, make_gates, make_pois

PY = [sys.executable, "-m", "quarter_hour"]


def qh(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PY, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=300, check=False)  # fmt: skip


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    net = grid_network(n_side=22)
    net.edges_gdf()[["geometry"]].to_crs(4326).to_file(root / "streets.gpkg", layer="edges")
    gates = make_gates(3).to_crs(4326)
    gates = gates[gates.geometry.x < 1e9]  # all
    xy = gates.get_coordinates()
    table = gates.drop(columns="geometry").assign(lng=xy["x"].round(7), lat=xy["y"].round(7))
    table.to_csv(root / "gates_all.csv", index=False, encoding="utf-8")
    one = table[table["community_id"] == "社区00"].drop(columns="community_id")
    one.to_csv(root / "gates.csv", index=False, encoding="gb18030")
    pois = make_pois(250).to_crs(4326)
    pxy = pois.get_coordinates()
    pois.drop(columns="geometry").assign(lng=pxy["x"].round(7), lat=pxy["y"].round(7)).to_csv(
        root / "pois.csv", index=False, encoding="utf-8"
    )
    (root / "checklist.toml").write_text(
        "org_body = 2\norg_plan = {points = 3, evidence = '方案'}\n", encoding="utf-8"
    )
    return {"root": root, "net": root / "streets.gpkg", "gates": root / "gates.csv",
            "gates_all": root / "gates_all.csv", "pois": root / "pois.csv",
            "checklist": root / "checklist.toml"}  # fmt: skip


def inputs(d: dict[str, Path]) -> list[str]:
    return ["--network", str(d["net"]), "--gates", str(d["gates"]), "--gates-coord-system", "wgs84",
            "--pois", str(d["pois"]), "--pois-coord-system", "wgs84", "-q"]  # fmt: skip


def assert_one_paragraph(stderr: str) -> None:
    assert "Traceback" not in stderr
    text = stderr.strip()
    assert text.startswith("error: ")
    assert "\n\n" not in text


def test_version() -> None:
    from quarter_hour import __version__

    r = qh("--version")
    assert r.returncode == 0
    assert r.stdout.strip() == f"quarter_hour {__version__}"


@pytest.mark.parametrize(
    "argv",
    [[], ["nonsense"], ["network"], ["batch", "--gates", "g.csv", "--pois", "p.csv"],
     ["score", "--gates", "g.csv"], ["network", "x.gpkg", "--out", "x.shp"],
     ["batch", "--gates", "g", "--pois", "p", "--network", "n", "--workers", "0"]],
)  # fmt: skip
def test_bad_usage_exits_2(argv: list[str], data: dict[str, Path]) -> None:
    if argv[:2] == ["network", "x.gpkg"]:
        argv = ["network", str(data["net"]), "--out", str(data["root"] / "x.shp")]
    r = qh(*argv)
    assert r.returncode == 2, r.stderr
    assert "usage:" in r.stderr


def test_failed_job_is_one_paragraph(tmp_path: Path) -> None:
    r = qh("network", tmp_path / "missing.gpkg")
    assert r.returncode == 1
    assert_one_paragraph(r.stderr)
    assert "missing.gpkg does not exist" in r.stderr
    verbose = qh("network", tmp_path / "missing.gpkg", "--verbose")
    assert verbose.returncode == 1
    assert "Traceback" in verbose.stderr


def test_undeclared_chinese_coordinates_fail_clearly(data: dict[str, Path], tmp_path: Path) -> None:
    r = qh("coverage", "--network", data["net"], "--gates", data["gates"], "--pois", data["pois"],
           "--pois-coord-system", "wgs84", "--out", tmp_path / "c.csv")  # fmt: skip
    assert r.returncode == 1
    assert_one_paragraph(r.stderr)
    assert "coord" in r.stderr.lower()


def test_network(data: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "net.gpkg"
    r = qh("network", data["net"], "--out", out)
    assert r.returncode == 0, r.stderr
    assert "nodes" in r.stdout
    assert out.is_file()
    import geopandas as gpd

    assert len(gpd.read_file(out, layer="edges")) == 2 * 22 * 21


def test_isochrones(data: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "iso.geojson"
    r = qh("isochrones", "--network", data["net"], "--gates", data["gates"], "--gates-coord-system",
           "wgs84", "--isochrone-minutes", "5", "15", "--out", out, "-q")  # fmt: skip
    assert r.returncode == 0, r.stderr
    import geopandas as gpd

    iso = gpd.read_file(out)
    assert sorted(iso["minutes"].unique()) == [5.0, 15.0]


def test_coverage(data: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "cov.csv"
    r = qh("coverage", *inputs(data), "--out", out)
    assert r.returncode == 0, r.stderr
    cov = pd.read_csv(out, encoding="utf-8-sig")
    assert cov["category"].nunique() == 28
    assert {"compound_id", "reachable", "nearest_m", "count"} <= set(cov.columns)


def test_score_writes_project_file_and_run_repeats_it(
    data: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "score"
    r = qh("score", *inputs(data), "--checklist", data["checklist"], "--name", "测试社区",
           "--minutes", "10", "--out", out)  # fmt: skip
    assert r.returncode == 0, r.stderr
    card = json.loads((out / "scorecard.json").read_text(encoding="utf-8"))
    assert card["community"] == "测试社区"
    assert card["provenance"]["walk_limit_m"] == 800
    project = (out / "project.toml").read_text(encoding="utf-8")
    assert "minutes = 10.0" in project
    assert str(data["checklist"]) in project
    again = qh("run", out / "project.toml", "--out", tmp_path / "again", "-q")
    assert again.returncode == 0, again.stderr
    card2 = json.loads((tmp_path / "again" / "scorecard.json").read_text(encoding="utf-8"))
    assert card2["total"] == card["total"]
    assert card2["items"] == card["items"]


def test_map(data: dict[str, Path], tmp_path: Path) -> None:
    r = qh("map", *inputs(data), "--out", tmp_path / "m")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "m" / "map.html").stat().st_size > 10_000
    assert (tmp_path / "m" / "poster.png").is_file()


def test_report(data: dict[str, Path], tmp_path: Path) -> None:
    r = qh("report", *inputs(data), "--out", tmp_path / "r", "--lang", "en")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "r" / "scorecard.xlsx").is_file()
    assert (tmp_path / "r" / "scorecard.html").is_file()


def test_batch_and_rerun(data: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "b"
    args = ["batch", "--gates", data["gates_all"], "--gates-coord-system", "wgs84", "--network",
            data["net"], "--pois", data["pois"], "--pois-coord-system", "wgs84", "--out", out]  # fmt: skip
    r = qh(*args)
    assert r.returncode == 0, r.stderr
    assert "Scored 3 of 3 communities serially" in r.stdout
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    assert set(summary["status"]) == {"ok"}
    again = qh("run", out / "project.toml")
    assert again.returncode == 0, again.stderr
    assert "3 reused from an earlier run" in again.stdout


def test_demo_with_console_script(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "quarter-hour"
    script = str(exe) if exe.is_file() else shutil.which("quarter-hour")
    if script is None:
        pytest.skip("the quarter-hour console script is not installed")
    r = subprocess.run([script, "demo", "--out", "demo-output"], capture_output=True, text=True,
                       cwd=tmp_path, timeout=300, check=False)  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = tmp_path / "demo-output"
    for name in ("map.html", "scorecard.xlsx", "scorecard.html", "scorecard.json", "project.toml"):
        assert (out / name).is_file(), name
    assert (out / "poster.png").is_file() or "fonts-noto-cjk" in r.stderr
    assert "points," in r.stdout
    assert 'network = "sample:helsinki"' in (out / "project.toml").read_text(encoding="utf-8")


def test_missing_cjk_font_degrades_with_a_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from quarter_hour import QuarterHourWarning, _viz, pipeline

    def no_font() -> str:
        msg = "No font that can draw Chinese text was found."
        raise _viz.MissingFontError(msg)

    net = grid_network(n_side=22)
    gates = make_gates(1)
    inputs = pipeline.Inputs(net, gates, make_pois(200))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = pipeline.run_community(inputs, name="社区", isochrone_minutes=[15])
    monkeypatch.setattr(_viz, "cjk_font_family", no_font)
    with pytest.warns(QuarterHourWarning, match="fonts-noto-cjk") as rec:
        files = pipeline.write_outputs(result, tmp_path, outputs=["poster", "scorecard"])
    assert any("English labels" in str(w.message) for w in rec)
    assert "scorecard_xlsx" in files
