"""Where to put the next shop (补齐设施短板): greedy maximal covering on the walk network.

For one rubric item that some compounds lack, :func:`suggest_sites` proposes up to ``k`` places for
new facilities that bring the most uncovered households within the walk limit, and says what each
would do to the item's points and to the community's total and grade.

Method
------
* Candidates are the network's nodes (street junctions and ends), or points the user gives (vacant
  premises, planned sites), snapped onto their nearest walkable edge like any facility.
* Exact network distances from every gate of every compound that lacks the item to every candidate
  come from one bounded search on the augmented graph (:meth:`AugmentedGraph.pairs_within`), with
  access legs counted, so the result agrees with :func:`quarter_hour.reach.coverage`.
* A candidate covers a compound when any of its gates is within the walk limit. Greedy maximal
  covering then picks, ``k`` times, the candidate adding the most uncovered weight (households,
  or one per compound under the scoring rules of :mod:`quarter_hour.scoring`); ties go to the
  candidate listed first. Greedy is within ``1 - 1/e`` of the best ``k``-set and exact for
  ``k = 1``.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import InputError
from ._tomlfile import _fmt
from .network import WalkNetwork
from .reach import ReachInputs, prepare
from .rubric import Item, Rubric
from .scoring import (
    ChecklistLike,
    Scorecard,
    _as_rubric,
    _check_coverage,
    _check_members,
    _compound_items,
    _weights,
    score,
)

__all__ = ["suggest_sites"]

log = logging.getLogger(__name__)


def _share_points(card: Scorecard, item_id: str) -> tuple[float, float]:
    row = card.items.loc[card.items["item_id"] == item_id]
    return float(row["share"].iloc[0]), float(row["points"].iloc[0])


def _resolve_item(rubric: Rubric, item_or_category: str) -> Item:
    if item_or_category in rubric.item_ids:
        item = rubric.item(item_or_category)
    else:
        matches = [i for i in rubric.spatial_items if item_or_category in i.categories]
        if not matches:
            ids = [i.id for i in rubric.spatial_items]
            msg = f"{item_or_category!r} is neither an item nor a category of rubric {rubric.name!r}. Spatial items: {ids}."
            raise InputError(msg)
        item = matches[0]
    if item.kind != "spatial":
        msg = f"Item {item.id!r} ({item.name_zh}) is a checklist item, not a place on the map; nothing to site."
        raise InputError(msg)
    return item


def suggest_sites(
    net: WalkNetwork | ReachInputs,
    gates: gpd.GeoDataFrame | None,
    coverage: pd.DataFrame,
    item: str,
    *,
    k: int = 1,
    candidates: gpd.GeoDataFrame | None = None,
    compounds: pd.DataFrame | None = None,
    rubric: Rubric | str | Path | None = None,
    checklist: ChecklistLike | None = None,
) -> gpd.GeoDataFrame:
    """Suggest up to ``k`` sites for new facilities of one item that cover the most households.

    Parameters
    ----------
    net
        The walk network, or the :class:`~quarter_hour.reach.ReachInputs` from
        :func:`~quarter_hour.reach.prepare` (its snapped gates are reused).
    gates
        Gates table (docs/CONTRACTS.md); ignored (may be None) when ``net`` is a ReachInputs.
    coverage
        Current coverage (:func:`quarter_hour.reach.coverage`) of the community's compounds.
    item
        Rubric item id (``"wet_market"``) or a category id of a spatial item.
    k
        How many new facilities to place (greedily, one after another).
    candidates
        Candidate points (GeoDataFrame, any CRS; ids from a ``candidate_id`` column or the index).
        Default: every node of the walk network.
    compounds
        ``compound_id`` and ``households`` as for :func:`quarter_hour.scoring.score`.
    rubric
        Rubric, shipped name or path (default 杭锦旗 2023); its walk limit is used.
    checklist
        Checklist for the totals reported (as for :func:`quarter_hour.scoring.score`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per suggestion in the order chosen, in the network's CRS: ``rank``,
        ``candidate_id``, ``node`` (network node index, -1 for user points), ``added_compounds``
        (list), ``added_households`` (NaN when households are unknown), ``added_share``,
        ``share_after``, ``item_points``, ``total``, ``grade``, ``geometry``. Fewer than ``k``
        rows when no candidate adds anything. ``attrs`` hold the baseline: ``item``,
        ``baseline_share``, ``baseline_points``, ``baseline_total``, ``baseline_grade``,
        ``uncovered`` (compound ids) and ``limit_m``.

    Raises
    ------
    InputError
        Unknown or checklist item, ``k < 1``, or inputs the scoring rejects.
    """
    if not isinstance(k, int | np.integer) or k < 1:
        msg = f"`k` must be a positive whole number of facilities, got {k!r}."
        raise InputError(msg)
    rub = _as_rubric(rubric)
    it = _resolve_item(rub, item)
    limit = rub.walk.limit_m
    if isinstance(net, ReachInputs):
        ri = net
    elif gates is None:
        msg = "suggest_sites() needs `gates` (or a ReachInputs from quarter_hour.reach.prepare())."
        raise InputError(msg)
    else:
        ri = prepare(net, gates)
    base_net = ri.net

    # --- who lacks the item, and how much each compound weighs (as scoring does) ---------------
    cov, _ = _check_coverage(coverage, rub)
    members = _check_members(cov, compounds, community=None, community_col=None)
    ci = _compound_items(cov, members, rub)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # score() below warns once, where the user can see it
        w, _how = _weights(members)
    weight = dict(zip(members["compound_id"], w, strict=True))
    households = dict(zip(members["compound_id"], members["households"], strict=True))
    wsum = float(sum(weight.values()))
    reached = ci.loc[ci["item_id"] == it.id].set_index("compound_id")["reachable"]
    uncovered = [c for c in members["compound_id"] if not bool(reached.get(c, False))]
    baseline = score(coverage, rub, compounds=compounds, checklist=checklist)
    base_share, base_points = _share_points(baseline, it.id)

    # --- candidates -------------------------------------------------------------------------------
    if candidates is None:
        cand_ids = np.arange(base_net.n_nodes)
        cand_xy = base_net.node_xy
        aug = base_net.augment(ri.gates_snapped)
        cand_nodes = np.arange(base_net.n_nodes, dtype=np.int64)
        node_of = cand_nodes
    else:
        if "candidate_id" in candidates.columns:
            cand_ids = candidates["candidate_id"].to_numpy()
        else:
            cand_ids = candidates.index.to_numpy()
        snapped = base_net.snap(candidates, name="candidates")
        aug = base_net.augment(ri.gates_snapped, snapped)
        cand_nodes = aug.access_nodes(1)
        cand_xy = snapped.xy
        node_of = np.full(len(cand_ids), -1, dtype=np.int64)

    # --- exact coverage sets: which uncovered compounds each candidate would bring in reach ----
    gate_compound = ri.gates["compound_id"].astype(str).to_numpy()
    gate_pos = np.flatnonzero(np.isin(gate_compound, uncovered))
    gate_nodes = aug.access_nodes(0)[gate_pos]
    covers: dict[int, set[str]] = {}
    if len(gate_pos) and len(cand_nodes):
        gi, cj, _d = aug.pairs_within(gate_nodes, cand_nodes, limit_m=limit)
        for g, c in zip(gi.tolist(), cj.tolist(), strict=True):
            covers.setdefault(c, set()).add(str(gate_compound[gate_pos[g]]))
    log.info(
        "Siting %s: %s uncovered compounds, %s candidates within %s m of them",
        it.id, len(uncovered), len(covers), _fmt(limit),
    )  # fmt: skip

    # --- greedy maximal covering --------------------------------------------------------------
    remaining = set(uncovered)
    covered_now = set(members["compound_id"]) - remaining
    rows: list[dict[str, Any]] = []
    cov_after = coverage.copy()
    cov_after.attrs = dict(coverage.attrs)
    for rank in range(1, int(k) + 1):
        best, best_gain = -1, 0.0
        for c in sorted(covers):
            gain = sum(weight[x] for x in covers[c] & remaining)
            if gain > best_gain + 1e-12:
                best, best_gain = c, gain
        if best < 0:
            break
        added = sorted(covers[best] & remaining, key=list(members["compound_id"]).index)
        remaining -= set(added)
        covered_now |= set(added)
        mask = cov_after["compound_id"].astype(str).isin(added) & (
            cov_after["category"] == it.categories[0]
        )
        cov_after.loc[mask, "reachable"] = True
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            card = score(cov_after, rub, compounds=compounds, checklist=checklist)
        share_after, points_after = _share_points(card, it.id)
        hh = [households[x] for x in added]
        rows.append(
            {
                "rank": rank,
                "candidate_id": cand_ids[best],
                "node": int(node_of[best]),
                "added_compounds": added,
                "added_households": float(np.sum(hh)) if not np.isnan(hh).any() else np.nan,
                "added_share": best_gain / wsum if wsum else np.nan,
                "share_after": share_after,
                "item_points": points_after,
                "total": card.total,
                "grade": card.grade,
                "geometry": shapely.Point(*cand_xy[best]),
            }
        )
    cols = ["rank", "candidate_id", "node", "added_compounds", "added_households", "added_share",
            "share_after", "item_points", "total", "grade", "geometry"]  # fmt: skip
    out = gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry="geometry", crs=base_net.crs)
    out.attrs.update(
        item=it.id,
        baseline_share=base_share,
        baseline_points=base_points,
        baseline_total=baseline.total,
        baseline_grade=baseline.grade,
        uncovered=list(uncovered),
        limit_m=limit,
    )
    return out
