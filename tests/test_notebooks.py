"""The notebooks in ``notebooks/`` run top to bottom and are committed without outputs.

Each notebook is executed with nbclient in a kernel on this interpreter (a
kernelspec written into a temporary ``JUPYTER_PATH`` entry, so a personal
``python3`` kernelspec pointing at another Python cannot take its place), with
a temporary working directory: a notebook must find the test world through the
public API and write only to temporary folders.
"""

import ast
import json
import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is a dev dependency (pip install -e '.[dev]')")
nbclient = pytest.importorskip("nbclient", reason="nbclient is a dev dependency (pip install -e '.[dev]')")
pytest.importorskip("ipykernel", reason="ipykernel is a dev dependency (pip install -e '.[dev]')")
from nbclient.exceptions import CellExecutionError  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
EXPECTED = ("01_coverage_simulation", "02_drive_test_comparison_and_calibration", "03_regional_scoring")
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]
KERNEL_NAME = "netqa-test-python"
TIMEOUT_S = 300


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory):
    """A kernelspec running ``sys.executable`` (the venv's Python), found first on ``JUPYTER_PATH``."""
    root = tmp_path_factory.mktemp("jupyter")
    spec_dir = root / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "netqa test (this interpreter)", "language": "python"}  # fmt: skip
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(root))
        mp.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        yield KERNEL_NAME


def _tree(*dirs: Path) -> set[str]:
    return {str(p.relative_to(REPO)) for d in dirs for p in d.rglob("*") if "__pycache__" not in p.parts}


def test_the_three_notebooks_exist():
    assert tuple(p.stem for p in NOTEBOOKS) == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]  # fmt: skip
    assert dirty == [], f"{path.name}: code cells {dirty} carry outputs or execution counts; clear them"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_tells_a_story(path):
    """Opens with a markdown introduction and interprets between code cells."""
    nb = nbformat.read(path, as_version=4)
    kinds = [c.cell_type for c in nb.cells]
    assert kinds[0] == "markdown" and nb.cells[0].source.startswith("# ")
    assert kinds.count("markdown") >= 5 and kinds[-1] == "markdown"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_defines_no_library_logic(path):
    """Glue and plots only: no function or class definitions in code cells."""
    from IPython.core.inputtransformer2 import TransformerManager

    nb = nbformat.read(path, as_version=4)
    python = TransformerManager().transform_cell  # IPython magics (%matplotlib) -> plain Python
    defs = [(i, node.name) for i, c in enumerate(nb.cells) if c.cell_type == "code"
            for node in ast.walk(ast.parse(python(c.source)))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]  # fmt: skip
    assert defs == [], f"{path.name}: (cell, name) {defs} define logic; put it in the library"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs(path, kernel_name, tmp_path):
    nb = nbformat.read(path, as_version=4)
    before = _tree(NOTEBOOK_DIR, REPO / "testdata")
    client = nbclient.NotebookClient(nb, kernel_name=kernel_name, timeout=TIMEOUT_S,
                                     resources={"metadata": {"path": str(tmp_path)}})  # fmt: skip
    try:
        client.execute()
    except CellExecutionError as exc:
        plain = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # the kernel's traceback without terminal colours
        pytest.fail(f"{path.name}: a cell failed\n{plain}", pytrace=False)
    errors = [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]  # fmt: skip
    assert errors == []
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert images >= 1, f"{path.name}: no figure or map was displayed"
    assert _tree(NOTEBOOK_DIR, REPO / "testdata") == before, "the notebook wrote into the repository"
    assert list(tmp_path.iterdir()) == [], "the notebook wrote into its working directory"
