"""Scoring against the 杭锦旗 2023 rubric, on coverage tables built by hand.

Every expected number below is worked out by hand from the rubric weights (docs/CONTRACTS.md):
basic (基本保障类业态) 67 points, min 62; quality (品质提升类业态) 25 points incl. the 3-point smart
service platform, min 15; organisation (组织保障) 8 points; bands <80 / [80,85) / [85,90) / >=90.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quarter_hour import InputError, QuarterHourWarning
from quarter_hour.rubric import Rubric, load_rubric
from quarter_hour.scoring import Scorecard, read_checklist, score, score_many

RUBRIC = load_rubric()
CATEGORIES = list(RUBRIC.categories)  # the 28 spatial category ids
FULL_CHECKLIST = {"org_body": 2, "org_plan": 4, "org_layout_guide": 2, "smart_platform": 3}
NEAR_M, FAR_M = 300.0, 1500.0


def coverage_table(
    lacking: Mapping[str, Iterable[str]],
    *,
    nearest: Mapping[tuple[str, str], float] | None = None,
    limit_m: float | None = 1200.0,
) -> pd.DataFrame:
    """Coverage by hand: every compound reaches every category except those listed for it.

    Reached categories are 300 m away, missed ones 1500 m, unless ``nearest`` says otherwise.
    """
    rows = []
    for cid, missing in lacking.items():
        missing = set(missing)
        for cat in CATEGORIES:
            d = (nearest or {}).get((cid, cat), FAR_M if cat in missing else NEAR_M)
            rows.append(
                {
                    "compound_id": cid,
                    "category": cat,
                    "reachable": cat not in missing,
                    "nearest_m": d,
                    "nearest_poi_id": f"{cat}-1",
                    "nearest_poi_name": f"{cat} shop",
                    "nearest_gate_id": f"{cid}-g1",
                    "count": 0 if cat in missing else 1,
                }
            )
    df = pd.DataFrame(rows)
    if limit_m is not None:
        df.attrs["limit_m"] = limit_m
    return df


def item_row(card: Scorecard, item_id: str) -> pd.Series:
    return card.items.set_index("item_id").loc[item_id]


def group_points(card: Scorecard) -> dict[str, float]:
    return dict(zip(card.groups["group"], card.groups["points"], strict=True))


# ------------------------------------------------------------------------------------------------
# One compound
# ------------------------------------------------------------------------------------------------
def test_one_compound_everything_reached_full_checklist_is_100() -> None:
    card = score(coverage_table({"A": []}), checklist=FULL_CHECKLIST, community="全满社区")
    assert card.total == 100
    assert (card.grade, card.grade_en, card.passed) == ("优秀", "excellent", True)
    assert card.not_assessed == []
    assert group_points(card) == {"organisation": 8, "basic": 67, "quality": 25}
    assert card.community == "全满社区"


def test_one_compound_without_wet_market() -> None:
    # 100 - 8 (wet market) - 2 (org_layout_guide not assessed) = 90, in the 优秀 band, but
    # basic = 67 - 8 = 59 < 62: 不合格, 3 points short of the basic minimum.
    checklist = {
        "org_body": 2,
        "org_plan": {"points": 4, "evidence": "方案 2024-03"},
        "smart_platform": 3,
    }
    card = score(coverage_table({"A": ["wet_market"]}), checklist=checklist)
    assert card.total == 90
    assert group_points(card) == {"organisation": 6, "basic": 59, "quality": 25}
    assert card.grade == "不合格"
    assert card.passed is False
    assert RUBRIC.grade_for(card.total).name_zh == "优秀"  # the total alone would say 优秀
    assert any(
        "基本保障类业态" in r and "3 short of the required minimum 62" in r for r in card.reasons
    )
    assert any("良好" not in r and "优秀 [90, ∞)" in r and "不合格" in r for r in card.reasons)
    assert card.not_assessed == ["org_layout_guide"]
    assert any("not assessed" in r and "org_layout_guide" in r for r in card.reasons)
    wet = item_row(card, "wet_market")
    assert (wet["weight"], wet["share"], wet["points"]) == (8, 0.0, 0.0)
    assert wet["lacking"] == ["A"]
    assert wet["nearest_m"] == {"A": FAR_M}
    assert wet["nearest_poi"] == {"A": "wet_market shop (wet_market-1)"}
    layout = item_row(card, "org_layout_guide")
    assert (layout["assessed"], layout["points"], layout["note"]) == (False, 0.0, "not assessed")
    assert np.isnan(layout["share"])
    assert item_row(card, "org_plan")["note"] == "方案 2024-03"
    assert not card.groups.set_index("group").loc["basic", "meets_minimum"]


@pytest.mark.parametrize(
    ("lacking", "checklist", "total", "short"),
    [
        # pharmacy (6) missing: basic 61, total 100 - 6 = 94, basic 1 short of 62
        (
            ["pharmacy"],
            FULL_CHECKLIST,
            94,
            ("基本保障类业态", "1 short of the required minimum 62"),
        ),
        # no smart platform (3, not assessed) and bookstore 2 + sport 2 + specialty dining 3 + elderly 2
        # missing: quality 25 - 3 - 9 = 13, 2 short of 15; total 8 + 67 + 13 = 88
        (
            ["bookstore", "sport_fitness", "specialty_dining", "elderly_care"],
            {"org_body": 2, "org_plan": 4, "org_layout_guide": 2},
            88,
            ("品质提升类业态", "2 short of the required minimum 15"),
        ),
    ],
)
def test_missing_a_group_minimum_fails_whatever_the_total(
    lacking: list[str], checklist: dict[str, float], total: float, short: tuple[str, str]
) -> None:
    card = score(coverage_table({"A": lacking}), checklist=checklist)
    assert card.total == total
    assert card.total >= 85
    assert card.grade == "不合格"
    assert not card.passed
    assert any(short[0] in r and short[1] in r for r in card.reasons)


# ------------------------------------------------------------------------------------------------
# Boundaries: 79.99 / 80 / 85 / 90
# ------------------------------------------------------------------------------------------------
# One compound. Basic 62 = 67 - fresh_food 4 - repair 1. Quality 15 = 3 (smart platform) + 22 - 10
# (specialty dining 3, bookstore 2, sport 2, elderly care 2, bakery 1 missing).
BASIC_62 = ["fresh_food", "repair"]
QUALITY_15 = ["specialty_dining", "bookstore", "sport_fitness", "elderly_care", "bakery"]


@pytest.mark.parametrize(
    ("lacking", "checklist", "total", "grade", "passed"),
    [
        # 62 + 15 + org 1.99 + 1 = 79.99: 不合格 although both minimums are met exactly
        (
            BASIC_62 + QUALITY_15,
            {"org_body": 1.99, "org_plan": 1, "smart_platform": 3},
            79.99,
            "不合格",
            False,
        ),
        # 62 + 15 + 2 + 1 = 80
        (
            BASIC_62 + QUALITY_15,
            {"org_body": 2, "org_plan": 1, "smart_platform": 3},
            80,
            "合格",
            True,
        ),
        # 67 + 15 + 3 = 85
        (QUALITY_15, {"org_body": 2, "org_plan": 1, "smart_platform": 3}, 85, "良好", True),
        # 67 + 15 + 8 = 90
        (QUALITY_15, {**FULL_CHECKLIST}, 90, "优秀", True),
        # 67 + 15 + 2 + 4 + 2 - 0.01 = 89.99
        (QUALITY_15, {**FULL_CHECKLIST, "org_layout_guide": 1.99}, 89.99, "良好", True),
    ],
)
def test_boundary_totals(
    lacking: list[str], checklist: dict[str, float], total: float, grade: str, passed: bool
) -> None:
    card = score(coverage_table({"A": lacking}), checklist=checklist)
    assert card.total == pytest.approx(total, abs=1e-12)
    assert (card.grade, card.passed) == (grade, passed)
    assert card.groups["meets_minimum"].all()


def test_float_noise_does_not_drop_a_grade() -> None:
    # Three compounds, households unknown (each counts 1/3). fresh_food (4) reached by 2 of 3:
    # 8/3; bookstore (2) by 2 of 3: 4/3. Sport (2) and specialty dining (3) reached by none; smart
    # platform not assessed; organisation 8.
    # basic = 67 - 4 + 8/3 = 65 2/3; quality = 22 - 2 + 4/3 - 2 - 3 = 16 1/3; total = 8 + 82 = 90.
    # Summed naively in floats the items give 89.99999999999999 (良好); the card must say 优秀.
    lack = {"A": ["sport_fitness", "specialty_dining"], "B": ["sport_fitness", "specialty_dining"]}
    lack["C"] = ["fresh_food", "bookstore", "sport_fitness", "specialty_dining"]
    card = score(
        coverage_table(lack), checklist={"org_body": 2, "org_plan": 4, "org_layout_guide": 2}
    )
    naive = 0.0  # weight x share summed in rubric order (organisation first), no rounding
    for it in RUBRIC.items:
        row = item_row(card, it.id)
        naive += float(it.weight) * (0.0 if np.isnan(row["share"]) else float(row["share"]))
    assert naive == 89.99999999999999  # the trap is real
    assert card.total == 90
    assert (card.grade, card.passed) == ("优秀", True)
    assert group_points(card)["basic"] == pytest.approx(65 + 2 / 3, abs=1e-9)


# ------------------------------------------------------------------------------------------------
# Three compounds, household weights
# ------------------------------------------------------------------------------------------------
# Households: A 100, B 300, C 600 (1000 in all).
#   wet_market (8)         reached by A only   -> share 0.1 -> 0.8
#   community_service (10) reached by A, B     -> 0.4       -> 4.0
#   pharmacy (6)           reached by B, C     -> 0.9       -> 5.4
#   convenience_store (8)  reached by C only   -> 0.6       -> 4.8
#   supermarket (8)        reached by none     -> 0         -> 0
#   bakery (1, quality)    reached by C only   -> 0.6       -> 0.6
#   everything else by all three.
# basic = 67 - 7.2 - 6 - 0.6 - 3.2 - 8 = 42.0; quality = 25 - 0.4 = 24.6 (platform 3 given);
# organisation 8; total = 74.6 -> 不合格, basic 20 short of 62.
THREE = {
    "A": ["pharmacy", "convenience_store", "supermarket", "bakery"],
    "B": ["wet_market", "convenience_store", "supermarket", "bakery"],
    "C": ["wet_market", "community_service", "supermarket"],
}
HOUSEHOLDS = pd.DataFrame({"compound_id": ["A", "B", "C"], "households": [100.0, 300.0, 600.0]})


def test_three_compounds_household_weighted() -> None:
    card = score(
        coverage_table(THREE), compounds=HOUSEHOLDS, checklist=FULL_CHECKLIST, community="三小区"
    )
    expected = {
        "wet_market": (0.1, 0.8),
        "community_service": (0.4, 4.0),
        "pharmacy": (0.9, 5.4),
        "convenience_store": (0.6, 4.8),
        "supermarket": (0.0, 0.0),
        "bakery": (0.6, 0.6),
        "breakfast": (1.0, 4.0),
    }
    for item_id, (share, points) in expected.items():
        row = item_row(card, item_id)
        assert row["share"] == pytest.approx(share)
        assert row["points"] == pytest.approx(points)
    assert group_points(card) == pytest.approx({"organisation": 8, "basic": 42.0, "quality": 24.6})
    assert card.total == pytest.approx(74.6)
    assert card.grade == "不合格"
    assert any("20 short of the required minimum 62" in r for r in card.reasons)
    assert item_row(card, "wet_market")["lacking"] == ["B", "C"]
    assert item_row(card, "pharmacy")["lacking"] == ["A"]
    assert item_row(card, "wet_market")["nearest_m"] == {"A": NEAR_M, "B": FAR_M, "C": FAR_M}
    assert card.provenance["weighting"] == "households"
    assert card.provenance["households"] == 1000
    assert card.provenance["walk_limit_m"] == 1200
    assert "10.0% of households" in item_row(card, "wet_market")["note"]
    # unweighted would have given the wet market 8/3, not 0.8
    assert item_row(card, "wet_market")["points"] != pytest.approx(8 / 3)


def test_improvements_rank_points_at_stake() -> None:
    card = score(coverage_table(THREE), compounds=HOUSEHOLDS, checklist=FULL_CHECKLIST)
    imp = card.improvements()
    # at stake = weight - points: supermarket 8, wet 7.2, community service 6, convenience 3.2,
    # pharmacy 0.6, bakery 0.4
    assert imp["item_id"].tolist() == [
        "supermarket", "wet_market", "community_service", "convenience_store", "pharmacy", "bakery",
    ]  # fmt: skip
    assert imp["at_stake"].tolist() == pytest.approx([8, 7.2, 6, 3.2, 0.6, 0.4])
    assert imp.set_index("item_id").loc["supermarket", "lacking"] == ["A", "B", "C"]
    assert imp.set_index("item_id").loc["convenience_store", "n_lacking"] == 2
    # basic is 42, 20 short of its minimum: every basic row says so
    assert imp.set_index("item_id").loc["wet_market", "group_shortfall"] == pytest.approx(20)
    assert imp.set_index("item_id").loc["bakery", "group_shortfall"] == 0


def test_improvements_list_unassessed_checklist_items() -> None:
    card = score(coverage_table({"A": ["tourist_service"]}), checklist={"org_body": 1})
    imp = card.improvements()
    # org_plan 4, smart_platform 3, org_layout_guide 2, org_body 1, tourist_service 1 (rubric order on ties)
    assert imp["item_id"].tolist() == [
        "org_plan",
        "smart_platform",
        "org_layout_guide",
        "org_body",
        "tourist_service",
    ]
    assert imp["action"].iloc[0].startswith("assess it")


def test_partial_households_fall_back_to_equal_weights_and_warn() -> None:
    comp = HOUSEHOLDS.assign(households=[100.0, np.nan, 600.0])
    with pytest.warns(QuarterHourWarning, match=r"1 of 3 without households \(B\)") as rec:
        card = score(coverage_table(THREE), compounds=comp, checklist=FULL_CHECKLIST)
    assert rec[0].filename == __file__  # points at the caller's line
    # each compound counts 1/3: wet market 8/3, community service 20/3
    assert item_row(card, "wet_market")["points"] == pytest.approx(8 / 3)
    assert item_row(card, "community_service")["points"] == pytest.approx(20 / 3)
    assert card.provenance["weighting"] == "equal (households incomplete)"


def test_households_unknown_for_all_counts_compounds_equally() -> None:
    card = score(coverage_table(THREE), checklist=FULL_CHECKLIST)
    # shares 1/3 or 2/3: wet 8/3, cs 20/3, pharmacy 4, convenience 8/3, bakery 1/3
    # basic = 67 - 16/3 - 10/3 - 2 - 16/3 - 8 = 67 - 24 = 43
    assert group_points(card)["basic"] == pytest.approx(43)
    assert card.provenance["weighting"] == "equal (households unknown)"


def test_compounds_subset_of_coverage() -> None:
    cov = coverage_table({**THREE, "D": []})
    card = score(cov, compounds=HOUSEHOLDS.iloc[[2]])  # only C: lacks wet, cs, supermarket
    assert group_points(card)["basic"] == 67 - 8 - 10 - 8
    assert set(card.coverage["compound_id"]) == {"C"}


# ------------------------------------------------------------------------------------------------
# Coverage rules and multi-category items
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "basic", "quality"),
    [
        ("share", 42.0, 24.6),
        # any: only the supermarket (reached by none) is lost -> 59; quality 25
        ("any", 59.0, 25.0),
        # all: wet, community service, pharmacy, convenience, supermarket lost -> 67 - 40 = 27;
        # bakery lost -> 24
        ("all", 27.0, 24.0),
    ],
)
def test_coverage_rules(rule: str, basic: float, quality: float) -> None:
    rub = dataclasses.replace(RUBRIC, coverage_rule=rule)
    card = score(coverage_table(THREE), rub, compounds=HOUSEHOLDS, checklist=FULL_CHECKLIST)
    assert group_points(card) == pytest.approx(
        {"organisation": 8, "basic": basic, "quality": quality}
    )
    # the share reported is the household share whatever the rule
    assert item_row(card, "wet_market")["share"] == pytest.approx(0.1)
    assert card.provenance["coverage_rule"] == rule


def test_item_with_several_categories_counts_any_of_them() -> None:
    # supermarket item satisfied by a supermarket or a fresh-food shop
    sup = RUBRIC.item("supermarket")
    rub = RUBRIC.with_item(dataclasses.replace(sup, categories=("supermarket", "fresh_food")))
    lack = {"A": ["supermarket"], "B": ["supermarket", "fresh_food"]}
    cov = coverage_table(lack, nearest={("A", "fresh_food"): 450.0, ("A", "supermarket"): 1300.0})
    card = score(cov, rub, checklist=FULL_CHECKLIST)
    row = item_row(card, "supermarket")
    assert row["lacking"] == ["B"]
    assert row["points"] == pytest.approx(4.0)  # 8 x 1/2
    assert row["nearest_m"] == {"A": 450.0, "B": FAR_M}
    assert row["nearest_poi"]["A"] == "fresh_food shop (fresh_food-1)"


# ------------------------------------------------------------------------------------------------
# Checklists
# ------------------------------------------------------------------------------------------------
def test_checklist_files(tmp_path: Path) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text(
        'org_body = 2\n\n[org_plan]\npoints = 3.5\nevidence = "方案"\n', encoding="utf-8"
    )
    yml = tmp_path / "c.yaml"
    yml.write_text("org_body: 2\norg_plan:\n  points: 3.5\n  evidence: 方案\n", encoding="utf-8")
    js = tmp_path / "c.json"
    js.write_text(
        json.dumps({"org_body": 2, "org_plan": {"points": 3.5, "evidence": "方案"}}),
        encoding="utf-8",
    )
    expected = {"org_body": (2.0, ""), "org_plan": (3.5, "方案")}
    for p in (toml, yml, js):
        assert read_checklist(p) == expected
    card = score(coverage_table({"A": []}), checklist=toml)
    assert group_points(card)["organisation"] == 5.5
    assert card.not_assessed == ["org_layout_guide", "smart_platform"]


@pytest.mark.parametrize(
    ("checklist", "pattern"),
    [
        ({"org_plan": 5}, r"'org_plan' \(制定方案.*\) is given 5 points; it is worth 0 to 4"),
        ({"org_plan": -1}, r"is given -1 points"),
        ({"org_bdy": 1}, r"'org_bdy' is not an item.*Did you mean 'org_body'\?"),
        ({"wet_market": 8}, r"'wet_market' is a spatial item"),
        ({"org_body": "yes"}, r"points must be a number, got 'yes'"),
        ({"org_body": {"pts": 2}}, r"unknown keys \['pts'\]"),
    ],
)
def test_checklist_errors(checklist: dict[str, object], pattern: str) -> None:
    with pytest.raises(InputError, match=pattern):
        score(coverage_table({"A": []}), checklist=checklist)


def test_checklist_toml_error_names_line(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text("org_body = 2\n# comment\nsmart_platform = 4\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"checklist file .*c\.toml.*line 3, 'smart_platform' .* is given 4 points"
    ):
        read_checklist(p)


# ------------------------------------------------------------------------------------------------
# Bad coverage
# ------------------------------------------------------------------------------------------------
def test_coverage_errors() -> None:
    cov = coverage_table({"A": []})
    with pytest.raises(InputError, match=r"lacks column\(s\) \['reachable'\]"):
        score(cov.drop(columns="reachable"))
    with pytest.raises(
        InputError, match=r"lacks rows for 1 \(compound, category\) pairs.*\['bakery'\]"
    ):
        score(cov.loc[cov["category"] != "bakery"])
    with pytest.raises(InputError, match=r"repeated \(compound_id, category\)"):
        score(pd.concat([cov, cov.iloc[:1]]))
    with pytest.raises(InputError, match=r"computed for a 800 m walk.*walks 1200 m"):
        score(coverage_table({"A": []}, limit_m=800.0))
    with pytest.raises(InputError, match=r"no rows in `coverage`, e.g. \['Z'\]"):
        score(cov, compounds=pd.DataFrame({"compound_id": ["A", "Z"]}))


def test_multi_limit_coverage_uses_the_rubric_limit() -> None:
    near = coverage_table({"A": []}).assign(limit_m=1200.0)
    short = coverage_table({"A": ["wet_market"]}).assign(limit_m=800.0)
    cov = pd.concat([short, near], ignore_index=True)
    cov.attrs["limit_m"] = 1200.0
    card = score(cov, checklist=FULL_CHECKLIST)
    assert card.total == 100
    card10 = score(cov, RUBRIC.with_walk(minutes=10), checklist=FULL_CHECKLIST)
    assert card10.total == 92
    with pytest.raises(InputError, match=r"holds walk limits \['800', '1200'\] m"):
        score(cov, RUBRIC.with_walk(minutes=5))


# ------------------------------------------------------------------------------------------------
# Output forms
# ------------------------------------------------------------------------------------------------
def test_scorecard_outputs() -> None:
    card = score(
        coverage_table(THREE), compounds=HOUSEHOLDS, checklist={"org_body": 2}, community="三小区"
    )
    text = repr(card)
    assert "三小区" in text
    assert "不合格" in text
    assert "NOT PASSED" in text
    assert "lacking: B, C" in text
    page = card._repr_html_()
    assert page.startswith("<table")
    assert "农贸市场/菜市场" in page
    assert "未评估" in page
    d = card.to_dict()
    json.dumps(d, ensure_ascii=False)
    assert d["grade"] == "不合格"
    assert d["not_assessed"] == ["org_plan", "org_layout_guide", "smart_platform"]
    assert len(d["items"]) == 32
    assert d["items"][2]["share"] is None  # org_layout_guide not assessed -> NaN -> None
    frame = card.to_frame()
    assert (frame["community"] == "三小区").all()
    assert len(frame) == 32
    assert list(card.items.columns[:11]) == [
        "group", "item_id", "name_zh", "name_en", "kind", "weight", "share", "points", "assessed",
        "lacking", "nearest_m",
    ]  # fmt: skip
    assert card.items["item_id"].tolist() == list(RUBRIC.item_ids)


# ------------------------------------------------------------------------------------------------
# Batch
# ------------------------------------------------------------------------------------------------
def test_score_many_equals_scoring_each_alone() -> None:
    cov = coverage_table({**THREE, "D": ["wet_market"], "E": [], "F": ["bakery", "pharmacy"]})
    compounds = pd.DataFrame(
        {
            "compound_id": ["A", "B", "C", "D", "E", "F"],
            "households": [100.0, 300.0, 600.0, 50.0, np.nan, 80.0],
            "community": ["X", "X", "X", "Y", "Y", "Z"],
        }
    )
    checklists = {"X": FULL_CHECKLIST, "Z": {"org_body": 2, "smart_platform": 1.5}}
    with pytest.warns(QuarterHourWarning, match=r"Y: 1 of 2 without households \(E\)"):
        table = score_many(cov, compounds, RUBRIC, checklists=checklists)
    assert table.index.tolist() == ["X", "Y", "Z"]
    assert table.loc["X", "total"] == pytest.approx(74.6)  # the hand-worked case above
    for name, members in compounds.groupby("community"):
        if name == "Y":
            with pytest.warns(QuarterHourWarning):
                card = score(cov, RUBRIC, compounds=members, checklist=checklists.get(str(name)))
        else:
            card = score(cov, RUBRIC, compounds=members, checklist=checklists.get(str(name)))
        row = table.loc[name]
        assert card.community == name
        for it in RUBRIC.items:
            assert row[f"{it.id}_points"] == item_row(card, it.id)["points"]
        for g in card.groups.itertuples():
            assert row[f"{g.group}_points"] == g.points
            assert row[f"{g.group}_meets_min"] == g.meets_minimum
        assert (row["total"], row["grade"], row["passed"]) == (card.total, card.grade, card.passed)
        assert row["not_assessed"] == ",".join(card.not_assessed)
        assert row["reasons"] == "; ".join(card.reasons)
        assert row["n_compounds"] == len(members)
    # Y (D, E counted once each since E has no households): wet market 8 x 1/2 = 4 -> basic 63,
    # quality 22 (no platform), no organisation -> 85, 良好. Z: basic 67 - 6 = 61, quality
    # 22 - 1 + 1.5 = 22.5, organisation 2 -> 85.5 but 不合格 (basic 1 short).
    assert table.loc["Y", ["basic_points", "quality_points", "total", "grade"]].tolist() == [
        63,
        22,
        85,
        "良好",
    ]
    assert table.loc["Z", ["basic_points", "quality_points", "total", "grade"]].tolist() == [
        61,
        22.5,
        85.5,
        "不合格",
    ]
    assert table.sort_values("total", ascending=False).index.tolist() == ["Z", "Y", "X"]
    assert table.loc[table["passed"]].index.tolist() == ["Y"]


def test_score_many_rejects_unknown_checklist_community() -> None:
    cov = coverage_table({"A": []})
    comp = pd.DataFrame({"compound_id": ["A"], "community": ["东区"]})
    with pytest.raises(InputError, match=r"not in `compounds\['community'\]`: \['东"):
        score_many(cov, comp, checklists={"东 区": FULL_CHECKLIST})
    with pytest.raises(InputError, match=r"no 'district' column"):
        score_many(cov, comp, community_col="district")


def test_rubric_argument_forms(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    RUBRIC.with_weight("wet_market", 6).to_toml(path)
    card = score(coverage_table({"A": ["wet_market"]}), path, checklist=FULL_CHECKLIST)
    assert card.total == 92
    assert card.rubric.total_points == 98
    assert isinstance(card.rubric, Rubric)
    assert score(coverage_table({"A": []}), "hangjin_2023").rubric is RUBRIC


# ------------------------------------------------------------------------------------------------
# End to end on a hand-drawn street graph (network + reach + scoring)
# ------------------------------------------------------------------------------------------------
def test_end_to_end_on_a_tiny_graph() -> None:
    """Streets (EPSG:32650, metres from X0, Y0)::

                      (1000,500)
                          |
        A-1 ---wet----- (1000,0) -----B-2------------- pharmacy--B-1
        (0,0)  (100,0)    |  others at (1000,-5)        (1900,0)  (2000,0)
                          supermarket at (1190,15)
        B-2 gate at (1400,40), 40 m off the street.

    A (400 households): gate A-1. B (100 households): gates B-1 and B-2.
    wet market:  A 100 m; B via B-2 1300 + 40 = 1340 m       -> A only, share 0.8, 6.4 points
    pharmacy:    A 1900 m; B via B-1 100 m                    -> B only, share 0.2, 1.2 points
    supermarket: A 1190 + 15 = 1205 m (5 m too far); B via B-2 210 + 15 + 40 = 265 m
                                                              -> B only, share 0.2, 1.6 points
    everything else at (1000,-5): A 1005 m, B 400 + 5 + 40 = 445 m -> both.
    basic = 67 - 1.6 - 4.8 - 6.4 = 54.2; total = 8 + 54.2 + 25 = 87.2 -> 不合格 (7.8 short).
    """
    gpd = pytest.importorskip("geopandas")
    shapely = pytest.importorskip("shapely")
    network = pytest.importorskip("quarter_hour.network")
    reach = pytest.importorskip("quarter_hour.reach")
    x0, y0 = 500_000.0, 4_400_000.0

    def pt(x: float, y: float) -> object:
        return shapely.Point(x0 + x, y0 + y)

    def line(*xy: tuple[float, float]) -> object:
        return shapely.LineString([(x0 + x, y0 + y) for x, y in xy])

    streets = gpd.GeoDataFrame(
        {"highway": ["residential"] * 3},
        geometry=[
            line((0, 0), (1000, 0)),
            line((1000, 0), (2000, 0)),
            line((1000, 0), (1000, 500)),
        ],
        crs="EPSG:32650",
    )
    net = network.from_lines(streets)
    gates = gpd.GeoDataFrame(
        {
            "gate_id": ["A-1", "B-1", "B-2"],
            "compound_id": ["A", "B", "B"],
            "households": [400.0, 100.0, 100.0],
        },
        geometry=[pt(0, 0), pt(2000, 0), pt(1400, 40)],
        crs="EPSG:32650",
    ).set_index("gate_id", drop=False)
    special = {"wet_market": (100, 0), "pharmacy": (1900, 0), "supermarket": (1190, 15)}
    cats = list(RUBRIC.categories)
    pois = gpd.GeoDataFrame(
        {"poi_id": [f"p_{c}" for c in cats], "name": [f"{c} 店" for c in cats], "category": cats},
        geometry=[pt(*special.get(c, (1000, -5))) for c in cats],
        crs="EPSG:32650",
    )
    cov = reach.coverage(
        net, gates, pois, limit_m=RUBRIC.walk.limit_m, categories=cats, search_m=3000
    )
    compounds = pd.DataFrame({"compound_id": ["A", "B"], "households": [400.0, 100.0]})
    card = score(cov, compounds=compounds, checklist=FULL_CHECKLIST, community="手绘社区")

    assert item_row(card, "wet_market")["nearest_m"] == pytest.approx({"A": 100, "B": 1340})
    assert item_row(card, "supermarket")["nearest_m"] == pytest.approx({"A": 1205, "B": 265})
    assert item_row(card, "pharmacy")["nearest_m"] == pytest.approx({"A": 1900, "B": 100})
    assert item_row(card, "bakery")["nearest_m"] == pytest.approx({"A": 1005, "B": 445})
    assert [item_row(card, i)["lacking"] for i in ("wet_market", "pharmacy", "supermarket")] == [
        ["B"],
        ["A"],
        ["A"],
    ]
    assert [
        item_row(card, i)["points"] for i in ("wet_market", "pharmacy", "supermarket")
    ] == pytest.approx([6.4, 1.2, 1.6])
    assert group_points(card) == pytest.approx({"organisation": 8, "basic": 54.2, "quality": 25})
    assert card.total == pytest.approx(87.2)
    assert (card.grade, card.passed) == ("不合格", False)
    assert any("7.8 short of the required minimum 62" in r for r in card.reasons)
    assert item_row(card, "wet_market")["nearest_poi"]["A"] == "wet_market 店 (p_wet_market)"
    assert card.provenance["coverage_limit_m"] == 1200
