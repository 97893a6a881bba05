"""Command-line interface: ``quarter-hour``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from ._errors import QuarterHourError


def _cmd_network(args: argparse.Namespace) -> int:
    from . import network

    net = network.load(args.source)
    if args.largest_component:
        net = net.largest_component()
    summary = {k: (list(v) if isinstance(v, tuple) else v) for k, v in net.summary().items()}
    print(json.dumps(summary, ensure_ascii=False, indent=2, default=float))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from . import datasets, network

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    net = network.from_osm_file(datasets.get_path("helsinki_pbf")).largest_component()
    summary = {k: (list(v) if isinstance(v, tuple) else v) for k, v in net.summary().items()}
    (out / "network_summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2, default=float), encoding="utf-8"
    )
    print(f"Walk network of the sample: {net!r}")
    print(f"Wrote {out / 'network_summary.json'}")
    return 0


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="quarter-hour",
        description="一刻钟便民生活圈 assessment: walk networks, reach, scoring, maps and scorecards.",
    )
    p.add_argument("--version", action="version", version=f"quarter_hour {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="more log output; tracebacks on error")
    p.add_argument("-q", "--quiet", action="store_true", help="only errors")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="run the whole job offline on the bundled Helsinki sample")
    d.add_argument("--out", default="demo-output", help="output folder (default: demo-output)")
    d.set_defaults(func=_cmd_demo)
    n = sub.add_parser("network", help="load, clean and summarise a walk network")
    n.add_argument("source", help=".osm.pbf/.osm/.osm.bz2/.graphml/.gpkg/.shp/.geojson")
    n.add_argument("--largest-component", action="store_true")
    n.set_defaults(func=_cmd_network)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 1 failed job, 2 bad usage)."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except QuarterHourError as exc:
        if args.verbose:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
