"""Raw business records → rubric categories (the taxonomy).

The mapping is data, not code: ``data/taxonomy.toml`` ships with the package and lists, for each of
the 28 spatial categories of Annex 2, rules from three sources — OpenStreetMap tags, Amap (高德) POI
type codes and type texts, and Chinese name keywords — plus exclusions that veto a match. Read the
header of that file for the rule syntax and the judgement calls behind the shipped rules; copy it
to change them and pass your copy as ``Taxonomy.from_toml(path)``.

:func:`classify` returns the long table of the ``pois`` contract (one row per record × category,
with the rule that classified it). :func:`unclassified` lists the records no rule placed, and
:func:`unclassified_report` their most frequent types, so that a user can extend the file.
"""

from __future__ import annotations

import json
import re
import tomllib
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import InputError, InputFileError, QuarterHourWarning

__all__ = [
    "BASIC_CATEGORIES",
    "CATEGORY_IDS",
    "Category",
    "NameRule",
    "Taxonomy",
    "classify",
    "load_taxonomy",
    "unclassified",
    "unclassified_report",
]

#: The 28 spatial category ids of docs/CONTRACTS.md, basic (基本保障类) first.
BASIC_CATEGORIES: tuple[str, ...] = (
    "convenience_store",
    "supermarket",
    "wet_market",
    "fresh_food",
    "breakfast",
    "repair",
    "laundry_tailor",
    "hair_beauty",
    "photo_print",
    "pharmacy",
    "housekeeping",
    "post_express",
    "recycling",
    "community_service",
)
QUALITY_CATEGORIES: tuple[str, ...] = (
    "bookstore",
    "sport_fitness",
    "specialty_dining",
    "elderly_care",
    "childcare",
    "health_station",
    "education_training",
    "leisure_entertainment",
    "tourist_service",
    "florist_gift",
    "bakery",
    "tea_coffee_bar",
    "pet_service",
    "smart_locker",
)
CATEGORY_IDS: tuple[str, ...] = BASIC_CATEGORIES + QUALITY_CATEGORIES

Source = Literal["amap", "osm", "auto"]

_TOP_KEYS = {"schema_version", "name", "names", "categories"}
_NAMES_KEYS = {"exclude_types"}
_CAT_KEYS = {
    "name_zh",
    "name_en",
    "group",
    "osm",
    "amap_typecode",
    "amap_type",
    "names",
    "exclude_names",
    "exclude_types",
    "keep_names",
}
_RULE_KEYS = {"keywords", "exclude", "types", "exclude_types", "also"}
_GROUPS = ("basic", "quality")
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_OSM_COND_RE = re.compile(r"^[A-Za-z0-9_:.\-]+=[^=&]+$")
_TYPECODE_RE = re.compile(r"^(\d{2}|\d{4}|\d{6})$")
_LANDMARK_RE = r"\s*[(（][^()（）]*(?:东|西|南|北|旁|附近|对面|旁边|店)[)）]\s*$"

#: Columns that identify OSM input (pyrosm and osmnx both give one column per common key).
_OSM_COLUMNS = ("shop", "amenity", "leisure", "craft", "office", "healthcare", "tourism", "tags")
#: Columns that identify Amap input.
_AMAP_COLUMNS = ("type", "typecode")


@dataclass(frozen=True)
class NameRule:
    """Name-keyword rule of one category (see the header of ``data/taxonomy.toml``)."""

    keywords: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    exclude_types: tuple[str, ...] | None = None
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class Category:
    """One rubric category and the rules that place records in it."""

    id: str
    name_zh: str
    name_en: str
    group: str
    osm: tuple[str, ...] = ()
    amap_typecode: tuple[str, ...] = ()
    amap_type: tuple[str, ...] = ()
    names: tuple[NameRule, ...] = ()
    exclude_names: tuple[str, ...] = ()
    exclude_types: tuple[str, ...] = ()
    keep_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    """A validated mapping from raw records to rubric categories.

    Load the shipped mapping with :func:`load_taxonomy` (or ``Taxonomy.from_toml()`` with no
    path) and a user's copy with ``Taxonomy.from_toml(path)``.

    Attributes
    ----------
    name
        Human-readable name of the mapping.
    categories
        The categories, in file order.
    name_exclude_types
        Amap type prefixes whose records never match name keywords (unless a rule overrides).
    path
        File the mapping was read from, or None.
    """

    name: str
    categories: tuple[Category, ...]
    name_exclude_types: tuple[str, ...] = ()
    path: Path | None = field(default=None, compare=False)

    @property
    def ids(self) -> tuple[str, ...]:
        """Category ids, in file order."""
        return tuple(c.id for c in self.categories)

    def __getitem__(self, category_id: str) -> Category:
        """Return the category with id ``category_id``."""
        for c in self.categories:
            if c.id == category_id:
                return c
        msg = f"Unknown category {category_id!r}; this taxonomy has: {', '.join(self.ids)}."
        raise KeyError(msg)

    @classmethod
    def from_toml(cls, path: str | Path | None = None) -> Taxonomy:
        """Read and validate a taxonomy file.

        Parameters
        ----------
        path
            TOML file in the format of the shipped ``data/taxonomy.toml``; None reads the shipped
            file.

        Returns
        -------
        Taxonomy
            The validated mapping.

        Raises
        ------
        InputFileError
            The file does not exist or cannot be read.
        InputError
            The file is not valid TOML, or a key is unknown, missing or of the wrong type; the
            message names the file and the key.
        """
        if path is None:
            return _default_taxonomy()
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            msg = f"Cannot read taxonomy file {str(p)!r}: {exc}. Pass the path of a TOML file."
            raise InputFileError(msg) from None
        return _parse(text, where=str(p), path=p)


@cache
def _default_taxonomy() -> Taxonomy:
    res = resources.files("quarter_hour") / "data" / "taxonomy.toml"
    return _parse(
        res.read_text(encoding="utf-8"), where="quarter_hour/data/taxonomy.toml", path=None
    )


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Return the shipped taxonomy (cached), or the one in ``path``.

    Parameters
    ----------
    path
        A user's taxonomy file; None for the shipped one.

    Returns
    -------
    Taxonomy
        The validated mapping.
    """
    return Taxonomy.from_toml(path)


# ----------------------------------------------------------------------------- parsing
def _parse(text: str, *, where: str, path: Path | None) -> Taxonomy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"Taxonomy file {where!r} is not valid TOML: {exc}."
        raise InputError(msg) from None
    _unknown(data, _TOP_KEYS, where, "top level")
    if data.get("schema_version", 1) != 1:
        msg = (
            f"Taxonomy file {where!r}: `schema_version` {data['schema_version']!r} is not "
            "supported; this version of quarter_hour reads schema_version = 1."
        )
        raise InputError(msg)
    name = data.get("name", Path(where).stem)
    if not isinstance(name, str):
        msg = f"Taxonomy file {where!r}: `name` must be a string, got {name!r}."
        raise InputError(msg)
    names_sec = data.get("names", {})
    if not isinstance(names_sec, dict):
        msg = f"Taxonomy file {where!r}: `[names]` must be a table."
        raise InputError(msg)
    _unknown(names_sec, _NAMES_KEYS, where, "[names]")
    default_ex = _strs(names_sec, "exclude_types", where, "names.exclude_types")
    cats_raw = data.get("categories")
    if not isinstance(cats_raw, dict) or not cats_raw:
        msg = (
            f"Taxonomy file {where!r} has no `[categories.<id>]` tables; add at least one, "
            "e.g. [categories.convenience_store]."
        )
        raise InputError(msg)
    cats = tuple(_category(cid, raw, where) for cid, raw in cats_raw.items())
    ids = {c.id for c in cats}
    for c in cats:
        for i, r in enumerate(c.names):
            for a in r.also:
                if a not in ids:
                    msg = (
                        f"Taxonomy file {where!r}: `categories.{c.id}.names[{i}].also` names "
                        f"unknown category {a!r}; known: {', '.join(sorted(ids))}."
                    )
                    raise InputError(msg)
    unknown = sorted(ids - set(CATEGORY_IDS))
    if unknown:
        warnings.warn(
            f"Taxonomy file {where!r} defines categories that are not among the 28 rubric "
            f"categories: {', '.join(unknown)}. The rubric will ignore them unless it lists them; "
            "check the ids for typos (see docs/CONTRACTS.md).",
            QuarterHourWarning,
            stacklevel=4,
        )
    return Taxonomy(name=name, categories=cats, name_exclude_types=default_ex, path=path)


def _unknown(table: Mapping[str, Any], allowed: set[str], where: str, ctx: str) -> None:
    bad = sorted(set(table) - allowed)
    if bad:
        msg = (
            f"Taxonomy file {where!r}: unknown key(s) {', '.join(map(repr, bad))} in {ctx}; "
            f"allowed keys: {', '.join(sorted(allowed))}."
        )
        raise InputError(msg)


def _strs(table: Mapping[str, Any], key: str, where: str, ctx: str) -> tuple[str, ...]:
    val = table.get(key, [])
    if not isinstance(val, list) or not all(isinstance(v, str) and v for v in val):
        msg = f"Taxonomy file {where!r}: `{ctx}` must be a list of non-empty strings, got {val!r}."
        raise InputError(msg)
    return tuple(val)


def _category(cid: str, raw: Any, where: str) -> Category:
    ctx = f"categories.{cid}"
    if not _ID_RE.match(cid):
        msg = (
            f"Taxonomy file {where!r}: category id {cid!r} must be lower-case letters, digits "
            "and underscores, starting with a letter (e.g. 'convenience_store')."
        )
        raise InputError(msg)
    if not isinstance(raw, dict):
        msg = f"Taxonomy file {where!r}: `{ctx}` must be a table."
        raise InputError(msg)
    _unknown(raw, _CAT_KEYS, where, f"[{ctx}]")
    for key in ("name_zh", "name_en", "group"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            msg = f"Taxonomy file {where!r}: `{ctx}.{key}` is missing or not a non-empty string."
            raise InputError(msg)
    if raw["group"] not in _GROUPS:
        msg = (
            f"Taxonomy file {where!r}: `{ctx}.group` is {raw['group']!r}; expected one of "
            f"{', '.join(_GROUPS)}."
        )
        raise InputError(msg)
    osm = _strs(raw, "osm", where, f"{ctx}.osm")
    for rule in osm:
        if not all(_OSM_COND_RE.match(c) for c in rule.split("&")):
            msg = (
                f"Taxonomy file {where!r}: `{ctx}.osm` rule {rule!r} is not 'key=value' "
                "(or 'key=*', or conditions joined by '&')."
            )
            raise InputError(msg)
    codes = _strs(raw, "amap_typecode", where, f"{ctx}.amap_typecode")
    for code in codes:
        if not _TYPECODE_RE.match(code):
            msg = (
                f"Taxonomy file {where!r}: `{ctx}.amap_typecode` entry {code!r} must be 2, 4 "
                "or 6 digits (a prefix of the six-digit Amap typecode), e.g. '0602'."
            )
            raise InputError(msg)
    names_raw = raw.get("names", [])
    if not isinstance(names_raw, list):
        msg = (
            f"Taxonomy file {where!r}: `{ctx}.names` must be an array of tables ([[{ctx}.names]])."
        )
        raise InputError(msg)
    rules = []
    for i, r in enumerate(names_raw):
        rctx = f"{ctx}.names[{i}]"
        if not isinstance(r, dict):
            msg = f"Taxonomy file {where!r}: `{rctx}` must be a table."
            raise InputError(msg)
        _unknown(r, _RULE_KEYS, where, f"[[{ctx}.names]] number {i}")
        kws = _strs(r, "keywords", where, f"{rctx}.keywords")
        if not kws:
            msg = f"Taxonomy file {where!r}: `{rctx}.keywords` is missing or empty."
            raise InputError(msg)
        rules.append(
            NameRule(
                keywords=kws,
                exclude=_strs(r, "exclude", where, f"{rctx}.exclude"),
                types=_strs(r, "types", where, f"{rctx}.types"),
                exclude_types=(
                    _strs(r, "exclude_types", where, f"{rctx}.exclude_types")
                    if "exclude_types" in r
                    else None
                ),
                also=_strs(r, "also", where, f"{rctx}.also"),
            )
        )
    return Category(
        id=cid,
        name_zh=raw["name_zh"],
        name_en=raw["name_en"],
        group=raw["group"],
        osm=osm,
        amap_typecode=codes,
        amap_type=_strs(raw, "amap_type", where, f"{ctx}.amap_type"),
        names=tuple(rules),
        exclude_names=_strs(raw, "exclude_names", where, f"{ctx}.exclude_names"),
        exclude_types=_strs(raw, "exclude_types", where, f"{ctx}.exclude_types"),
        keep_names=_strs(raw, "keep_names", where, f"{ctx}.keep_names"),
    )


# ----------------------------------------------------------------------------- matching
class _Records:
    """Normalised, cached views of the input used by the rule matchers.

    Speed: types repeat (a few hundred distinct Amap types in a city), so type rules run on the
    distinct values only; name keywords are searched once each in one string joining all names
    (C-speed substring search), and the hits mapped back to rows.
    """

    def __init__(self, records: pd.DataFrame, source: str) -> None:
        self.df = records
        self.source = source
        n = len(records)
        self.n = n
        # Amap appends landmarks and branches to names: "沃尔玛(望江街道兴隆社区卫生服务站东南)",
        # "老郑盐蘸牛肉(紫花店)". Keywords are matched on the name without such a trailing
        # "(... east/west/near/opposite/branch)".
        self.name = _text(records, "name", n).str.replace(_LANDMARK_RE, "", regex=True)
        lowered = [v.casefold().replace("\n", " ") for v in self.name]
        self._joined = "\n".join(lowered)
        lengths = np.fromiter((len(v) + 1 for v in lowered), dtype=np.int64, count=n)
        self._starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if n else lengths
        self._kw_cache: dict[str, np.ndarray] = {}
        self.has_type = source == "amap" and "type" in records.columns
        self.has_code = source == "amap" and "typecode" in records.columns
        # "|part|part|" so that one regex finds a prefix at a part or segment boundary
        type_s = "|" + _text(records, "type", n).str.replace(r"\s*\|\s*", "|", regex=True) + "|"
        self._type_codes, uniq = pd.factorize(type_s)
        self._type_uniq = pd.Series(uniq, dtype=object)
        code_s = "|" + _text(records, "typecode", n).str.replace(r"\s*\|\s*", "|", regex=True) + "|"
        self._code_codes, cuniq = pd.factorize(code_s)
        self._code_uniq = pd.Series(cuniq, dtype=object)
        self._type_cache: dict[tuple[str, ...], np.ndarray] = {}
        self._osm_cache: dict[str, pd.Series] = {}
        self._tags: pd.Series | None = None

    def keyword(self, word: str) -> np.ndarray:
        """Rows whose (case-folded) name contains ``word``; read-only, cached."""
        w = word.casefold()
        if w not in self._kw_cache:
            out = np.zeros(self.n, dtype=bool)
            pos = [m.start() for m in re.finditer(re.escape(w), self._joined)]
            if pos:
                out[np.searchsorted(self._starts, np.asarray(pos), side="right") - 1] = True
            out.flags.writeable = False
            self._kw_cache[w] = out
        return self._kw_cache[w]

    def contains(self, words: Iterable[str]) -> np.ndarray:
        """Rows whose name contains any of ``words`` (a new, writable array)."""
        out = np.zeros(self.n, dtype=bool)
        for w in words:
            out |= self.keyword(w)
        return out

    def first_keyword(self, words: tuple[str, ...], rows: np.ndarray) -> np.ndarray:
        """For ``rows``, the longest of ``words`` each name contains (None where none)."""
        label = np.full(self.n, None, dtype=object)
        for w in sorted(words, key=len, reverse=True):
            m = self.keyword(w) & rows & (label == None)  # noqa: E711
            label[m] = w
        return label

    def type_match(self, prefixes: Iterable[str]) -> np.ndarray:
        key = tuple(prefixes)
        if key not in self._type_cache:
            if not key or not self.has_type:
                out = np.zeros(self.n, dtype=bool)
            else:
                pat = r"\|(?:" + "|".join(re.escape(p) for p in key) + r")[|;]"
                on_uniq = self._type_uniq.str.contains(pat, regex=True).to_numpy(dtype=bool)
                out = on_uniq[self._type_codes]
            out.flags.writeable = False
            self._type_cache[key] = out
        return self._type_cache[key]

    def first_type(self, prefixes: tuple[str, ...], label: np.ndarray, mask: np.ndarray) -> None:
        """Label records matching a type prefix (first in rule order) not yet in ``mask``."""
        if not self.has_type:
            return
        for p in prefixes:
            m = self.type_match((p,)) & ~mask
            label[m] = "amap_type:" + p
            mask |= m

    def first_code(self, prefixes: tuple[str, ...], label: np.ndarray, mask: np.ndarray) -> None:
        """Label records matching a typecode prefix not yet in ``mask``."""
        if not self.has_code:
            return
        for p in prefixes:
            on_uniq = self._code_uniq.str.contains("|" + p, regex=False).to_numpy(dtype=bool)
            m = on_uniq[self._code_codes] & ~mask
            label[m] = "amap_typecode:" + p
            mask |= m

    def osm_values(self, key: str) -> pd.Series:
        """``"|v1|v2|"`` per record for OSM key ``key`` ("" when absent)."""
        if key not in self._osm_cache:
            if key in self.df.columns:
                raw = self.df[key]
            elif "tags" in self.df.columns:
                raw = self._parsed_tags().map(lambda t: t.get(key) if isinstance(t, dict) else None)
            else:
                raw = pd.Series(None, index=self.df.index, dtype=object)
            s = raw.map(
                lambda v: (
                    ""
                    if v is None or (isinstance(v, float) and np.isnan(v))
                    else "|" + "|".join(x.strip() for x in str(v).split(";")) + "|"
                )
            )
            self._osm_cache[key] = s.astype(str)
        return self._osm_cache[key]

    def _parsed_tags(self) -> pd.Series:
        if self._tags is None:

            def parse(t: Any) -> dict[str, Any] | None:
                if isinstance(t, dict):
                    return t
                if isinstance(t, str) and t.strip().startswith("{"):
                    try:
                        v = json.loads(t)
                    except ValueError:
                        return None
                    return v if isinstance(v, dict) else None
                return None

            self._tags = self.df["tags"].map(parse)
        return self._tags

    def osm_match(self, rule: str) -> np.ndarray:
        mask = np.ones(len(self.df), dtype=bool)
        for cond in rule.split("&"):
            key, _, val = cond.partition("=")
            vals = self.osm_values(key)
            if val == "*":
                mask &= (vals != "").to_numpy(dtype=bool)
            else:
                mask &= vals.str.contains("|" + val + "|", regex=False).to_numpy(dtype=bool)
        return mask


def _text(df: pd.DataFrame, col: str, n: int) -> pd.Series:
    if col not in df.columns:
        return pd.Series([""] * n, index=df.index, dtype=object)
    return df[col].map(
        lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
    )


def _match_category(
    cat: Category,
    rec: _Records,
    tax: Taxonomy,
    extra: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, list[tuple[str, np.ndarray, np.ndarray]]]:
    """Mask and rule labels of one category; also returns ``also`` contributions to others."""
    n = len(rec.df)
    mask = np.zeros(n, dtype=bool)
    label = np.full(n, None, dtype=object)
    # 1. codes and tags
    if rec.source == "osm":
        for tag_rule in cat.osm:
            m = rec.osm_match(tag_rule) & ~mask
            label[m] = "osm:" + tag_rule
            mask |= m
    else:
        rec.first_code(cat.amap_typecode, label, mask)
        rec.first_type(cat.amap_type, label, mask)
    # 2. name keywords, for records the codes did not place
    also: list[tuple[str, np.ndarray, np.ndarray]] = []
    for rule in cat.names:
        hit = rec.contains(rule.keywords)
        if rule.exclude:
            hit &= ~rec.contains(rule.exclude)
        if rule.types:
            hit &= rec.type_match(rule.types)
        ex_types = tax.name_exclude_types + (rule.exclude_types or ())
        if ex_types:
            hit &= ~rec.type_match(ex_types)
        if not hit.any():
            continue
        rule_label = np.full(n, None, dtype=object)
        kw = rec.first_keyword(rule.keywords, hit)
        rule_label[hit] = ["name:" + k for k in kw[hit]]
        new = hit & ~mask
        label[new] = rule_label[new]
        mask |= new
        for other in rule.also:
            also.append((other, hit, rule_label))
    for m, lab in extra:
        new = m & ~mask
        label[new] = lab[new]
        mask |= new
    # 3. exclusions veto
    if cat.exclude_names:
        veto = rec.contains(cat.exclude_names)
        if cat.keep_names:
            veto &= ~rec.contains(cat.keep_names)
        mask &= ~veto
    if cat.exclude_types:
        mask &= ~rec.type_match(cat.exclude_types)
    return mask, label, also


def _detect_source(records: pd.DataFrame, source: str) -> str:
    if source not in ("amap", "osm", "auto"):
        msg = f"Unknown `source` {source!r}; expected one of: 'amap', 'osm', 'auto'."
        raise InputError(msg)
    if source != "auto":
        return source
    cols = set(records.columns)
    if cols & set(_OSM_COLUMNS):
        return "osm"
    if cols & set(_AMAP_COLUMNS):
        return "amap"
    warnings.warn(
        "`records` has neither OSM tag columns (" + ", ".join(_OSM_COLUMNS) + ") nor Amap type "
        "columns (type, typecode); classifying by name keywords only. Pass `source=` to say "
        "which kind of data it is.",
        QuarterHourWarning,
        stacklevel=3,
    )
    return "amap"


def _poi_ids(records: pd.DataFrame) -> pd.Series:
    for col in ("poi_id", "id", "osmid"):
        if col in records.columns:
            return records[col].astype(str).set_axis(records.index)
    idx = records.index
    if isinstance(idx, pd.MultiIndex):
        return pd.Series(["/".join(map(str, t)) for t in idx], index=idx, dtype=object)
    return pd.Series(idx.astype(str), index=idx, dtype=object)


def _matches(
    records: pd.DataFrame,
    source: str,
    taxonomy: Taxonomy | None,
) -> tuple[_Records, dict[str, tuple[np.ndarray, np.ndarray]]]:
    if not isinstance(records, pd.DataFrame):
        msg = f"`records` must be a DataFrame or GeoDataFrame, got {type(records).__name__}."
        raise InputError(msg)
    if "name" not in records.columns:
        msg = (
            f"`records` has no 'name' column, which the name-keyword rules need. Available "
            f"columns: {sorted(map(str, records.columns))}. Rename the name column to 'name'."
        )
        raise InputError(msg)
    tax = taxonomy if taxonomy is not None else _default_taxonomy()
    rec = _Records(records, _detect_source(records, source))
    extra: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    # a second pass only when `also` rules matched, so that they reach every category
    for _ in range(2):
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        new_extra: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        for cat in tax.categories:
            mask, label, also = _match_category(cat, rec, tax, extra.get(cat.id, []))
            out[cat.id] = (mask, label)
            for other, m, lab in also:
                new_extra.setdefault(other, []).append((m, lab))
        if not new_extra or extra:
            break
        extra = new_extra
    return rec, out


def classify(
    records: pd.DataFrame,
    *,
    source: Source = "auto",
    taxonomy: Taxonomy | None = None,
) -> gpd.GeoDataFrame:
    """Place raw business records in rubric categories.

    Parameters
    ----------
    records
        One row per business. Needs a ``name`` column. Amap data: ``type`` ("大类;中类;小类",
        several joined by "|") and/or ``typecode`` (six digits); OSM data: tag columns as pyrosm
        or osmnx give them (``shop``, ``amenity``, ``leisure``, ``craft``, ``office``,
        ``healthcare``, ...), and pyrosm's ``tags`` (JSON text or dict) for the other keys.
        Optional ``address``, ``poi_id`` (else ``id``/``osmid``, else the index) and ``geometry``.
    source
        "amap", "osm" or "auto" (OSM when OSM tag columns are present, else Amap).
    taxonomy
        The mapping; None uses the shipped one (:func:`load_taxonomy`).

    Returns
    -------
    geopandas.GeoDataFrame
        The ``pois`` long table of docs/CONTRACTS.md: one row per (record, category) with
        ``poi_id``, ``name``, ``category``, ``address``, ``rule`` (e.g.
        "amap_type:购物服务;便民商店/便利店" or "name:早餐") and ``geometry`` (None when the
        input has none), in the CRS of ``records``. Rows are ordered by record, then by
        category in taxonomy order. Unclassified records do not appear; see
        :func:`unclassified`.

    Raises
    ------
    InputError
        ``records`` is not a DataFrame, has no ``name`` column, or ``source`` is unknown.

    Examples
    --------
    >>> import pandas as pd
    >>> recs = pd.DataFrame({"name": ["菜鸟驿站(可的店)", "好邻居便利店"],
    ...                      "type": ["生活服务;物流速递;物流速递", "购物服务;超级市场;超市"]})
    >>> classify(recs)[["name", "category", "rule"]].to_numpy().tolist()
    [['菜鸟驿站(可的店)', 'post_express', 'amap_type:生活服务;物流速递'], ['好邻居便利店', 'convenience_store', 'name:便利店']]
    """
    _, matches = _matches(records, source, taxonomy)
    n = len(records)
    ids = list(matches)
    if ids:
        masks = np.column_stack([matches[c][0] for c in ids])
    else:  # pragma: no cover - a taxonomy always has categories
        masks = np.zeros((n, 0), dtype=bool)
    rows, cols = np.nonzero(masks)  # row-major: by record, then category order
    labels = np.empty(len(rows), dtype=object)
    for j, cid in enumerate(ids):
        sel = cols == j
        labels[sel] = matches[cid][1][rows[sel]]
    poi_ids = _poi_ids(records).to_numpy()
    address = (
        _text(records, "address", n).to_numpy()
        if "address" in records.columns
        else np.full(n, None, dtype=object)
    )
    geom = (
        records.geometry.to_numpy()
        if isinstance(records, gpd.GeoDataFrame)
        else records["geometry"].to_numpy()
        if "geometry" in records.columns
        else np.full(n, None, dtype=object)
    )
    crs = records.crs if isinstance(records, gpd.GeoDataFrame) else None
    out = pd.DataFrame(
        {
            "poi_id": poi_ids[rows],
            "name": _text(records, "name", n).to_numpy()[rows],
            "category": np.asarray(ids, dtype=object)[cols],
            "address": address[rows],
            "rule": labels,
        }
    )
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geom[rows], crs=crs), crs=crs)


def unclassified(
    records: pd.DataFrame,
    *,
    source: Source = "auto",
    taxonomy: Taxonomy | None = None,
) -> pd.DataFrame:
    """Return the records that no rule placed in any category.

    Parameters
    ----------
    records, source, taxonomy
        As for :func:`classify`.

    Returns
    -------
    pandas.DataFrame
        The unclassified rows of ``records`` (same columns and index, a copy).
    """
    _, matches = _matches(records, source, taxonomy)
    hit = np.zeros(len(records), dtype=bool)
    for m, _lab in matches.values():
        hit |= m
    return records.loc[~hit].copy()


def unclassified_report(
    records: pd.DataFrame,
    *,
    source: Source = "auto",
    taxonomy: Taxonomy | None = None,
    top: int = 30,
    examples: int = 3,
) -> pd.DataFrame:
    """Count unclassified records by their type, most frequent first, with example names.

    Use it to extend a taxonomy file: each row is a type (Amap ``type`` text, or for OSM the
    first of ``shop``/``amenity``/``leisure``/``craft``/``office``/``healthcare``/``tourism`` as
    "key=value") that no rule placed, how many records have it, and a few of their names.

    Parameters
    ----------
    records, source, taxonomy
        As for :func:`classify`.
    top
        Number of types to report.
    examples
        Number of example names per type.

    Returns
    -------
    pandas.DataFrame
        Columns ``type``, ``count``, ``examples`` (list of names).
    """
    left = unclassified(records, source=source, taxonomy=taxonomy)
    osm = source == "osm" or (source == "auto" and bool(set(records.columns) & set(_OSM_COLUMNS)))
    if osm:
        typ = pd.Series("", index=left.index, dtype=object)
        for key in reversed(_OSM_COLUMNS[:-1]):
            if key in left.columns:
                v = left[key]
                typ = typ.where(v.isna(), key + "=" + v.astype(str))
    else:
        col = "type" if "type" in left.columns else "typecode"
        typ = _text(left, col, len(left))
    typ = typ.replace("", "(none)")
    names = _text(left, "name", len(left))
    grouped = pd.DataFrame({"type": typ, "name": names}).groupby("type", sort=False)["name"]
    counts = grouped.size().sort_values(ascending=False, kind="stable").head(top)
    ex = grouped.apply(lambda s: list(s.head(examples)))
    return pd.DataFrame(
        {
            "type": counts.index,
            "count": counts.to_numpy(),
            "examples": [ex[t] for t in counts.index],
        }
    )
