"""Printable poster: CJK font actually used, print sizes, formats, legend and credits."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

from quarter_hour import InputError, _viz, poster
from tests import _outputs_data as D


@pytest.fixture(scope="module")
def fig() -> Figure:
    return poster.community_poster(
        D.gates(),
        D.pois(),
        isochrones=D.isochrones((5, 10, 15)),
        streets=D.streets(),
        compounds=D.compounds(),
        coverage=D.coverage(),
        title="学清路社区",
        paper="A3",
    )


def _texts(fig: Figure) -> list[Text]:
    return [a for a in fig.findobj(Text) if a.get_text()]


def _by_gid(fig: Figure, gid: str) -> Text:
    (found,) = [a for a in fig.findobj(Text) if a.get_gid() == gid]
    return found


def test_title_is_drawn_with_a_cjk_font(fig: Figure, tmp_path: Path) -> None:
    title = _by_gid(fig, "poster-title")
    assert title.get_text() == "学清路社区 一刻钟便民生活圈"
    font_file = Path(font_manager.findfont(title.get_fontproperties(), fallback_to_default=False))
    assert "CJK" in font_file.name or "cjk" in str(font_file).lower(), font_file
    # every glyph of every text is in the font used: drawing emits no "Glyph ... missing" warning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        poster.save_poster(fig, tmp_path / "p.png", dpi=60)
    assert not [w for w in caught if "Glyph" in str(w.message)], [str(w.message) for w in caught]


def test_a3_png_at_print_resolution(fig: Figure, tmp_path: Path) -> None:
    out = poster.save_poster(fig, tmp_path / "poster.png", dpi=300)
    with Image.open(out) as im:
        w, h = im.size
        dpi = im.info.get("dpi")
    assert abs(w - 3508) <= 1
    assert abs(h - 4961) <= 1
    assert dpi is not None
    assert round(dpi[0]) == 300


@pytest.mark.parametrize(
    ("paper", "landscape", "size_mm"), [("A4", False, (210, 297)), ("A4", True, (297, 210))]
)
def test_paper_sizes(paper: str, landscape: bool, size_mm: tuple[int, int]) -> None:
    f = poster.community_poster(D.gates(), D.pois(), paper=paper, landscape=landscape)  # type: ignore[arg-type]
    w_in, h_in = f.get_size_inches()
    assert (round(w_in * 25.4), round(h_in * 25.4)) == size_mm


def test_pdf_and_svg(fig: Figure, tmp_path: Path) -> None:
    pdf = poster.save_poster(fig, tmp_path / "poster.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert b"NotoSansCJK" in data  # the CJK font is embedded
    svg = poster.save_poster(fig, tmp_path / "poster.svg")
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_legend_counts_missing_and_credits(fig: Figure) -> None:
    strings = [a.get_text() for a in _texts(fig)]
    for cat in _viz.categories():
        assert cat.name_zh in strings
    assert strings.count("缺失") == len(
        {c.id for c in _viz.categories()} - set(D.POI_PLAN) - {"pet_service"}
    )
    assert "范围外" in strings  # the far pet shop
    assert "5" in strings  # five convenience stores
    footer = _by_gid(fig, "poster-attribution").get_text()
    assert "© OpenStreetMap contributors" in footer
    assert _by_gid(fig, "north-arrow").get_text() == "北"
    assert _by_gid(fig, "scale-bar-label").get_text() in {"500 米", "1.0 千米", "200 米"}


def test_no_osm_credit_without_streets() -> None:
    f = poster.community_poster(D.gates(), D.pois(), lang="en", title="Xueqing")
    footer = _by_gid(f, "poster-attribution").get_text()
    assert "OpenStreetMap" not in footer
    assert _by_gid(f, "poster-title").get_text() == "Xueqing: 15-minute living circle"
    assert _by_gid(f, "north-arrow").get_text() == "N"


def test_errors(fig: Figure, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"extension must be one of \['.pdf', '.png', '.svg'\]"):
        poster.save_poster(fig, tmp_path / "poster.jpg")
    with pytest.raises(InputError, match="`paper` must be one of"):
        poster.community_poster(D.gates(), D.pois(), paper="A0")  # type: ignore[arg-type]


def test_missing_cjk_font_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    keep: list[Any] = [f for f in font_manager.fontManager.ttflist if "CJK" not in f.name]
    keep = [f for f in keep if not f.name.upper().endswith((" SC", " CN"))]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", keep)
    _viz.cjk_font_family.cache_clear()
    try:
        with pytest.raises(_viz.MissingFontError, match="apt-get install fonts-noto-cjk"):
            poster.community_poster(D.gates(), D.pois())
    finally:
        _viz.cjk_font_family.cache_clear()
