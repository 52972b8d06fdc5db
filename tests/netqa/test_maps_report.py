"""Campaign report (issue 8): one self-contained HTML file from a run folder."""

from __future__ import annotations

import json
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


@pytest.fixture
def run_dir(tmp_path):
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
    kpi = {"n_samples": 100, "coverage_rate": 0.93, "coverage_rate_ci": [0.86, 0.97], "rsrp_dbm_mean": -88.2,
           "drop_rate": None}
    (d / "kpi.json").write_text(json.dumps({"R1": kpi, "R2": dict(kpi, n_samples=5)}))
    (d / "compare").mkdir()
    (d / "compare" / "stats.json").write_text(json.dumps({
        "n": 100, "mean_error_db": 1.2, "std_error_db": 7.9, "rmse_db": 8.0, "correlation": 0.7,
        "per_cell": {EVIL: {"n": 40, "mean_error_db": 0.5, "std_error_db": 6.0, "rmse_db": 6.1, "correlation": 0.8}},
    }))
    (d / "tuned.toml").write_text('[spm]\nk1 = 23.5\n# fitted on 80 % of bins\n')
    pd.DataFrame({"region_id": ["R1", "R2"], "name": [EVIL, "South"], "score": [55.0, 80.0], "rank": [2, 1]}).to_csv(
        d / "scores.csv", index=False)
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


def test_report_has_every_section_and_embeds_the_maps(tmp_path, run_dir):
    out = write_report(run_dir, tmp_path / "report.html")
    page = _parse(out)
    text = " ".join(page.text)
    for heading in ("Run", "Inputs", "Coverage maps and plots", "KPIs", "Predicted vs measured", "Calibration",
                    "Regional scorecard"):
        assert heading in text
    assert len(page.imgs) == 1 and page.imgs[0]["src"].startswith("data:image/png;base64,")
    assert "maps/coverage.kmz" in text
    assert "ab" * 32 in text and "0.93" in text and "[0.86, 0.97]" in text and "k1 = 23.5" in text
    assert "script" not in page.tags and "link" not in page.tags


def test_report_ranks_the_scorecard(tmp_path, run_dir):
    text = " ".join(_parse(write_report(run_dir, tmp_path / "r.html")).text)
    assert text.index("South") < text.index("alert(1)", text.index("Regional scorecard"))


def test_report_escapes_strings_from_the_run_folder(tmp_path, run_dir):
    raw = write_report(run_dir, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script>" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt; ]]&gt; &amp; &quot;q&quot;" in raw


def test_report_of_a_partial_run_says_what_is_missing(tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    text = " ".join(_parse(write_report(d, tmp_path / "r.html")).text)
    assert "no manifest.json" in text and "no maps in the run folder" in text and "no scorecard" in text


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
