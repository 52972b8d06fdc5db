"""``netqa kpi`` — chapter-3 KPIs from measured samples and events."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

from netqa.commands import add_overwrite

NAME = "kpi"
HELP = "chapter-3 KPIs from measured samples and events"
EXAMPLE = """
netqa kpi samples.parquet --events samples.events.parquet --profile lte --out kpi.json
netqa kpi samples.parquet --regions testdata/regions.gpkg --bin-m 100 --bins-out bins.gpkg --out kpi.json
"""

log = logging.getLogger("netqa.commands.kpi")


def add_arguments(parser) -> None:
    parser.add_argument("samples", metavar="SAMPLES", help="samples (GeoParquet/CSV) from netqa ingest")
    parser.add_argument("--events", metavar="EVENTS", help="events table (default: SAMPLES.events.parquet when it exists)")
    parser.add_argument("--regions", metavar="REGIONS", help="region polygons: one KPI object per region_id")
    parser.add_argument("--profile", default="lte", metavar="lte|nr|FILE.toml", help="threshold profile (default: lte)")
    parser.add_argument("--out", required=True, metavar="KPI.json", help="KPI JSON to write")
    parser.add_argument("--bin-m", type=float, metavar="SIZE", help="also bin samples in squares of SIZE metres (linear-domain means)")
    parser.add_argument("--bins-out", metavar="BINS.gpkg", help="where to write the bins (default: KPI.bins.gpkg)")
    add_overwrite(parser)


def _clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


def run(args) -> int:
    from netqa.errors import InputError
    from netqa.fileio import atomic_path, check_output, write_text_atomic
    from netqa.ingest import events_path_for, load_events, load_samples
    from netqa.kpi import kpi_report, load_profile, spatial_bins

    out = check_output(args.out, args.overwrite)
    bins_out = None
    if args.bin_m:
        bins_out = Path(args.bins_out) if args.bins_out else out.with_name(out.stem + ".bins.gpkg")
        check_output(bins_out, args.overwrite)
    profile = load_profile(args.profile)
    samples = load_samples(args.samples)
    ev_path = args.events or (str(events_path_for(args.samples)) if events_path_for(args.samples).is_file() else None)
    events = load_events(ev_path) if ev_path else None
    regions = None
    if args.regions:
        import geopandas as gpd

        try:
            regions = gpd.read_file(args.regions)
        except Exception as exc:
            raise InputError(f"{args.regions}: regions cannot be read ({exc})") from None
    doc = kpi_report(samples, events, profile, regions)
    doc["inputs"] = {"samples": str(args.samples), "events": ev_path, "regions": args.regions}
    write_text_atomic(out, json.dumps(_clean(doc), indent=2) + "\n")
    if bins_out is not None:
        bins = spatial_bins(samples, args.bin_m, profile.bin_min_samples, profile)
        with atomic_path(bins_out) as tmp:
            bins.to_file(tmp, layer="bins", driver="GPKG") if bins_out.suffix.lower() == ".gpkg" else bins.to_parquet(tmp)
        log.info("wrote %d bins to %s", len(bins), bins_out)
    cov = doc["coverage_rate"]
    log.info("n_samples %d, coverage_rate %s, drop_rate %s, ho_success_rate %s",
             doc["n_samples"], "null" if cov is None else f"{cov:.3f}", doc["drop_rate"], doc["ho_success_rate"])
    print(f"wrote {out}")
    return 0
