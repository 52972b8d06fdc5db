"""Project files: unknown keys, missing files and impossible values are rejected by name."""

import json
from pathlib import Path

import pytest

from netqa.cli import main
from netqa.config import load_project
from netqa.errors import ConfigError
from netqa.pipeline import not_built, run_project


@pytest.fixture
def world(tmp_path):
    # a real cell table: netqa run checks that every input opens as what it claims before any stage runs
    (tmp_path / "cells.csv").write_bytes((Path(__file__).parent.parent / "testdata" / "cells.csv").read_bytes())
    (tmp_path / "drives").mkdir()
    (tmp_path / "drives" / "a.csv").write_text("time\n")
    (tmp_path / "drives" / "b.csv").write_text("time\n")
    return tmp_path


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "project.toml"
    p.write_text(text)
    return p


def test_valid_project_resolves_paths_and_globs(world):
    cfg = load_project(
        write(world, '[project]\nout = "run"\n[inputs]\ncells = "cells.csv"\nlogs = ["drives/*.csv"]\n'
              '[predict]\nmodel = "spm"\nresolution_m = 50\n')
    )
    assert cfg.inputs.cells == (world / "cells.csv").resolve()
    assert [p.name for p in cfg.inputs.logs] == ["a.csv", "b.csv"]
    assert cfg.predict.model == "spm" and cfg.predict.resolution_m == 50.0
    assert cfg.project.out == (world / "run").resolve()
    with pytest.raises(AttributeError):
        cfg.predict.model = "hata"  # frozen


@pytest.mark.parametrize(
    "text, match",
    [
        ("[predict]\nmodle = 'hata'\n", r"\[predict\] unknown key 'modle'; valid keys: .*model"),
        ("[predikt]\n", r"unknown section \[predikt\]"),
        ("[inputs]\ncells = 'nope.csv'\n", r"\[inputs\] cells: file not found: .*nope.csv"),
        ("[inputs]\nlogs = ['drives/*.txt']\n", r"\[inputs\] logs: no file matches 'drives/\*.txt'"),
        ("[predict]\nresolution_m = -5\n", r"\[predict\] resolution_m = -5 is outside 1..10000 m"),
        ("[predict]\nmodel = 'okumura'\n", r"\[predict\] model = 'okumura' is not one of auto, hata, cost231"),
        ("[predict]\nradius_km = 'far'\n", r"\[predict\] radius_km must be a number \[km\]"),
        ("[map]\nformats = ['png', 'pdf']\n", r"\[map\] formats: 'pdf' is not one of png, kmz, html"),
        ("[compare]\nenabled = 'yes'\n", r"\[compare\] enabled must be true or false"),
        ("[predict\n", r"not valid TOML"),
        ("[ingest]\nformat = 'tems'\n", r"\[ingest\] format = 'tems' is neither one of auto, netqa"),
    ],
    ids=["unknown-key", "unknown-section", "missing-file", "empty-glob", "negative-resolution",
         "unknown-model", "wrong-type", "unknown-map-format", "bool-type", "bad-toml", "unknown-log-format"],
)
def test_bad_project_rejected_naming_key(world, text, match):
    with pytest.raises(ConfigError, match=match):
        load_project(write(world, text))


@pytest.mark.parametrize(
    "text, needle",
    [("[predict]\nmodle = 'hata'\n", "unknown key 'modle'"), ("[inputs]\ndem = 'dem.tif'\n", "dem.tif")],
    ids=["unknown-key", "missing-file"],
)
def test_netqa_run_exits_2_naming_the_problem(world, text, needle, capsys):
    rc = main(["run", str(write(world, text)), "--out", str(world / "run")])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and "Traceback" not in err[0]


def test_manifest_records_inputs_parameters_versions_outputs(world):
    cfg = load_project(write(world, '[inputs]\ncells = "cells.csv"\nlogs = ["drives/*.csv"]\n'))

    def fake_stage(ctx):
        p = ctx.out_dir / "out.txt"
        p.write_text("hello")
        return [p]

    def unbuilt_stage(ctx):
        not_built("later", 99)

    manifest_path = run_project(cfg, world / "run", stages=[("fake", fake_stage), ("later", unbuilt_stage)])
    m = json.loads(manifest_path.read_text())
    inputs = {Path(i["path"]).name: i for i in m["inputs"]}
    assert set(inputs) == {"cells.csv", "a.csv", "b.csv"}
    import hashlib
    assert inputs["cells.csv"]["sha256"] == hashlib.sha256((world / "cells.csv").read_bytes()).hexdigest()
    assert m["parameters"]["predict"]["model"] == "auto"
    assert m["versions"]["numpy"] and m["versions"]["gdal"]
    assert m["outputs"] == [
        {"path": "out.txt", "bytes": 5, "sha256": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}
    ]
    assert m["stages"][0] == {"name": "fake", "status": "done", "seconds": m["stages"][0]["seconds"],
                              "outputs": ["out.txt"], "message": ""}
    assert m["stages"][1]["status"] == "not built" and "issue #99" in m["stages"][1]["message"]


def test_run_refuses_nonempty_folder_without_overwrite(world, capsys):
    (world / "run").mkdir()
    (world / "run" / "x").write_text("x")
    rc = main(["run", str(write(world, "")), "--out", str(world / "run")])
    assert rc == 2
    assert "--overwrite" in capsys.readouterr().err


def test_ingest_mapping_file_resolves_against_the_project(world):
    (world / "my_logs.toml").write_text("# mapping\n")
    cfg = load_project(write(world, "[ingest]\nformat = 'my_logs.toml'\n"))
    assert cfg.ingest.format == str((world / "my_logs.toml").resolve())
    assert load_project(write(world, "[ingest]\nformat = 'gnettrack'\n")).ingest.format == "gnettrack"
