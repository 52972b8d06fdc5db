"""Issue 13 item 4: model options that would silently change results are errors or loud warnings."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import rasterio

from netqa.cli import main
from netqa.errors import InputError
from netqa.modelcheck import (
    auto_model,
    check_tuned_clutter,
    fitted_with_clutter,
    resolve_model,
)
from propagation import SPM_DEFAULT_K

T = Path(__file__).resolve().parents[1] / "testdata"
SMALL = ["--radius-km", "2", "--resolution-m", "250"]


def _tuned(path: Path, clutter: dict) -> Path:
    k = SPM_DEFAULT_K
    lines = ["[spm]"] + [f"{n} = {getattr(k, n)!r}" for n in ("k1", "k2", "k3", "k4", "k5", "k6", "k7", "f_ref_mhz")]
    if clutter:
        lines += ["[clutter_loss_db]"] + [f"{n} = {v!r}" for n, v in clutter.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(("freqs", "model"), [([806.0], "hata"), ([150.0, 1500.0], "hata"), ([1815.0, 1960.0], "cost231"),
                                              ([806.0, 1815.0, 3500.0], "tr38901-uma"), ([2600.0], "tr38901-uma"),
                                              ([100.0, 2600.0], "hata")])  # fmt: skip
def test_auto_model_holds_every_carrier_in_its_range(freqs, model):
    assert auto_model(freqs) == model


def test_an_explicit_model_outside_its_range_warns_loudly(caplog):
    with caplog.at_level(logging.WARNING, logger="netqa"):
        assert resolve_model("hata", [806.0, 2600.0], what="compare") == "hata"
    assert "WARNING: model hata holds 150-1500 MHz but cells transmit on 2600 MHz" in caplog.text


def test_predict_default_is_auto_and_the_geotiff_records_the_model(tmp_path, caplog):
    out = tmp_path / "cov.tif"
    with caplog.at_level(logging.INFO, logger="netqa"):
        assert main(["predict", "--cells", str(T / "cells.csv"), "--dem", str(T / "dem.tif"), "--out", str(out), *SMALL]) == 0
    with rasterio.open(out) as ds:
        assert ds.tags()["model"] == "tr38901-uma"  # 806/1815/3500 MHz: neither Hata nor COST-231 holds them all


@pytest.mark.parametrize("command", ["predict", "compare"])
def test_model_file_without_model_spm_is_an_error(command, tmp_path, capsys):
    tuned = _tuned(tmp_path / "tuned.toml", {})
    args = [command, "--cells", str(T / "cells.csv"), "--dem", str(T / "dem.tif"), "--model-file", str(tuned),
            "--model", "hata", "--out", str(tmp_path / "out")]  # fmt: skip
    if command == "compare":
        args += ["--samples", str(tmp_path / "none.parquet")]  # refused before any file is read
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--model-file" in err[0] and "--model spm" in err[0]
    assert not (tmp_path / "out").exists()


def test_calibrate_refuses_another_model(tmp_path, capsys):
    assert main(["calibrate", "--samples", "s.parquet", "--cells", str(T / "cells.csv"), "--dem", str(T / "dem.tif"),
                 "--model", "hata", "--out", str(tmp_path / "t.toml")]) == 2  # fmt: skip
    assert "always fits the SPM" in capsys.readouterr().err


def test_tuned_model_with_clutter_needs_the_clutter_raster(tmp_path, capsys):
    from netqa.calibrate.modelfile import read_model_file

    with_clutter = read_model_file(_tuned(tmp_path / "c.toml", {"urban": 12.0}))
    without = read_model_file(_tuned(tmp_path / "p.toml", {}))
    assert fitted_with_clutter(with_clutter) and not fitted_with_clutter(without)
    check_tuned_clutter(without, "p.toml", None)
    check_tuned_clutter(with_clutter, "c.toml", "clutter.tif")
    with pytest.raises(InputError, match=r"--model-file c.toml was fitted with clutter losses but no --clutter"):
        check_tuned_clutter(with_clutter, "c.toml", None)
    out = tmp_path / "cov.tif"
    assert main(["predict", "--cells", str(T / "cells.csv"), "--dem", str(T / "dem.tif"), "--model", "spm",
                 "--model-file", str(tmp_path / "c.toml"), "--out", str(out), *SMALL]) == 2  # fmt: skip
    assert "fitted with clutter losses" in capsys.readouterr().err and not out.exists()
