"""Measure the taxonomy against hand labels of the Hangzhou Amap sample (and draw that sample).

The labels (``labels/amap_labels.csv``) hold only line numbers of the Amap file, the stratum and
the label(s); the Amap file itself stays in ``../shared/data`` and is never copied.

Usage::

    python scripts/taxonomy_quality.py [TSV]            # precision / recall per category
    python scripts/taxonomy_quality.py [TSV] --draw     # print the seeded sample's line numbers
    python scripts/taxonomy_quality.py [TSV] --draw-holdout2   # only the second holdout's lines

The sample is seeded strata drawn from the file's 22,437 records:

* ``uniform``: ``N_UNIFORM`` records drawn uniformly at random from all lines;
* ``related``: ``N_RELATED`` records drawn uniformly from the lines (not already drawn) whose
  Amap middle type or name plausibly relates to a basic-need category (``_related_mask``).
  This filter is deliberately broad and independent of the taxonomy's rules.
* ``rare``: ``N_RARE`` records drawn from the remaining lines whose type or name relates to the
  rarer basic-need categories (``_RARE_MID``, ``_RARE_WORDS``), so that each gets some positives.
* ``holdout``: ``N_HOLDOUT`` records drawn from the remaining lines of either pool, labelled
  only after the taxonomy rules had been written against the first three strata, and never used
  to change them: its figures are the honest estimate (the first three strata were in view while
  the rules were written, so their figures are optimistic).
* ``holdout2_uniform`` and ``holdout2_related``: a second, blind holdout drawn with its own seed
  (``SEED_HOLDOUT2``) from the lines not in the four strata above: ``N_HOLDOUT2_UNIFORM`` records
  uniformly at random, then ``N_HOLDOUT2_RELATED`` from the remaining lines of the ``related``
  filter (``_related_mask``). It was labelled by reading the records, before the classifier was
  run on them, after the rules had been fixed against the first holdout; no rule was changed
  after it was scored. The first holdout had been used to fix the rules, so holdout2 is now the
  honest estimate (``holdout2_uniform`` alone estimates the figures over the whole file).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TSV = REPO.parent / "shared" / "data" / "amap" / "hangzhou_shangcheng_poi_2017.tsv"
LABELS = REPO / "labels" / "amap_labels.csv"
SEED = 20240604
N_UNIFORM = 250
N_RELATED = 250
N_RARE = 100
N_HOLDOUT = 150
SEED_HOLDOUT2 = 20250611
N_HOLDOUT2_UNIFORM = 100
N_HOLDOUT2_RELATED = 100
COLUMNS = ["name", "address", "tel", "type", "wgs84", "gcj02", "bd09"]

_RELATED_MID = (
    "便民商店/便利店",
    "超级市场",
    "综合市场",
    "购物相关场所",
    "生活服务场所",
    "美容美发店",
    "维修站点",
    "洗衣店",
    "摄影冲印店",
    "医药保健销售店",
    "物流速递",
    "邮局",
    "乡镇以下级政府及事业单位",
    "快餐厅",
    "糕饼店",
    "餐饮相关场所",
    "诊所",
)
_RELATED_WORDS = (
    "便利",
    "超市",
    "菜",
    "生鲜",
    "水果",
    "果品",
    "肉",
    "水产",
    "早餐",
    "早点",
    "包子",
    "豆浆",
    "油条",
    "维修",
    "修理",
    "钥匙",
    "修鞋",
    "开锁",
    "干洗",
    "洗衣",
    "裁缝",
    "改衣",
    "美发",
    "理发",
    "美容",
    "打印",
    "复印",
    "图文",
    "照相",
    "摄影",
    "药",
    "家政",
    "保洁",
    "月嫂",
    "保姆",
    "快递",
    "驿站",
    "速递",
    "邮政",
    "回收",
    "废品",
    "社区",
    "居委",
    "服务中心",
)
# Third stratum: the rarer basic-need categories (markets, repair, laundry, post, housekeeping,
# recycling, community service, supermarkets, breakfast), which the first two strata hit rarely.
_RARE_MID = (
    "综合市场",
    "超级市场",
    "维修站点",
    "洗衣店",
    "物流速递",
    "邮局",
    "乡镇以下级政府及事业单位",
)
_RARE_WORDS = (
    "市场",
    "菜场",
    "超市",
    "维修",
    "修理",
    "钥匙",
    "修鞋",
    "开锁",
    "洗衣",
    "干洗",
    "裁缝",
    "快递",
    "驿站",
    "邮政",
    "家政",
    "保洁",
    "回收",
    "废品",
    "社区",
    "居委",
    "早餐",
    "包子",
    "豆浆",
    "馒头",
)


def read_amap_tsv(path: str | Path) -> pd.DataFrame:
    """Read the Amap TSV (no header, TAB, leading spaces) with a 1-based ``line`` column."""
    df = pd.read_csv(
        path,
        sep="\t",
        header=None,
        names=COLUMNS,
        dtype=str,
        keep_default_na=False,
        quoting=3,
        encoding="utf-8",
    )
    for col in COLUMNS:
        df[col] = df[col].str.strip()
    df.insert(0, "line", np.arange(1, len(df) + 1))
    return df


def _mask(df: pd.DataFrame, mids: tuple[str, ...], words: tuple[str, ...]) -> pd.Series:
    mid = df["type"].str.split("|").str[0].str.split(";").str[1].fillna("")
    return mid.isin(mids) | df["name"].str.contains("|".join(words), regex=True)


def _related_mask(df: pd.DataFrame) -> pd.Series:
    """Records whose Amap middle type or name plausibly relates to a basic-need category."""
    return _mask(df, _RELATED_MID, _RELATED_WORDS)


def draw_sample(
    df: pd.DataFrame, *, seed: int = SEED, holdout2: bool = True, seed_holdout2: int = SEED_HOLDOUT2
) -> pd.DataFrame:
    """Return ``line`` and ``stratum`` of the seeded, stratified sample (uniform first).

    The four original strata come first, then (unless ``holdout2=False``) the second holdout
    drawn by :func:`draw_holdout2` from the lines they did not take.
    """
    rng = np.random.default_rng(seed)
    uniform = rng.choice(df["line"].to_numpy(), size=N_UNIFORM, replace=False)
    pool = df.loc[_related_mask(df) & ~df["line"].isin(uniform), "line"]
    related = rng.choice(pool.to_numpy(), size=N_RELATED, replace=False)
    taken = np.concatenate([uniform, related])
    pool = df.loc[_mask(df, _RARE_MID, _RARE_WORDS) & ~df["line"].isin(taken), "line"]
    rare = rng.choice(pool.to_numpy(), size=N_RARE, replace=False)
    taken = np.concatenate([taken, rare])
    pool = df.loc[
        (_related_mask(df) | _mask(df, _RARE_MID, _RARE_WORDS)) & ~df["line"].isin(taken),
        "line",
    ]
    holdout = rng.choice(pool.to_numpy(), size=N_HOLDOUT, replace=False)
    parts = {"uniform": uniform, "related": related, "rare": rare, "holdout": holdout}
    sample = _strata_frame(parts)
    if holdout2:
        sample = pd.concat(
            [sample, draw_holdout2(df, sample["line"], seed=seed_holdout2)], ignore_index=True
        )
    return sample


def draw_holdout2(
    df: pd.DataFrame, taken: pd.Series | np.ndarray, *, seed: int = SEED_HOLDOUT2
) -> pd.DataFrame:
    """Return ``line`` and ``stratum`` of the second holdout, drawn from lines not in ``taken``.

    ``holdout2_uniform``: ``N_HOLDOUT2_UNIFORM`` lines uniformly at random from the lines not
    taken; ``holdout2_related``: ``N_HOLDOUT2_RELATED`` lines uniformly from the remaining lines
    of the ``related`` filter (``_related_mask``).
    """
    rng = np.random.default_rng(seed)
    free = ~df["line"].isin(np.asarray(taken))
    uniform = rng.choice(df.loc[free, "line"].to_numpy(), size=N_HOLDOUT2_UNIFORM, replace=False)
    pool = df.loc[free & _related_mask(df) & ~df["line"].isin(uniform), "line"]
    related = rng.choice(pool.to_numpy(), size=N_HOLDOUT2_RELATED, replace=False)
    return _strata_frame({"holdout2_uniform": uniform, "holdout2_related": related})


def _strata_frame(parts: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "line": np.concatenate([np.sort(v) for v in parts.values()]),
            "stratum": np.repeat(list(parts), [len(v) for v in parts.values()]),
        }
    )


def read_labels(path: str | Path = LABELS) -> pd.DataFrame:
    """Read the hand labels: ``line``, ``stratum``, ``labels`` (";"-separated ids), ``note``."""
    lab = pd.read_csv(path, dtype={"labels": str, "note": str}, keep_default_na=False)
    lab["labels"] = lab["labels"].map(lambda s: frozenset(x for x in s.split(";") if x))
    return lab


def quality(
    tsv: str | Path = DEFAULT_TSV, labels: str | Path = LABELS, *, strata: tuple[str, ...] = ()
) -> tuple[pd.DataFrame, dict[str, float], pd.DataFrame]:
    """Precision and recall of :func:`quarter_hour.taxonomy.classify` against the labels.

    Returns the per-category table (``tp``, ``fp``, ``fn``, ``precision``, ``recall``,
    ``n_labelled``), the micro-averaged figures over the 14 basic-need categories, and the
    per-record comparison (``line``, ``stratum``, ``labels``, ``predicted``).
    """
    from quarter_hour.taxonomy import BASIC_CATEGORIES, CATEGORY_IDS, classify

    df = read_amap_tsv(tsv)
    lab = read_labels(labels)
    if strata:
        lab = lab[lab["stratum"].isin(strata)]
    recs = df.set_index("line").loc[lab["line"], ["name", "address", "type"]]
    recs["poi_id"] = recs.index.astype(str)
    pois = classify(recs.reset_index(drop=True), source="amap")
    pred = pois.groupby("poi_id")["category"].agg(frozenset)
    lab = lab.assign(predicted=[pred.get(str(line), frozenset()) for line in lab["line"]])
    rows = []
    for cat in CATEGORY_IDS:
        truth = lab["labels"].map(lambda s, c=cat: c in s)
        guess = lab["predicted"].map(lambda s, c=cat: c in s)
        tp = int((truth & guess).sum())
        fp = int((~truth & guess).sum())
        fn = int((truth & ~guess).sum())
        rows.append(
            {
                "category": cat,
                "basic": cat in BASIC_CATEGORIES,
                "n_labelled": int(truth.sum()),
                "tp": tp,
                "fp": fp,
                "fn": fn,
                "precision": tp / (tp + fp) if tp + fp else float("nan"),
                "recall": tp / (tp + fn) if tp + fn else float("nan"),
            }
        )
    table = pd.DataFrame(rows)
    basic = table[table["basic"]]
    tp, fp, fn = basic["tp"].sum(), basic["fp"].sum(), basic["fn"].sum()
    micro = {
        "precision": float(tp / (tp + fp)) if tp + fp else float("nan"),
        "recall": float(tp / (tp + fn)) if tp + fn else float("nan"),
        "tp": int(tp),
        "fp": int(fp),
        "fn": int(fn),
        "n_records": len(lab),
    }
    return table, micro, lab


HOLDOUT2 = ("holdout2_uniform", "holdout2_related")


def _print_report(tsv: str | Path, *, verbose: bool) -> None:
    for strata, title in (
        ((), "all strata"),
        (("uniform",), "uniform stratum only"),
        (("holdout",), "holdout stratum only"),
        (HOLDOUT2, "holdout2 strata (blind; the honest estimate)"),
        (("holdout2_uniform",), "holdout2_uniform stratum only"),
        (("holdout2_related",), "holdout2_related stratum only"),
    ):
        table, micro, lab = quality(tsv, strata=strata)
        print(f"== {title}: {micro['n_records']} labelled records")
        if not micro["n_records"]:
            print()
            continue
        if not strata or strata == HOLDOUT2:
            with pd.option_context("display.width", 120, "display.max_rows", 40):
                print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
        print(
            f"micro-average over the 14 basic-need categories: precision "
            f"{micro['precision']:.3f}, recall {micro['recall']:.3f} "
            f"(tp {micro['tp']}, fp {micro['fp']}, fn {micro['fn']})\n"
        )
        if verbose and (not strata or strata == HOLDOUT2):
            bad = lab[lab["labels"] != lab["predicted"]]
            for r in bad.itertuples():
                print(
                    f"  line {r.line:>5} [{r.stratum}] labels={sorted(r.labels)} "
                    f"predicted={sorted(r.predicted)}"
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tsv", nargs="?", default=str(DEFAULT_TSV))
    parser.add_argument("--draw", action="store_true", help="print the sample's line numbers")
    parser.add_argument(
        "--draw-holdout2",
        action="store_true",
        help="print only the second holdout's line numbers (drawn from lines not labelled before)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="list the line numbers where labels and classifier disagree",
    )
    args = parser.parse_args(argv)
    if not Path(args.tsv).is_file():
        parser.error(f"{args.tsv} not found (the Amap file lives in ../shared/data/amap/)")
    if args.draw:
        draw_sample(read_amap_tsv(args.tsv)).to_csv(sys.stdout, index=False)
        return 0
    if args.draw_holdout2:
        sample = draw_sample(read_amap_tsv(args.tsv))
        sample[sample["stratum"].isin(HOLDOUT2)].to_csv(sys.stdout, index=False)
        return 0
    _print_report(args.tsv, verbose=args.verbose)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
