"""``netqa demo`` — the whole chain on the embedded test world."""

from __future__ import annotations

import json
import logging

from netqa.commands import add_overwrite

NAME = "demo"
HELP = "the whole chain on the embedded test world"
DESCRIPTION = (
    "Ingest the test world's drive logs, compute KPIs, predict coverage, compare and calibrate, "
    "score the regions and draw maps and a report, all into one folder with a manifest."
)
EXAMPLE = """
netqa demo --out demo-output --overwrite
"""

log = logging.getLogger("netqa")


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="demo-output", metavar="DIR", help="output folder (default: demo-output)")
    add_overwrite(parser)


def run(args) -> int:
    from netqa.demo import run_demo

    manifest_path = run_demo(args.out, overwrite=args.overwrite)
    manifest = json.loads(manifest_path.read_text())
    for stage in manifest["stages"]:
        line = f"  {stage['name']:<10} {stage['status']}"
        if stage["outputs"]:
            line += ": " + ", ".join(stage["outputs"])
        elif stage["message"] and stage["status"] != "done":
            line += f" ({stage['message']})"
        log.info(line)
    out = manifest_path.parent.resolve()
    log.info("demo outputs are in %s (see manifest.json)", out)
    if (out / "report.html").is_file():
        log.info("open the campaign report: %s", (out / "report.html").as_uri())
    _log_holdout(out / "tuned_model.toml")
    audit_csv = out / "audit" / "district_audit.csv"
    if audit_csv.is_file():
        import pandas as pd

        table = pd.read_csv(audit_csv, dtype={"cell_id": str})
        log.info("antenna audit of the synthetic district (%s): %d cells, %s", audit_csv, len(table),
                 ", ".join(f"{k} {v}" for k, v in table["status"].value_counts().sort_index().items()))  # fmt: skip
        cols = ["cell_id", "site_id", "band", "status", "azimuth_offset_deg", "azimuth_se_deg", "tilt_offset_deg",
                "n_bins", "rmse_before_db", "rmse_after_db"]  # fmt: skip
        flagged = table[~table["status"].isin(["ok"])][cols]
        if len(flagged):
            log.info("%s", flagged.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    if (out / "maps").is_dir():
        log.info("maps (PNG, KMZ for Google Earth, interactive HTML): %s", out / "maps")
    return 0


def _log_holdout(tuned_toml) -> None:
    """The calibrated model's held-out-session statistics per band, from the tuned model file."""
    import tomllib

    if not tuned_toml.is_file():
        return
    cal = tomllib.loads(tuned_toml.read_text(encoding="utf-8")).get("calibration", {})
    for name, entry in [("global", cal), *sorted(cal.get("band", {}).items())]:
        h = entry.get("holdout", {})
        t, p = h.get("tuned"), h.get("prior")
        if t and p:
            log.info("calibrated SPM, %s, held-out sessions (%s folds): RMSE %.2f dB, mean %+.2f dB, r %.2f "
                     "(uncalibrated: RMSE %.2f dB)", name, h.get("n_folds"), t["rmse_db"], t["mean_error_db"],
                     t.get("correlation") or float("nan"), p["rmse_db"])  # fmt: skip
