"""Score communities against an acceptance rubric: coverage x rubric x checklist -> Scorecard.

The interpretation (DESIGN.md, configurable through the rubric file):

* A spatial item's points are ``weight x share``, where ``share`` is the share of the community's
  compounds that reach at least one facility of the item's categories within the walk limit from
  any of their gates (``coverage.reachable``). Compounds are weighted by ``households`` when it is
  known for *every* compound of the community; when it is known for none, every compound counts
  once; when it is known for only some, the community falls back to counting compounds once each
  and a :class:`~quarter_hour.QuarterHourWarning` names the compounds without households (mixing
  a guessed number with real ones would hide the gap).
* Rubric ``coverage_rule``: ``"share"`` (above), ``"any"`` (full weight when one compound reaches
  it), ``"all"`` (full weight only when every compound does). ``share`` is reported in all cases.
* Checklist items (organisation, smart service platform) come from a checklist; absent ones are
  *not assessed*: 0 points, listed in ``Scorecard.not_assessed`` and the reasons, never a silent 0.
* Pass requires the total in a passing band (>= 80) **and** every group minimum (62 basic, 15
  quality); a community missing a minimum gets the fail grade (不合格) whatever its total.
* Points are rounded to 1e-9 before summing and comparing, so 79.99999999999999 (float noise from
  household shares) grades as 80 while 79.99 stays 不合格.
"""

from __future__ import annotations

import html
import json
import logging
import math
import tomllib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._errors import InputError, InputFileError, QuarterHourWarning
from ._tomlfile import KeyLocator, _did_you_mean, _fmt
from .rubric import GradeBand, Rubric, load_rubric

__all__ = ["Scorecard", "read_checklist", "score", "score_many", "to_jsonable"]

log = logging.getLogger(__name__)

_NDIGITS = 9
ChecklistLike = Mapping[str, Any] | str | Path


def _r(x: float) -> float:
    """Round points to 1e-9 (exact-enough for sums and band comparisons)."""
    return round(float(x), _NDIGITS) + 0.0


# --------------------------------------------------------------------------------------------------
# Checklists
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Entry:
    points: float
    evidence: str


def read_checklist(
    checklist: ChecklistLike | None, rubric: Rubric | str | None = None
) -> dict[str, tuple[float, str]]:
    """Read and validate a checklist of non-spatial items.

    Parameters
    ----------
    checklist
        A mapping ``{item_id: points}`` or ``{item_id: {"points": x, "evidence": "..."}}``, or the
        path of a TOML, YAML or JSON file holding that mapping. None means nothing assessed.
    rubric
        The rubric (default: the shipped 杭锦旗 2023 rubric) whose checklist items are allowed.

    Returns
    -------
    dict
        ``{item_id: (points, evidence)}`` for the assessed items only.

    Raises
    ------
    InputError
        Unknown or spatial item ids, non-numeric, negative or more-than-weight points, unknown keys
        (naming the item, the file and, for TOML, the line).
    """
    rub = _as_rubric(rubric)
    if checklist is None:
        return {}
    origin = "`checklist`"
    locator: KeyLocator | None = None
    if isinstance(checklist, str | Path):
        path = Path(checklist)
        origin = f"checklist file {str(path)!r}"
        data, locator = _load_checklist_file(path)
    elif isinstance(checklist, Mapping):
        data = dict(checklist)
    else:
        msg = f"`checklist` must be a mapping or a file path, got {type(checklist).__name__}."
        raise InputError(msg)

    problems: list[str] = []

    def where(*path: str) -> str:
        ln = locator.line(path) if locator is not None else None
        return f"line {ln}, " if ln is not None else ""

    checklist_ids = [i.id for i in rub.checklist_items]
    out: dict[str, tuple[float, str]] = {}
    for key, value in data.items():
        item_id = str(key)
        if item_id not in rub.item_ids:
            problems.append(
                f"{where(item_id)}{item_id!r} is not an item of rubric {rub.name!r}.{_did_you_mean(item_id, checklist_ids)} "
                f"Checklist items: {checklist_ids}."
            )
            continue
        item = rub.item(item_id)
        if item.kind != "checklist":
            problems.append(
                f"{where(item_id)}{item_id!r} is a spatial item, scored from walking coverage, not from the "
                f"checklist; remove it. Checklist items: {checklist_ids}."
            )
            continue
        if value is None:
            continue
        evidence = ""
        if isinstance(value, Mapping):
            extra = sorted(set(value) - {"points", "evidence"})
            if extra:
                problems.append(
                    f"{where(item_id)}{item_id!r} has unknown keys {extra}; allowed: 'points', 'evidence'."
                )
            if "points" not in value:
                problems.append(
                    f"{where(item_id)}{item_id!r} has no `points`; give e.g. {{points = {_fmt(item.weight)}}}."
                )
                continue
            evidence = value.get("evidence") or ""
            if not isinstance(evidence, str):
                problems.append(
                    f"{where(item_id, 'evidence')}{item_id!r}: `evidence` must be text, got {evidence!r}."
                )
                evidence = str(evidence)
            value = value["points"]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float | np.integer | np.floating)
            or not math.isfinite(value)
        ):
            problems.append(f"{where(item_id)}{item_id!r}: points must be a number, got {value!r}.")
            continue
        pts = float(value)
        if pts < 0 or _r(pts) > _r(item.weight):
            problems.append(
                f"{where(item_id)}{item_id!r} ({item.name_zh}) is given {_fmt(pts)} points; it is worth "
                f"0 to {_fmt(item.weight)}."
            )
            continue
        out[item_id] = (pts, evidence)
    if problems:
        msg = f"Invalid {origin}: " + "; ".join(problems)
        raise InputError(msg)
    return out


def _load_checklist_file(path: Path) -> tuple[dict[str, Any], KeyLocator | None]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        msg = f"Cannot read checklist file {str(path)!r}: {exc}."
        raise InputFileError(msg) from exc
    suffix = path.suffix.lower()
    locator: KeyLocator | None = None
    try:
        if suffix == ".toml":
            data: Any = tomllib.loads(text)
            locator = KeyLocator(text)
        elif suffix == ".json":
            data = json.loads(text)
        elif suffix in {".yaml", ".yml"}:
            try:
                import yaml
            except ImportError:  # pragma: no cover - pyyaml is a dask dependency
                msg = (
                    "Reading a YAML checklist needs PyYAML: pip install pyyaml (or use TOML/JSON)."
                )
                raise ImportError(msg) from None
            data = yaml.safe_load(text)
        else:
            msg = f"Checklist file {str(path)!r} must end in .toml, .yaml, .yml or .json, not {suffix!r}."
            raise InputFileError(msg)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        msg = f"Checklist file {str(path)!r} could not be parsed: {exc}."
        raise InputFileError(msg) from exc
    except Exception as exc:  # yaml.YAMLError and friends
        if isinstance(exc, InputError | ImportError):
            raise
        msg = f"Checklist file {str(path)!r} could not be parsed: {exc}."
        raise InputFileError(msg) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        msg = f"Checklist file {str(path)!r} must hold a mapping of item id to points, got {type(data).__name__}."
        raise InputFileError(msg)
    return data, locator


# --------------------------------------------------------------------------------------------------
# Input normalisation
# --------------------------------------------------------------------------------------------------
def _as_rubric(rubric: Rubric | str | Path | None) -> Rubric:
    if rubric is None:
        return load_rubric()
    if isinstance(rubric, Rubric):
        return rubric
    return load_rubric(rubric)


_COV_REQUIRED = ("compound_id", "category", "reachable")


def _check_coverage(coverage: pd.DataFrame, rubric: Rubric) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate ``coverage``; return the slim working copy and the caller's rows at the rubric's limit."""
    if not isinstance(coverage, pd.DataFrame):
        msg = f"`coverage` must be a DataFrame (from quarter_hour.reach.coverage), got {type(coverage).__name__}."
        raise InputError(msg)
    missing = [c for c in _COV_REQUIRED if c not in coverage.columns]
    if missing:
        msg = (
            f"`coverage` lacks column(s) {missing}. Available columns: {list(coverage.columns)}. "
            "Build it with quarter_hour.reach.coverage (see docs/CONTRACTS.md)."
        )
        raise InputError(msg)
    want = rubric.walk.limit_m
    if "limit_m" in coverage.columns:  # reach.coverage(limit_m=[...]): one block of rows per limit
        limits = sorted(float(x) for x in pd.unique(coverage["limit_m"]))
        match = [x for x in limits if abs(x - want) <= 1e-6]
        if not match:
            msg = (
                f"`coverage` holds walk limits {[_fmt(x) for x in limits]} m but rubric {rubric.name!r} walks "
                f"{_fmt(want)} m. Recompute coverage with limit_m={_fmt(want)}, or score with "
                "`rubric.with_walk(...)` matching one of the limits."
            )
            raise InputError(msg)
        coverage = coverage.loc[coverage["limit_m"] == match[0]]
        limit = None
    else:
        limit = coverage.attrs.get("limit_m")
    if limit is not None and abs(float(limit) - want) > 1e-6:
        msg = (
            f"`coverage` was computed for a {_fmt(float(limit))} m walk but rubric {rubric.name!r} walks "
            f"{_fmt(rubric.walk.limit_m)} m. Recompute coverage with limit_m={_fmt(rubric.walk.limit_m)}, or "
            f"score with `rubric.with_walk(...)` matching {_fmt(float(limit))} m."
        )
        raise InputError(msg)
    cols = [
        c
        for c in (*_COV_REQUIRED, "nearest_m", "nearest_poi_id", "nearest_poi_name")
        if c in coverage.columns
    ]
    cov = coverage.loc[coverage["category"].isin(rubric.categories), cols].copy()
    cov["compound_id"] = cov["compound_id"].astype(str)
    if cov["reachable"].isna().any():
        bad = cov.loc[cov["reachable"].isna(), ["compound_id", "category"]].head(5).values.tolist()
        msg = f"`coverage.reachable` has missing values, e.g. (compound, category) {bad}; it must be True/False."
        raise InputError(msg)
    cov["reachable"] = cov["reachable"].astype(bool)
    cov["nearest_m"] = (
        pd.to_numeric(cov["nearest_m"], errors="coerce") if "nearest_m" in cov else np.nan
    )
    dup = cov.duplicated(["compound_id", "category"])
    if dup.any():
        bad = cov.loc[dup, ["compound_id", "category"]].head(5).values.tolist()
        msg = f"`coverage` has {int(dup.sum())} repeated (compound_id, category) rows, e.g. {bad}; keep one row per pair."
        raise InputError(msg)
    return cov, coverage


def _check_members(
    coverage: pd.DataFrame,
    compounds: pd.DataFrame | None,
    *,
    community: str | None,
    community_col: str | None,
) -> pd.DataFrame:
    """A ``community, compound_id, households`` table of which compounds make up which community."""
    if compounds is None:
        ids = pd.unique(coverage["compound_id"].astype(str))
        return pd.DataFrame(
            {"community": community or "community", "compound_id": ids, "households": np.nan}
        )
    if not isinstance(compounds, pd.DataFrame):
        msg = f"`compounds` must be a DataFrame with a `compound_id` column, got {type(compounds).__name__}."
        raise InputError(msg)
    comp = compounds
    if "compound_id" not in comp.columns:
        if comp.index.name == "compound_id":
            comp = comp.reset_index()
        else:
            msg = (
                f"`compounds` has no `compound_id` column. Available columns: {list(comp.columns)}."
            )
            raise InputError(msg)
    out = pd.DataFrame({"compound_id": comp["compound_id"].astype(str).to_numpy()})
    if community_col is not None:
        if community_col not in comp.columns:
            msg = f"`compounds` has no {community_col!r} column naming each compound's community. Available columns: {list(comp.columns)}."
            raise InputError(msg)
        if comp[community_col].isna().any():
            n = int(comp[community_col].isna().sum())
            msg = f"{n} compound(s) have no {community_col!r}; give every compound a community."
            raise InputError(msg)
        out.insert(0, "community", comp[community_col].astype(str).to_numpy())
    else:
        name = community
        if name is None and "community" in comp.columns and comp["community"].nunique() == 1:
            name = str(comp["community"].iloc[0])
        out.insert(0, "community", name or "community")
    if "households" in comp.columns:
        hh = pd.to_numeric(comp["households"], errors="coerce").to_numpy(dtype=float)
        bad = (hh < 0) | np.isinf(hh)
        if bad.any():
            ids = out.loc[bad, "compound_id"].head(5).tolist()
            msg = f"`compounds.households` must be >= 0 (NaN when unknown); bad values for {ids}."
            raise InputError(msg)
        out["households"] = hh
    else:
        out["households"] = np.nan
    dup = out.duplicated(["community", "compound_id"])
    if dup.any():
        msg = f"`compounds` lists compound(s) {out.loc[dup, 'compound_id'].head(5).tolist()} twice; one row per compound."
        raise InputError(msg)
    return out


def _compound_items(cov: pd.DataFrame, members: pd.DataFrame, rubric: Rubric) -> pd.DataFrame:
    """Long table: one row per (compound, spatial item) with reachable, nearest_m, nearest_poi."""
    ids = pd.unique(members["compound_id"])
    sub = cov.loc[cov["compound_id"].isin(ids)]
    cats = list(rubric.categories)
    have = pd.MultiIndex.from_frame(sub[["compound_id", "category"]])
    want = pd.MultiIndex.from_product([ids, cats], names=["compound_id", "category"])
    missing = want.difference(have)
    if len(missing):
        no_rows = [c for c in ids if c not in set(sub["compound_id"])]
        if no_rows:
            msg = (
                f"{len(no_rows)} compound(s) have no rows in `coverage`, e.g. {no_rows[:5]}. Was coverage computed "
                "for the same gates as `compounds`?"
            )
        else:
            no_cat = sorted({c for _, c in missing})
            msg = (
                f"`coverage` lacks rows for {len(missing)} (compound, category) pairs, e.g. {list(missing[:3])}; "
                f"categories involved: {no_cat}. Compute coverage for every category of the rubric "
                f"(rubric.categories)."
            )
        raise InputError(msg)
    link = pd.DataFrame(
        [(it.id, c, k) for k, it in enumerate(rubric.spatial_items) for c in it.categories],
        columns=["item_id", "category", "item_pos"],
    )
    long = sub.merge(link, on="category")
    if "nearest_poi_name" in long.columns or "nearest_poi_id" in long.columns:
        name = (
            long["nearest_poi_name"]
            if "nearest_poi_name" in long
            else pd.Series("", index=long.index)
        )
        pid = (
            long["nearest_poi_id"]
            if "nearest_poi_id" in long
            else pd.Series(None, index=long.index)
        )
        long["nearest_poi"] = [
            None
            if (n is None or n is pd.NA or (isinstance(n, float) and math.isnan(n)))
            and (p is None or p is pd.NA)
            else f"{n} ({p})"
            if p is not None and p is not pd.NA and not (isinstance(p, float) and math.isnan(p))
            else str(n)
            for n, p in zip(name, pid, strict=True)
        ]
    else:
        long["nearest_poi"] = None
    long = long.sort_values(
        ["compound_id", "item_pos", "nearest_m"], na_position="last", kind="stable"
    )
    g = long.groupby(["compound_id", "item_pos"], sort=False)
    out = g.agg(
        reachable=("reachable", "any"),
        nearest_m=("nearest_m", "min"),
        nearest_poi=("nearest_poi", "first"),
    )
    out = out.reset_index()
    spatial_ids = np.asarray([i.id for i in rubric.spatial_items], dtype=object)
    out["item_id"] = spatial_ids[out["item_pos"].to_numpy(dtype=np.int64)]
    return out


def _weights(members: pd.DataFrame) -> tuple[pd.Series, dict[str, str]]:
    """Per-member weights (households or 1) and, per community, how they were chosen."""
    w = pd.Series(1.0, index=members.index)
    how: dict[str, str] = {}
    partial: list[str] = []
    zero: list[str] = []
    for name, grp in members.groupby("community", sort=False):
        hh = grp["households"]
        known = hh.notna()
        if known.all() and hh.sum() > 0:
            w.loc[grp.index] = hh
            how[str(name)] = "households"
        elif known.all():
            zero.append(str(name))
            how[str(name)] = "equal (households sum to 0)"
        elif known.any():
            unknown = grp.loc[~known, "compound_id"].tolist()
            partial.append(
                f"{name!s}: {len(unknown)} of {len(grp)} without households ({', '.join(unknown[:5])})"
            )
            how[str(name)] = "equal (households incomplete)"
        else:
            how[str(name)] = "equal (households unknown)"
    if partial:
        shown = "; ".join(partial[:5]) + (
            f"; and {len(partial) - 5} more communities" if len(partial) > 5 else ""
        )
        msg = (
            f"Households are known for only some compounds, so {len(partial)} community(ies) count each compound "
            f"once instead of by households: {shown}. Fill in `compounds.households` for every compound to "
            "weight by households."
        )
        warnings.warn(msg, QuarterHourWarning, stacklevel=4)
    if zero:
        msg = f"Households sum to 0 in {zero[:5]}; counting each compound once."
        warnings.warn(msg, QuarterHourWarning, stacklevel=4)
    return w, how


# --------------------------------------------------------------------------------------------------
# The core (shared by score and score_many, so both give identical numbers)
# --------------------------------------------------------------------------------------------------
@dataclass
class _Core:
    rubric: Rubric
    members: pd.DataFrame  # community, compound_id, households, weight
    compound_items: pd.DataFrame  # long: compound_id, item_id, reachable, nearest_m, nearest_poi
    share: pd.DataFrame  # community x spatial item id
    points: pd.DataFrame  # community x item id (all items, checklist ones included)
    assessed: pd.DataFrame  # community x item id (bool)
    evidence: dict[str, dict[str, str]]
    weighting: dict[str, str]


def _core(
    cov: pd.DataFrame,
    members: pd.DataFrame,
    rubric: Rubric,
    checklists: Mapping[str, dict[str, tuple[float, str]]],
) -> _Core:
    ci = _compound_items(cov, members, rubric)
    w, how = _weights(members)
    members = members.assign(weight=w)
    spatial_ids = [i.id for i in rubric.spatial_items]
    reach = ci.pivot(index="compound_id", columns="item_id", values="reachable").reindex(
        columns=spatial_ids
    )
    per = members[["community", "compound_id", "weight"]].join(
        reach.astype(float), on="compound_id"
    )
    communities = list(pd.unique(members["community"]))
    wsum = per.groupby("community", sort=False)["weight"].sum().reindex(communities)
    num = (
        per[spatial_ids]
        .mul(per["weight"], axis=0)
        .groupby(per["community"], sort=False)
        .sum()
        .reindex(communities)
    )
    share = num.div(wsum, axis=0).clip(0.0, 1.0)
    rule = rubric.coverage_rule
    if rule == "share":
        frac = share
    else:
        grouped = per[spatial_ids].astype(bool).groupby(per["community"], sort=False)
        frac = (
            (grouped.any() if rule == "any" else grouped.all()).reindex(communities).astype(float)
        )
    weights = pd.Series({i.id: float(i.weight) for i in rubric.spatial_items})
    spatial_points = frac.mul(weights, axis=1).map(_r)

    points = pd.DataFrame(
        0.0, index=pd.Index(communities, name="community"), columns=list(rubric.item_ids)
    )
    assessed = pd.DataFrame(True, index=points.index, columns=points.columns)
    points[spatial_ids] = spatial_points.to_numpy()
    evidence: dict[str, dict[str, str]] = {}
    for item in rubric.checklist_items:
        for c in communities:
            entry = checklists.get(str(c), {}).get(item.id)
            if entry is None:
                assessed.loc[c, item.id] = False
            else:
                points.loc[c, item.id] = _r(entry[0])
                evidence.setdefault(str(c), {})[item.id] = entry[1]
    share.index.name = "community"
    return _Core(rubric, members, ci, share, points, assessed, evidence, how)


def _grade(
    rubric: Rubric, group_points: Mapping[str, float], total: float
) -> tuple[GradeBand, bool, list[str]]:
    reasons: list[str] = []
    missed = []
    for g in rubric.groups:
        pts = group_points[g.id]
        if g.min_points > 0 and _r(pts) < _r(g.min_points):
            short = _r(g.min_points - pts)
            missed.append(g)
            reasons.append(
                f"{g.name_zh} ({g.name_en}) scored {_fmt(pts)} of {_fmt(g.max_points)}, {_fmt(short)} short of "
                f"the required minimum {_fmt(g.min_points)}"
            )
    band = rubric.grade_for(total)
    where = f"total {_fmt(total)} of {_fmt(rubric.total_points)} is in band {band.name_zh} {band.label()}"
    if missed and band.passing:
        fail = rubric.fail_band
        reasons.append(
            f"{where}, but a missed group minimum makes the grade {fail.name_zh} ({fail.name_en})"
        )
        return fail, False, reasons
    if missed:
        reasons.append(where)
        return band, False, reasons
    ok = (
        "all group minimums met"
        if any(g.min_points > 0 for g in rubric.groups)
        else "no group minimums"
    )
    if band.passing:
        reasons.append(f"{where}; {ok}")
    else:
        reasons.append(f"{where}, below the lowest passing band; {ok}")
    return band, band.passing, reasons


def _not_assessed_reason(rubric: Rubric, not_assessed: Sequence[str]) -> str:
    at_stake = _fmt(sum(rubric.item(i).weight for i in not_assessed))
    return (
        f"{len(not_assessed)} checklist item(s) not assessed, scored 0 (up to {at_stake} points): "
        f"{', '.join(not_assessed)}"
    )


def _row(frame: pd.DataFrame, label: str) -> dict[str, float]:
    return {str(k): float(v) for k, v in frame.loc[[label]].iloc[0].items()}


def _group_points(rubric: Rubric, points_row: Mapping[str, float]) -> dict[str, float]:
    return {
        g.id: _r(sum(float(points_row[i.id]) for i in rubric.items_in(g.id))) for g in rubric.groups
    }


# --------------------------------------------------------------------------------------------------
# Scorecard
# --------------------------------------------------------------------------------------------------
def to_jsonable(v: Any) -> Any:
    """Numbers, NaN, numpy scalars and arrays, mappings and sequences as plain JSON values.

    NaN and pandas' missing values become None; numpy scalars become Python numbers.
    """
    if isinstance(v, float | np.floating):
        return None if math.isnan(v) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, Mapping):
        return {str(k): to_jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple | np.ndarray):
        return [to_jsonable(x) for x in v]
    if v is pd.NA or v is pd.NaT:
        return None
    return v


@dataclass(frozen=True, eq=False)
class Scorecard:
    """The acceptance result of one community, explaining every point.

    Attributes
    ----------
    community : str
    rubric : Rubric
    coverage : pandas.DataFrame
        The coverage rows used (this community's compounds, the rubric's categories).
    items : pandas.DataFrame
        One row per rubric item in rubric order: ``group, item_id, name_zh, name_en, kind, weight,
        share, points, assessed, lacking, nearest_m, nearest_poi, note``.
    groups : pandas.DataFrame
        ``group, name_zh, name_en, max_points, min_points, points, meets_minimum``.
    total : float
    grade, grade_en : str
    passed : bool
    reasons : list of str
    not_assessed : list of str
    provenance : dict
    compounds : pandas.DataFrame
        ``compound_id, households, weight`` (the weight each compound carried in the shares).
    """

    community: str
    rubric: Rubric
    coverage: pd.DataFrame
    items: pd.DataFrame
    groups: pd.DataFrame
    total: float
    grade: str
    grade_en: str
    passed: bool
    reasons: list[str]
    not_assessed: list[str]
    provenance: dict[str, Any]
    compounds: pd.DataFrame = field(repr=False)

    def improvements(self) -> pd.DataFrame:
        """Items not fully scored, ranked by the points at stake.

        Returns
        -------
        pandas.DataFrame
            ``item_id, name_zh, name_en, group, kind, weight, points, at_stake, share, n_lacking,
            lacking, group_shortfall, action``; most points at stake first (rubric order on ties).
            ``group_shortfall`` is how far the item's group is below its minimum (0 when met).
        """
        it = self.items.reset_index(drop=True)
        it = it.assign(at_stake=(it["weight"] - it["points"]).map(_r), order=np.arange(len(it)))
        it = it.loc[it["at_stake"] > 0]
        gshort = {
            r["group"]: max(0.0, _r(r["min_points"] - r["points"])) for r in _records(self.groups)
        }
        actions = []
        for r in _records(it):
            if r["kind"] == "checklist":
                if not r["assessed"]:
                    actions.append("assess it (fill in the checklist)")
                else:
                    actions.append(
                        "complete it" + (f" (evidence so far: {r['note']})" if r["note"] else "")
                    )
            else:
                actions.append(
                    f"bring a {r['name_zh']} within the walk limit of {len(r['lacking'])} compound(s)"
                )
        it = it.assign(
            n_lacking=[len(x) for x in it["lacking"]],
            group_shortfall=[gshort[g] for g in it["group"]],
            action=actions,
        )
        it = it.sort_values(["at_stake", "order"], ascending=[False, True], kind="stable")
        cols = ["item_id", "name_zh", "name_en", "group", "kind", "weight", "points", "at_stake", "share",
                "n_lacking", "lacking", "group_shortfall", "action"]  # fmt: skip
        return it[cols].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """The items table with a leading ``community`` column (a copy)."""
        out = self.items.copy()
        out.insert(0, "community", self.community)
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict of the whole card (NaN written as None)."""
        return to_jsonable(
            {
                "community": self.community,
                "rubric": self.rubric.name,
                "total": self.total,
                "max_points": self.rubric.total_points,
                "grade": self.grade,
                "grade_en": self.grade_en,
                "passed": self.passed,
                "reasons": list(self.reasons),
                "not_assessed": list(self.not_assessed),
                "groups": self.groups.to_dict(orient="records"),
                "items": self.items.to_dict(orient="records"),
                "provenance": self.provenance,
            }
        )

    def __repr__(self) -> str:
        verdict = "PASSED" if self.passed else "NOT PASSED"
        lines = [
            f"Scorecard {self.community!r} — {self.rubric.name} — {_fmt(self.total)}/{_fmt(self.rubric.total_points)} "
            f"— {self.grade} ({self.grade_en}) — {verdict}",
        ]
        for g in _records(self.groups):
            mn = (
                f" (min {_fmt(g['min_points'])}{'' if g['meets_minimum'] else ' MISSED'})"
                if g["min_points"]
                else ""
            )
            lines.append(f"  {g['name_zh']}: {_fmt(g['points'])}/{_fmt(g['max_points'])}{mn}")
            for r in _records(self.items.loc[self.items["group"] == g["group"]]):
                share = "  n/a" if math.isnan(r["share"]) else f"{r['share']:5.0%}"
                extra = ""
                if not r["assessed"]:
                    extra = "  not assessed"
                elif r["kind"] == "spatial" and r["lacking"]:
                    lk = r["lacking"]
                    extra = f"  lacking: {', '.join(lk[:4])}{' …' if len(lk) > 4 else ''}"
                lines.append(
                    f"    {_pad(r['name_zh'], 18)} {_fmt(r['points']):>6}/{_fmt(r['weight']):<3} {share}{extra}"
                )
        lines += [f"  - {x}" for x in self.reasons]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        colour = "#1a7f37" if self.passed else "#cf222e"
        rows = [
            "<table style='border-collapse:collapse;font-size:90%'>",
            f"<caption style='text-align:left'><b>{e(self.community)}</b> — {e(self.rubric.title_zh or self.rubric.name)}"
            f"<br><b style='color:{colour}'>{_fmt(self.total)} / {_fmt(self.rubric.total_points)} · "
            f"{e(self.grade)} ({e(self.grade_en)})</b></caption>",
            "<tr><th>评价类别</th><th>评价指标</th><th>分值</th><th>覆盖</th><th>得分</th><th>说明</th></tr>",
        ]
        for g in _records(self.groups):
            g_items = _records(self.items.loc[self.items["group"] == g["group"]])
            mn = f"（需{_fmt(g['min_points'])}分以上）" if g["min_points"] else ""
            style = "" if g["meets_minimum"] else " style='color:#cf222e'"
            for k, r in enumerate(g_items):
                head = (
                    f"<td rowspan={len(g_items)}{style}><b>{e(g['name_zh'])}</b><br>"
                    f"{_fmt(g['points'])}/{_fmt(g['max_points'])}{e(mn)}</td>"
                    if k == 0
                    else ""
                )
                share = "—" if math.isnan(r["share"]) else f"{r['share']:.0%}"
                lk = r["lacking"]
                if not r["assessed"]:
                    note = "未评估 not assessed"
                elif lk:
                    note = f"缺: {', '.join(lk[:3])}{' …' if len(lk) > 3 else ''}"
                else:
                    note = str(r["note"])
                rows.append(
                    f"<tr>{head}<td>{e(r['name_zh'])}</td><td>{_fmt(r['weight'])}</td><td>{share}</td>"
                    f"<td>{_fmt(r['points'])}</td><td>{e(note)}</td></tr>"
                )
        rows.append(f"<tr><td colspan=2><b>总分</b></td><td>{_fmt(self.rubric.total_points)}</td><td></td>"
                     f"<td><b>{_fmt(self.total)}</b></td><td>{e(self.grade)}</td></tr>")  # fmt: skip
        rows.append(
            "</table><ul style='font-size:90%'>"
            + "".join(f"<li>{e(x)}</li>" for x in self.reasons)
            + "</ul>"
        )
        return "\n".join(rows)


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts (typed ``Any`` values, unlike ``itertuples``)."""
    return [{str(k): v for k, v in row.items()} for row in df.to_dict(orient="records")]


def _pad(s: str, width: int) -> str:
    """Clip or pad text to ``width`` display columns (CJK characters count double)."""
    out, w = "", 0
    for ch in s:
        cw = 2 if ord(ch) > 0x2E80 else 1
        if w + cw > width - 1 and len(out) < len(s) - 1:
            out += "…"
            w += 1
            break
        out += ch
        w += cw
    return out + " " * max(0, width - w)


def _version_str() -> str:
    try:
        return _version("quarter_hour")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


# --------------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------------
def score(
    coverage: pd.DataFrame,
    rubric: Rubric | str | Path | None = None,
    *,
    compounds: pd.DataFrame | None = None,
    checklist: ChecklistLike | None = None,
    community: str | None = None,
    sources: Mapping[str, Any] | Sequence[Any] | None = None,
) -> Scorecard:
    """Score one community (a set of compounds) against a rubric.

    Parameters
    ----------
    coverage
        Coverage table (docs/CONTRACTS.md): one row per (compound_id, category) with
        ``reachable`` and ``nearest_m``; ``attrs["limit_m"]``, when present, must equal the rubric's
        walk limit. It may hold more compounds than the community (see ``compounds``).
    rubric
        A :class:`~quarter_hour.rubric.Rubric`, a shipped rubric name or a file path; default the
        杭锦旗 2023 rubric.
    compounds
        The community's compounds: ``compound_id`` and optional ``households`` (NaN when unknown).
        Default: every compound in ``coverage``, counted once each.
    checklist
        Points for the checklist items: ``{item_id: points}`` or
        ``{item_id: {"points": x, "evidence": "..."}}``, or a TOML/YAML/JSON file of that mapping.
        Absent items are *not assessed* (0 points, listed on the card).
    community
        Name shown on the card (default: the single ``community`` value of ``compounds``).
    sources
        Data sources and their dates, recorded in ``Scorecard.provenance``.

    Returns
    -------
    Scorecard

    Raises
    ------
    InputError
        Missing columns or rows in ``coverage``, a walk limit that disagrees with the rubric, bad
        households, or an invalid checklist.

    Warns
    -----
    QuarterHourWarning
        When households are known for only some compounds (each compound then counts once).
    """
    rub = _as_rubric(rubric)
    cov, at_limit = _check_coverage(coverage, rub)
    members = _check_members(cov, compounds, community=community, community_col=None)
    if members.empty:
        msg = "The community has no compounds: `coverage` (or `compounds`) is empty."
        raise InputError(msg)
    name = str(members["community"].iloc[0])
    entries = read_checklist(checklist, rub)
    core = _core(cov, members, rub, {name: entries})
    cov_used = at_limit.loc[
        at_limit["compound_id"].astype(str).isin(members["compound_id"])
        & at_limit["category"].isin(rub.categories)
    ].copy()
    return _card(
        core,
        name,
        cov_used,
        sources=sources,
        coverage_attrs={str(k): v for k, v in coverage.attrs.items()},
    )


def _card(
    core: _Core,
    name: str,
    cov_used: pd.DataFrame,
    *,
    sources: Any,
    coverage_attrs: Mapping[str, Any],
) -> Scorecard:
    rub = core.rubric
    members = core.members.loc[core.members["community"] == name]
    ids = list(members["compound_id"])
    weight_of = dict(zip(members["compound_id"], members["weight"], strict=True))
    ci = core.compound_items.loc[core.compound_items["compound_id"].isin(ids)]
    keys = list(zip(ci["item_id"], ci["compound_id"], strict=True))
    reach = dict(zip(keys, ci["reachable"].astype(bool), strict=True))
    near = dict(zip(keys, ci["nearest_m"].astype(float), strict=True))
    poi_of = dict(zip(keys, ci["nearest_poi"], strict=True))
    pts = _row(core.points, name)
    shares = _row(core.share, name)
    rows = []
    for it in rub.items:
        if it.kind == "spatial":
            lacking = [c for c in ids if not reach[(it.id, c)]]
            nearest = {c: near[(it.id, c)] for c in ids}
            poi = {c: poi_of[(it.id, c)] for c in ids}
            share = shares[it.id]
            n_ok = len(ids) - len(lacking)
            note = f"reached by {n_ok} of {len(ids)} compounds"
            if core.weighting[name] == "households" and len(ids) > 1:
                note += f" ({share:.1%} of households)"
            rows.append((it.group, it.id, it.name_zh, it.name_en, it.kind, float(it.weight), share,
                         float(pts[it.id]), True, lacking, nearest, poi, note))  # fmt: skip
        else:
            ok = bool(core.assessed.at[name, it.id])
            p = float(pts[it.id]) if ok else 0.0
            share = (p / it.weight if it.weight else 1.0) if ok else math.nan
            note = core.evidence.get(name, {}).get(it.id, "") if ok else "not assessed"
            rows.append(
                (
                    it.group,
                    it.id,
                    it.name_zh,
                    it.name_en,
                    it.kind,
                    float(it.weight),
                    share,
                    p,
                    ok,
                    [],
                    {},
                    {},
                    note,
                )
            )
    items = pd.DataFrame(
        rows,
        columns=[
            "group",
            "item_id",
            "name_zh",
            "name_en",
            "kind",
            "weight",
            "share",
            "points",
            "assessed",
            "lacking",
            "nearest_m",
            "nearest_poi",
            "note",
        ],
    )
    gp = _group_points(rub, pts)
    groups = pd.DataFrame(
        [
            (
                g.id,
                g.name_zh,
                g.name_en,
                float(g.max_points),
                float(g.min_points),
                gp[g.id],
                gp[g.id] >= _r(g.min_points),
            )
            for g in rub.groups
        ],
        columns=[
            "group",
            "name_zh",
            "name_en",
            "max_points",
            "min_points",
            "points",
            "meets_minimum",
        ],
    )
    total = _r(sum(gp.values()))
    band, passed, reasons = _grade(rub, gp, total)
    not_assessed = [it.id for it in rub.checklist_items if not bool(core.assessed.at[name, it.id])]
    if not_assessed:
        reasons.append(_not_assessed_reason(rub, not_assessed))
    hh = members["households"]
    provenance = {
        "rubric": rub.name,
        "rubric_source": rub.source,
        "walk_minutes": rub.walk.minutes,
        "walk_speed_m_per_min": rub.walk.speed_m_per_min,
        "walk_limit_m": rub.walk.limit_m,
        "coverage_limit_m": coverage_attrs.get("limit_m"),
        "coverage_rule": rub.coverage_rule,
        "weighting": core.weighting[name],
        "n_compounds": len(ids),
        "households": float(hh.sum()) if hh.notna().all() else None,
        "compound_weights": weight_of,
        "sources": sources if sources is not None else coverage_attrs.get("sources"),
        "quarter_hour_version": _version_str(),
    }
    log.info("Scored %s: %s/%s, %s", name, _fmt(total), _fmt(rub.total_points), band.name_en)
    return Scorecard(
        community=name,
        rubric=rub,
        coverage=cov_used,
        items=items,
        groups=groups,
        total=total,
        grade=band.name_zh,
        grade_en=band.name_en,
        passed=passed,
        reasons=reasons,
        not_assessed=not_assessed,
        provenance=provenance,
        compounds=members[["compound_id", "households", "weight"]].reset_index(drop=True),
    )


def score_many(
    coverage: pd.DataFrame,
    compounds: pd.DataFrame,
    rubric: Rubric | str | Path | None = None,
    *,
    checklists: Mapping[str, ChecklistLike] | None = None,
    community_col: str = "community",
) -> pd.DataFrame:
    """Score many communities in one call; the same numbers as :func:`score` on each alone.

    Parameters
    ----------
    coverage
        Coverage table for all compounds (docs/CONTRACTS.md).
    compounds
        One row per compound: ``compound_id``, the community column, optional ``households``.
    rubric
        Rubric, shipped name or file path (default 杭锦旗 2023).
    checklists
        ``{community: checklist}`` where each checklist is as in :func:`score`. Communities not
        listed have their checklist items not assessed.
    community_col
        Column of ``compounds`` naming the community.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``community`` (in order of first appearance): ``n_compounds``, ``weighting``,
        ``<item_id>_points`` per item, ``<group_id>_points`` and ``<group_id>_meets_min`` per group,
        ``total``, ``grade``, ``grade_en``, ``passed``, ``not_assessed`` (comma-separated ids),
        ``reasons`` ("; "-joined).

    Warns
    -----
    QuarterHourWarning
        Once, naming the communities whose households are known for only some compounds.
    """
    rub = _as_rubric(rubric)
    cov, _ = _check_coverage(coverage, rub)
    members = _check_members(cov, compounds, community=None, community_col=community_col)
    communities = [str(c) for c in pd.unique(members["community"])]
    entries: dict[str, dict[str, tuple[float, str]]] = {}
    if checklists:
        unknown = [str(k) for k in checklists if str(k) not in set(communities)]
        if unknown:
            msg = (
                f"`checklists` names {len(unknown)} community(ies) not in `compounds[{community_col!r}]`: "
                f"{unknown[:5]}.{_did_you_mean(unknown[0], communities)}"
            )
            raise InputError(msg)
        entries = {str(k): read_checklist(v, rub) for k, v in checklists.items()}
    core = _core(cov, members, rub, entries)
    records = []
    for name in communities:
        pts = _row(core.points, name)
        gp = _group_points(rub, pts)
        total = _r(sum(gp.values()))
        band, passed, reasons = _grade(rub, gp, total)
        not_assessed = [
            it.id for it in rub.checklist_items if not bool(core.assessed.at[name, it.id])
        ]
        if not_assessed:
            reasons.append(_not_assessed_reason(rub, not_assessed))
        rec: dict[str, Any] = {
            "community": name,
            "n_compounds": int((core.members["community"] == name).sum()),
            "weighting": core.weighting[name],
        }
        rec.update({f"{i}_points": float(pts[i]) for i in rub.item_ids})
        for g in rub.groups:
            rec[f"{g.id}_points"] = gp[g.id]
            rec[f"{g.id}_meets_min"] = gp[g.id] >= _r(g.min_points)
        rec.update(total=total, grade=band.name_zh, grade_en=band.name_en, passed=passed,
                   not_assessed=",".join(not_assessed), reasons="; ".join(reasons))  # fmt: skip
        records.append(rec)
    out = pd.DataFrame.from_records(records).set_index("community")
    log.info("Scored %s communities with rubric %s", len(out), rub.name)
    return out
