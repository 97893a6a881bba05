"""The walkthrough notebook runs end to end on the bundled sample (nbclient, the venv's kernel)."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "walkthrough.ipynb"


@pytest.mark.slow
def test_walkthrough_notebook_executes(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    if "python3" not in specs:
        pytest.skip(
            f"no 'python3' Jupyter kernel found (have: {sorted(specs)}); pip install ipykernel"
        )
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=600,
        resources={"metadata": {"path": str(tmp_path)}},  # the notebook writes to ./out
    )
    client.execute()

    out = tmp_path / "out"
    for name in ("map.html", "poster.png", "scorecard.xlsx", "scorecard.html", "coverage.png"):
        assert (out / name).is_file(), name
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "<script src=" not in html  # self-contained
    # every code cell ran and none raised; the map and the figures rendered inline
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    mimes = {
        m
        for o in outputs
        if o.output_type in ("display_data", "execute_result")
        for m in o.get("data", {})
    }
    assert "text/html" in mimes
    assert "image/png" in mimes
