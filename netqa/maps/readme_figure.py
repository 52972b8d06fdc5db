"""Regenerate the README's coverage map (``docs/coverage_map.png``) from the test world.

Run from a source checkout::

    .venv/bin/python -m netqa.maps.readme_figure            # writes docs/coverage_map.png
    .venv/bin/python -m netqa.maps.readme_figure --out x.png

It runs the demo chain (``netqa demo``) into a temporary folder to get the
Standard Propagation Model calibrated on the test world's drive tests and the
regional scorecard, predicts coverage again with that tuned model, draws the
RSRP map with sites, sectors and the scored regions at 1100 px wide, and
writes it as an optimised palette PNG (well under 400 kB).
"""

from __future__ import annotations

import argparse
import io
import logging
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

__all__ = ["make_readme_figure", "DEFAULT_OUT"]

#: Where the README expects the picture.
DEFAULT_OUT = Path(__file__).resolve().parents[2] / "docs" / "coverage_map.png"
_TITLE = "Predicted RSRP, test world — SPM calibrated on the drive tests"


def _optimise_png(path: Path, colours: int = 256) -> int:
    """Rewrite ``path`` as a palette PNG (``colours`` colours, no dithering); returns its size in bytes."""
    from PIL import Image

    with Image.open(path) as im:
        pal = im.convert("RGB").quantize(colors=colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    pal.save(buf, format="PNG", optimize=True)
    path.write_bytes(buf.getvalue())
    return len(buf.getvalue())


def make_readme_figure(out: str | Path = DEFAULT_OUT, *, width_px: int = 1100, work_dir: str | Path | None = None) -> Path:
    """Write the README coverage map to ``out`` (replacing it) and return its path.

    Parameters
    ----------
    out : path
        PNG to write.
    width_px : int
        Width of the picture [px]; the height is 0.8 of it.
    work_dir : path, optional
        Folder for the demo run (kept); default a temporary folder (removed).
    """
    from netqa.demo import demo_config, find_testdata, run_demo
    from netqa.maps.layers import band_legend, load_cells, load_regions, read_band
    from netqa.maps.static import render_png
    from netqa.predict import PredictConfig, predict, write_coverage

    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="netqa-readme-") as tmp:
        run_dir = Path(work_dir) if work_dir is not None else Path(tmp) / "demo"
        run_demo(run_dir, overwrite=True)
        cfg = demo_config(find_testdata(run_dir))
        p = cfg.predict
        tuned = run_dir / "tuned_model.toml"
        config = PredictConfig(model="spm", terrain=p.terrain, model_file=tuned if tuned.is_file() else None,
                               resolution_m=p.resolution_m, radius_km=p.radius_km, rx_height_m=p.rx_height_m,
                               noise_figure_db=p.noise_figure_db, cell_load=p.cell_load)
        result = predict(cfg.inputs.cells, list(cfg.inputs.dem), clutter=cfg.inputs.clutter,
                         clutter_table=cfg.inputs.clutter_table, config=config)
        coverage = write_coverage(result, run_dir / "coverage_tuned.tif", overwrite=True)
        band = read_band(coverage, "rsrp_dbm")
        scores = run_dir / "scores.gpkg"
        regions = load_regions(scores if scores.is_file() else cfg.inputs.regions)
        out.parent.mkdir(parents=True, exist_ok=True)
        title = _TITLE if config.model_file else "Predicted RSRP, test world — SPM (default coefficients)"
        render_png(out, band, band_legend(band), cells=load_cells(cfg.inputs.cells), regions=regions,
                   title=title, overwrite=True, width_px=width_px)
    size = _optimise_png(out)
    log.info("wrote %s (%d px wide, %.0f kB)", out, width_px, size / 1024)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m netqa.maps.readme_figure", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(DEFAULT_OUT), help=f"PNG to write (default {DEFAULT_OUT})")
    parser.add_argument("--width-px", type=int, default=1100, help="picture width in pixels (default 1100)")
    parser.add_argument("--work-dir", help="keep the demo run in this folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("netqa").setLevel(logging.WARNING)
    log.setLevel(logging.INFO)
    make_readme_figure(args.out, width_px=args.width_px, work_dir=args.work_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
