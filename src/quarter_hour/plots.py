"""Charts planners expect: item coverage for one community, and a ranking for a batch.

* :func:`coverage_chart` — every rubric item of a :class:`~quarter_hour.scoring.Scorecard` as a
  bar of its weight (grey) filled up to the points earned (= weight × share of compounds reaching
  it), labelled with the share; items not assessed are hatched. Group subtotals and minimums are
  in the y labels.
* :func:`ranking_chart` — communities from :func:`quarter_hour.scoring.score_many` ranked by total,
  coloured by grade, with the 80/85/90 grade lines. Large batches show the top and bottom.

Both return a :class:`matplotlib.figure.Figure` (shown inline in Jupyter) drawn with a CJK font;
:func:`save_figure` writes PNG/PDF/SVG.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from . import _viz
from ._errors import InputError
from ._viz import Lang, t

log = logging.getLogger(__name__)

__all__ = ["coverage_chart", "ranking_chart", "save_figure"]

GROUP_COLOURS = {"organisation": "#756bb1", "basic": "#2171b5", "quality": "#31a354"}
GRADE_COLOURS = {
    "优秀": "#006d2c", "excellent": "#006d2c",
    "良好": "#31a354", "good": "#31a354",
    "合格": "#a1d99b", "pass": "#a1d99b",
    "不合格": "#de2d26", "fail": "#de2d26",
}  # fmt: skip


def _rc() -> Any:  # matplotlib rcParams for rc_context
    return {
        "font.family": _viz.font_family(),
        "axes.unicode_minus": False,
        "pdf.fonttype": 3,
        "svg.fonttype": "path",
    }


def coverage_chart(scorecard: Any, *, lang: Lang = "zh") -> Figure:
    """Bar chart of one community's items: points earned against weight, with the share covered.

    Parameters
    ----------
    scorecard
        A :class:`~quarter_hour.scoring.Scorecard` (``items``, ``groups``, ``community``, ``total``,
        ``grade``).
    lang
        ``"zh"`` (default) or ``"en"`` labels.

    Returns
    -------
    matplotlib.figure.Figure
        About 8 x (2 + 0.25 per item) inches.
    """
    lang = _viz.check_lang(lang)
    items: pd.DataFrame = scorecard.items
    groups: pd.DataFrame = scorecard.groups
    labels: list[str] = []
    rows: list[dict[str, Any]] = []
    group_recs: list[Any] = groups.to_dict("records")
    for g in group_recs:
        g_items = items.loc[items["group"] == g["group"]]
        mn = f" ≥{float(g['min_points']):g}" if g["min_points"] else ""
        name = g["name_zh"] if lang == "zh" else g["name_en"]
        labels.append(f"{name}  {float(g['points']):.1f}/{float(g['max_points']):g}{mn}")
        rows.append({"header": True, "ok": bool(g["meets_minimum"])})
        recs: list[Any] = g_items.to_dict("records")
        for k, r in enumerate(recs, start=1):
            labels.append(f"{k}. {r['name_zh'] if lang == 'zh' else r['name_en']}")
            rows.append({"header": False, "group": r["group"], "weight": float(r["weight"]),
                         "points": float(r["points"]), "share": float(r["share"]),
                         "assessed": bool(r["assessed"]), "kind": r["kind"]})  # fmt: skip
    n = len(rows)
    with mpl.rc_context(_rc()):
        fig = Figure(figsize=(8.5, 1.6 + 0.24 * n), facecolor="white")
        ax = fig.add_subplot(1, 1, 1)
        y = np.arange(n)[::-1]
        wmax = max((r["weight"] for r in rows if not r["header"]), default=1.0)
        for yi, row in zip(y, rows, strict=True):
            if row["header"]:
                continue
            colour = GROUP_COLOURS.get(row["group"], "#555")
            ax.barh(yi, row["weight"], color="#e6e6e6", edgecolor="#bbb", linewidth=0.5, height=0.7)
            if not row["assessed"]:
                ax.barh(
                    yi,
                    row["weight"],
                    color="none",
                    edgecolor="#999",
                    hatch="///",
                    linewidth=0,
                    height=0.7,
                )
                text = t(lang, "未评估", "not assessed")
            else:
                ax.barh(yi, row["points"], color=colour, height=0.7)
                share = row["share"]
                if row["kind"] == "spatial":
                    text = f"{share:.0%}" if not math.isnan(share) else "–"
                else:
                    text = t(lang, "核查", "checked")
                text += f"  {row['points']:.1f}/{row['weight']:g}"
            ax.text(
                row["weight"] + wmax * 0.015,
                yi,
                text,
                va="center",
                fontsize=8,
                color="#c0392b" if row["assessed"] and row["points"] == 0 else "#333",
            )
        ax.set_yticks(y, labels)
        for tick, row in zip(ax.get_yticklabels(), rows, strict=True):
            if row["header"]:
                tick.set_fontweight("bold")
                tick.set_color("#333" if row["ok"] else "#c0392b")
            tick.set_fontsize(8.5 if not row["header"] else 9.5)
        ax.set_xlim(0, wmax * 1.35)
        ax.set_ylim(-0.7, n - 0.3)
        ax.set_xlabel(
            t(
                lang,
                "分值（灰）与得分（彩色）；百分比为可达该类设施的小区（户）比例",
                "weight (grey) and points (colour); % = share of compounds (households) reaching it",
            ),
            fontsize=8.5,
        )
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(axis="y", length=0)
        verdict = f"{scorecard.total:.1f} / 100 · {scorecard.grade if lang == 'zh' else scorecard.grade_en}"
        ax.set_title(
            t(
                lang,
                f"{scorecard.community} 各项得分与覆盖比例（{verdict}）",
                f"{scorecard.community}: points and coverage by item ({verdict})",
            ),
            fontsize=12,
            fontweight="bold",
            loc="left",
            gid="chart-title",
        )
        fig.tight_layout()
    return fig


def ranking_chart(
    scores: pd.DataFrame,
    *,
    lang: Lang = "zh",
    max_bars: int = 50,
    community_col: str = "community",
) -> Figure:
    """Rank communities by total score, coloured by grade, with the grade thresholds.

    Parameters
    ----------
    scores
        The :func:`quarter_hour.scoring.score_many` table: one row per community with ``total``
        and ``grade``; the community name in ``community_col`` or the index.
    lang
        ``"zh"`` (default) or ``"en"``.
    max_bars
        With more communities than this, the best ``max_bars // 2`` and the worst ``max_bars // 2``
        are shown, with a gap marking how many were left out.
    community_col
        Column holding the community name, when it is not the index.

    Returns
    -------
    matplotlib.figure.Figure
    """
    lang = _viz.check_lang(lang)
    missing = [c for c in ("total", "grade") if c not in scores.columns]
    if missing:
        msg = (
            f"`scores` lacks column(s) {missing}; pass the table from `quarter_hour.scoring.score_many`. "
            f"Available columns: {sorted(map(str, scores.columns))[:12]}."
        )
        raise InputError(msg)
    if max_bars < 2:
        msg = f"`max_bars` must be at least 2, got {max_bars!r}."
        raise InputError(msg)
    df = scores.copy()
    names = (
        df[community_col] if community_col in df.columns else pd.Series(df.index, index=df.index)
    )
    df = df.assign(_name=names.astype(str)).sort_values("total", ascending=False, kind="stable")
    n_all = len(df)
    gap = 0
    if n_all > max_bars:
        half = max_bars // 2
        gap = n_all - 2 * half
        df = pd.concat([df.head(half), df.tail(half)])
    n = len(df) + (1 if gap else 0)
    with mpl.rc_context(_rc()):
        fig = Figure(figsize=(8.5, 1.4 + 0.24 * n), facecolor="white")
        ax = fig.add_subplot(1, 1, 1)
        ypos = list(range(n))[::-1]
        if gap:
            half = max_bars // 2
            ypos = ypos[:half] + ypos[half + 1 :]
        ax.barh(
            ypos,
            df["total"],
            color=[GRADE_COLOURS.get(str(g), "#888") for g in df["grade"]],
            height=0.72,
        )
        rank = list(range(1, len(df) + 1))
        if gap:
            half = max_bars // 2
            rank = list(range(1, half + 1)) + list(range(n_all - half + 1, n_all + 1))
        ax.set_yticks(
            ypos, [f"{r}. {s}" for r, s in zip(rank, df["_name"], strict=True)], fontsize=8.5
        )
        for yv, total in zip(ypos, df["total"], strict=True):
            ax.text(total + 0.8, yv, f"{total:.1f}", va="center", fontsize=8)
        if gap:
            ax.text(
                50,
                n - 1 - max_bars // 2,
                t(lang, f"…… 另有 {gap} 个社区 ……", f"... {gap} more communities ..."),
                ha="center",
                va="center",
                fontsize=9,
                color="#666",
            )
        for x in (80, 85, 90):  # grade thresholds (合格, 良好, 优秀)
            ax.axvline(x, color="#555", linestyle="--", linewidth=0.8)
            ax.text(x, n - 0.3, f"{x}", ha="center", va="bottom", fontsize=8, color="#555")
        ax.set_xlim(0, 105)
        ax.set_ylim(-0.7, n + 0.4)
        ax.set_xlabel(t(lang, "总分（满分100）", "total score (of 100)"))
        grades = ["优秀", "良好", "合格", "不合格"]
        en = {"优秀": "excellent", "良好": "good", "合格": "pass", "不合格": "fail"}
        ax.legend(
            handles=[Patch(color=GRADE_COLOURS[g], label=t(lang, g, en[g])) for g in grades],
            loc="lower right",
            fontsize=8,
            frameon=True,
        )
        ax.spines[["top", "right"]].set_visible(False)
        passed = int(scores["passed"].sum()) if "passed" in scores.columns else None
        sub = t(lang, f"{n_all} 个社区", f"{n_all} communities")
        if passed is not None:
            sub += t(lang, f"，{passed} 个合格", f", {passed} passed")
        ax.set_title(
            t(
                lang,
                f"一刻钟便民生活圈 社区得分排名（{sub}）",
                f"15-minute living circle: communities ranked ({sub})",
            ),
            fontsize=12,
            fontweight="bold",
            loc="left",
            gid="chart-title",
        )
        fig.tight_layout()
    return fig


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 200) -> Path:
    """Write a chart as PNG, PDF or SVG (by extension), creating parent folders.

    Parameters
    ----------
    fig
        A figure from this module (or any figure).
    path
        Output file ending in ``.png``, ``.pdf`` or ``.svg``.
    dpi
        Resolution for PNG, dots per inch.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    out = _viz.figure_path(path, example_suffix=".png")
    with mpl.rc_context(_rc()):
        fig.savefig(out, dpi=dpi, facecolor="white", bbox_inches="tight")
    log.info("wrote %s", out)
    return out
