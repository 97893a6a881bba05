"""Tests of the taxonomy: raw records → rubric categories."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from quarter_hour import InputError, InputFileError, QuarterHourWarning
from quarter_hour.taxonomy import (
    BASIC_CATEGORIES,
    CATEGORY_IDS,
    Taxonomy,
    classify,
    load_taxonomy,
    unclassified,
    unclassified_report,
)

REPO = Path(__file__).resolve().parents[1]


def cats(pois: pd.DataFrame, name: str) -> set[str]:
    return set(pois.loc[pois["name"] == name, "category"])


def rule(pois: pd.DataFrame, name: str, category: str) -> str:
    return str(pois.loc[(pois["name"] == name) & (pois["category"] == category), "rule"].iloc[0])


# ----------------------------------------------------------------------------- shipped file
def test_shipped_file_covers_the_28_contract_categories() -> None:
    contracts = (REPO / "docs" / "CONTRACTS.md").read_text(encoding="utf-8")
    table_ids = re.findall(r"^\| ([a-z_]+) \| [^|]+ \| \d+ \|$", contracts, flags=re.M)
    assert len(table_ids) == 28
    tax = load_taxonomy()
    assert set(tax.ids) == set(table_ids) == set(CATEGORY_IDS)
    assert len(BASIC_CATEGORIES) == 14
    for c in tax.categories:
        assert c.name_zh
        assert c.name_en
        assert c.group == ("basic" if c.id in BASIC_CATEGORIES else "quality")
        assert c.osm or c.amap_type or c.names, c.id
    assert tax is load_taxonomy()  # cached


def test_smart_platform_is_not_spatial() -> None:
    assert "smart_platform" not in load_taxonomy().ids


# ----------------------------------------------------------------------------- OSM tags
def test_osm_tag_columns_as_pyrosm_and_osmnx_give_them() -> None:
    recs = pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6, 7, 8],
            "name": ["全家", "老百姓大药房", "屈臣氏", "菜场", "快递柜", "Cafe X", "幼儿园", "A"],
            "shop": ["convenience", None, "chemist", None, None, None, None, "bakery;florist"],
            "amenity": [
                None,
                "pharmacy",
                None,
                "marketplace",
                "parcel_locker",
                "cafe",
                "kindergarten",
                None,
            ],
        }
    )
    pois = classify(recs)  # auto -> osm
    assert cats(pois, "全家") == {"convenience_store"}
    assert rule(pois, "全家", "convenience_store") == "osm:shop=convenience"
    assert cats(pois, "老百姓大药房") == {"pharmacy"}
    assert cats(pois, "屈臣氏") == set()  # shop=chemist is a drugstore, not a pharmacy
    assert cats(pois, "菜场") == {"wet_market"}
    assert rule(pois, "菜场", "wet_market") == "osm:amenity=marketplace"
    assert cats(pois, "快递柜") == {"post_express", "smart_locker"}
    assert cats(pois, "Cafe X") == {"tea_coffee_bar"}
    assert cats(pois, "幼儿园") == {"childcare"}
    assert cats(pois, "A") == {"bakery", "florist_gift"}  # ";" value lists
    assert set(pois["poi_id"]) == {"1", "2", "4", "5", "6", "7", "8"}


def test_osm_tags_json_and_conjunctions() -> None:
    recs = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "name": ["托老所", "孤儿院", "修鞋"],
            "amenity": ["social_facility", "social_facility", None],
            "tags": [
                json.dumps({"social_facility:for": "senior"}),
                json.dumps({"social_facility:for": "orphan"}),
                json.dumps({"craft": "shoemaker"}),
            ],
        }
    )
    pois = classify(recs, source="osm")
    assert rule(pois, "托老所", "elderly_care") == (
        "osm:amenity=social_facility&social_facility:for=senior"
    )
    assert cats(pois, "孤儿院") == set()
    assert rule(pois, "修鞋", "repair") == "osm:craft=shoemaker"


def test_osmnx_multiindex_gives_poi_ids_and_geometry_is_kept() -> None:
    idx = pd.MultiIndex.from_tuples([("node", 11), ("way", 22)], names=["element", "id"])
    recs = gpd.GeoDataFrame(
        {"name": ["7-11", "超市"], "shop": ["convenience", "supermarket"]},
        geometry=[Point(116.3, 40.0), Point(116.31, 40.0)],
        index=idx,
        crs=4326,
    )
    pois = classify(recs)
    assert isinstance(pois, gpd.GeoDataFrame)
    assert list(pois.columns) == ["poi_id", "name", "category", "address", "rule", "geometry"]
    assert list(pois["poi_id"]) == ["node/11", "way/22"]
    assert pois.crs == recs.crs
    assert pois.geometry.iloc[1].equals(Point(116.31, 40.0))


# ----------------------------------------------------------------------------- Amap codes/types
def test_amap_type_text_prefixes_and_multi_types() -> None:
    recs = pd.DataFrame(
        {
            "name": ["某某店", "某药房", "某某美发", "某驿站", "某烘焙"],
            "type": [
                "购物服务;便民商店/便利店;便民商店/便利店",
                "医疗保健服务;医药保健销售店;药房|购物服务;便民商店/便利店;便民商店/便利店",
                "生活服务;美容美发店;美容美发店",
                "生活服务;物流速递;物流速递",
                "餐饮服务;糕饼店;糕饼店|餐饮服务;咖啡厅;咖啡厅",
            ],
        }
    )
    pois = classify(recs, source="amap")
    assert rule(pois, "某某店", "convenience_store") == "amap_type:购物服务;便民商店/便利店"
    # a pharmacy that Amap also types as a convenience store is a pharmacy only
    assert cats(pois, "某药房") == {"pharmacy"}
    assert cats(pois, "某某美发") == {"hair_beauty"}
    assert cats(pois, "某驿站") == {"post_express"}
    assert cats(pois, "某烘焙") == {"bakery", "tea_coffee_bar"}


def test_amap_typecode_prefixes() -> None:
    recs = pd.DataFrame(
        {
            "name": ["甲", "乙", "丙", "丁"],
            "typecode": ["060200", "090601", "141204|050500", "990000"],
        }
    )
    pois = classify(recs, source="amap")
    assert rule(pois, "甲", "convenience_store") == "amap_typecode:0602"
    assert rule(pois, "乙", "pharmacy") == "amap_typecode:090601"
    assert cats(pois, "丙") == {"childcare", "tea_coffee_bar"}
    assert cats(pois, "丁") == set()


# ----------------------------------------------------------------------------- names
@pytest.mark.parametrize(
    ("name", "typ", "expected"),
    [
        ("张记早餐店", "餐饮服务;快餐厅;快餐厅", {"breakfast"}),
        ("甘其食(清泰街店)", "购物服务;购物相关场所;购物相关场所", {"breakfast"}),
        ("菜鸟驿站(望江家园)", "生活服务;生活服务场所;生活服务场所", {"post_express"}),
        ("惠帮家政", "生活服务;生活服务场所;生活服务场所", {"housekeeping"}),
        ("废品回收站", "生活服务;生活服务场所;生活服务场所", {"recycling"}),
        (
            "紫金社区居委会",
            "政府机构及社会团体;政府机关;乡镇以下级政府及事业单位",
            {"community_service"},
        ),
        ("老王配钥匙修鞋", "生活服务;生活服务场所;生活服务场所", {"repair"}),
        ("洁丰干洗", "生活服务;生活服务场所;生活服务场所", {"laundry_tailor"}),
        ("东旭文印社", "生活服务;生活服务场所;生活服务场所", {"photo_print"}),
        ("清真牛羊肉店", "生活服务;生活服务场所;生活服务场所", {"fresh_food"}),
        ("棚桥农贸市场", "购物服务;综合市场;农副产品市场", {"wet_market"}),
    ],
)
def test_name_keywords(name: str, typ: str, expected: set[str]) -> None:
    pois = classify(pd.DataFrame({"name": [name], "type": [typ]}), source="amap")
    assert set(pois["category"]) == expected
    assert pois["rule"].str.startswith(("name:", "amap_type:")).all()


def test_name_rule_label_names_the_keyword() -> None:
    pois = classify(pd.DataFrame({"name": ["李明早餐"], "type": ["餐饮服务;快餐厅;快餐厅"]}))
    assert rule(pois, "李明早餐", "breakfast") == "name:早餐"


@pytest.mark.parametrize(
    ("name", "typ", "not_expected"),
    [
        ("早餐银行", "金融保险服务;银行;银行", "breakfast"),  # 早餐 in a bank name
        ("永华汽车维修部", "汽车维修;汽车维修;汽车维修", "repair"),  # car repair is a car service
        ("老钱家酸菜鱼馆", "餐饮服务;中餐厅;中餐厅", "fresh_food"),  # 菜 in a restaurant
        ("牌楼菜", "餐饮服务;中餐厅;浙江菜", "wet_market"),
        ("名烟名酒回收", "生活服务;生活服务场所;生活服务场所", "recycling"),
        ("龙极纹身", "生活服务;美容美发店;美容美发店", "hair_beauty"),
        ("中波婚纱摄影", "生活服务;摄影冲印店;摄影冲印", "photo_print"),
        ("杭州聚鑫物流有限公司", "生活服务;物流速递;物流速递", "post_express"),
        ("清河坊社区(南一门)", "商务住宅;住宅区;住宅小区", "community_service"),
        ("停车场(定安路社区卫生服务站南)", "交通设施服务;停车场;路边停车场", "health_station"),
    ],
)
def test_exclusions_veto(name: str, typ: str, not_expected: str) -> None:
    pois = classify(pd.DataFrame({"name": [name], "type": [typ]}), source="amap")
    assert not_expected not in set(pois["category"])


def test_chaoshi_in_convenience_type_and_chains_typed_supermarket() -> None:
    recs = pd.DataFrame(
        {
            "name": ["旺福超市", "好邻居便利店", "可的(延安店)", "联华超市(定安路)"],
            "type": ["购物服务;便民商店/便利店;便民商店/便利店"] + ["购物服务;超级市场;超市"] * 3,
        }
    )
    pois = classify(recs)
    assert cats(pois, "旺福超市") == {"convenience_store"}
    assert cats(pois, "好邻居便利店") == {"convenience_store"}
    assert rule(pois, "可的(延安店)", "convenience_store") == "name:可的"
    assert cats(pois, "联华超市(定安路)") == {"supermarket"}


def test_trailing_landmark_is_not_matched() -> None:
    recs = pd.DataFrame(
        {
            "name": ["沃尔玛(望江街道兴隆社区卫生服务站东南)", "老郑盐蘸牛肉(紫花店)"],
            "type": ["购物服务;超级市场;沃尔玛", "餐饮服务;中餐厅;中餐厅"],
        }
    )
    pois = classify(recs)
    assert cats(pois, "沃尔玛(望江街道兴隆社区卫生服务站东南)") == {"supermarket"}
    assert cats(pois, "老郑盐蘸牛肉(紫花店)") == {"specialty_dining"}


# ----------------------------------------------------------------------------- multi-category
def test_one_record_several_categories() -> None:
    recs = pd.DataFrame(
        {
            "poi_id": ["a", "b"],
            "name": ["世纪联华超市(菜鸟驿站)", "丰巢智能柜"],
            "type": ["购物服务;超级市场;超市", "生活服务;生活服务场所;生活服务场所"],
        }
    )
    pois = classify(recs)
    assert cats(pois, "世纪联华超市(菜鸟驿站)") == {"supermarket", "post_express"}
    assert cats(pois, "丰巢智能柜") == {"post_express", "smart_locker"}
    assert rule(pois, "丰巢智能柜", "smart_locker") == "name:丰巢"
    assert list(pois["poi_id"]) == ["a", "a", "b", "b"]  # same id in each category


def test_code_rules_take_precedence_over_names() -> None:
    pois = classify(
        pd.DataFrame({"name": ["便利店"], "type": ["购物服务;便民商店/便利店;便民商店/便利店"]})
    )
    assert rule(pois, "便利店", "convenience_store").startswith("amap_type:")


# ----------------------------------------------------------------------------- input handling
def test_names_only_input_warns_and_missing_name_raises() -> None:
    with pytest.warns(QuarterHourWarning, match="name keywords only"):
        pois = classify(pd.DataFrame({"name": ["李明早餐"]}))
    assert set(pois["category"]) == {"breakfast"}
    with pytest.raises(InputError, match="no 'name' column"):
        classify(pd.DataFrame({"title": ["x"]}), source="amap")
    with pytest.raises(InputError, match="Unknown `source`"):
        classify(pd.DataFrame({"name": ["x"]}), source="baidu")  # type: ignore[arg-type]


def test_unclassified_and_report() -> None:
    recs = pd.DataFrame(
        {
            "name": ["便利店甲", "某公司", "另一公司", "某路口"],
            "type": [
                "购物服务;便民商店/便利店;便民商店/便利店",
                "公司企业;公司;公司",
                "公司企业;公司;公司",
                "地名地址信息;交通地名;路口名",
            ],
        }
    )
    left = unclassified(recs)
    assert list(left["name"]) == ["某公司", "另一公司", "某路口"]
    rep = unclassified_report(recs)
    assert rep.iloc[0].to_dict() == {
        "type": "公司企业;公司;公司",
        "count": 2,
        "examples": ["某公司", "另一公司"],
    }
    osm = pd.DataFrame({"name": ["x", "y"], "shop": ["car", None], "amenity": [None, "bench"]})
    assert set(unclassified_report(osm)["type"]) == {"shop=car", "amenity=bench"}


# ----------------------------------------------------------------------------- user files
MINIMAL = """
name = "mine"
[categories.convenience_store]
name_zh = "便利店"
name_en = "Convenience store"
group = "basic"
osm = ["shop=convenience"]
[[categories.convenience_store.names]]
keywords = ["小卖部"]
"""


def test_user_file_is_loaded_and_used(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    tax = Taxonomy.from_toml(path)
    assert tax.ids == ("convenience_store",)
    assert tax.name == "mine"
    assert tax.path == path
    pois = classify(
        pd.DataFrame({"name": ["老王小卖部", "好邻居便利店"], "type": ["", ""]}),
        source="amap",
        taxonomy=tax,
    )
    assert list(pois["name"]) == ["老王小卖部"]
    assert tax["convenience_store"].name_zh == "便利店"
    with pytest.raises(KeyError, match="Unknown category 'pharmacy'"):
        tax["pharmacy"]


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda s: "colour = 1\n" + s, r"unknown key\(s\) 'colour' in top level"),
        (
            lambda s: s.replace('group = "basic"', 'group = "core"'),
            r"categories.convenience_store.group",
        ),
        (
            lambda s: s.replace('osm = ["shop=convenience"]', 'osm = ["shop"]'),
            r"`categories.convenience_store.osm` rule 'shop'",
        ),
        (
            lambda s: s.replace('osm = ["shop=convenience"]', 'amap_typecode = ["602"]'),
            r"amap_typecode` entry '602'",
        ),
        (
            lambda s: s.replace('keywords = ["小卖部"]', 'keyword = ["小卖部"]'),
            r"unknown key\(s\) 'keyword'",
        ),
        (
            lambda s: s.replace('keywords = ["小卖部"]', 'keywords = ["小卖部"]\nalso = ["nope"]'),
            r"unknown category 'nope'",
        ),
        (
            lambda s: s.replace('name_zh = "便利店"\n', ""),
            r"`categories.convenience_store.name_zh` is missing",
        ),
        (
            lambda s: s.replace('osm = ["shop=convenience"]', 'osm = "shop=convenience"'),
            r"`categories.convenience_store.osm` must be a list",
        ),
        (
            lambda s: s.replace(
                "[categories.convenience_store]", "[categories.Convenience]"
            ).replace("categories.convenience_store.names", "categories.Convenience.names"),
            r"category id 'Convenience'",
        ),
        (lambda s: s.replace('name = "mine"', 'name = "mine'), r"is not valid TOML"),
        (lambda s: 'name = "x"\n', r"has no `\[categories.<id>\]` tables"),
    ],
)
def test_user_file_errors_name_the_key(tmp_path: Path, edit, match: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.toml"
    path.write_text(edit(MINIMAL), encoding="utf-8")
    with pytest.raises(InputError, match=match) as info:
        Taxonomy.from_toml(path)
    assert "bad.toml" in str(info.value)


def test_missing_file_and_unknown_category_id(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="Cannot read taxonomy file"):
        Taxonomy.from_toml(tmp_path / "absent.toml")
    path = tmp_path / "extra.toml"
    path.write_text(MINIMAL.replace("convenience_store", "grocery"), encoding="utf-8")
    with pytest.warns(QuarterHourWarning, match="not among the 28 rubric categories: grocery"):
        Taxonomy.from_toml(path)


# ----------------------------------------------------------------------------- real data
def _quality_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "taxonomy_quality", REPO / "scripts" / "taxonomy_quality.py"
    )
    assert spec
    assert spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["taxonomy_quality"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.shared_data
def test_quality_on_labelled_amap_sample(amap_tsv: Path) -> None:
    q = _quality_module()
    labels = q.read_labels()
    assert len(labels) >= 400
    assert labels["line"].is_unique
    assert set(labels.columns) == {"line", "stratum", "labels", "note"}
    assert set().union(*labels["labels"]) <= set(CATEGORY_IDS)
    drawn = q.draw_sample(q.read_amap_tsv(amap_tsv))  # the labels are the seeded sample
    assert list(drawn["line"]) == list(labels["line"])
    assert list(drawn["stratum"]) == list(labels["stratum"])
    table, micro, _ = q.quality(amap_tsv)
    assert micro["precision"] >= 0.95, table
    assert micro["recall"] >= 0.90, table
    _, holdout, _ = q.quality(amap_tsv, strata=("holdout",))
    assert holdout["precision"] >= 0.95
    assert holdout["recall"] >= 0.90
