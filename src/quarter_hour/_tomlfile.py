"""Helpers for reading TOML data files with errors that name the key and its line.

tomllib reports lines only for syntax errors; :class:`KeyLocator` finds the line of a key path
such as ``("items", 3, "weight")`` in the text so semantic errors can point at it too. Used by
:mod:`quarter_hour.rubric` (rubric files) and :mod:`quarter_hour.scoring` (checklist files).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Path_ = tuple[str | int, ...]


@dataclass
class _Problem:
    path: Path_
    message: str


def _unknown(
    d: Mapping[str, Any], allowed: set[str], path: Path_, problems: list[_Problem]
) -> None:
    for k in d:
        if k not in allowed:
            problems.append(
                _Problem(
                    (*path, k),
                    f"unknown key {k!r}.{_did_you_mean(k, sorted(allowed))} Allowed keys here: {sorted(allowed)}.",
                )
            )


def _get_str(
    d: Mapping[str, Any], key: str, path: Path_, problems: list[_Problem], *, required: bool = True
) -> str:
    if key not in d:
        if required:
            problems.append(_Problem((*path, key), f'`{key}` is missing; add `{key} = "..."`.'))
        return ""
    v = d[key]
    if not isinstance(v, str):
        problems.append(_Problem((*path, key), f"`{key}` must be a string, got {v!r}."))
        return ""
    return v


def _get_num(
    d: Mapping[str, Any],
    key: str,
    path: Path_,
    problems: list[_Problem],
    *,
    required: bool = True,
    default: float = 0.0,
) -> float | None:
    if key not in d:
        if required:
            problems.append(_Problem((*path, key), f"`{key}` is missing; add `{key} = <number>`."))
            return None
        return default
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        problems.append(_Problem((*path, key), f"`{key}` must be a finite number, got {v!r}."))
        return None
    return float(v)


def _get_table_list(
    data: Mapping[str, Any], key: str, problems: list[_Problem]
) -> list[Mapping[str, Any]]:
    v = data.get(key)
    if v is None:
        problems.append(_Problem((key,), f"no `[[{key}]]` entries; the rubric needs at least one."))
        return []
    if not isinstance(v, list) or not all(isinstance(e, dict) for e in v):
        problems.append(
            _Problem((key,), f"`{key}` must be an array of tables written `[[{key}]]`.")
        )
        return []
    return v


# --------------------------------------------------------------------------------------------------
# Locating keys in the TOML text (tomllib reports lines only for syntax errors)
# --------------------------------------------------------------------------------------------------
_HEADER_RE = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY_RE = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)\s*=""")


class KeyLocator:
    """Find the line of a key path like ``("items", 3, "weight")`` in TOML text.

    Handles ``[table]`` and ``[[array]]`` headers and ``key = value`` lines (not inline tables).
    A missing key resolves to the line of its table header; unknown paths to None.

    Parameters
    ----------
    text
        The TOML text.
    """

    def __init__(self, text: str) -> None:
        self._lines: dict[Path_, int] = {}
        counts: dict[str, int] = {}
        current: Path_ = ()
        in_multiline = False
        for lineno, line in enumerate(text.splitlines(), start=1):
            if in_multiline:
                if line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1:
                    in_multiline = False
                continue
            m = _HEADER_RE.match(line)
            if m and not _KEY_RE.match(line):
                name = m.group(2).strip()
                parts: tuple[str | int, ...] = tuple(s.strip().strip('"') for s in name.split("."))
                if m.group(1) == "[[":
                    idx = counts.get(name, 0)
                    counts[name] = idx + 1
                    current = (*parts, idx)
                else:
                    current = parts
                self._lines.setdefault(current, lineno)
                continue
            km = _KEY_RE.match(line)
            if km:
                key = km.group(1).strip("\"'")
                self._lines.setdefault((*current, key), lineno)
                if line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1:
                    in_multiline = True

    def line(self, path: Sequence[str | int]) -> int | None:
        """Line number (1-based) of ``path`` or of its nearest enclosing table; None if unknown."""
        p = tuple(path)
        while p:
            if p in self._lines:
                return self._lines[p]
            p = p[:-1]
        return None


def _path_text(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _format_problems(
    problems: Iterable[_Problem],
    *,
    origin: str,
    locator: KeyLocator | None = None,
    labels: Mapping[Path_, str] | None = None,
) -> str:
    probs = list(problems)
    labels = labels or {}
    lines = [f"Invalid rubric {origin}: {len(probs)} problem{'s' if len(probs) != 1 else ''}:"]
    for pr in probs:
        where = ""
        if locator is not None:
            ln = locator.line(pr.path)
            where = f"line {ln}, " if ln is not None else ""
        label = labels.get(pr.path[:2], "")
        label = f" ({label})" if label else ""
        lines.append(f"  {where}`{_path_text(pr.path)}`{label}: {pr.message}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------------
def _did_you_mean(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def _fmt(x: float) -> str:
    """Points without float noise: 8 -> '8', 62.5 -> '62.5', 79.99 -> '79.99'."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "nan"
    r = round(float(x), 6)
    return str(int(r)) if r == int(r) else f"{r:g}"


def _num(x: float) -> str:
    r = float(x)
    return str(int(r)) if r == int(r) else repr(r)


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
