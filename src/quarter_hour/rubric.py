"""Acceptance rubrics as data: load, validate and derive them.

A rubric says which items are scored, in which groups, with which weights, how walking distance is
measured and how points turn into a grade. The default is the 杭锦旗 2023 rubric (杭政办发〔2023〕142号
附件2), shipped as ``data/rubrics/hangjin_2023.toml``; other rubrics are files of the same schema.

Files are validated on load and every problem is reported at once, each naming the bad key and the
line of the file it is on::

    >>> from quarter_hour.rubric import load_rubric
    >>> r = load_rubric()                                  # the shipped 杭锦旗 2023 rubric
    >>> r.total_points, r.walk.limit_m
    (100.0, 1200.0)
    >>> r2 = r.with_weight("wet_market", 6)                # a derived rubric (basic group max 65)
    >>> r2.group("basic").max_points
    65.0

Rubrics are frozen dataclasses: derive with the ``with_*`` methods or :func:`dataclasses.replace`;
both validate the result.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ._errors import RubricError
from ._tomlfile import (
    KeyLocator,
    Path_,
    _did_you_mean,
    _fmt,
    _format_problems,
    _get_num,
    _get_str,
    _get_table_list,
    _num,
    _Problem,
    _q,
    _unknown,
)
from .taxonomy import CATEGORY_IDS

__all__ = [
    "COVERAGE_RULES",
    "GradeBand",
    "Group",
    "Item",
    "Rubric",
    "Walk",
    "available_rubrics",
    "known_category_ids",
    "load_rubric",
]

log = logging.getLogger(__name__)

#: Coverage rules a rubric may declare (how compound coverage turns into item points).
#: ``share``: weight x (household-weighted) share of compounds reaching the item;
#: ``any``: full weight when at least one compound reaches it; ``all``: full weight only when
#: every compound does.
COVERAGE_RULES: tuple[str, ...] = ("share", "any", "all")

ITEM_KINDS: tuple[str, ...] = ("spatial", "checklist")

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_TOL = 1e-9


def known_category_ids() -> frozenset[str]:
    """Category ids a rubric item may refer to: those of :mod:`quarter_hour.taxonomy`.

    Returns
    -------
    frozenset of str
        ``quarter_hour.taxonomy.CATEGORY_IDS`` (the 28 ids of docs/CONTRACTS.md).
    """
    return frozenset(CATEGORY_IDS)


# --------------------------------------------------------------------------------------------------
# Dataclasses
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Walk:
    """How far a resident walks: ``minutes`` at ``speed_m_per_min`` gives ``limit_m``.

    Parameters
    ----------
    minutes
        Walking time budget in minutes (the rubric's 15 minutes).
    speed_m_per_min
        Walking speed in metres per minute (80 m/min gives the rubric's 1.2 km).
    """

    minutes: float = 15.0
    speed_m_per_min: float = 80.0

    @property
    def limit_m(self) -> float:
        """Walk limit in metres (``minutes * speed_m_per_min``)."""
        return float(self.minutes) * float(self.speed_m_per_min)


@dataclass(frozen=True)
class Group:
    """A group of items (组织保障, 基本保障类业态, 品质提升类业态) with its maximum and minimum."""

    id: str
    name_zh: str
    name_en: str
    max_points: float
    min_points: float = 0.0


@dataclass(frozen=True)
class Item:
    """One scored item.

    Parameters
    ----------
    id
        Item id (for spatial items of the shipped rubric, the category id).
    group
        Id of the group it belongs to.
    name_zh, name_en
        Chinese name (as in the rubric text) and English gloss.
    weight
        Points the item is worth.
    kind
        ``"spatial"`` (scored from walking coverage) or ``"checklist"`` (scored from documents).
    categories
        Category ids whose facilities satisfy a spatial item (a compound counts when it reaches
        any of them). Defaults to ``(id,)`` for spatial items; empty for checklist items.
    """

    id: str
    group: str
    name_zh: str
    name_en: str
    weight: float
    kind: str = "spatial"
    categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.categories, str):
            object.__setattr__(self, "categories", (self.categories,))
        else:
            object.__setattr__(self, "categories", tuple(self.categories))
        if self.kind == "spatial" and not self.categories:
            object.__setattr__(self, "categories", (self.id,))


@dataclass(frozen=True)
class GradeBand:
    """A grade: totals in ``[from_points, to_points)`` get it (top band: up to the total, inclusive).

    ``passing`` says whether the grade is a pass (合格 and above). A community that misses a group
    minimum gets the highest non-passing band whatever its total.
    """

    name_zh: str
    name_en: str
    from_points: float
    to_points: float | None = None
    passing: bool = True

    def contains(self, total: float) -> bool:
        """Whether ``total`` (rounded to 1e-9) falls in this band."""
        t = round(float(total), 9)
        if t < round(self.from_points, 9):
            return False
        return self.to_points is None or t < round(self.to_points, 9)

    def label(self) -> str:
        """``"[80, 85)"``-style interval text."""
        hi = "∞)" if self.to_points is None else f"{_fmt(self.to_points)})"
        return f"[{_fmt(self.from_points)}, {hi}"


@dataclass(frozen=True)
class Rubric:
    """An acceptance rubric: groups, items, grade bands, walk limit and coverage rule.

    Build one with :meth:`from_toml` or :func:`load_rubric`; derive variants with
    :meth:`with_weight`, :meth:`with_item`, :meth:`without_item`, :meth:`with_walk` or
    :func:`dataclasses.replace`. Construction validates the whole rubric and raises
    :class:`~quarter_hour.RubricError` listing every problem.
    """

    name: str
    groups: tuple[Group, ...]
    items: tuple[Item, ...]
    grade_bands: tuple[GradeBand, ...]
    walk: Walk = field(default_factory=Walk)
    coverage_rule: str = "share"
    title_zh: str = ""
    title_en: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        for name in ("groups", "items", "grade_bands"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        problems = _semantic_problems(self)
        if problems:
            raise RubricError(_format_problems(problems, origin=f"rubric {self.name!r}"))

    # -- loading ------------------------------------------------------------------------------
    @classmethod
    def from_toml(cls, path: str | Path) -> Rubric:
        """Load and validate a rubric file.

        Parameters
        ----------
        path
            A TOML file in the schema documented in ``data/rubrics/hangjin_2023.toml``.

        Returns
        -------
        Rubric

        Raises
        ------
        RubricError
            Listing every problem found, each with its key and line, e.g.
            ``line 57, `items[3].weight`: ...``.
        """
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            msg = f"Cannot read rubric file {str(p)!r}: {exc}. Check the path, or use one of {available_rubrics()}."
            raise RubricError(msg) from exc
        return cls.from_toml_text(text, origin=str(p))

    @classmethod
    def from_toml_text(cls, text: str, *, origin: str = "<string>") -> Rubric:
        """Parse rubric TOML given as a string (see :meth:`from_toml`).

        Parameters
        ----------
        text
            The TOML text.
        origin
            Name used in error messages (a file path).

        Returns
        -------
        Rubric
        """
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            msg = f"Rubric file {origin} is not valid TOML: {exc}. Fix the syntax at that line."
            raise RubricError(msg) from exc
        locator = KeyLocator(text)
        problems: list[_Problem] = []
        parts = _parse(data, problems)
        if parts is not None:
            seen = {pr.path for pr in problems}
            problems += [pr for pr in _semantic_problems(parts) if pr.path not in seen]
        if problems or parts is None:
            labels: dict[Path_, str] = {}
            for key in ("groups", "items"):
                entries = data.get(key)
                if isinstance(entries, list):
                    for k, e in enumerate(entries):
                        if isinstance(e, dict) and isinstance(e.get("id"), str):
                            labels[(key, k)] = f"{key[:-1]} {e['id']!r}"
            raise RubricError(
                _format_problems(problems, origin=origin, locator=locator, labels=labels)
            )
        fields = {f.name: getattr(parts, f.name) for f in dataclasses.fields(cls)}
        return cls(**fields)

    # -- lookups --------------------------------------------------------------------------------
    @property
    def total_points(self) -> float:
        """Maximum total: the sum of the groups' maxima."""
        return float(sum(g.max_points for g in self.groups))

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Item ids in rubric order."""
        return tuple(i.id for i in self.items)

    @property
    def spatial_items(self) -> tuple[Item, ...]:
        """Items scored from walking coverage."""
        return tuple(i for i in self.items if i.kind == "spatial")

    @property
    def checklist_items(self) -> tuple[Item, ...]:
        """Items scored from the user's checklist."""
        return tuple(i for i in self.items if i.kind == "checklist")

    @property
    def categories(self) -> tuple[str, ...]:
        """Category ids the spatial items need, in rubric order, without repeats."""
        return tuple(dict.fromkeys(c for i in self.spatial_items for c in i.categories))

    def item(self, item_id: str) -> Item:
        """The item with id ``item_id`` (``KeyError`` naming the valid ids otherwise)."""
        for it in self.items:
            if it.id == item_id:
                return it
        msg = f"No item {item_id!r} in rubric {self.name!r}.{_did_you_mean(item_id, self.item_ids)} Items: {list(self.item_ids)}."
        raise KeyError(msg)

    def group(self, group_id: str) -> Group:
        """The group with id ``group_id`` (``KeyError`` naming the valid ids otherwise)."""
        for g in self.groups:
            if g.id == group_id:
                return g
        ids = [g.id for g in self.groups]
        msg = f"No group {group_id!r} in rubric {self.name!r}.{_did_you_mean(group_id, ids)} Groups: {ids}."
        raise KeyError(msg)

    def items_in(self, group_id: str) -> tuple[Item, ...]:
        """Items of one group, in rubric order."""
        self.group(group_id)
        return tuple(i for i in self.items if i.group == group_id)

    def grade_for(self, total: float) -> GradeBand:
        """The band a total falls in (compared after rounding to 1e-9, so 79.9999999999 is 80)."""
        for band in self.grade_bands:
            if band.contains(total):
                return band
        if round(float(total), 9) >= round(self.grade_bands[-1].from_points, 9):
            return self.grade_bands[-1]
        return self.grade_bands[0]

    @property
    def fail_band(self) -> GradeBand:
        """The highest non-passing band (the grade of a community that misses a group minimum)."""
        failing = [b for b in self.grade_bands if not b.passing]
        return failing[-1] if failing else self.grade_bands[0]

    # -- derivation -----------------------------------------------------------------------------
    def with_weight(self, item_id: str, weight: float) -> Rubric:
        """A copy with one item's weight changed.

        The item's group maximum (and so the total) changes by the same amount; group minimums
        and grade bands are kept, and the name records the change (``"hangjin_2023 [wet_market
        weight 6]"``) so scorecards do not claim the original rubric. Use
        :func:`dataclasses.replace` for other adjustments.

        Parameters
        ----------
        item_id
            The item to re-weight.
        weight
            Its new weight in points.

        Returns
        -------
        Rubric
        """
        old = self.item(item_id)
        delta = float(weight) - float(old.weight)
        items = tuple(
            dataclasses.replace(i, weight=float(weight)) if i.id == item_id else i
            for i in self.items
        )
        groups = tuple(
            dataclasses.replace(g, max_points=g.max_points + delta) if g.id == old.group else g
            for g in self.groups
        )
        return dataclasses.replace(
            self, items=items, groups=groups, name=f"{self.name} [{item_id} weight {_fmt(weight)}]"
        )

    def with_item(self, item: Item, *, after: str | None = None) -> Rubric:
        """A copy with ``item`` added (or replacing the item of the same id).

        The group maximum grows by the item's weight (or by the change in weight on replacement).

        Parameters
        ----------
        item
            The new item; its ``group`` must exist.
        after
            Id of the item to insert after; default: at the end of its group.

        Returns
        -------
        Rubric
        """
        existing = next((i for i in self.items if i.id == item.id), None)
        items = [i for i in self.items if i.id != item.id]
        if after is not None:
            pos = items.index(self.item(after)) + 1
        elif existing is not None and existing.group == item.group:
            pos = self.items.index(existing)
        else:
            in_group = [k for k, i in enumerate(items) if i.group == item.group]
            pos = in_group[-1] + 1 if in_group else len(items)
        items.insert(pos, item)
        delta = {item.group: float(item.weight)}
        if existing is not None:
            delta[existing.group] = delta.get(existing.group, 0.0) - float(existing.weight)
        groups = tuple(
            dataclasses.replace(g, max_points=g.max_points + delta[g.id]) if g.id in delta else g
            for g in self.groups
        )
        return dataclasses.replace(
            self, items=tuple(items), groups=groups, name=f"{self.name} [+{item.id}]"
        )

    def without_item(self, item_id: str) -> Rubric:
        """A copy without item ``item_id``; its group maximum shrinks by its weight.

        Parameters
        ----------
        item_id
            The item to drop.

        Returns
        -------
        Rubric
        """
        old = self.item(item_id)
        items = tuple(i for i in self.items if i.id != item_id)
        groups = tuple(
            dataclasses.replace(g, max_points=g.max_points - float(old.weight))
            if g.id == old.group
            else g
            for g in self.groups
        )
        return dataclasses.replace(
            self, items=items, groups=groups, name=f"{self.name} [-{item_id}]"
        )

    def with_walk(
        self, *, minutes: float | None = None, speed_m_per_min: float | None = None
    ) -> Rubric:
        """A copy with a different walk budget (e.g. ``minutes=10`` for a 10-minute circle).

        Parameters
        ----------
        minutes
            Walking minutes; unchanged when None.
        speed_m_per_min
            Walking speed in metres per minute; unchanged when None.

        Returns
        -------
        Rubric
        """
        walk = Walk(
            minutes=self.walk.minutes if minutes is None else float(minutes),
            speed_m_per_min=self.walk.speed_m_per_min
            if speed_m_per_min is None
            else float(speed_m_per_min),
        )
        return dataclasses.replace(
            self,
            walk=walk,
            name=f"{self.name} [walk {_fmt(walk.minutes)} min x {_fmt(walk.speed_m_per_min)} m/min]",
        )

    # -- output ---------------------------------------------------------------------------------
    def to_toml(self, path: str | Path | None = None) -> str:
        """Write the rubric in the file schema (round-trips through :meth:`from_toml`).

        Parameters
        ----------
        path
            Where to write; when None only the text is returned.

        Returns
        -------
        str
            The TOML text.
        """
        out: list[str] = ["[rubric]"]
        out += [
            f"name = {_q(self.name)}",
            f"title_zh = {_q(self.title_zh)}",
            f"title_en = {_q(self.title_en)}",
        ]
        out += [f"source = {_q(self.source)}", f"total_points = {_num(self.total_points)}"]
        out += [f"coverage_rule = {_q(self.coverage_rule)}", "", "[walk]"]
        out += [
            f"minutes = {_num(self.walk.minutes)}",
            f"speed_m_per_min = {_num(self.walk.speed_m_per_min)}",
        ]
        for g in self.groups:
            out += [
                "",
                "[[groups]]",
                f"id = {_q(g.id)}",
                f"name_zh = {_q(g.name_zh)}",
                f"name_en = {_q(g.name_en)}",
            ]
            out += [f"max_points = {_num(g.max_points)}", f"min_points = {_num(g.min_points)}"]
        for i in self.items:
            out += [
                "",
                "[[items]]",
                f"id = {_q(i.id)}",
                f"group = {_q(i.group)}",
                f"name_zh = {_q(i.name_zh)}",
            ]
            out += [
                f"name_en = {_q(i.name_en)}",
                f"weight = {_num(i.weight)}",
                f"kind = {_q(i.kind)}",
            ]
            if i.kind == "spatial":
                out.append("categories = [" + ", ".join(_q(c) for c in i.categories) + "]")
        for b in self.grade_bands:
            out += [
                "",
                "[[grade_bands]]",
                f"name_zh = {_q(b.name_zh)}",
                f"name_en = {_q(b.name_en)}",
            ]
            out.append(f"from_points = {_num(b.from_points)}")
            if b.to_points is not None:
                out.append(f"to_points = {_num(b.to_points)}")
            out.append(f"passing = {'true' if b.passing else 'false'}")
        text = "\n".join(out) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def summary(self) -> str:
        """A few lines describing the rubric (groups, maxima, minimums, bands, walk, rule)."""
        lines = [
            f"Rubric {self.name!r}: {self.title_zh or self.title_en} ({_fmt(self.total_points)} points)"
        ]
        for g in self.groups:
            n = len(self.items_in(g.id))
            mn = f", at least {_fmt(g.min_points)}" if g.min_points else ""
            lines.append(f"  {g.name_zh} {g.name_en}: {n} items, {_fmt(g.max_points)} points{mn}")
        bands = "; ".join(f"{b.name_zh} {b.label()}" for b in self.grade_bands)
        lines.append(f"  grades: {bands}")
        lines.append(
            f"  walk: {_fmt(self.walk.minutes)} min x {_fmt(self.walk.speed_m_per_min)} m/min = "
            f"{_fmt(self.walk.limit_m)} m; coverage rule {self.coverage_rule!r}"
        )
        if self.source:
            lines.append(f"  source: {self.source}")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# Registry of shipped rubrics
# --------------------------------------------------------------------------------------------------
def _rubric_dir() -> Any:
    return resources.files("quarter_hour") / "data" / "rubrics"


def available_rubrics() -> list[str]:
    """Names of the rubrics shipped with quarter_hour (pass one to :func:`load_rubric`).

    Returns
    -------
    list of str
    """
    return sorted(
        p.name[: -len(".toml")] for p in _rubric_dir().iterdir() if p.name.endswith(".toml")
    )


@functools.lru_cache(maxsize=16)
def _load_shipped(name: str) -> Rubric:
    res = _rubric_dir() / f"{name}.toml"
    return Rubric.from_toml_text(
        res.read_text(encoding="utf-8"), origin=f"quarter_hour/data/rubrics/{name}.toml"
    )


def load_rubric(name_or_path: str | Path = "hangjin_2023") -> Rubric:
    """Load a shipped rubric by name, or a rubric file by path.

    Parameters
    ----------
    name_or_path
        A name from :func:`available_rubrics` (default ``"hangjin_2023"``, the seed's Annex 2), or
        the path of a ``.toml`` rubric file.

    Returns
    -------
    Rubric

    Raises
    ------
    RubricError
        Unknown name, unreadable file, or an invalid rubric (every problem with key and line).
    """
    if isinstance(name_or_path, Rubric):  # tolerate an already-loaded rubric
        return name_or_path
    s = str(name_or_path)
    if isinstance(name_or_path, Path) or s.endswith(".toml") or "/" in s or "\\" in s:
        return Rubric.from_toml(Path(s))
    names = available_rubrics()
    if s not in names:
        msg = f"Unknown rubric {s!r}.{_did_you_mean(s, names)} Shipped rubrics: {names}; or pass the path of a .toml rubric file."
        raise RubricError(msg)
    return _load_shipped(s)


# --------------------------------------------------------------------------------------------------
# Parsing and validation
# --------------------------------------------------------------------------------------------------
@dataclass
class _Parts:
    name: str
    groups: tuple[Group, ...]
    items: tuple[Item, ...]
    grade_bands: tuple[GradeBand, ...]
    walk: Walk
    coverage_rule: str
    title_zh: str
    title_en: str
    source: str
    declared_total: float | None = None
    declared_limit_m: float | None = None


_TOP_KEYS = {"rubric", "walk", "groups", "items", "grade_bands"}
_RUBRIC_KEYS = {"name", "title_zh", "title_en", "source", "total_points", "coverage_rule"}
_WALK_KEYS = {"minutes", "speed_m_per_min", "limit_m"}
_GROUP_KEYS = {"id", "name_zh", "name_en", "max_points", "min_points"}
_ITEM_KEYS = {"id", "group", "name_zh", "name_en", "weight", "kind", "categories"}
_BAND_KEYS = {"name_zh", "name_en", "from_points", "to_points", "passing"}


def _parse(data: Mapping[str, Any], problems: list[_Problem]) -> _Parts | None:
    _unknown(data, _TOP_KEYS, (), problems)
    meta = data.get("rubric", {})
    if not isinstance(meta, dict):
        problems.append(_Problem(("rubric",), "`rubric` must be a table `[rubric]`."))
        meta = {}
    if "rubric" not in data:
        problems.append(
            _Problem(("rubric",), 'no `[rubric]` table; add one with at least `name = "..."`.')
        )
    _unknown(meta, _RUBRIC_KEYS, ("rubric",), problems)
    name = _get_str(meta, "name", ("rubric",), problems)
    rule = _get_str(meta, "coverage_rule", ("rubric",), problems, required=False) or "share"
    declared_total = _get_num(
        meta, "total_points", ("rubric",), problems, required=False, default=math.nan
    )

    walk_d = data.get("walk", {})
    if not isinstance(walk_d, dict):
        problems.append(_Problem(("walk",), "`walk` must be a table `[walk]`."))
        walk_d = {}
    _unknown(walk_d, _WALK_KEYS, ("walk",), problems)
    minutes = _get_num(walk_d, "minutes", ("walk",), problems, required=False, default=15.0)
    speed = _get_num(walk_d, "speed_m_per_min", ("walk",), problems, required=False, default=80.0)
    limit = _get_num(walk_d, "limit_m", ("walk",), problems, required=False, default=math.nan)

    groups: list[Group] = []
    for k, g in enumerate(_get_table_list(data, "groups", problems)):
        p: Path_ = ("groups", k)
        _unknown(g, _GROUP_KEYS, p, problems)
        mx = _get_num(g, "max_points", p, problems)
        mn = _get_num(g, "min_points", p, problems, required=False, default=0.0)
        groups.append(
            Group(
                id=_get_str(g, "id", p, problems),
                name_zh=_get_str(g, "name_zh", p, problems),
                name_en=_get_str(g, "name_en", p, problems, required=False),
                max_points=mx if mx is not None else math.nan,
                min_points=mn if mn is not None else 0.0,
            )
        )

    items: list[Item] = []
    for k, it in enumerate(_get_table_list(data, "items", problems)):
        p = ("items", k)
        _unknown(it, _ITEM_KEYS, p, problems)
        w = _get_num(it, "weight", p, problems)
        kind = _get_str(it, "kind", p, problems, required=False) or "spatial"
        cats_raw = it.get("categories", [])
        if isinstance(cats_raw, str):
            cats_raw = [cats_raw]
        if not isinstance(cats_raw, list) or not all(isinstance(c, str) for c in cats_raw):
            problems.append(
                _Problem(
                    (*p, "categories"),
                    f"`categories` must be a list of category ids, got {cats_raw!r}.",
                )
            )
            cats_raw = []
        items.append(
            Item(
                id=_get_str(it, "id", p, problems),
                group=_get_str(it, "group", p, problems),
                name_zh=_get_str(it, "name_zh", p, problems),
                name_en=_get_str(it, "name_en", p, problems, required=False),
                weight=w if w is not None else math.nan,
                kind=kind,
                categories=tuple(cats_raw),
            )
        )

    bands: list[GradeBand] = []
    for k, b in enumerate(_get_table_list(data, "grade_bands", problems)):
        p = ("grade_bands", k)
        _unknown(b, _BAND_KEYS, p, problems)
        lo = _get_num(b, "from_points", p, problems)
        hi = _get_num(b, "to_points", p, problems, required=False, default=math.nan)
        passing = b.get("passing", True)
        if not isinstance(passing, bool):
            problems.append(
                _Problem((*p, "passing"), f"`passing` must be true or false, got {passing!r}.")
            )
            passing = True
        bands.append(
            GradeBand(
                name_zh=_get_str(b, "name_zh", p, problems),
                name_en=_get_str(b, "name_en", p, problems, required=False),
                from_points=lo if lo is not None else math.nan,
                to_points=None if hi is None or math.isnan(hi) else hi,
                passing=passing,
            )
        )
    if minutes is None or speed is None:
        return None
    return _Parts(
        name=name,
        groups=tuple(groups),
        items=tuple(items),
        grade_bands=tuple(bands),
        walk=Walk(minutes=minutes, speed_m_per_min=speed),
        coverage_rule=rule,
        title_zh=_get_str(meta, "title_zh", ("rubric",), problems, required=False),
        title_en=_get_str(meta, "title_en", ("rubric",), problems, required=False),
        source=_get_str(meta, "source", ("rubric",), problems, required=False),
        declared_total=None
        if declared_total is None or math.isnan(declared_total)
        else declared_total,
        declared_limit_m=None if limit is None or math.isnan(limit) else limit,
    )


def _semantic_problems(r: Rubric | _Parts) -> list[_Problem]:
    """Every cross-field problem of a rubric, each with the key path it belongs to."""
    probs: list[_Problem] = []
    add = probs.append
    if not r.name:
        add(_Problem(("rubric", "name"), "the rubric needs a non-empty `name`."))
    if r.coverage_rule not in COVERAGE_RULES:
        add(
            _Problem(
                ("rubric", "coverage_rule"),
                f"unknown coverage rule {r.coverage_rule!r}; use one of {list(COVERAGE_RULES)}.",
            )
        )
    w = r.walk
    for key, val in (("minutes", w.minutes), ("speed_m_per_min", w.speed_m_per_min)):
        if not (isinstance(val, int | float) and math.isfinite(val) and val > 0):
            add(_Problem(("walk", key), f"`walk.{key}` must be a positive number, got {val!r}."))
    if (
        isinstance(r, _Parts)
        and r.declared_limit_m is not None
        and abs(r.declared_limit_m - w.limit_m) > 1e-6
    ):
        add(
            _Problem(
                ("walk", "limit_m"),
                f"`limit_m = {_fmt(r.declared_limit_m)}` disagrees with minutes x speed = {_fmt(w.limit_m)} m; "
                "drop `limit_m` or make the three agree.",
            )
        )

    # groups
    group_ids: dict[str, int] = {}
    for k, g in enumerate(r.groups):
        if not g.id or not _ID_RE.match(g.id):
            add(
                _Problem(
                    ("groups", k, "id"),
                    f"group id {g.id!r} must be lower_snake_case (a-z, 0-9, _).",
                )
            )
        if g.id in group_ids:
            add(
                _Problem(
                    ("groups", k, "id"),
                    f"duplicate group id {g.id!r} (also groups[{group_ids[g.id]}]).",
                )
            )
        group_ids.setdefault(g.id, k)
        if not math.isfinite(g.max_points) or g.max_points < 0:
            add(
                _Problem(
                    ("groups", k, "max_points"),
                    f"`max_points` of group {g.id!r} must be >= 0, got {g.max_points!r}.",
                )
            )
        if (
            not math.isfinite(g.min_points)
            or g.min_points < 0
            or g.min_points > g.max_points + _TOL
        ):
            add(
                _Problem(
                    ("groups", k, "min_points"),
                    f"`min_points` of group {g.id!r} must be between 0 and its max_points "
                    f"{_fmt(g.max_points)}, got {_fmt(g.min_points)}.",
                )
            )

    # items
    known = known_category_ids()
    item_ids: dict[str, int] = {}
    sums: dict[str, float] = dict.fromkeys(group_ids, 0.0)
    bad_weights: set[str] = set()
    for k, it in enumerate(r.items):
        if not it.id or not _ID_RE.match(it.id):
            add(
                _Problem(
                    ("items", k, "id"), f"item id {it.id!r} must be lower_snake_case (a-z, 0-9, _)."
                )
            )
        if it.id in item_ids:
            add(
                _Problem(
                    ("items", k, "id"),
                    f"duplicate item id {it.id!r} (also items[{item_ids[it.id]}]).",
                )
            )
        if it.id in group_ids:
            add(
                _Problem(
                    ("items", k, "id"),
                    f"item id {it.id!r} is also a group id; ids must be distinct.",
                )
            )
        item_ids.setdefault(it.id, k)
        if it.group not in group_ids:
            add(
                _Problem(
                    ("items", k, "group"),
                    f"item {it.id!r} names unknown group {it.group!r}.{_did_you_mean(it.group, list(group_ids))} "
                    f"Groups: {list(group_ids)}.",
                )
            )
        if not (isinstance(it.weight, int | float) and math.isfinite(it.weight)) or it.weight < 0:
            add(
                _Problem(
                    ("items", k, "weight"),
                    f"`weight` of item {it.id!r} must be a number >= 0, got {it.weight!r}.",
                )
            )
            bad_weights.add(it.group)
        elif it.group in sums:
            sums[it.group] += float(it.weight)
        if it.kind not in ITEM_KINDS:
            add(
                _Problem(
                    ("items", k, "kind"),
                    f"item {it.id!r} has unknown kind {it.kind!r}; use one of {list(ITEM_KINDS)}.",
                )
            )
        elif it.kind == "checklist" and it.categories:
            add(
                _Problem(
                    ("items", k, "categories"),
                    f'checklist item {it.id!r} cannot have `categories`; drop them or set kind = "spatial".',
                )
            )
        elif it.kind == "spatial":
            for c in it.categories:
                if c not in known:
                    add(
                        _Problem(
                            ("items", k, "categories"),
                            f"item {it.id!r} names unknown category id {c!r}.{_did_you_mean(c, sorted(known))} "
                            "Valid ids are the taxonomy's (docs/CONTRACTS.md).",
                        )
                    )
    for k, g in enumerate(r.groups):
        if g.id in sums and g.id not in bad_weights and math.isfinite(g.max_points):
            n = sum(1 for i in r.items if i.group == g.id)
            if abs(sums[g.id] - g.max_points) > _TOL:
                add(
                    _Problem(
                        ("groups", k, "max_points"),
                        f"the weights of the {n} items of group {g.id!r} sum to {_fmt(sums[g.id])}, "
                        f"not its max_points {_fmt(g.max_points)}; fix a weight or max_points.",
                    )
                )
    total = sum(g.max_points for g in r.groups)
    if (
        isinstance(r, _Parts)
        and r.declared_total is not None
        and abs(r.declared_total - total) > _TOL
    ):
        add(
            _Problem(
                ("rubric", "total_points"),
                f"`total_points = {_fmt(r.declared_total)}` but the groups' max_points sum to {_fmt(total)}.",
            )
        )

    # grade bands
    bands = r.grade_bands
    if not bands:
        add(_Problem(("grade_bands",), "at least one `[[grade_bands]]` entry is needed."))
    for k, b in enumerate(bands):
        if not math.isfinite(b.from_points):
            continue
        if k == 0 and abs(b.from_points) > _TOL:
            add(
                _Problem(
                    ("grade_bands", k, "from_points"),
                    f"the first band must start at 0, not {_fmt(b.from_points)} (totals below it would have no grade).",
                )
            )
        if b.to_points is not None and b.to_points <= b.from_points:
            add(
                _Problem(
                    ("grade_bands", k, "to_points"),
                    f"band {b.name_zh!r} has to_points <= from_points.",
                )
            )
        if k + 1 < len(bands):
            nxt = bands[k + 1]
            if b.to_points is None:
                add(
                    _Problem(
                        ("grade_bands", k, "to_points"),
                        f"band {b.name_zh!r} has no `to_points`; only the top band may omit it.",
                    )
                )
            elif math.isfinite(nxt.from_points) and abs(nxt.from_points - b.to_points) > _TOL:
                what = "overlap" if nxt.from_points < b.to_points else "leave a gap"
                add(
                    _Problem(
                        ("grade_bands", k + 1, "from_points"),
                        f"bands {b.name_zh!r} [{_fmt(b.from_points)}, {_fmt(b.to_points)}) and "
                        f"{nxt.name_zh!r} (from {_fmt(nxt.from_points)}) {what}; each band must start "
                        "where the previous one ends.",
                    )
                )
            if b.passing and not nxt.passing:
                add(
                    _Problem(
                        ("grade_bands", k + 1, "passing"),
                        f"non-passing band {nxt.name_zh!r} lies above passing band {b.name_zh!r}.",
                    )
                )
        elif b.to_points is not None and b.to_points + _TOL < total:
            add(
                _Problem(
                    ("grade_bands", k, "to_points"),
                    f"the top band {b.name_zh!r} ends at {_fmt(b.to_points)}, below the total {_fmt(total)}; "
                    "omit `to_points` on the top band.",
                )
            )
    if bands and any(g.min_points > 0 for g in r.groups) and all(b.passing for b in bands):
        add(
            _Problem(
                ("grade_bands",),
                "groups have minimums but no band has `passing = false`, so a missed minimum has no grade.",
            )
        )
    return probs
