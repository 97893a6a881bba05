"""The interactive "一图" map: content, self-containment, and a real headless browser."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from quarter_hour import CRSError, InputError, QuarterHourWarning, _viz, maps
from tests import _outputs_data as D
from tests._browser import browser_available, make_driver, network_requests, skip_or_fail


@pytest.fixture(scope="module")
def sample() -> dict[str, Any]:
    return {
        "gates": D.gates(),
        "pois": D.pois(),
        "isochrones": D.isochrones((5, 10, 15)),
        "streets": D.streets(),
        "compounds": D.compounds(),
        "coverage": D.coverage(),
    }


def _map(sample: dict[str, Any], **kw: Any) -> Any:
    args = {k: v for k, v in sample.items() if k not in ("gates", "pois")}
    args.update(kw)
    return maps.community_map(sample["gates"], sample["pois"], title="学清路社区", **args)


# ---------------------------------------------------------------------------------------------
# HTML without a browser


def test_saved_html_is_self_contained(sample: dict[str, Any], tmp_path: Path) -> None:
    out = maps.save_map(_map(sample, tiles=None), tmp_path / "sub" / "map.html")
    text = out.read_text(encoding="utf-8")
    # no external scripts or stylesheets: Leaflet is inlined
    assert not re.search(r"<script[^>]+src=", text)
    assert not re.search(r"<link[^>]+stylesheet", text)
    assert "cdn." not in text
    assert "jquery" not in text.lower()
    assert 't.version="1.9.4"' in text  # the vendored Leaflet
    assert "data:image/png;base64," in text  # Leaflet's control images inlined
    assert "tile.openstreetmap.org" not in text  # tiles=None fetches nothing


def test_auto_tiles_reference_osm_and_streets(sample: dict[str, Any]) -> None:
    html = _map(sample).get_root().render()
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in html
    assert "\\u00a9 OpenStreetMap contributors" in html or "© OpenStreetMap contributors" in html


def test_notebook_repr_is_self_contained(sample: dict[str, Any]) -> None:
    frag = _map(sample, tiles=None)._repr_html_()
    assert "iframe" in frag
    assert "cdn.jsdelivr" not in frag


def test_english_legend(sample: dict[str, Any]) -> None:
    html = _map(sample, lang="en", tiles=None).get_root().render()
    assert "Convenience store" in html
    assert "missing" in html
    assert "便利店" not in html


def test_any_crs_in(sample: dict[str, Any]) -> None:
    m = maps.community_map(sample["gates"].to_crs(4326), sample["pois"].to_crs(3857), tiles=None)
    (south, west), (north, east) = m.get_bounds()
    assert 39.9 < south < north < 40.1
    assert 116.3 < west < east < 116.5


def test_errors_name_the_fix(sample: dict[str, Any], tmp_path: Path) -> None:
    no_crs = sample["gates"].set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match=r"`gates` has no CRS.*set_crs\(4326\)"):
        maps.community_map(no_crs, sample["pois"])
    with pytest.raises(InputError, match=r"`pois` lacks column.*'category'"):
        maps.community_map(sample["gates"], sample["pois"].drop(columns="category"))
    with pytest.raises(InputError, match=r"`lang` must be 'zh' or 'en'"):
        maps.community_map(sample["gates"], sample["pois"], lang="fr")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="`tiles` must be"):
        maps.community_map(sample["gates"], sample["pois"], tiles="google")  # type: ignore[arg-type]
    with pytest.raises(
        InputError, match=r"extension must be one of \[.\.htm., .\.html.\], e\.g\. .*map\.html"
    ):
        maps.save_map(_map(sample, tiles=None), tmp_path / "map.png")
    with pytest.raises(InputError, match=r"must be a GeoDataFrame"):
        maps.community_map(sample["gates"].drop(columns="geometry"), sample["pois"])  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Real headless browser


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    reason = browser_available()
    if reason:
        skip_or_fail(reason)
    drv = make_driver(tmp_path_factory.mktemp("chromium"))
    try:
        yield drv
    finally:
        drv.quit()


def _load(driver: Any, path: Path, *, wait_for: str = "none") -> None:
    driver.get_log("browser")  # clear
    driver.get_log("performance")
    driver.get(path.resolve().as_uri())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        state = driver.execute_script(
            "var c = document.querySelector('.leaflet-container');"
            "return document.readyState === 'complete' && c ? c.dataset.qhTiles : null;"
        )
        if state == wait_for:
            return
        time.sleep(0.05)
    pytest.fail(f"map did not reach tile state {wait_for!r} (last: {state!r})")


def _count(driver: Any, selector: str) -> int:
    return int(driver.execute_script(f"return document.querySelectorAll({selector!r}).length"))


@pytest.mark.browser
def test_browser_offline_map(driver: Any, sample: dict[str, Any], tmp_path: Path) -> None:
    path = maps.save_map(_map(sample, tiles=None), tmp_path / "map.html")
    _load(driver, path, wait_for="none")

    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []
    requests = [r for r in network_requests(driver) if not r["url"].startswith("chrome")]
    assert [r for r in requests if r["failed"]] == []
    assert {r["url"].split(":", 1)[0] for r in requests} <= {"file", "data"}

    pois, gates = sample["pois"], sample["gates"]
    assert _count(driver, ".leaflet-marker-icon.qh-poi") == len(pois)
    assert _count(driver, ".leaflet-marker-icon.qh-gate") == len(gates)
    for cat, n in pois["category"].value_counts().items():
        assert _count(driver, f".leaflet-marker-icon.qh-cat-{cat}") == n
    # 3 walking rings (5/10/15 min, each the union over the gates) + 3 compound outlines
    assert _count(driver, "path.leaflet-interactive") == 3 + len(sample["compounds"])
    # the street grid is drawn (non-interactive lines) as the offline base map
    assert _count(driver, "path:not(.leaflet-interactive)") >= 1

    # legend: all 28 categories, missing ones flagged
    legend = driver.find_element("css selector", ".qh-legend")
    text = legend.text
    for cat in _viz.categories():
        assert cat.name_zh in text
    assert _count(driver, ".qh-legend tr[data-category]") == 28
    missing = {c.id for c in _viz.categories()} - set(pois["category"])
    assert _count(driver, ".qh-legend tr.qh-missing") == len(missing)
    assert set(D.MISSING) <= missing
    assert "范围外" in text  # the far pet shop exists but nobody reaches it
    # layer control: one overlay per category present + gates + 3 rings + compounds + streets
    n_overlays = pois["category"].nunique() + 1 + 3 + 1 + 1
    assert _count(driver, ".leaflet-control-layers-overlays input") == n_overlays
    assert "学清路社区" in driver.find_element("css selector", ".qh-title").text

    # a popup: name (escaped, shown as text), category, address, distances
    driver.execute_script(
        "document.querySelector('.qh-cat-bakery').dispatchEvent(new MouseEvent('click', {bubbles: true}))"
    )
    popup = driver.find_element("css selector", ".leaflet-popup-content").get_attribute(
        "textContent"
    )
    assert "bakery<店>1" in popup
    assert "蛋糕烘焙店" in popup
    assert "学清路" in popup
    assert "距最近大门（直线）" in popup
    assert "最近的同类设施" in popup  # it is the nearest bakery for the compounds

    time.sleep(0.5)  # let the popup's fade-in and auto-pan finish before the screenshot
    shot = tmp_path / "map.png"
    assert driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 20_000


@pytest.mark.browser
def test_browser_auto_tiles_fall_back_offline(
    driver: Any, sample: dict[str, Any], tmp_path: Path
) -> None:
    path = maps.save_map(_map(sample, tiles="auto"), tmp_path / "map_auto.html")
    _load(driver, path, wait_for="offline")  # the tiles cannot load here: fallback engaged
    assert _count(driver, ".leaflet-tile-pane img") == 0  # tile layer removed
    assert _count(driver, ".leaflet-container.qh-offline") == 1
    assert _count(driver, "path:not(.leaflet-interactive)") >= 1  # streets shown instead
    for entry in driver.get_log("browser"):
        if entry["level"] == "SEVERE":  # only the tile requests may fail
            assert "tile.openstreetmap.org" in entry["message"], entry
    attribution = driver.find_element("css selector", ".leaflet-control-attribution").text
    assert "© OpenStreetMap contributors" in attribution  # kept for the OSM streets
    failed = [r for r in network_requests(driver) if r["failed"]]
    assert failed
    assert all(r["url"].startswith("https://tile.openstreetmap.org/") for r in failed)


def test_polygon_pois_become_points_and_empty_rows_warn(sample: dict[str, Any]) -> None:
    pois = sample["pois"].copy()
    pois.loc[0, "geometry"] = pois.geometry.iloc[0].buffer(20)  # a shop mapped as an outline
    pois.loc[1, "geometry"] = None
    with pytest.warns(
        QuarterHourWarning, match=rf"1 of {len(pois)} rows of `pois` have no geometry"
    ):
        m = maps.community_map(sample["gates"], pois, tiles=None)
    html = m.get_root().render()
    assert html.count('"type": "Point"') == len(pois) - 1 + len(sample["gates"])


def test_multi_limit_coverage_uses_the_walk_limit(sample: dict[str, Any]) -> None:
    one = sample["coverage"]
    near = one.assign(limit_m=400.0, reachable=False)
    both = pd.concat([near, one.assign(limit_m=1200.0)], ignore_index=True)
    both.attrs = {"limit_m": 1200.0}
    html_one = _map(sample, tiles=None, coverage=one).get_root().render()
    html_both = _map(sample, tiles=None, coverage=both).get_root().render()
    legend = re.compile(r'create\("div", "qh-legend"\);\s*div\.innerHTML = (".*?");', re.S)
    found_one, found_both = legend.search(html_one), legend.search(html_both)
    assert found_one is not None
    assert found_both is not None
    assert "2/3" in found_one.group(1)  # some categories reached by 2 of 3 compounds at 1,200 m
    assert found_one.group(1) == found_both.group(1)
