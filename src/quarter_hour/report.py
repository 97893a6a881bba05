"""The scorecard in the layout of Annex 2 (附件2 验收考核标准), as Excel and as a printable page.

Columns follow the rubric's own table — 评价类别, 评价指标, 分值, 得分 — plus the share of compounds
(households) that reach each item and the compounds that lack it. Each group ends with a subtotal
that states its minimum; the table ends with 总分 and the grade. Below the table the card says how
every number was obtained: the rubric and its source, the walk limit (minutes × speed = metres,
from the compound gates along streets), the coverage rule, how compounds were weighted, the data
sources with their dates, the items not assessed (scored 0, never silently) and the reasons for
the grade.

* :func:`scorecard_table` — that table as a DataFrame (for notebooks).
* :func:`write_excel` — one sheet per community, plus a summary sheet (汇总) for batches.
* :func:`scorecard_html` / :func:`write_html` — a self-contained HTML page that prints on A4, with
  the coverage chart inlined as SVG.

All accept a :class:`~quarter_hour.scoring.Scorecard` or a sequence of them; ``lang="en"`` gives
English headings.
"""

from __future__ import annotations

import datetime as _dt
import html
import io
import logging
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from . import _viz
from ._errors import InputError
from ._viz import Lang, t

log = logging.getLogger(__name__)

__all__ = ["provenance_lines", "scorecard_html", "scorecard_table", "write_excel", "write_html"]

_MAX_LACKING = 12


def _headers(lang: Lang) -> list[str]:
    return (
        ["评价类别", "评价指标", "分值", "得分", "覆盖比例", "缺少该项的小区", "说明"]
        if lang == "zh"
        else [
            "Category",
            "Indicator",
            "Weight",
            "Points",
            "Share covered",
            "Compounds lacking it",
            "Note",
        ]
    )


def _as_list(scorecards: Any) -> list[Any]:
    cards = (
        [scorecards]
        if hasattr(scorecards, "items") and hasattr(scorecards, "total")
        else list(scorecards)
    )
    if not cards:
        msg = "No scorecards given: pass a Scorecard from `quarter_hour.scoring.score` or a list of them."
        raise InputError(msg)
    return cards


def _rows(card: Any, lang: Lang) -> list[dict[str, Any]]:
    """Table rows with a ``type`` of "item", "subtotal" or "total"."""
    items: pd.DataFrame = card.items
    out: list[dict[str, Any]] = []
    n_comp = len(getattr(card, "compounds", [])) or None
    for g in card.groups.itertuples(index=False):
        gname = g.name_zh if lang == "zh" else g.name_en
        g_items = items.loc[items["group"] == g.group]
        for k, r in enumerate(g_items.itertuples(index=False), start=1):
            name = r.name_zh if lang == "zh" else r.name_en
            share = float(r.share)
            lacking = list(r.lacking) if isinstance(r.lacking, list | tuple) else []
            if not r.assessed:
                note = t(lang, "未评估，按 0 分计", "not assessed, scored 0")
            elif r.kind == "checklist":
                note = str(r.note) if r.note else t(lang, "按核查清单", "from the checklist")
            else:
                total = n_comp or len(lacking) + 1
                note = t(
                    lang,
                    f"{total - len(lacking)}/{total} 个小区步行可达",
                    f"{total - len(lacking)}/{total} compounds reach it",
                )
            lack_txt = (
                "、".join(map(str, lacking[:_MAX_LACKING]))
                if lang == "zh"
                else ", ".join(map(str, lacking[:_MAX_LACKING]))
            )
            if len(lacking) > _MAX_LACKING:
                lack_txt += t(
                    lang, f" 等 {len(lacking)} 个", f" and {len(lacking) - _MAX_LACKING} more"
                )
            out.append(
                {
                    "type": "item",
                    "group": gname,
                    "indicator": f"{k}.{name}",
                    "weight": float(r.weight),
                    "points": float(r.points),
                    "share": share if r.kind == "spatial" and r.assessed else math.nan,
                    "lacking": lack_txt,
                    "note": note,
                    "assessed": bool(r.assessed),
                }
            )
        mn = float(g.min_points)
        if mn:
            met = t(lang, "达到", "met") if g.meets_minimum else t(lang, "未达到", "NOT met")
            gnote = t(lang, f"需 {mn:g} 分以上：{met}", f"minimum {mn:g}: {met}")
        else:
            gnote = ""
        out.append(
            {
                "type": "subtotal",
                "group": gname,
                "indicator": t(lang, "小计", "Subtotal"),
                "weight": float(g.max_points),
                "points": float(g.points),
                "share": math.nan,
                "lacking": "",
                "note": gnote,
                "assessed": bool(g.meets_minimum),
            }
        )
    grade = card.grade if lang == "zh" else card.grade_en
    verdict = t(
        lang, "合格" if card.passed else "不合格", "passed" if card.passed else "not passed"
    )
    out.append(
        {
            "type": "total",
            "group": t(lang, "总分", "Total"),
            "indicator": "",
            "weight": float(items["weight"].sum()),
            "points": float(card.total),
            "share": math.nan,
            "lacking": "",
            "note": t(lang, f"等级：{grade}（{verdict}）", f"grade: {grade} ({verdict})"),
            "assessed": bool(card.passed),
        }
    )
    return out


def scorecard_table(scorecard: Any, *, lang: Lang = "zh") -> pd.DataFrame:
    """The scorecard as a table in Annex 2's layout.

    Parameters
    ----------
    scorecard
        A :class:`~quarter_hour.scoring.Scorecard`.
    lang
        ``"zh"`` (default) or ``"en"`` headings and names.

    Returns
    -------
    pandas.DataFrame
        Columns 评价类别, 评价指标, 分值, 得分, 覆盖比例 (0..1, NaN where not spatial), 缺少该项的小区,
        说明; one row per item, a 小计 row per group and a final 总分 row.
    """
    lang = _viz.check_lang(lang)
    rows = _rows(scorecard, lang)
    keys = ["group", "indicator", "weight", "points", "share", "lacking", "note"]
    return pd.DataFrame([[r[k] for k in keys] for r in rows], columns=_headers(lang))


_RULES = {
    "share": ("按比例：得分 = 分值 × 步行范围内有该类设施的小区所占比例",
              "by proportion: points = weight × share of compounds with such a facility within the walk"),
    "any": ("任一小区步行范围内有该类设施即得满分", "full points when any compound reaches such a facility"),
    "all": ("所有小区步行范围内都有该类设施才得分", "points only when every compound reaches such a facility"),
}  # fmt: skip


def _fmt_sources(sources: Any) -> str:
    if sources is None or sources == {} or sources == []:
        return ""
    if isinstance(sources, dict):
        return "; ".join(
            f"{k}: {_fmt_sources(v) if isinstance(v, dict | list) else v}"
            for k, v in sources.items()
        )
    if isinstance(sources, list | tuple):
        return "; ".join(_fmt_sources(s) if isinstance(s, dict | list) else str(s) for s in sources)
    return str(sources)


def provenance_lines(scorecard: Any, *, lang: Lang = "zh") -> list[tuple[str, str]]:
    """How each number was obtained, as (label, text) pairs for the foot of the scorecard.

    Parameters
    ----------
    scorecard
        A :class:`~quarter_hour.scoring.Scorecard`.
    lang
        ``"zh"`` (default) or ``"en"``.

    Returns
    -------
    list of (str, str)
        Rubric, walk limit, coverage rule, weighting, compounds, data sources and dates, items not
        assessed, reasons for the grade, software and date.
    """
    lang = _viz.check_lang(lang)
    prov: dict[str, Any] = dict(getattr(scorecard, "provenance", {}) or {})
    rub = scorecard.rubric
    walk = rub.walk
    title = (getattr(rub, "title_zh", "") if lang == "zh" else getattr(rub, "title_en", "")) or ""
    rubric_txt = f"{title} ({rub.name})" if title else str(rub.name)
    source = getattr(rub, "source", "") or prov.get("rubric_source") or ""
    if source:
        rubric_txt += t(lang, f"；来源：{source}", f"; source: {source}")
    lines = [(t(lang, "评价标准", "Rubric"), rubric_txt)]
    lines.append(
        (
            t(lang, "步行范围", "Walk limit"),
            t(
                lang,
                f"以居住小区大门为起点，沿街道步行 {walk.minutes:g} 分钟 × {walk.speed_m_per_min:g} 米/分钟 = {walk.limit_m:g} 米（网络距离，含门到街道、街道到设施的接入段）",
                f"from the compound gates along streets: {walk.minutes:g} min × {walk.speed_m_per_min:g} m/min = {walk.limit_m:g} m (network distance incl. access legs)",
            ),
        )
    )
    rule = str(getattr(rub, "coverage_rule", prov.get("coverage_rule", "share")))
    zh, en = _RULES.get(rule, (rule, rule))
    lines.append((t(lang, "覆盖规则", "Coverage rule"), f"{t(lang, zh, en)} [{rule}]"))
    weighting = prov.get("weighting")
    if weighting:
        hh = prov.get("households")
        if weighting == "households":
            w = t(lang, "按户数加权", "weighted by households")
            if hh:
                w += t(lang, f"（共 {hh:,.0f} 户）", f" ({hh:,.0f} households)")
        else:
            w = t(
                lang,
                "每个小区同等权重（户数不全）",
                "each compound counts once (households not all known)",
            )
        lines.append((t(lang, "小区权重", "Weighting"), w))
    n = prov.get("n_compounds")
    if n is not None:
        lines.append((t(lang, "小区数量", "Compounds"), str(n)))
    src = _fmt_sources(prov.get("sources"))
    lines.append(
        (
            t(lang, "数据来源及日期", "Data sources and dates"),
            src
            or t(
                lang, "未注明（请在评分时提供 sources）", "not stated (pass `sources` when scoring)"
            ),
        )
    )
    items = scorecard.items.set_index("item_id")
    na = [str(items.at[i, "name_zh"] if lang == "zh" else items.at[i, "name_en"]) if i in items.index else i
          for i in scorecard.not_assessed]  # fmt: skip
    lines.append((t(lang, "未评估项目", "Items not assessed"),
                  ("、".join(na) if lang == "zh" else "; ".join(na)) + t(lang, "（按 0 分计）", " (scored 0)")
                  if na else t(lang, "无", "none")))  # fmt: skip
    if scorecard.reasons:
        lines.append((t(lang, "评定说明", "Reasons"), "; ".join(map(str, scorecard.reasons))))
    version = prov.get("quarter_hour_version", "")
    lines.append(
        (
            t(lang, "生成", "Produced"),
            f"quarter_hour {version} · {_dt.date.today():%Y-%m-%d}".replace("  ", " "),
        )
    )
    return lines


# ---------------------------------------------------------------------------------------------
# Excel


def _sheet_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", name).strip("'") or "sheet"
    base = base[:31]
    cand, k = base, 2
    while cand.lower() in used:
        suffix = f" ({k})"
        cand = base[: 31 - len(suffix)] + suffix
        k += 1
    used.add(cand.lower())
    return cand


def write_excel(scorecards: Any, path: str | Path, *, lang: Lang = "zh") -> Path:
    """Write scorecards to an Excel workbook in Annex 2's layout.

    Parameters
    ----------
    scorecards
        A Scorecard or a sequence of them (a batch).
    path
        Output ``.xlsx`` file; parent folders are created.
    lang
        ``"zh"`` (default) or ``"en"``.

    Returns
    -------
    pathlib.Path
        The file written. One sheet per community (named after it); with more than one
        community a first sheet 汇总 / Summary lists them all.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    lang = _viz.check_lang(lang)
    cards = _as_list(scorecards)
    out = Path(path)
    if out.suffix.lower() != ".xlsx":
        msg = f"`path` must end in .xlsx, got {str(out)!r}. Use e.g. {str(out.with_suffix('.xlsx'))!r}."
        raise InputError(msg)
    wb = Workbook()
    wb.remove(wb.active)
    thin = Side(style="thin", color="888888")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    head_fill = PatternFill("solid", fgColor="D9D9D9")
    sub_fill = PatternFill("solid", fgColor="F2F2F2")
    bad = Font(color="C0392B", bold=True)
    wrap = Alignment(wrap_text=True, vertical="center")
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    used: set[str] = set()

    if len(cards) > 1:
        ws = wb.create_sheet(_sheet_name(t(lang, "汇总", "Summary"), used))
        heads = [t(lang, "排名", "Rank"), t(lang, "社区", "Community"), t(lang, "总分", "Total"),
                 t(lang, "等级", "Grade"), t(lang, "是否合格", "Passed")]  # fmt: skip
        group_cols = list(cards[0].groups.itertuples(index=False))
        heads += [g.name_zh if lang == "zh" else g.name_en for g in group_cols]
        heads += [t(lang, "未评估项目", "Not assessed"), t(lang, "评定说明", "Reasons")]
        ws.append(heads)
        order = sorted(range(len(cards)), key=lambda i: -float(cards[i].total))
        for rank, i in enumerate(order, start=1):
            c = cards[i]
            gp = dict(zip(c.groups["group"], c.groups["points"], strict=True))
            ws.append([rank, c.community, round(float(c.total), 2), c.grade if lang == "zh" else c.grade_en,
                       t(lang, "是" if c.passed else "否", "yes" if c.passed else "no")]
                      + [round(float(gp.get(g.group, math.nan)), 2) for g in group_cols]
                      + [", ".join(c.not_assessed), "; ".join(map(str, c.reasons))])  # fmt: skip
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.fill = head_fill
            cell.alignment = centre
        for col, width in zip("ABCDEFGHIJ", (6, 24, 8, 8, 8, 10, 12, 12, 24, 60), strict=False):
            ws.column_dimensions[col].width = width
        ws.freeze_panes = "C2"
        ws.auto_filter.ref = ws.dimensions

    for card in cards:
        ws = wb.create_sheet(_sheet_name(str(card.community), used))
        ws.merge_cells("A1:G1")
        ws["A1"] = t(
            lang,
            f"{card.community} 一刻钟便民生活圈建设验收考核评分表",
            f"{card.community}: 15-minute living circle acceptance scorecard",
        )
        ws["A1"].font = Font(bold=True, size=14)
        ws["A1"].alignment = centre
        ws.merge_cells("A2:G2")
        title = (
            getattr(card.rubric, "title_zh" if lang == "zh" else "title_en", "") or card.rubric.name
        )
        ws["A2"] = (
            f"{title} · {t(lang, '总分', 'total')} {card.total:.2f} · {card.grade if lang == 'zh' else card.grade_en}"
        )
        ws["A2"].alignment = centre
        ws.append(_headers(lang))
        header_row = ws.max_row
        for cell in ws[header_row]:
            cell.font = Font(bold=True)
            cell.fill = head_fill
            cell.alignment = centre
            cell.border = border
        group_start: dict[str, int] = {}
        for r in _rows(card, lang):
            share = None if math.isnan(r["share"]) else r["share"]
            ws.append(
                [
                    r["group"],
                    r["indicator"],
                    r["weight"],
                    round(r["points"], 2),
                    share,
                    r["lacking"],
                    r["note"],
                ]
            )
            row = ws.max_row
            for cell in ws[row]:
                cell.border = border
                cell.alignment = wrap
            ws.cell(row, 3).number_format = "0.##"
            ws.cell(row, 4).number_format = "0.00"
            ws.cell(row, 5).number_format = "0%"
            if r["type"] == "item":
                group_start.setdefault(r["group"], row)
                if not r["assessed"]:
                    ws.cell(row, 7).font = Font(color="C0392B")
            else:
                if r["type"] == "subtotal":
                    start = group_start.get(r["group"], row)
                    ws.merge_cells(start_row=start, end_row=row, start_column=1, end_column=1)
                    ws.cell(start, 1).alignment = centre
                else:
                    ws.merge_cells(start_row=row, end_row=row, start_column=1, end_column=2)
                    ws.cell(row, 1).alignment = centre
                for cell in ws[row][1:]:
                    cell.fill = sub_fill
                    cell.font = Font(bold=True)
                if not r["assessed"]:
                    ws.cell(row, 7).font = bad
                    ws.cell(row, 4).font = bad
        ws.append([])
        ws.append([t(lang, "评分说明", "How the numbers were obtained")])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
        for label, text in provenance_lines(card, lang=lang):
            ws.append([label, text])
            row = ws.max_row
            ws.merge_cells(start_row=row, end_row=row, start_column=2, end_column=7)
            ws.cell(row, 1).alignment = wrap
            ws.cell(row, 2).alignment = wrap
            ws.row_dimensions[row].height = 15 * max(1, math.ceil(len(text) / 70))
        for col, width in zip("ABCDEFG", (14, 34, 7, 7, 9, 22, 30), strict=True):
            ws.column_dimensions[col].width = width
        ws.freeze_panes = ws.cell(header_row + 1, 1)
        ws.print_title_rows = f"{header_row}:{header_row}"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.orientation = "portrait"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    log.info("wrote %s (%d community sheet(s))", out, len(cards))
    return out


# ---------------------------------------------------------------------------------------------
# HTML

_CSS = """
@page { size: A4 portrait; margin: 12mm; }
body { font-family: "Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",
  "SimHei",sans-serif; font-size: 10.5pt; color: #111; max-width: 190mm; margin: 0 auto; }
h1 { font-size: 16pt; text-align: center; margin: 4mm 0 1mm; }
.sub { text-align: center; color: #444; margin-bottom: 3mm; }
.verdict { font-weight: 700; }
.verdict.fail { color: #c0392b; } .verdict.pass { color: #1a7f37; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 0.5pt solid #666; padding: 1.2mm 1.6mm; vertical-align: middle; }
th { background: #e6e6e6; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
td.num { text-align: right; white-space: nowrap; }
td.grp { text-align: center; font-weight: 700; width: 18mm; }
tr.subtotal td, tr.total td { background: #f2f2f2; font-weight: 700; }
.bad { color: #c0392b; }
.na { color: #c0392b; font-style: italic; }
dl.prov { display: grid; grid-template-columns: 28mm 1fr; gap: 1mm 3mm; font-size: 9.5pt; }
dl.prov dt { font-weight: 700; } dl.prov dd { margin: 0; }
.chart svg { width: 100%; height: auto; }
.page { break-after: page; }
.page:last-child { break-after: auto; }
@media screen { body { padding: 8mm; } .page { border-bottom: 1px dashed #aaa; padding-bottom: 8mm;
  margin-bottom: 8mm; } }
"""


def _svg(fig: Any) -> str:
    """A figure as an inline ``<svg>`` element (text drawn as paths: no font needed to view)."""
    import matplotlib as mpl

    buf = io.BytesIO()
    with mpl.rc_context({"svg.fonttype": "path", "font.family": _viz.font_family()}):
        fig.savefig(buf, format="svg", bbox_inches="tight", facecolor="white")
    text = buf.getvalue().decode("utf-8")
    return text[text.index("<svg") :]


def _card_html(card: Any, lang: Lang, chart: bool) -> str:
    e = html.escape
    heads = _headers(lang)
    rows = _rows(card, lang)
    body: list[str] = []
    i = 0
    while i < len(rows):
        r = rows[i]
        if r["type"] == "total":
            body.append(
                f"<tr class='total'><td colspan=2>{e(r['group'])}</td><td class='num'>{r['weight']:g}</td>"
                f"<td class='num'>{r['points']:.2f}</td><td></td><td></td>"
                f"<td class='{'' if r['assessed'] else 'bad'}'>{e(r['note'])}</td></tr>"
            )
            i += 1
            continue
        j = i
        while rows[j]["type"] != "subtotal":
            j += 1
        span = j - i + 1
        for k in range(i, j + 1):
            rr = rows[k]
            first = f"<td class='grp' rowspan={span}>{e(rr['group'])}</td>" if k == i else ""
            share = "" if math.isnan(rr["share"]) else f"{rr['share']:.0%}"
            cls = "subtotal" if rr["type"] == "subtotal" else ""
            note_cls = "" if rr["assessed"] else ("bad" if rr["type"] == "subtotal" else "na")
            body.append(
                f"<tr class='{cls}'>{first}<td>{e(rr['indicator'])}</td><td class='num'>{rr['weight']:g}</td>"
                f"<td class='num'>{rr['points']:.2f}</td><td class='num'>{share}</td>"
                f"<td>{e(rr['lacking'])}</td><td class='{note_cls}'>{e(rr['note'])}</td></tr>"
            )
        i = j + 1
    prov = "".join(f"<dt>{e(a)}</dt><dd>{e(b)}</dd>" for a, b in provenance_lines(card, lang=lang))
    title = getattr(card.rubric, "title_zh" if lang == "zh" else "title_en", "") or card.rubric.name
    grade = card.grade if lang == "zh" else card.grade_en
    svg = ""
    if chart:
        from .plots import coverage_chart

        svg = f"<div class='chart'>{_svg(coverage_chart(card, lang=lang))}</div>"
    return (
        "<section class='page'>"
        f"<h1>{e(t(lang, f'{card.community} 一刻钟便民生活圈建设验收考核评分表', f'{card.community}: 15-minute living circle scorecard'))}</h1>"
        f"<div class='sub'>{e(title)} · {t(lang, '总分', 'total')} <b>{card.total:.2f}</b> · "
        f"<span class='verdict {'pass' if card.passed else 'fail'}'>{e(grade)}</span></div>"
        f"<table><thead><tr>{''.join(f'<th>{e(h)}</th>' for h in heads)}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
        f"<h3>{t(lang, '评分说明', 'How the numbers were obtained')}</h3><dl class='prov'>{prov}</dl>"
        f"{svg}</section>"
    )


def scorecard_html(scorecards: Any, *, lang: Lang = "zh", chart: bool = True) -> str:
    """A self-contained HTML page of one or more scorecards that prints on A4.

    Parameters
    ----------
    scorecards
        A Scorecard or a sequence of them; a batch gets a summary table first.
    lang
        ``"zh"`` (default) or ``"en"``.
    chart
        Include each community's coverage chart (inline SVG, text as paths).

    Returns
    -------
    str
        The HTML document (UTF-8, no external resources).
    """
    lang = _viz.check_lang(lang)
    cards = _as_list(scorecards)
    parts = []
    if len(cards) > 1:
        e = html.escape
        order = sorted(cards, key=lambda c: -float(c.total))
        rows = "".join(
            f"<tr><td class='num'>{k}</td><td>{e(str(c.community))}</td><td class='num'>{c.total:.2f}</td>"
            f"<td class='{'' if c.passed else 'bad'}'>{e(c.grade if lang == 'zh' else c.grade_en)}</td>"
            f"<td>{e('; '.join(map(str, c.reasons)))}</td></tr>"
            for k, c in enumerate(order, start=1)
        )
        heads = [t(lang, "排名", "Rank"), t(lang, "社区", "Community"), t(lang, "总分", "Total"),
                 t(lang, "等级", "Grade"), t(lang, "评定说明", "Reasons")]  # fmt: skip
        parts.append(
            f"<section class='page'><h1>{t(lang, '汇总', 'Summary')}</h1><table><thead><tr>"
            + "".join(f"<th>{h}</th>" for h in heads)
            + f"</tr></thead><tbody>{rows}</tbody></table></section>"
        )
    parts.extend(_card_html(c, lang, chart) for c in cards)
    title = t(lang, "一刻钟便民生活圈 验收考核评分表", "15-minute living circle scorecard")
    return (
        f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>{''.join(parts)}</body></html>"
    )


def write_html(scorecards: Any, path: str | Path, *, lang: Lang = "zh", chart: bool = True) -> Path:
    """Write :func:`scorecard_html` to a file (UTF-8), creating parent folders.

    Parameters
    ----------
    scorecards
        A Scorecard or a sequence of them.
    path
        Output ``.html`` file.
    lang
        ``"zh"`` (default) or ``"en"``.
    chart
        Include the coverage charts.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    out = _viz.output_path(path, (".html", ".htm"), example_suffix=".html")
    text = scorecard_html(scorecards, lang=lang, chart=chart)
    out.write_text(text, encoding="utf-8")
    log.info("wrote %s", out)
    return out
