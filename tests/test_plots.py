"""Coverage and ranking charts: content, CJK font, batches."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.text import Text

from quarter_hour import InputError, plots
from tests import _outputs_data as D


@pytest.fixture(scope="module")
def card() -> Any:
    return D.scorecard(checklist={"org_body": 2, "org_plan": 4})


def _title(fig: Figure) -> Text:
    (found,) = [a for a in fig.findobj(Text) if a.get_gid() == "chart-title"]
    return found


def _scores(n: int) -> pd.DataFrame:
    total = np.linspace(98, 50, n)
    grade = pd.cut(
        total, [0, 80, 85, 90, 101], right=False, labels=["不合格", "合格", "良好", "优秀"]
    )
    return pd.DataFrame(
        {"total": total, "grade": grade.astype(str), "passed": total >= 80},
        index=pd.Index([f"社区{i:03d}" for i in range(n)], name="community"),
    )


def test_coverage_chart(card: Any, tmp_path: Path) -> None:
    fig = plots.coverage_chart(card)
    title = _title(fig)
    assert "学清路社区" in title.get_text()
    assert "不合格" in title.get_text()
    assert "CJK" in Path(font_manager.findfont(title.get_fontproperties())).name
    ax = fig.axes[0]
    labels = [tl.get_text() for tl in ax.get_yticklabels()]
    assert len(labels) == 32 + 3  # items + one heading per group
    assert labels[0].startswith("组织保障")
    assert "1. 便利店" in labels
    texts = [a.get_text() for a in ax.texts]
    assert "100%  8.0/8" in texts  # convenience store: all compounds, full points
    assert texts.count("未评估") == 2  # org_layout_guide, smart_platform
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = plots.save_figure(fig, tmp_path / "cov.png", dpi=80)
    assert not [w for w in caught if "Glyph" in str(w.message)]
    assert out.stat().st_size > 10_000


def test_ranking_chart_small_batch() -> None:
    fig = plots.ranking_chart(_scores(8))
    labels = [tl.get_text() for tl in fig.axes[0].get_yticklabels()]
    assert labels[0] == "1. 社区000"
    assert labels[-1] == "8. 社区007"
    assert "8 个社区" in _title(fig).get_text()


def test_ranking_chart_large_batch_shows_top_and_bottom() -> None:
    df = _scores(300).sample(frac=1.0, random_state=1)  # order must not matter
    fig = plots.ranking_chart(df.reset_index(), max_bars=20, lang="en")
    ax = fig.axes[0]
    labels = [tl.get_text() for tl in ax.get_yticklabels()]
    assert len(labels) == 20
    assert labels[0] == "1. 社区000"
    assert labels[-1] == "300. 社区299"
    assert any("280 more communities" in a.get_text() for a in ax.texts)


def test_errors(card: Any, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"lacks column\(s\) \['grade'\]"):
        plots.ranking_chart(pd.DataFrame({"total": [90.0]}))
    with pytest.raises(InputError, match="extension must be one of"):
        plots.save_figure(plots.coverage_chart(card), tmp_path / "x.gif")
