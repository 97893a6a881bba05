"""Command-line interface: ``quarter-hour``.

Sub-commands: ``demo`` (the whole job offline on the bundled sample), ``run`` (a project file),
``network``, ``isochrones``, ``coverage``, ``score``, ``map``, ``report`` and ``batch``.
Exit codes: 0 success, 1 the job failed (the error is printed as one paragraph; ``--verbose``
adds the traceback), 2 bad usage. This module is the only place where logging is configured.
"""

from __future__ import annotations

import argparse
import logging
import sys
import textwrap
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from ._errors import QuarterHourError

log = logging.getLogger("quarter_hour.cli")

_COMMUNITY_OUTPUTS = {
    "demo": ["map", "poster", "scorecard", "data"],
    "run": None,  # from the project file
    "score": ["data"],
    "map": ["map", "poster"],
    "report": ["scorecard", "data"],
}


def _say(args: argparse.Namespace, text: str = "") -> None:
    if not args.quiet:
        print(text)


def _steps(args: argparse.Namespace, total: int, desc: str) -> Any:
    from tqdm.auto import tqdm

    # disable=None: no bar when stderr is not a terminal (logs, CI, pipes)
    return tqdm(total=total, desc=desc, disable=True if args.quiet else None, leave=False, file=sys.stderr,
                bar_format="{desc} {n}/{total} {bar} {elapsed}")  # fmt: skip


# --------------------------------------------------------------------------------------------
# one community: demo, run, score, map, report
# --------------------------------------------------------------------------------------------
def _project_from_args(args: argparse.Namespace) -> Any:
    from .pipeline import SAMPLE, Project

    proj = Project(
        name=args.name,
        network=str(Path(args.network).resolve()) if args.network not in (None, SAMPLE) else SAMPLE,
        gates=_abs(args.gates),
        pois=_abs(args.pois),
        gates_coord_system=args.gates_coord_system,
        pois_coord_system=args.pois_coord_system,
        encoding=args.encoding,
        mapping=_abs(args.mapping),
        rubric=_rubric_arg(args.rubric),
        checklist=_abs(args.checklist),
        minutes=args.minutes,
        speed_m_per_min=args.speed,
        max_snap_m=args.max_snap,
        isochrone_minutes=args.isochrone_minutes,
        lang=args.lang,
        out=str(args.out),
    )
    outputs = _COMMUNITY_OUTPUTS.get(args.command)
    if outputs is not None:
        proj.outputs = list(outputs)
    return proj


def _rubric_arg(value: str) -> str:
    return str(Path(value).expanduser().resolve()) if value.endswith(".toml") else value


def _abs(value: str | None) -> str | None:
    return None if value is None else str(Path(value).expanduser().resolve())


def _run_community_project(args: argparse.Namespace, project: Any, out: Path) -> int:
    from . import pipeline

    with _steps(args, 3, "quarter-hour") as bar:
        bar.set_description("loading inputs")
        inputs = pipeline.load_inputs(project)
        bar.update(1)
        bar.set_description("walking and scoring")
        rubric = (
            str(project.path(project.rubric))
            if project.rubric.endswith(".toml")
            else project.rubric
        )
        result = pipeline.run_community(
            inputs, rubric=rubric, checklist=project.path(project.checklist), minutes=project.minutes,
            speed_m_per_min=project.speed_m_per_min, max_snap_m=project.max_snap_m,
            isochrone_minutes=project.isochrone_minutes if "map" in project.outputs or
            "poster" in project.outputs else None,
            isochrone_outline=project.isochrone_outline, name=project.name,
        )  # fmt: skip
        bar.update(1)
        bar.set_description("writing outputs")
        files = pipeline.write_outputs(result, out, outputs=project.outputs, lang=project.lang,
                                       project=project)  # fmt: skip
        bar.update(1)
    card = result.scorecard
    _say(args, f"{card.community}: {card.total:.2f} / {card.rubric.total_points:g} points, "
               f"{card.grade} ({card.grade_en}){'' if card.passed else ' — not passed'}")  # fmt: skip
    for reason in card.reasons:
        _say(args, f"  - {reason}")
    _say(args, f"Files written to {out}/:")
    for path in files.values():
        _say(args, f"  {path.name}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .pipeline import Project

    project = Project(name=args.name or "Helsinki 示例社区 (sample)", out=str(args.out),
                      outputs=list(_COMMUNITY_OUTPUTS["demo"] or []), lang=args.lang)  # fmt: skip
    _say(args, "Running the whole job offline on the bundled sample (central Helsinki, "
               "© OpenStreetMap contributors, ODbL 1.0).")  # fmt: skip
    return _run_community_project(args, project, Path(args.out))


def _cmd_run(args: argparse.Namespace) -> int:
    from .pipeline import Project

    project = Project.from_toml(args.project)
    out = Path(args.out) if args.out else (project.path(project.out) or Path(project.out))
    if project.job == "batch":
        return _run_batch(args, project, out)
    return _run_community_project(args, project, out)


def _cmd_community(args: argparse.Namespace) -> int:
    if args.network is None:
        args.parser.error(f"`{args.command}` needs --network FILE (or `sample:helsinki`).")
    project = _project_from_args(args)
    return _run_community_project(args, project, Path(args.out))


# --------------------------------------------------------------------------------------------
# stages: network, isochrones, coverage
# --------------------------------------------------------------------------------------------
def _cmd_network(args: argparse.Namespace) -> int:
    from . import network

    with _steps(args, 1, "loading network") as bar:
        net = network.load(args.source, **({"crs": args.crs} if args.crs else {}))
        if not args.all_components:
            net = net.largest_component()
        bar.update(1)
    summary = net.summary()
    width = max(len(k) for k in summary)
    for k, v in summary.items():
        _say(args, f"{k:<{width}}  {v}")
    if args.out:
        out = Path(args.out)
        if out.suffix.lower() != ".gpkg":
            args.parser.error(f"--out must be a GeoPackage (.gpkg), got {str(out)!r}.")
        out.parent.mkdir(parents=True, exist_ok=True)
        edges = net.edges_gdf()
        for c in edges.columns:
            if c != "geometry" and edges[c].dtype == object:
                edges[c] = edges[c].map(lambda x: None if x is None else str(x))
        edges.to_file(out, layer="edges", driver="GPKG")
        net.nodes_gdf().to_file(out, layer="nodes", driver="GPKG")
        _say(args, f"Wrote {out} (layers: edges, nodes)")
    return 0


def _load_for_stage(args: argparse.Namespace, need_pois: bool) -> Any:
    from . import pipeline

    if args.network is None or (args.gates is None and not _is_osm(args.network)):
        args.parser.error(f"`{args.command}` needs --network and --gates (or an OSM network file).")
    project = _project_from_args(args)
    if not need_pois:
        project.pois = project.pois or project.gates
    return pipeline.load_inputs(project) if need_pois else _gates_only(project)


def _is_osm(path: str | None) -> bool:
    return path is not None and (
        path == "sample:helsinki" or path.lower().endswith((".pbf", ".osm", ".osm.bz2", ".osm.xml"))
    )


def _gates_only(project: Any) -> Any:
    from . import network, pipeline, readers

    if project.gates is None:
        return pipeline.load_inputs(project)
    net_path = project.path(project.network)
    if net_path is None:
        from . import datasets

        net_path = datasets.get_path("helsinki_pbf")
    net = network.load(net_path).largest_component()
    g = readers.read_points(
        project.path(project.gates),
        kind="gates",
        coord_system=project.gates_coord_system,
        encoding=project.encoding,
    )
    return pipeline.Inputs(net, g, g.iloc[:0])


def _cmd_isochrones(args: argparse.Namespace) -> int:
    from . import isochrone

    inputs = _load_for_stage(args, need_pois=False)
    speed = args.speed or 80.0
    mins = args.isochrone_minutes or [args.minutes or 15.0]
    iso = isochrone.isochrones(
        inputs.network,
        inputs.gates,
        minutes=mins,
        speed_m_per_min=speed,
        by=args.by,
        outline=args.outline,
        max_snap_m=args.max_snap,
    )
    out = Path(args.out)
    if out.suffix.lower() not in (".gpkg", ".geojson"):
        args.parser.error(f"--out must end in .gpkg or .geojson, got {str(out)!r}.")
    out.parent.mkdir(parents=True, exist_ok=True)
    iso.to_crs(4326).to_file(out, driver="GPKG" if out.suffix.lower() == ".gpkg" else "GeoJSON")
    _say(args, f"{len(iso)} walking areas ({', '.join(f'{m:g}' for m in mins)} min at {speed:g} m/min) "
               f"for {iso['compound_id'].nunique()} compounds -> {out}")  # fmt: skip
    return 0


def _cmd_coverage(args: argparse.Namespace) -> int:
    from . import reach
    from .pipeline import _rubric

    inputs = _load_for_stage(args, need_pois=True)
    rub = _rubric(args.rubric if not args.rubric.endswith(".toml") else _abs(args.rubric),
                  args.minutes, args.speed)  # fmt: skip
    cov = reach.coverage(inputs.network, inputs.gates, inputs.pois, limit_m=rub.walk.limit_m,
                         categories=list(rub.categories), max_snap_m=args.max_snap)  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    cov.to_csv(out, index=False, encoding="utf-8-sig")
    share = cov.groupby("category")["reachable"].mean()
    _say(args, f"{cov['compound_id'].nunique()} compounds x {cov['category'].nunique()} categories "
               f"within {rub.walk.limit_m:g} m -> {out}")  # fmt: skip
    _say(args, f"  categories reached by every compound: {int((share == 1).sum())}; "
               f"by none: {int((share == 0).sum())}")  # fmt: skip
    return 0


# --------------------------------------------------------------------------------------------
# batch
# --------------------------------------------------------------------------------------------
def _cmd_batch(args: argparse.Namespace) -> int:
    from .pipeline import Project

    if (args.network is None) == (args.networks is None):
        args.parser.error("`batch` needs exactly one of --network FILE or --networks TABLE.")
    if args.workers is not None and args.workers < 1:
        args.parser.error(f"--workers must be at least 1, got {args.workers}.")
    project = Project(
        job="batch", name=args.name, network=_abs(args.network) or "", networks=_abs(args.networks),
        gates=_abs(args.gates), pois=_abs(args.pois), gates_coord_system=args.gates_coord_system,
        pois_coord_system=args.pois_coord_system, encoding=args.encoding, mapping=_abs(args.mapping),
        rubric=_rubric_arg(args.rubric),
        checklist=_abs(args.checklists), minutes=args.minutes, speed_m_per_min=args.speed,
        max_snap_m=args.max_snap, community_col=args.community_col, chunk_size=args.chunk_size,
        workers=args.workers, scheduler=args.scheduler, out=str(args.out),
    )  # fmt: skip
    return _run_batch(args, project, Path(args.out))


def _read_networks_table(path: Path) -> dict[str, str]:
    import pandas as pd

    from ._errors import InputError

    table = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    if not {"city", "network"} <= set(table.columns):
        msg = f"{path} must have columns 'city' and 'network'; found {list(table.columns)}."
        raise InputError(msg)
    return {
        str(c): str((path.parent / n).resolve())
        for c, n in zip(table["city"], table["network"], strict=True)
    }


def _run_batch(args: argparse.Namespace, project: Any, out: Path) -> int:
    from . import batch
    from .pipeline import _rubric

    networks: Any = (_read_networks_table(project.path(project.networks)) if project.networks
                     else project.path(project.network))  # fmt: skip
    rubric = (
        str(project.path(project.rubric)) if project.rubric.endswith(".toml") else project.rubric
    )
    rub = _rubric(rubric, project.minutes, project.speed_m_per_min)
    t = time.perf_counter()
    res = batch.score_batch(
        project.path(project.gates), networks, project.path(project.pois), out_dir=out, rubric=rub,
        checklists=project.path(project.checklist), workers=project.workers,
        scheduler=project.scheduler, max_snap_m=project.max_snap_m, chunk_size=project.chunk_size,
        community_col=project.community_col, coord_system=project.gates_coord_system,
        pois_coord_system=project.pois_coord_system, encoding=project.encoding,
        taxonomy=project.path(project.mapping), overwrite=getattr(args, "overwrite", False),
        progress=not args.quiet and sys.stderr.isatty(),
    )  # fmt: skip
    project.absolute_paths().to_toml(out / "project.toml")
    s = res.summary
    where = (
        f"{project.workers} local workers"
        if project.workers
        else (f"scheduler {project.scheduler}" if project.scheduler else "serially")
    )
    _say(args, f"Scored {res.n_ok} of {len(s)} communities {where} in {time.perf_counter() - t:.1f} s "
               f"({res.n_skipped} reused from an earlier run, {res.n_failed} failed).")  # fmt: skip
    ok = s[s["status"] == "ok"]
    if len(ok):
        counts = ok["grade"].value_counts()
        _say(args, "Grades: " + ", ".join(f"{g} {n}" for g, n in counts.items()))
        show = ok.sort_values("total", ascending=False)
        for r in show.head(20 if args.verbose else 10).itertuples():
            _say(args, f"  {r.community_id:<24} {r.total:6.2f}  {r.grade} ({r.grade_en})")
        if len(show) > 10:
            _say(args, f"  ... {len(show) - 10} more in summary.csv")
    for r in s[s["status"] == "failed"].itertuples():
        _say(args, f"  FAILED {r.community_id}: {r.error}")
    _say(args, f"Results: {out}/<community>.json, summary: {out / batch.SUMMARY_FILE}, "
               f"project file: {out / 'project.toml'}")  # fmt: skip
    return 1 if res.n_failed and res.n_ok == 0 else 0


# --------------------------------------------------------------------------------------------
# the parser
# --------------------------------------------------------------------------------------------
def _input_options(p: argparse.ArgumentParser, *, pois: bool = True) -> None:
    g = p.add_argument_group("inputs")
    g.add_argument("--network", metavar="FILE",
                   help="street network: .osm.pbf/.osm/.osm.bz2 (compounds, gates and businesses are "
                        "taken from it when --gates/--pois are not given), .graphml, .gpkg, .shp, "
                        ".geojson, or 'sample:helsinki'")  # fmt: skip
    g.add_argument(
        "--gates", metavar="FILE", help="gates table (CSV/Excel/GeoJSON/GeoPackage/Shapefile)"
    )
    g.add_argument(
        "--gates-coord-system", metavar="SYS", help="wgs84 | gcj02 | bd09 (coordinates of --gates)"
    )
    if pois:
        g.add_argument(
            "--pois", metavar="FILE", help="businesses table (classified when it has no `category`)"
        )
        g.add_argument(
            "--pois-coord-system",
            metavar="SYS",
            help="wgs84 | gcj02 | bd09 (coordinates of --pois)",
        )
        g.add_argument(
            "--mapping", metavar="FILE", help="category mapping (taxonomy) file; default: shipped"
        )
    else:
        p.set_defaults(pois=None, pois_coord_system=None, mapping=None)
    g.add_argument("--encoding", help="text encoding of CSV inputs (default: detected)")
    s = p.add_argument_group("walk and scoring")
    s.add_argument(
        "--rubric", default="hangjin_2023", help="shipped rubric name or rubric TOML file"
    )
    s.add_argument(
        "--checklist", metavar="FILE", help="checklist of the non-spatial items (TOML/YAML/JSON)"
    )
    s.add_argument("--minutes", type=float, help="walk time in minutes (default: the rubric's, 15)")
    s.add_argument(
        "--speed", type=float, metavar="M_PER_MIN", help="walking speed in m/min (default 80)"
    )
    s.add_argument("--max-snap", type=float, default=300.0, metavar="M",
                   help="points farther than this from a street are not snapped (default 300 m)")  # fmt: skip
    p.add_argument(
        "--name", default="community", help="the community's name on maps and scorecards"
    )
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="labels (default zh)")
    p.set_defaults(isochrone_minutes=[5.0, 10.0, 15.0])


def build_parser() -> argparse.ArgumentParser:
    """The ``quarter-hour`` argument parser (sub-commands and their options)."""
    p = argparse.ArgumentParser(
        prog="quarter-hour",
        description="一刻钟便民生活圈 assessment: walk networks, reach, Annex 2 scoring, maps and "
                    "scorecards. Start with `quarter-hour demo`.",
    )  # fmt: skip
    p.add_argument("--version", action="version", version=f"quarter_hour {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v", "--verbose", action="store_true", help="debug log; tracebacks on error"
    )
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bars, only errors")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    d = sub.add_parser(
        "demo", parents=[common], help="the whole job offline on the bundled Helsinki sample"
    )
    d.add_argument("--out", default="demo-output", help="output folder (default: demo-output)")
    d.add_argument("--name", default=None, help="community name on the outputs")
    d.add_argument("--lang", choices=["zh", "en"], default="zh")
    d.set_defaults(func=_cmd_demo)

    r = sub.add_parser("run", parents=[common], help="run a project file (as written by every job)")
    r.add_argument("project", help="project .toml file")
    r.add_argument("--out", help="output folder (default: the project's `out`)")
    r.add_argument("--overwrite", action="store_true", help="batch: recompute finished communities")
    r.set_defaults(func=_cmd_run)

    n = sub.add_parser(
        "network", parents=[common], help="load, clean, summarise and save a walk network"
    )
    n.add_argument("source", help=".osm.pbf/.osm/.osm.bz2/.graphml/.gpkg/.shp/.geojson")
    n.add_argument("--crs", help="projected CRS for the network (default: local UTM zone)")
    n.add_argument("--all-components", action="store_true", help="keep disconnected pieces")
    n.add_argument("--out", help="save the network as a GeoPackage (layers edges, nodes)")
    n.set_defaults(func=_cmd_network)

    i = sub.add_parser(
        "isochrones", parents=[common], help="walking areas from the gates (GeoPackage/GeoJSON)"
    )
    _input_options(i, pois=False)
    i.add_argument("--isochrone-minutes", type=float, nargs="+", metavar="MIN", default=None,
                   help="minutes to draw (default: the walk limit)")  # fmt: skip
    i.add_argument("--by", choices=["compound", "gate"], default="compound")
    i.add_argument("--outline", choices=["grid", "buffer", "concave"], default="grid")
    i.add_argument("--out", required=True, help="output .gpkg or .geojson (WGS-84)")
    i.set_defaults(func=_cmd_isochrones)

    c = sub.add_parser(
        "coverage", parents=[common], help="compound x category coverage table (CSV)"
    )
    _input_options(c)
    c.add_argument("--out", required=True, help="output CSV")
    c.set_defaults(func=_cmd_coverage)

    for name, help_, default_out in (
        (
            "score",
            "score one community; print the card, write scorecard.json and coverage.csv",
            "score-output",
        ),
        ("map", "the community's 一图: map.html and poster.png/.pdf", "map-output"),
        (
            "report",
            "the scorecard in Annex 2's layout: scorecard.xlsx and scorecard.html",
            "report-output",
        ),
    ):
        sp = sub.add_parser(name, parents=[common], help=help_)
        _input_options(sp)
        sp.add_argument(
            "--out", default=default_out, help=f"output folder (default: {default_out})"
        )
        sp.set_defaults(func=_cmd_community)

    b = sub.add_parser(
        "batch", parents=[common], help="score many communities (serially or on Dask)"
    )
    b.add_argument("--gates", required=True, metavar="TABLE|FOLDER",
                   help="gates of all communities (with a community column) or a folder, one file per community")  # fmt: skip
    b.add_argument(
        "--community-col", default="community_id", help="community column (default community_id)"
    )
    b.add_argument("--network", metavar="FILE", help="one network for all communities")
    b.add_argument(
        "--networks", metavar="CSV", help="table of `city,network` (gates need a `city` column)"
    )
    b.add_argument("--pois", required=True, metavar="FILE", help="businesses table")
    b.add_argument("--gates-coord-system", metavar="SYS")
    b.add_argument("--pois-coord-system", metavar="SYS")
    b.add_argument("--encoding")
    b.add_argument("--mapping", metavar="FILE", help="category mapping file")
    b.add_argument("--rubric", default="hangjin_2023")
    b.add_argument("--checklists", metavar="FOLDER|FILE",
                   help="folder of <community_id>.toml checklists, or one file for all")  # fmt: skip
    b.add_argument("--minutes", type=float)
    b.add_argument("--speed", type=float, metavar="M_PER_MIN")
    b.add_argument("--max-snap", type=float, default=300.0, metavar="M")
    b.add_argument("--workers", type=int, help="run on a local Dask cluster of N worker processes")
    b.add_argument(
        "--scheduler", metavar="ADDRESS", help="run on an existing Dask cluster (tcp://host:8786)"
    )
    b.add_argument("--chunk-size", type=int, default=50, help="communities per task (default 50)")
    b.add_argument("--overwrite", action="store_true", help="recompute communities already done")
    b.add_argument("--name", default="batch")
    b.add_argument("--out", default="batch-output", help="output folder (default: batch-output)")
    b.set_defaults(func=_cmd_batch)
    return p


def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s" if not args.verbose
                                           else "%(asctime)s %(levelname)s %(name)s: %(message)s"))  # fmt: skip
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("quarter_hour").setLevel(logging.DEBUG if args.verbose else logging.INFO
                                               if not args.quiet else logging.ERROR)  # fmt: skip
    handler.setLevel(
        logging.DEBUG if args.verbose else logging.WARNING if not args.quiet else logging.ERROR
    )

    # library warnings (points not snapped, categories with no facility ...) as one line each
    def show(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
        if not args.quiet:
            print(_paragraph(f"warning: {message}"), file=sys.stderr)

    warnings.showwarning = show
    warnings.simplefilter("default")
    for noisy in ("distributed", "pyrosm", "numexpr", "fiona", "pyogrio", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.ERROR if not args.verbose else logging.INFO)


def _paragraph(text: str) -> str:
    return textwrap.fill(" ".join(text.split()), width=100, subsequent_indent="  ")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``quarter-hour``; returns the exit code (0 ok, 1 failed job, 2 bad usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.parser = parser
    _configure_logging(args)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.verbose:
            import traceback

            traceback.print_exc()
        if isinstance(exc, QuarterHourError | OSError):
            text = str(exc)
        else:
            text = f"{type(exc).__name__}: {exc}. This looks like a bug in quarter_hour; please report it"
        hint = "" if args.verbose else " (run with --verbose for the traceback)"
        print(_paragraph(f"error: {text}{hint}"), file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
