"""The rubric file format, the shipped 杭锦旗 2023 rubric, and derivation in a notebook."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from quarter_hour import RubricError
from quarter_hour.rubric import (
    GradeBand,
    Item,
    Rubric,
    available_rubrics,
    load_rubric,
)

REPO = Path(__file__).resolve().parents[1]
SEED = REPO.parent / "shared" / "seed" / "000_04ab157c24912206.txt"
SHIPPED = REPO / "src" / "quarter_hour" / "data" / "rubrics" / "hangjin_2023.toml"

# Typed by hand from docs/CONTRACTS.md (and Annex 2): spatial item id -> weight.
BASIC = {
    "convenience_store": 8, "supermarket": 8, "wet_market": 8, "fresh_food": 4, "breakfast": 4,
    "repair": 1, "laundry_tailor": 1, "hair_beauty": 6, "photo_print": 1, "pharmacy": 6,
    "housekeeping": 4, "post_express": 4, "recycling": 2, "community_service": 10,
}  # fmt: skip
QUALITY = {
    "bookstore": 2, "sport_fitness": 2, "specialty_dining": 3, "elderly_care": 2, "childcare": 2,
    "health_station": 2, "education_training": 2, "leisure_entertainment": 1,
    "tourist_service": 1, "florist_gift": 1, "bakery": 1, "tea_coffee_bar": 1, "pet_service": 1,
    "smart_locker": 1,
}  # fmt: skip
CHECKLIST = {"org_body": 2, "org_plan": 4, "org_layout_guide": 2, "smart_platform": 3}


@pytest.fixture(scope="module")
def rubric() -> Rubric:
    return load_rubric("hangjin_2023")


# ------------------------------------------------------------------------------------------------
# The shipped rubric against the seed
# ------------------------------------------------------------------------------------------------
def _seed_annex2() -> dict[str, object]:
    """Parse Annex 2 of the seed: items (number, name, weight) in order, group maxima and minimums."""
    text = SEED.read_text(encoding="utf-8")
    annex = text[text.index("附件2\n") :]
    lines = annex.splitlines()
    items: list[tuple[int, str, int]] = []
    for k, line in enumerate(lines):
        m = re.match(r"^\t(\d+)\.\s*(.+?)\s*$", line)
        if not m:
            continue
        nxt = next((x for x in lines[k + 1 :] if x.strip()), "")
        w = re.match(r"^\t(\d+)\s*$", nxt)
        if w:  # an item row: "\t3.农贸市场/菜市场" followed by "\t8"
            items.append((int(m.group(1)), re.sub(r"\s+", "", m.group(2)), int(w.group(1))))
    groups: list[list[tuple[int, str, int]]] = []
    for it in items:
        if it[0] == 1:
            groups.append([])
        groups[-1].append(it)
    org_max = int(re.search(r"组织保障。\s*分值(\d+)分", annex).group(1))  # type: ignore[union-attr]
    basic = re.search(r"基本保障类业态。\s*分值(\d+)分。需(\d+)分以上", annex)
    quality = re.search(r"品质提升类业态。\s*分值(\d+)分。需(\d+)分以上", annex)
    total = int(re.search(r"总分\s*\n\t(\d+)", annex).group(1))  # type: ignore[union-attr]
    assert basic
    assert quality
    return {
        "groups": groups,
        "org_max": org_max,
        "basic": (int(basic.group(1)), int(basic.group(2))),
        "quality": (int(quality.group(1)), int(quality.group(2))),
        "total": total,
        "fail_below": int(re.search(r"(\d+)分以下为不合格", annex).group(1)),  # type: ignore[union-attr]
        "pass_from": int(re.search(r"(\d+)（含\d+）－\d+\s*分为合格", annex).group(1)),  # type: ignore[union-attr]
        "good_from": int(re.search(r"(\d+)（含\d+）－\d+\s*分为良好", annex).group(1)),  # type: ignore[union-attr]
        "excellent_from": int(re.search(r"(\d+)（含\d+）分以上为优秀", annex).group(1)),  # type: ignore[union-attr]
        "walk": re.search(r"步行\s*(\d+)\s*分钟约([\d.]+)千米", annex),
    }


@pytest.mark.skipif(not SEED.is_file(), reason=f"seed text not found at {SEED}")
def test_shipped_rubric_matches_seed_text(rubric: Rubric) -> None:
    seed = _seed_annex2()
    groups = seed["groups"]
    assert isinstance(groups, list)
    assert [len(g) for g in groups] == [3, 14, 15]
    for gid, seed_items in zip(["organisation", "basic", "quality"], groups, strict=True):
        ours = rubric.items_in(gid)
        # names exactly as in the seed (the seed's layout spaces removed), weights, order
        assert [(re.sub(r"\s+", "", i.name_zh), int(i.weight)) for i in ours] == [
            (name, w) for _, name, w in seed_items
        ]
        assert rubric.group(gid).max_points == sum(w for _, _, w in seed_items)
    assert rubric.group("organisation").max_points == seed["org_max"]
    assert (rubric.group("basic").max_points, rubric.group("basic").min_points) == seed["basic"]
    assert (rubric.group("quality").max_points, rubric.group("quality").min_points) == seed[
        "quality"
    ]
    assert rubric.total_points == seed["total"]
    bands = rubric.grade_bands
    assert bands[0].to_points == seed["fail_below"]
    assert [b.from_points for b in bands[1:]] == [
        seed["pass_from"],
        seed["good_from"],
        seed["excellent_from"],
    ]
    walk = seed["walk"]
    assert isinstance(walk, re.Match)
    assert rubric.walk.minutes == int(walk.group(1))
    assert rubric.walk.limit_m == float(walk.group(2)) * 1000


def test_shipped_rubric_numbers_offline(rubric: Rubric) -> None:
    assert available_rubrics() == ["hangjin_2023"]
    assert rubric.name == "hangjin_2023"
    assert "杭政办发〔2023〕142号" in rubric.source
    assert "附件2" in rubric.source
    assert [g.id for g in rubric.groups] == ["organisation", "basic", "quality"]
    assert [len(rubric.items_in(g)) for g in ("organisation", "basic", "quality")] == [3, 14, 15]
    assert [(g.max_points, g.min_points) for g in rubric.groups] == [(8, 0), (67, 62), (25, 15)]
    assert rubric.total_points == 100
    assert {i.id: i.weight for i in rubric.items_in("basic")} == BASIC
    quality = {i.id: i.weight for i in rubric.items_in("quality")}
    assert quality == {**QUALITY, "smart_platform": 3}
    assert {i.id: i.weight for i in rubric.checklist_items} == CHECKLIST
    assert all(i.categories == (i.id,) for i in rubric.spatial_items)
    assert len(rubric.categories) == 28
    assert set(rubric.categories) == set(BASIC) | set(QUALITY)
    assert rubric.item("smart_platform").kind == "checklist"
    assert rubric.item("smart_platform").group == "quality"
    assert [(b.name_zh, b.from_points, b.to_points, b.passing) for b in rubric.grade_bands] == [
        ("不合格", 0, 80, False), ("合格", 80, 85, True), ("良好", 85, 90, True), ("优秀", 90, None, True),
    ]  # fmt: skip
    assert (rubric.walk.minutes, rubric.walk.speed_m_per_min, rubric.walk.limit_m) == (15, 80, 1200)
    assert rubric.coverage_rule == "share"
    assert rubric.item("supermarket").name_zh == "综合超市（社区商业中心）"


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        (0, "不合格"), (79.99, "不合格"), (79.9999999, "不合格"), (80, "合格"),
        (79.99999999999999, "合格"),  # float noise of an exact 80 rounds to 80
        (84.99, "合格"), (85, "良好"), (89.999, "良好"), (90, "优秀"), (100, "优秀"),
    ],
)  # fmt: skip
def test_grade_bands_at_boundaries(rubric: Rubric, total: float, grade: str) -> None:
    assert rubric.grade_for(total).name_zh == grade


# ------------------------------------------------------------------------------------------------
# File errors name the key and the line
# ------------------------------------------------------------------------------------------------
MINI = """\
[rubric]
name = "mini"
coverage_rule = "share"

[walk]
minutes = 15
speed_m_per_min = 80

[[groups]]
id = "basic"
name_zh = "基本"
max_points = 10
min_points = 6

[[items]]
id = "pharmacy"
group = "basic"
name_zh = "药店"
weight = 6
categories = ["pharmacy"]

[[items]]
id = "bakery"
group = "basic"
name_zh = "蛋糕烘焙店"
weight = 4
categories = ["bakery"]

[[grade_bands]]
name_zh = "不合格"
from_points = 0
to_points = 6
passing = false

[[grade_bands]]
name_zh = "合格"
from_points = 6
passing = true
"""


def _edit(line_no: int, new: str) -> str:
    """MINI with line ``line_no`` (1-based) replaced, keeping every other line where it is."""
    lines = MINI.splitlines()
    lines[line_no - 1] = new
    return "\n".join(lines) + "\n"


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "rubric.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_mini_rubric_loads(tmp_path: Path) -> None:
    r = Rubric.from_toml(_write(tmp_path, MINI))
    assert r.total_points == 10
    assert r.item_ids == ("pharmacy", "bakery")
    assert r.grade_for(6).name_zh == "合格"
    assert load_rubric(str(tmp_path / "rubric.toml")) == r


def test_missing_weight_names_item_and_line(tmp_path: Path) -> None:
    # line 26 "weight = 4" of the second [[items]] (header on line 22) removed
    p = _write(tmp_path, _edit(26, "# weight forgotten"))
    with pytest.raises(
        RubricError, match=r"line 22, `items\[1\]\.weight` \(item 'bakery'\): `weight` is missing"
    ):
        Rubric.from_toml(p)


def test_weights_not_summing_to_group_max(tmp_path: Path) -> None:
    # pharmacy 5 + bakery 4 = 9, but the group declares max_points = 10 on line 12
    p = _write(tmp_path, _edit(19, "weight = 5"))
    with pytest.raises(
        RubricError, match=r"line 12, `groups\[0\]\.max_points`.*sum to 9, not its max_points 10"
    ):
        Rubric.from_toml(p)


def test_unknown_category_id(tmp_path: Path) -> None:
    p = _write(tmp_path, _edit(27, 'categories = ["bakkery"]'))
    with pytest.raises(
        RubricError,
        match=r"line 27, `items\[1\]\.categories`.*unknown category id 'bakkery'. Did you mean 'bakery'\?",
    ):
        Rubric.from_toml(p)


def test_bad_coverage_rule_and_unknown_key_reported_together(tmp_path: Path) -> None:
    text = _edit(3, 'coverage_rule = "most"')
    text = text.replace('name_zh = "药店"', 'name_zh = "药店"\ncolour = "red"')  # new line 19
    with pytest.raises(RubricError, match=r"2 problems") as err:
        Rubric.from_toml(_write(tmp_path, text))
    msg = str(err.value)
    assert "line 19, `items[0].colour` (item 'pharmacy'): unknown key 'colour'" in msg
    assert (
        "line 3, `rubric.coverage_rule`: unknown coverage rule 'most'; use one of ['share', 'any', 'all']"
        in msg
    )
    assert str(tmp_path / "rubric.toml") in msg


@pytest.mark.parametrize(
    ("line_no", "new", "pattern"),
    [
        (32, "to_points = 5", r"line 37, `grade_bands\[1\]\.from_points`.*leave a gap"),
        (32, "to_points = 7", r"line 37, `grade_bands\[1\]\.from_points`.*overlap"),
        (
            31,
            "from_points = 1",
            r"line 31, `grade_bands\[0\]\.from_points`: the first band must start at 0",
        ),
        (
            13,
            "min_points = 11",
            r"line 13, `groups\[0\]\.min_points`.*between 0 and its max_points 10",
        ),
        (
            17,
            'group = "basc"',
            r"line 17, `items\[0\]\.group`.*unknown group 'basc'. Did you mean 'basic'\?",
        ),
        (23, 'id = "pharmacy"', r"line 23, `items\[1\]\.id`.*duplicate item id 'pharmacy'"),
        (6, "minutes = -15", r"line 6, `walk\.minutes`.*positive"),
        (
            19,
            'weight = "six"',
            r"line 19, `items\[0\]\.weight`.*must be a finite number, got 'six'",
        ),
    ],
)
def test_file_errors(tmp_path: Path, line_no: int, new: str, pattern: str) -> None:
    with pytest.raises(RubricError, match=pattern):
        Rubric.from_toml(_write(tmp_path, _edit(line_no, new)))


def test_toml_syntax_error_names_file(tmp_path: Path) -> None:
    p = _write(tmp_path, _edit(19, "weight = = 6"))
    with pytest.raises(RubricError, match=r"rubric\.toml is not valid TOML.*line 19"):
        Rubric.from_toml(p)


def test_shipped_file_edited_weight_reports_group_line(tmp_path: Path) -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    lines = text.splitlines()
    wet = lines.index('id = "wet_market"')
    w = next(k for k in range(wet, wet + 8) if lines[k].startswith("weight"))
    lines[w] = "weight = 7"
    basic_max = next(
        k
        for k in range(lines.index('id = "basic"'), len(lines))
        if lines[k].startswith("max_points")
    )
    p = _write(tmp_path, "\n".join(lines))
    with pytest.raises(
        RubricError,
        match=rf"line {basic_max + 1}, `groups\[1\]\.max_points`.*sum to 66, not its max_points 67",
    ) as err:
        Rubric.from_toml(p)
    assert "`total_points`" not in str(err.value)  # the groups still sum to 100


def test_unknown_rubric_name_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(
        RubricError, match=r"Unknown rubric 'hangjin_2024'. Did you mean 'hangjin_2023'\?"
    ):
        load_rubric("hangjin_2024")
    with pytest.raises(RubricError, match="Cannot read rubric file"):
        load_rubric(tmp_path / "nope.toml")


# ------------------------------------------------------------------------------------------------
# Deriving rubrics in a notebook
# ------------------------------------------------------------------------------------------------
def test_with_weight_adjusts_group_and_total(rubric: Rubric) -> None:
    r = rubric.with_weight("wet_market", 6)
    assert r.item("wet_market").weight == 6
    assert r.group("basic").max_points == 65
    assert r.group("basic").min_points == 62
    assert r.total_points == 98
    assert "wet_market weight 6" in r.name
    assert rubric.item("wet_market").weight == 8  # the original is untouched


def test_with_item_and_without_item(rubric: Rubric) -> None:
    extra = Item(
        "kindergarten_test", "quality", "幼儿园", "Kindergarten", 2, "spatial", ("childcare",)
    )
    r = rubric.with_item(extra, after="childcare")
    assert r.item_ids[r.item_ids.index("childcare") + 1] == "kindergarten_test"
    assert r.group("quality").max_points == 27
    assert r.total_points == 102
    r2 = r.without_item("kindergarten_test")
    assert r2.total_points == 100
    assert r2.items == rubric.items
    # replacing an item of the same id changes the group max by the difference
    r3 = rubric.with_item(
        dataclasses.replace(
            rubric.item("supermarket"), categories=("supermarket", "fresh_food"), weight=10
        )
    )
    assert r3.group("basic").max_points == 69
    assert r3.item("supermarket").categories == ("supermarket", "fresh_food")


def test_spatial_item_categories_default_to_its_id() -> None:
    assert Item("bakery", "g", "蛋糕烘焙店", "Bakery", 1).categories == ("bakery",)
    assert Item("x", "g", "x", "x", 1, kind="checklist").categories == ()


def test_replace_validates(rubric: Rubric) -> None:
    assert dataclasses.replace(rubric, coverage_rule="any").coverage_rule == "any"
    with pytest.raises(RubricError, match=r"`rubric\.coverage_rule`: unknown coverage rule 'most'"):
        dataclasses.replace(rubric, coverage_rule="most")
    bad_bands = (
        GradeBand("不合格", "fail", 0, 80, passing=False),
        GradeBand("合格", "pass", 79, None),
    )
    with pytest.raises(RubricError, match=r"overlap"):
        dataclasses.replace(rubric, grade_bands=bad_bands)
    with pytest.raises(RubricError, match=r"unknown category id 'grocery'"):
        rubric.with_item(Item("grocery", "basic", "杂货", "Grocery", 1))
    with pytest.raises(KeyError, match=r"No item 'wetmarket'.*Did you mean 'wet_market'\?"):
        rubric.with_weight("wetmarket", 6)


def test_with_walk(rubric: Rubric) -> None:
    r = rubric.with_walk(minutes=10)
    assert r.walk.limit_m == 800
    assert rubric.walk.limit_m == 1200


def test_to_toml_round_trips(rubric: Rubric, tmp_path: Path) -> None:
    derived = rubric.with_weight("pharmacy", 5)
    text = derived.to_toml(tmp_path / "derived.toml")
    again = Rubric.from_toml(tmp_path / "derived.toml")
    assert again == derived
    assert "weight = 5" in text


def test_summary_mentions_groups(rubric: Rubric) -> None:
    s = rubric.summary()
    assert "基本保障类业态" in s
    assert "at least 62" in s
    assert "1200 m" in s
