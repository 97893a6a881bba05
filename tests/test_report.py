"""Annex 2 scorecard: Excel read back cell by cell, printable HTML, provenance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from quarter_hour import InputError, report
from tests import _outputs_data as D


@pytest.fixture(scope="module")
def cards() -> list[Any]:
    a = D.scorecard("学清路社区", checklist={"org_body": 2, "org_plan": 4})
    b = D.scorecard(
        "清华东路社区",
        checklist={"org_body": 2, "org_plan": 4, "org_layout_guide": 2, "smart_platform": 3},
    )
    return [a, b]


def test_table_follows_annex2(cards: list[Any]) -> None:
    tab = report.scorecard_table(cards[0])
    assert list(tab.columns[:4]) == ["评价类别", "评价指标", "分值", "得分"]
    assert list(tab.columns[4:]) == ["覆盖比例", "缺少该项的小区", "说明"]
    assert len(tab) == 32 + 3 + 1  # items, one subtotal per group, the total
    first = tab.iloc[0]
    assert first["评价类别"] == "组织保障"
    assert first["评价指标"] == "1.成立机构，专人负责创建工作"
    conv = tab.loc[tab["评价指标"] == "1.便利店"].iloc[0]
    assert (conv["分值"], conv["得分"], conv["覆盖比例"]) == (8.0, 8.0, 1.0)
    wet = tab.loc[tab["评价指标"] == "3.农贸市场/菜市场"].iloc[0]
    assert wet["得分"] == 0.0
    assert wet["缺少该项的小区"] == "A、B、C"
    total = tab.iloc[-1]
    assert total["评价类别"] == "总分"
    assert total["分值"] == 100.0
    assert total["得分"] == pytest.approx(cards[0].total)
    assert "不合格" in total["说明"]
    sub = tab.loc[tab["评价指标"] == "小计"]
    assert list(sub["分值"]) == [8.0, 67.0, 25.0]
    assert "需 62 分以上：未达到" in list(sub["说明"])
    na = tab.loc[tab["评价指标"].str.contains("智慧服务平台")].iloc[0]
    assert na["说明"] == "未评估，按 0 分计"


def test_english_headings(cards: list[Any]) -> None:
    tab = report.scorecard_table(cards[0], lang="en")
    assert list(tab.columns[:4]) == ["Category", "Indicator", "Weight", "Points"]
    assert tab.iloc[-1]["Category"] == "Total"


def test_provenance_states_how_numbers_were_obtained(cards: list[Any]) -> None:
    lines = dict(report.provenance_lines(cards[0]))
    assert "杭锦旗一刻钟便民生活圈建设验收考核标准" in lines["评价标准"]
    assert "15 分钟 × 80 米/分钟 = 1200 米" in lines["步行范围"]
    assert "按比例" in lines["覆盖规则"]
    assert "[share]" in lines["覆盖规则"]
    assert "2017-06-30" in lines["数据来源及日期"]
    assert "2024-05-01" in lines["数据来源及日期"]
    assert "智慧服务平台" in lines["未评估项目"]
    assert "按 0 分计" in lines["未评估项目"]
    assert "按户数加权" in lines["小区权重"]
    assert dict(report.provenance_lines(cards[1]))["未评估项目"] == "无"


def test_excel_read_back(cards: list[Any], tmp_path: Path) -> None:
    out = report.write_excel(cards, tmp_path / "out" / "cards.xlsx")
    wb = load_workbook(out)
    assert wb.sheetnames == ["汇总", "学清路社区", "清华东路社区"]
    summ = wb["汇总"]
    assert [c.value for c in summ[1]][:5] == ["排名", "社区", "总分", "等级", "是否合格"]
    # ranked by total: the second card (all checklist items) is first
    assert summ["B2"].value == "清华东路社区"
    assert summ["C2"].value == pytest.approx(round(cards[1].total, 2))
    assert summ["B3"].value == "学清路社区"

    ws = wb["学清路社区"]
    assert "学清路社区" in ws["A1"].value
    assert [ws.cell(3, c).value for c in range(1, 8)] == [
        "评价类别", "评价指标", "分值", "得分", "覆盖比例", "缺少该项的小区", "说明",
    ]  # fmt: skip
    rows = {ws.cell(r, 2).value: r for r in range(4, ws.max_row + 1) if ws.cell(r, 2).value}
    r = rows["1.便利店"]
    assert (ws.cell(r, 3).value, ws.cell(r, 4).value, ws.cell(r, 5).value) == (8, 8, 1)
    assert ws.cell(r, 5).number_format == "0%"
    r = rows["4.生鲜超市/菜店"]
    assert ws.cell(r, 4).value == pytest.approx(1.28)
    assert ws.cell(r, 6).value == "A、C"
    # the group label is merged over its items and subtotal, like Annex 2
    assert any(str(m).startswith("A4:A") for m in ws.merged_cells.ranges)
    assert ws["A4"].value == "组织保障"
    labels = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
    assert "总分" in labels
    assert "数据来源及日期" in labels
    assert "步行范围" in labels
    assert "未评估项目" in labels
    assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4 == "9"  # A4


def test_single_card_has_no_summary(cards: list[Any], tmp_path: Path) -> None:
    wb = load_workbook(report.write_excel(cards[0], tmp_path / "one.xlsx", lang="en"))
    assert wb.sheetnames == ["学清路社区"]
    assert wb["学清路社区"].cell(3, 1).value == "Category"


def test_html_prints_on_a4_and_is_self_contained(cards: list[Any], tmp_path: Path) -> None:
    out = report.write_html(cards, tmp_path / "cards.html")
    text = out.read_text(encoding="utf-8")
    assert "@page { size: A4 portrait" in text
    assert "break-after: page" in text
    assert text.count("<svg") == 2  # a coverage chart per community, inline
    assert "<script" not in text
    assert "<link" not in text
    assert "src=" not in text
    assert "url(http" not in text
    assert "评价类别" in text
    assert "汇总" in text
    assert "rowspan=" in text
    assert "未评估，按 0 分计" in text
    en = report.scorecard_html(cards[0], lang="en", chart=False)
    assert "<svg" not in en
    assert "Items not assessed" in en
    assert "Indicator" in en


def test_errors(cards: list[Any], tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"must end in \.xlsx"):
        report.write_excel(cards, tmp_path / "cards.xls")
    with pytest.raises(
        InputError, match=r"extension must be one of \[.\.htm., .\.html.\], e\.g\. .*cards\.html"
    ):
        report.write_html(cards, tmp_path / "cards.pdf")
    with pytest.raises(InputError, match="No scorecards given"):
        report.write_excel([], tmp_path / "none.xlsx")
    with pytest.raises(InputError, match="`lang` must be"):
        report.scorecard_table(cards[0], lang="de")  # type: ignore[arg-type]
