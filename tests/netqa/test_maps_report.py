"""Campaign report (issue 8): one self-contained HTML file from a run folder."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from netqa.errors import InputError, OutputExistsError
from netqa.report import write_report

EVIL = "<script>alert(1)</script> ]]> & \"q\""


def _png(path, colour):
    from PIL import Image

    Image.fromarray(np.full((20, 30, 3), colour, dtype=np.uint8)).save(path)


def _stats(mean, std, n=100):
    return {"model": {"model": "hata"}, "n": n, "mean_error_db": mean, "std_error_db": std,
            "rmse_db": (mean * mean + std * std) ** 0.5, "correlation": 0.7,
            "per_cell": {EVIL: {"n": 40, "mean_error_db": mean + 0.5, "std_error_db": 6.0, "rmse_db": 6.1,
                                "correlation": 0.8}},
            "per_region": {"R1": {"n": 60, "mean_error_db": mean, "std_error_db": std}}}


@pytest.fixture
def run_dir(tmp_path):
    """A small run folder with every kind of result, names carrying markup."""
    d = tmp_path / "run"
    (d / "maps").mkdir(parents=True)
    _png(d / "maps" / "rsrp_dbm.png", (0, 109, 44))
    (d / "maps" / "coverage.kmz").write_bytes(b"PK")
    manifest = {
        "netqa_version": "0.1.0", "project": EVIL, "status": "done", "started_utc": "2026-11-24T09:00:00+00:00",
        "finished_utc": "2026-11-24T09:01:00+00:00",
        "inputs": [{"path": "cells.csv", "bytes": 1234, "sha256": "ab" * 32}],
        "parameters": {"predict": {"model": "hata", "note": EVIL}},
        "versions": {"numpy": "2.0"},
        "stages": [{"name": "predict", "status": "done", "seconds": 1.5, "outputs": ["coverage.tif"], "message": ""}],
    }
    (d / "manifest.json").write_text(json.dumps(manifest))
    region = {"n_samples": 100, "coverage_rate": 0.93, "coverage_rate_ci": [0.86, 0.97], "rsrp_dbm_mean": -88.2,
              "n_calls": 0, "n_drops": 0, "drop_rate": None, "n_ho_attempts": 10, "n_ho_success": 5,
              "ho_success_rate": 0.5}
    overall = dict(region, n_samples=105, coverage_rate=0.9, coverage_rate_ci=[0.83, 0.95], n_covered=94,
                   n_coverage_samples=105, n_calls=20, n_drops=2, drop_rate=0.1, dl_mbps_p50=21.64,
                   profile={"name": "lte", "rsrp_dbm_min": -110.0, "sinr_db_min": -3.0},
                   regions={"R1": region, "R2": dict(region, n_samples=5)})
    (d / "kpi.json").write_text(json.dumps(overall))
    (d / "compare" / "tuned").mkdir(parents=True)
    (d / "compare" / "stats.json").write_text(json.dumps(_stats(-26.58, 6.99)))
    tuned = _stats(-0.45, 6.70)
    tuned["model"] = {"model": "spm (tuned model file)"}
    (d / "compare" / "tuned" / "stats.json").write_text(json.dumps(tuned))
    _png(d / "compare" / "scatter.png", (200, 0, 0))
    _png(d / "compare" / "tuned" / "scatter.png", (0, 0, 200))
    (d / "tuned_model.toml").write_text(
        "# fitted on 80 % of bins\n[spm]\nk1 = 123.5\nk2 = 39.6\n"
        "[band.LTE-1815]\ntech = \"LTE\"\nfreq_mhz = 1815.0\nk1 = 134.31\nk2 = 41.0\n"
        "[calibration.holdout.tuned]\nn = 90\nmean_error_db = 0.11\nstd_error_db = 7.09\nrmse_db = 7.09\n"
        "[calibration.band.LTE-1815.holdout.tuned]\nn = 80\nmean_error_db = -0.18\nstd_error_db = 6.82\n"
    )
    pd.DataFrame({
        "region_id": ["R1", "R2"], "name": [EVIL, "South"], "score_overall": [55.0, 80.0], "grade_overall": ["D", "B"],
        "rank": [2, 1], "score_coverage": [60.0, 90.0], "grade_coverage": ["C", "A"],
        "basis_coverage": ["used: coverage_rate_measured", "used: coverage_rate_measured; missing: x (no data)"],
    }).to_csv(d / "scores.csv", index=False)
    return d


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.text, self.imgs = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.imgs.append(dict(attrs))

    def handle_data(self, data):
        self.text.append(data)


def _parse(path):
    c = _Collect()
    c.feed(path.read_text(encoding="utf-8"))
    return c


def _text(path):
    return " ".join(_parse(path).text)


def test_report_puts_results_first_and_provenance_last_collapsed(tmp_path, run_dir):
    out = write_report(run_dir, tmp_path / "report.html")
    raw = out.read_text(encoding="utf-8")
    assert re.findall(r"<h2 id=.(\w+)", raw) == ["summary", "maps", "kpis", "compare", "calibration", "scores",
                                                  "provenance"]
    details = raw[raw.index("id='provenance'"):]
    assert "<details>" in details and "ab" * 32 in details and "numpy" in details
    page = _parse(out)
    assert "script" not in page.tags and "link" not in page.tags
    assert all(i["src"].startswith("data:image/png;base64,") for i in page.imgs)


def test_summary_is_written_from_the_data(tmp_path, run_dir):
    raw = write_report(run_dir, tmp_path / "r.html").read_text(encoding="utf-8")
    summary = raw[raw.index("class=\"summary\""):raw.index("</p>", raw.index("class=\"summary\""))]
    for expected in ("90.0 %", "83.0–95.0 %", "10.0 % (2 of 20 calls)", "50.0 % (5 of 10)", "21.6 Mbps",
                     "a mean of −26.6 dB and σ 7.0 dB", "mean −0.5 dB, σ 6.7 dB", "σ 7.1 dB on drives held out",
                     "best is R2 South (score 80, grade B)", "worst R1"):
        assert expected in summary, expected


def test_kpi_tables_carry_counts_and_intervals(tmp_path, run_dir):
    text = _text(write_report(run_dir, tmp_path / "r.html"))
    assert "94 of 105" in text and "2 of 20" in text  # overall coverage and drop counts
    assert "86.0–97.0 %" in text  # R1 coverage interval as given by kpi.json
    assert "50.0 % (5/10)" in text and "23.7–76.3 %" in text  # HO success 5/10 with its Wilson interval
    assert "— (0/0)" in text  # a drop rate with no calls is shown as missing, never 0


def test_compare_shows_configured_and_tuned_side_by_side(tmp_path, run_dir):
    raw = write_report(run_dir, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "configured model: hata" in raw and "tuned model: spm (tuned model file)" in raw
    assert "−26.58" in raw and "−0.45" in raw
    pair = raw[raw.index("<div class='pair'>"):]
    assert pair.index("compare/scatter.png") < pair.index("compare/tuned/scatter.png")


def test_calibration_table_per_band(tmp_path, run_dir):
    text = _text(write_report(run_dir, tmp_path / "r.html"))
    assert "band LTE-1815" in text and "134.31" in text and "6.82" in text  # K1 and held-out sigma of the band
    assert "global (fallback)" in text and "123.50" in text and "7.09" in text
    assert "fitted on 80 % of bins" in text  # the model file as written, collapsed


def test_scorecard_ranked_with_grades_and_basis(tmp_path, run_dir):
    raw = write_report(run_dir, tmp_path / "r.html").read_text(encoding="utf-8")
    table = raw[raw.index("id='scores'"):]
    assert table.index("South") < table.index("alert(1)")
    assert "80 B" in table and "class='num g-B'" in table
    assert "missing: x (no data)" in table


def test_report_says_when_written_before_the_run_finished(tmp_path, run_dir):
    m = json.loads((run_dir / "manifest.json").read_text())
    m["status"] = "running"
    (run_dir / "manifest.json").write_text(json.dumps(m))
    text = _text(write_report(run_dir, tmp_path / "r.html"))
    assert "report written before the run finished" in text and "predict done" in text


def test_report_reads_region_only_kpi_json(tmp_path, run_dir):
    kpi = json.loads((run_dir / "kpi.json").read_text())["regions"]
    (run_dir / "kpi.json").write_text(json.dumps(kpi))
    text = _text(write_report(run_dir, tmp_path / "r.html"))
    assert "Per region" in text and "Rates (all measurements)" not in text


def test_report_escapes_strings_from_the_run_folder(tmp_path, run_dir):
    raw = write_report(run_dir, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script>" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt; ]]&gt; &amp; &quot;q&quot;" in raw


def test_report_of_a_partial_run_says_what_is_missing(tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    text = _text(write_report(d, tmp_path / "r.html"))
    assert "no manifest.json" in text and "no coverage maps in the run folder" in text and "no scorecard" in text


def test_report_errors(tmp_path, run_dir):
    with pytest.raises(InputError, match="run folder not found"):
        write_report(tmp_path / "nope", tmp_path / "r.html")
    write_report(run_dir, tmp_path / "r.html")
    with pytest.raises(OutputExistsError):
        write_report(run_dir, tmp_path / "r.html")


def test_cli_report(tmp_path, run_dir):
    from netqa.cli import main

    assert main(["report", str(run_dir), "--out", str(tmp_path / "r.html"), "-q"]) == 0
    assert (tmp_path / "r.html").stat().st_size > 1000


@pytest.mark.slow
def test_report_in_headless_chromium(tmp_path, run_dir):
    import shutil
    import subprocess

    from PIL import Image

    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        pytest.skip("no chromium on PATH: the headless-browser check of the report needs Debian's 'chromium'")
    out = write_report(run_dir, tmp_path / "r.html")
    common = [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
              f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    shot = tmp_path / "shot.png"
    proc = subprocess.run([*common, "--window-size=1000,700", f"--screenshot={shot}", out.as_uri()],
                          capture_output=True, text=True, timeout=90)
    assert [line for line in proc.stderr.splitlines() if ":CONSOLE" in line] == []
    with Image.open(shot) as im:
        img = np.asarray(im.convert("RGB"))
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 10  # text and headings drawn, not blank
