"""Bad-input and fault audit of the newer features (surface rasters, tuned model file, link, audit, ITM, selection).

Runs each case through the command line (``python -m netqa ...``) on the test world (``testdata/district``)
and corrupted temporary copies, and classifies the outcome:

* ``clean``    exit 2 with one ``netqa CMD: error: ...`` line (not the "netqa bug" line), no new outputs;
* ``warned``   exit 0 with the expected loud warning (cases where running on is acceptable);
* ``bug``      a traceback or the "unexpected ... a netqa bug" line;
* ``silent``   exit 0 where an error or a warning was expected (a silently wrong or ignored value);
* ``partial``  a failure that left some outputs behind;
* ``other``    any other exit code.

Usage (from the repository root)::

    PYTHONPATH=$PWD python benchmarks/fault_audit.py [--only SUBSTRING] [--jobs 2]

Prints one line per case and the counts per outcome.  Not a test (it runs ~100 CLI processes).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
D = ROOT / "testdata" / "district"


def _write_raster(path, data, *, like, crs="like", transform=None, nodata="like", dtype=None, count=None):
    import rasterio

    with rasterio.open(like) as src:
        prof = src.profile.copy()
    prof.update(driver="GTiff", compress="deflate")
    for k in ("blockxsize", "blockysize", "tiled"):
        prof.pop(k, None)
    if crs != "like":
        prof["crs"] = crs
    if transform is not None:
        prof["transform"] = transform
    if nodata != "like":
        prof["nodata"] = nodata
    arr = np.asarray(data)
    if arr.ndim == 2:
        arr = arr[None]
    prof.update(dtype=dtype or arr.dtype.name, count=count or arr.shape[0], height=arr.shape[1], width=arr.shape[2])
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(arr.astype(prof["dtype"]))


def build_inputs(w: Path) -> dict:
    """Corrupted copies of the district's inputs under ``w``; returns a name -> path map."""
    import pandas as pd
    import rasterio
    from affine import Affine

    p = {}
    s = pd.read_csv(D / "drives" / "district.csv", dtype={"cell_id": str})
    s.iloc[::4].to_csv(w / "samples.csv", index=False)
    p["samples"] = w / "samples.csv"
    b = D / "buildings.tif"
    with rasterio.open(b) as src:
        h = src.read(1).astype(np.float32)
        nd = src.nodata
        tr = src.transform
        dem_like = D / "dem.tif"
    with rasterio.open(dem_like) as src:
        dem = src.read(1).astype(np.float32)
        dem_tr = src.transform
    valid = h if nd is None else np.where(h == nd, 0, h)
    _write_raster(w / "s_wrongcrs.tif", h, like=b, crs="EPSG:4326")
    _write_raster(w / "s_nocrs.tif", h, like=b, crs=None)
    _write_raster(w / "s_far.tif", h, like=b, transform=Affine(tr.a, tr.b, tr.c + 100_000, tr.d, tr.e, tr.f))
    _write_raster(w / "s_nodataonly.tif", np.full_like(h, -9999.0), like=b, nodata=-9999.0)
    _write_raster(w / "s_zeros.tif", np.zeros_like(h), like=b)
    _write_raster(w / "s_negative.tif", valid - 50.0, like=b)
    _write_raster(w / "s_inf.tif", np.where(valid > 10, np.inf, valid), like=b)
    # absolute surface elevations (a DSM, not heights above ground): DEM + buildings on the DEM's grid
    _write_raster(w / "s_absolute.tif", dem + np.float32(3.0), like=dem_like, nodata=None)
    coarse = valid[::10, ::10]
    _write_raster(w / "s_coarse.tif", coarse, like=b,
                  transform=Affine(tr.a * 10, tr.b, tr.c, tr.d, tr.e * 10, tr.f))  # fmt: skip
    _write_raster(w / "s_int16.tif", np.round(valid).astype(np.int16), like=b, nodata=None, dtype="int16")
    nanh = valid.copy()
    nanh[: nanh.shape[0] // 3] = np.nan
    _write_raster(w / "s_nan_nodata.tif", nanh, like=b, nodata=float("nan"))
    _write_raster(w / "s_3band.tif", np.stack([valid, valid * 0, valid * 0]), like=b)
    half = valid[: valid.shape[0] // 8]
    _write_raster(w / "s_sliver.tif", half, like=b)
    (w / "s_text.tif").write_text("not a raster\n")
    (w / "s_empty.tif").write_bytes(b"")
    data = (b.read_bytes())
    (w / "s_truncated.tif").write_bytes(data[: len(data) // 2])
    p["dem_like_tr"] = dem_tr

    # cell tables
    cells = pd.read_csv(D / "cells.csv", dtype={"cell_id": str})
    c = cells.drop(columns=["tx_power_dbm"]).assign(rs_power_dbm=15.0)
    c.to_csv(w / "c_rsonly.csv", index=False)
    c = cells.copy().assign(rs_power_dbm="abc")
    c.to_csv(w / "c_rs_string.csv", index=False)
    c = cells.copy().assign(rs_power_dbm=30.0)  # 15 dB above what 46 dBm over 20 MHz gives
    c.to_csv(w / "c_rs_mismatch.csv", index=False)
    c = cells.copy().assign(ground_m=-5.0)  # valid range but hundreds of metres below the DEM
    c.to_csv(w / "c_ground_low.csv", index=False)
    c = cells.copy().assign(ground_m=np.nan)
    c.to_csv(w / "c_ground_nan.csv", index=False)
    c = cells.copy().assign(ground_m="high")
    c.to_csv(w / "c_ground_str.csv", index=False)
    c = cells.copy()
    c.loc[0, "height_m"] = -3.0
    c.to_csv(w / "c_height_neg.csv", index=False)
    c = cells.copy()
    c["lat"] = c["lat"] + 5.0  # every site outside the DEM
    c.to_csv(w / "c_outside.csv", index=False)
    return p


def _model_files(w: Path, base_toml: Path) -> None:
    """Corrupted tuned-model files from a calibrated one."""
    t = base_toml.read_text()

    def put(name, text):
        (w / name).write_text(text)

    put("m_k2_neg.toml", re.sub(r"(?m)^(\[spm\]\nk1 = [^\n]*\n)k2 = [^\n]*", r"\1k2 = -5.0", t, count=1))
    put("m_k4_neg.toml", re.sub(r"(?m)^k4 = [^\n]*", "k4 = -3.0", t, count=1))
    put("m_k3_pos.toml", re.sub(r"(?m)^k3 = [^\n]*", "k3 = 40.0", t))
    put("m_cell_k2_huge.toml", re.sub(r"(?m)^(\[cells\.10496001\]\nk1 = [^\n]*\n)k2 = [^\n]*", r"\1k2 = 500.0", t))
    put("m_cell_k1_str.toml", re.sub(r"(?m)^(\[cells\.10496001\]\n)k1 = [^\n]*", r'\1k1 = "abc"', t))
    put("m_cell_unknown.toml", t.replace("[cells.10496001]", "[cells.99999999]"))
    put("m_pw_zero.toml", t.replace("[model]", "[antenna]\npattern_weight = 0.0\n\n[model]"))
    put("m_pw_str.toml", t.replace("[model]", "[antenna]\npattern_weight = \"high\"\n\n[model]"))
    put("m_unknown_section.toml", t + "\n[extras]\nfoo = 1\n")
    put("m_unknown_key.toml", t.replace("[spm]\n", "[spm]\nk8 = 1.0\n", 1))
    put("m_bool.toml", re.sub(r"(?m)^k1 = [^\n]*", "k1 = true", t, count=1))
    put("m_truncated.toml", t[: len(t) // 3] + "\n[spm\n")
    put("m_heff_bad.toml", t.replace('h_eff_method = "relative"', 'h_eff_method = "sky"'))
    put("m_pc_near0.toml", t.replace("[model]", "[path_clutter]\nnear_m = 0.0\n[path_clutter.near_db]\nurban = 3.0\n\n[model]"))
    put("m_pc_str.toml", t.replace("[model]", "[path_clutter]\nnear_m = 300.0\n[path_clutter.near_db]\nurban = \"x\"\n\n[model]"))
    put("m_pc_unknown.toml", t.replace("[model]", "[path_clutter]\nfar_m = 300.0\n\n[model]"))
    put("m_pc_huge.toml", t.replace("[model]", "[path_clutter]\nnear_m = 300.0\n[path_clutter.near_db]\nurban = 900.0\n\n[model]"))
    put("m_pc_classes.toml", t.replace("[model]", "[path_clutter]\nnear_m = 300.0\n[path_clutter.near_db]\nmoon = 5.0\n\n[model]"))
    # a model file from another band: its bands moved to other carriers (2600 and 700 MHz)
    other = (t.replace("[band.LTE-1815]", "[band.LTE-2600]").replace("freq_mhz = 1815.0", "freq_mhz = 2600.0")
             .replace("[band.LTE-806]", "[band.LTE-700]").replace("freq_mhz = 806.0", "freq_mhz = 700.0")
             .replace("band.LTE-1815.", "band.LTE-2600.").replace("band.LTE-806.", "band.LTE-700.")
             .replace("calibration.band.LTE-1815", "calibration.band.LTE-2600")
             .replace("calibration.band.LTE-806", "calibration.band.LTE-700"))  # fmt: skip
    put("m_other_band.toml", other)
    put("m_band_freq_neg.toml", t.replace("freq_mhz = 1815.0", "freq_mhz = -1815.0"))
    put("m_fref_zero.toml", re.sub(r"(?m)^f_ref_mhz = [^\n]*", "f_ref_mhz = 0.0", t, count=1))
    put("m_clutter_nan.toml", t.replace("[model]", "[clutter_loss_db]\nurban = nan\n\n[model]"))
    put("m_clutter_huge.toml", t.replace("[model]", "[clutter_loss_db]\nurban = -400.0\n\n[model]"))


def _learned_files(w: Path, t_learned: Path) -> None:
    """Corrupted copies of a model file with a learned correction (and its sidecar)."""
    import hashlib

    text = t_learned.read_text()
    side = t_learned.with_name(t_learned.stem + ".learned.txt")
    blob = side.read_bytes()

    def put(name, toml_text, side_bytes=blob):
        d = w / name
        d.mkdir(exist_ok=True)
        (d / "t.toml").write_text(toml_text)
        if side_bytes is not None:
            (d / "t.learned.txt").write_bytes(side_bytes)

    put("L_ok", text)
    put("L_missing_sidecar", text, None)
    put("L_sha", text.replace('sha256 = "', 'sha256 = "00'))
    cut = blob[: len(blob) // 2]
    put("L_truncated", text.replace(hashlib.sha256(blob).hexdigest(), hashlib.sha256(cut).hexdigest()), cut)
    junk = b"this is not a lightgbm model\n"
    put("L_corrupt", text.replace(hashlib.sha256(blob).hexdigest(), hashlib.sha256(junk).hexdigest()), junk)
    put("L_features", text.replace('"log_h_eff_m"', '"h_eff_km"'))
    put("L_version", text.replace('library_version = "', 'library_version = "0.'))
    put("L_library", text.replace('library = "lightgbm"', 'library = "xgboost"'))
    put("L_lib_missing", text)  # run with a lightgbm that cannot be imported
    put("L_nfeat", re.sub(r'(names = \[)"log_dist_km", ', r"\1", text))
    put("L_abs_path", text.replace('file = "t.learned.txt"', 'file = "/nonexistent/t.learned.txt"'))
    (w / "nolgbm" / "lightgbm").mkdir(parents=True, exist_ok=True)
    (w / "nolgbm" / "lightgbm" / "__init__.py").write_text("raise ImportError('No module named lightgbm (audit)')\n")


def cases(w: Path, p: dict) -> list[tuple]:
    """(id, argv, expect, warn_regex or None, outputs, env-extra)."""
    cells, dem, samples = str(D / "cells.csv"), str(D / "dem.tif"), str(p["samples"])
    b = str(D / "buildings.tif")
    o = w / "out"
    pred = ["predict", "--cells", cells, "--dem", dem, "--model", "fspl", "--terrain", "delta-bullington",
            "--resolution-m", "5", "--radius-km", "0.3"]  # fmt: skip
    cmp_ = ["compare", "--samples", samples, "--cells", cells, "--dem", dem, "--model", "fspl", "--terrain",
            "delta-bullington", "--no-plots"]  # fmt: skip
    cal = ["calibrate", "--samples", samples, "--cells", cells, "--dem", dem, "--terrain", "delta-bullington"]
    link = ["link", "--cells", cells, "--dem", dem]
    out = []

    def add(cid, argv, expect="error", warn=None, env=None):
        tgt = o / cid
        if argv[0] == "predict":
            argv = argv + ["--out", str(tgt / "cov.tif")]
            outs = [tgt / "cov.tif", tgt / "cov.qml"]
        elif argv[0] == "compare":
            argv = argv + ["--out", str(tgt / "cmp")]
            outs = [tgt / "cmp"]
        elif argv[0] == "calibrate":
            argv = argv + ["--out", str(tgt / "t.toml")]
            outs = [tgt / "t.toml"]
        elif argv[0] == "link":
            argv = argv + ["--out", str(tgt / "l.png"), "--json", str(tgt / "l.json")]
            outs = [tgt / "l.png", tgt / "l.json"]
        elif argv[0] == "audit":
            argv = argv + ["--out", str(tgt / "a.csv")]
            outs = [tgt / "a.csv", tgt / "a.json"]
        else:
            outs = []
        out.append((cid, argv, expect, warn, outs, env))

    # --- surface rasters, in predict, compare and calibrate ---
    surf = {
        "wrongcrs": ("error", None), "nocrs": ("error", None), "far": ("error", None),
        "nodataonly": ("warn", r"no (building|obstacle)|nodata|all.*0"), "zeros": ("ok", None),
        "negative": ("error", None), "inf": ("error", None), "absolute": ("error", None),
        "coarse": ("warn", r"pixels sampled|coarser"), "int16": ("ok", None), "nan_nodata": ("ok", None),
        "3band": ("error", None), "sliver": ("warn", r"cover"), "text": ("error", None), "empty": ("error", None),
        "truncated": ("error", None), "missing": ("error", None),
    }  # fmt: skip
    for name, (exp, warn) in surf.items():
        path = str(w / f"s_{name}.tif")
        add(f"predict-surface-{name}", pred + ["--surface", path], exp, warn)
        if name in ("wrongcrs", "far", "nodataonly", "negative", "absolute", "3band", "text", "nocrs", "sliver"):
            add(f"compare-surface-{name}", cmp_ + ["--surface", path], exp, warn)
            add(f"calibrate-surface-{name}", cal + ["--surface", path], exp, warn)
    add("predict-surface-itm", pred[:-6] + ["--terrain", "itm", "--resolution-m", "5", "--radius-km", "0.3",
                                             "--surface", b])  # fmt: skip
    add("predict-surface-terrain-none", [*pred[:5], "--resolution-m", "5", "--radius-km", "0.3", "--surface", b],
        "warn", r"obstructs no path")
    add("compare-surface-terrain-none", [*cmp_[:9], "--no-plots", "--surface", b], "warn", r"obstructs no path|surface")
    add("calibrate-surface-terrain-none", [*cal[:7], "--surface", b], "warn", r"obstructs no path|surface")
    # --- tuned model files ---
    mf = {
        "k2_neg": "error", "k4_neg": "error", "k3_pos": "error", "cell_k2_huge": "error", "cell_k1_str": "error",
        "cell_unknown": ("warn", r"99999999|not in the cell table"), "pw_zero": "error", "pw_str": "error",
        "unknown_section": "error", "unknown_key": "error", "bool": "error", "truncated": "error",
        "heff_bad": "error", "pc_near0": "error", "pc_str": "error", "pc_unknown": "error", "pc_huge": "error",
        "pc_classes": ("warn", r"moon"), "other_band": ("warn", r"\[band\.KEY\]"), "band_freq_neg": "error",
        "fref_zero": "error", "clutter_nan": "error", "clutter_huge": "error",
    }  # fmt: skip
    spm = ["--model", "spm"]
    for name, exp in mf.items():
        exp, warn = (exp, None) if isinstance(exp, str) else exp
        path = str(w / f"m_{name}.toml")
        add(f"predict-model-{name}", [*pred[:3], *pred[3:5], *spm, *pred[7:], "--model-file", path], exp, warn)
        if name in ("k2_neg", "cell_k2_huge", "cell_unknown", "other_band", "pc_classes", "pc_huge", "k4_neg"):
            add(f"compare-model-{name}", [*cmp_[:7], *spm, *cmp_[9:], "--model-file", path], exp, warn)
            add(f"link-model-{name}", [*link, "--cell", "10496001", "--to", "40.442,-2.873", "--model-file", path],
                exp, warn)  # fmt: skip
    add("calibrate-prior-k2_neg", cal + ["--model-file", str(w / "m_k2_neg.toml")], "error")
    # a model file calibrated without terrain/surface (base.toml), applied with delta-bullington and a surface
    add("predict-model-terrain-mismatch", [*pred[:5], *spm, *pred[7:], "--model-file", str(w / "base.toml")],
        "warn", r"calibrated with --terrain none")  # fmt: skip
    add("compare-model-surface-mismatch", [*cmp_[:7], *spm, *cmp_[9:], "--model-file", str(w / "base.toml"),
                                           "--surface", b], "warn", r"calibrated without --surface")  # fmt: skip
    ld = {"ok": ("ok", None), "missing_sidecar": "error", "sha": "error", "truncated": "error", "corrupt": "error",
          "features": "error", "version": "error", "library": "error", "lib_missing": "error", "nfeat": "error",
          "abs_path": "error"}  # fmt: skip
    for name, exp in ld.items():
        exp, warn = (exp, None) if isinstance(exp, str) else exp
        env = {"PYTHONPATH": f"{w / 'nolgbm'}:{ROOT}"} if name == "lib_missing" else None
        mp = str(w / f"L_{name}" / "t.toml")
        add(f"compare-learned-{name}", [*cmp_[:7], *spm, "--model-file", mp, "--no-plots"], exp, warn, env)
        add(f"predict-learned-{name}", [*pred[:5], *spm, "--resolution-m", "10", "--radius-km", "0.3",
                                        "--model-file", mp], exp, warn, env)  # fmt: skip
    # --- link ---
    to = ["--cell", "10496001", "--to"]
    add("link-rx-outside-dem", [*link, *to, "41.5,-2.873"])
    add("link-rx-at-cell", [*link, *to, "40.439620,-2.875486"])
    add("link-unknown-cell", [*link, "--cell", "nope", "--to", "40.442,-2.873"])
    add("link-kfactor-0", [*link, *to, "40.442,-2.873", "--k-factor", "0"])
    add("link-kfactor-nan", [*link, *to, "40.442,-2.873", "--k-factor", "nan"])
    add("link-rxh-neg", [*link, *to, "40.442,-2.873", "--rx-height-m", "-2"])
    add("link-rxh-nan", [*link, *to, "40.442,-2.873", "--rx-height-m", "nan"])
    add("link-res-0", [*link, *to, "40.442,-2.873", "--resolution-m", "0"])
    add("link-res-neg", [*link, *to, "40.442,-2.873", "--resolution-m", "-5"])
    add("link-res-huge", [*link, *to, "40.442,-2.873", "--resolution-m", "1e9"])
    add("link-res-nan", [*link, *to, "40.442,-2.873", "--resolution-m", "nan"])
    add("link-itm", [*link, *to, "40.442,-2.873", "--terrain", "itm"], "ok")
    add("link-site-h-neg", ["link", "--dem", dem, "--site", "40.4396,-2.8755", "--height-m", "-10", "--freq-mhz",
                            "1800", "--to", "40.442,-2.873"])  # fmt: skip
    add("link-site-f-0", ["link", "--dem", dem, "--site", "40.4396,-2.8755", "--height-m", "20", "--freq-mhz",
                          "0", "--to", "40.442,-2.873"])  # fmt: skip
    add("link-site-f-nan", ["link", "--dem", dem, "--site", "40.4396,-2.8755", "--height-m", "20", "--freq-mhz",
                            "nan", "--to", "40.442,-2.873"])  # fmt: skip
    add("link-site-rs-nan", ["link", "--dem", dem, "--site", "40.4396,-2.8755", "--height-m", "20", "--freq-mhz",
                             "1800", "--rs-power-dbm", "nan", "--to", "40.442,-2.873"])  # fmt: skip
    add("link-site-gain-inf", ["link", "--dem", dem, "--site", "40.4396,-2.8755", "--height-m", "20", "--freq-mhz",
                               "1800", "--gain-dbi", "inf", "--to", "40.442,-2.873"])  # fmt: skip
    add("link-site-outside", ["link", "--dem", dem, "--site", "45.0,-2.8755", "--height-m", "20", "--freq-mhz",
                              "1800", "--to", "40.442,-2.873"])  # fmt: skip
    add("link-cells-outside", ["link", "--cells", str(w / "c_outside.csv"), "--dem", dem, *to, "40.442,-2.873"])
    add("link-ground-low", ["link", "--cells", str(w / "c_ground_low.csv"), "--dem", dem, *to, "40.442,-2.873"],
        "warn", r"ground_m")
    add("link-sample-neg", [*link, "--samples", samples, "--sample", "-1"])
    # --- ITM in predict/compare/calibrate ---
    add("predict-itm", [*pred[:5], "--terrain", "itm", "--resolution-m", "10", "--radius-km", "0.3"], "ok")
    add("compare-itm-surface", [*cmp_[:7], "--model", "fspl", "--terrain", "itm", "--no-plots", "--surface", b],
        "ok")  # fmt: skip
    add("calibrate-itm", [*cal[:7], "--terrain", "itm"], "ok")
    # --- cell tables ---
    for name, exp, warn in (("rsonly", "ok", None), ("rs_string", "error", None), ("rs_mismatch", "warn", r"differs"), ("ground_low", "warn", r"ground_m"),
                            ("ground_nan", "ok", None), ("ground_str", "error", None), ("height_neg", "error", None)):  # fmt: skip
        cp = str(w / f"c_{name}.csv")
        add(f"predict-cells-{name}", [pred[0], "--cells", cp, *pred[3:]], exp, warn)
        if name in ("ground_low", "rs_string"):
            add(f"compare-cells-{name}", [cmp_[0], "--samples", samples, "--cells", cp, *cmp_[5:]], exp, warn)
    # --- selection flags and resolution ---
    add("compare-sites-none", cmp_ + ["--sites", "ZZ9"])
    add("compare-cellids-unknown", cmp_ + ["--cell-ids", "10496001,nope"], "warn", r"nope")
    add("compare-exclude-all", cmp_ + ["--exclude-sites", "D01,D02,D03,D04,D05,D06"])
    add("compare-sites-empty", cmp_ + ["--sites", ""])
    add("compare-sites-file-missing", cmp_ + ["--sites", "@/nonexistent/sites.txt"])
    add("calibrate-sites-none", cal + ["--sites", "ZZ9"])
    add("calibrate-one-site", cal + ["--sites", "D01"], "warn", r"site|fold|held")
    add("calibrate-two-sites", cal + ["--sites", "D01,D02"], "warn", r"site|fold|held")
    add("calibrate-all-filtered", cal + ["--rsrp-floor-dbm", "0"])
    add("calibrate-few-samples", cal + ["--max-dist-km", "0.06", "--min-dist-km", "0.05"])
    add("calibrate-one-cell", cal + ["--cell-ids", "10496259"], "warn", r"hold-out needs")
    add("calibrate-cv-session-one", cal + ["--sites", "D01", "--cv-group", "session"], "warn", r"hold-out|held-out")
    add("predict-resolution-huge", [*pred[:7], "--resolution-m", "5000", "--radius-km", "0.3"])
    add("calibrate-cv-cell-one", cal + ["--cell-ids", "10496001", "--cv-group", "cell"], "warn", r"fold|held|cell")
    for v in ("0", "-5", "nan", "inf", "1e7", "7"):
        add(f"compare-resolution-{v}", cmp_ + ["--resolution-m", v], "warn" if v == "7" else "error",
            r"whole multiple" if v == "7" else None)  # fmt: skip
    for v in ("0", "-5", "1e7"):
        add(f"calibrate-resolution-{v}", cal + ["--resolution-m", v])
    add("predict-resolution-0", [*pred[:7], "--resolution-m", "0", "--radius-km", "0.3"])
    add("predict-resolution-7", [*pred[:7], "--resolution-m", "7", "--radius-km", "0.3"], "ok")
    add("calibrate-near-m-0", cal + ["--path-clutter", "near", "--path-clutter-near-m", "0"])
    add("calibrate-path-clutter-no-clutter", cal + ["--path-clutter", "near"], "error")
    add("calibrate-near-m-without-path-clutter", cal + ["--path-clutter-near-m", "100"], "warn", r"near-m|ignored")
    # --- audit ---
    aud = ["audit", "--samples", samples, "--cells", cells, "--dem", dem]
    add("audit-ok", aud, "ok")
    add("audit-sites-none", aud + ["--min-bins", "0"])
    add("audit-resolution-0", aud + ["--resolution-m", "0"])
    add("audit-bin-neg", aud + ["--bin-m", "-20"])
    add("audit-threshold-nan", aud + ["--azimuth-threshold-deg", "nan"])
    add("audit-rxh-neg", aud + ["--rx-height-m", "-1"])
    add("audit-cells-outside", ["audit", "--samples", samples, "--cells", str(w / "c_outside.csv"), "--dem", dem])
    add("audit-ground-low", ["audit", "--samples", samples, "--cells", str(w / "c_ground_low.csv"), "--dem", dem],
        "warn", r"ground_m")
    return out


def classify(cid, argv, expect, warn, outs, env, w: Path, py: str) -> tuple[str, str, int]:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT)
    if env:
        e.update(env)
    r = subprocess.run([py, "-m", "netqa", *argv], capture_output=True, text=True, env=e, cwd=str(w), timeout=900)
    err = r.stderr.strip().splitlines()
    last = next((ln for ln in reversed(err) if "error:" in ln), err[-1] if err else "")
    left = [str(x.relative_to(w)) for x in outs if x.exists()]
    if r.returncode == 0:
        if expect == "ok":
            kind = "ok"
        elif expect == "warn" and warn and re.search(warn, r.stderr, re.I):
            kind = "warned"
        else:
            kind = "silent"
        note = " | ".join(ln for ln in err if re.search(r"warn", ln, re.I))[:300] or (err[-1] if err else "")
        return kind, note, 0
    if "Traceback" in r.stderr or "a netqa bug" in r.stderr:
        return "bug", last[:300], r.returncode
    if left:
        return "partial", f"{last[:250]} [left: {', '.join(left)}]", r.returncode
    if r.returncode == 2 and last.startswith("netqa"):
        return ("clean" if expect != "ok" else "refused-valid"), last[:300], 2
    return "other", last[:300], r.returncode


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="run the cases whose id contains this")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", help="work folder to keep (default: a temporary one)")
    a = ap.parse_args(argv)
    w = Path(a.keep or tempfile.mkdtemp(prefix="netqa-fault-audit-"))
    w.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    p = build_inputs(w)
    e = dict(os.environ, PYTHONPATH=str(ROOT))
    common = ["--samples", str(p["samples"]), "--cells", str(D / "cells.csv"), "--dem", str(D / "dem.tif")]
    if not (w / "base.toml").exists():
        subprocess.run([py, "-m", "netqa", "calibrate", *common, "--out", str(w / "base.toml"), "-q"], env=e, check=True)
    _model_files(w, w / "base.toml")
    ldir = w / "learned"
    if not (ldir / "t.toml").exists():
        import pandas as pd

        sys.path.insert(0, str(ROOT / "tests" / "netqa"))
        from test_learned import _az_off_deg  # the notch that makes the correction worth keeping

        ldir.mkdir(exist_ok=True)
        cells = pd.read_csv(D / "cells.csv", dtype={"cell_id": str})
        s = pd.read_csv(D / "drives" / "district.csv", dtype={"cell_id": str})
        s["rsrp_dbm"] = s["rsrp_dbm"] - 12.0 * np.exp(-(((_az_off_deg(s, cells) - 60.0) / 20.0) ** 2))
        s.to_csv(ldir / "samples.csv", index=False)
        subprocess.run([py, "-m", "netqa", "calibrate", "--samples", str(ldir / "samples.csv"), "--cells",
                        str(D / "cells.csv"), "--dem", str(D / "dem.tif"), "--h-eff", "ground", "--learned-correction",
                        "--out", str(ldir / "t.toml"), "-q"], env=e, check=True)  # fmt: skip
    _learned_files(w, ldir / "t.toml")
    todo = [c for c in cases(w, p) if a.only in c[0]]
    shutil.rmtree(w / "out", ignore_errors=True)
    with ThreadPoolExecutor(a.jobs) as ex:
        results = list(ex.map(lambda c: (c[0], c[2], *classify(*c, w, py)), todo))
    counts: dict = {}
    for cid, expect, kind, note, rc in results:
        counts[kind] = counts.get(kind, 0) + 1
        print(f"{kind:8s} rc={rc} {cid:42s} (expect {expect}) {note}")
    print(f"\n{len(results)} cases: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"work folder: {w}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
