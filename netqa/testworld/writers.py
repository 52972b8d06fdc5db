"""Byte-deterministic writers for the test world (GeoTIFF, GeoPackage, CSV).

* GeoTIFF (rasterio/GDAL): no date tag is written; the metadata is fixed.
* GeoPackage (pyogrio/GDAL): GDAL stamps ``gpkg_contents.last_change`` with
  the current time unless the configuration option ``OGR_CURRENT_DATE`` is
  set; it is set to a fixed date here, which makes the files byte-identical
  for a given GDAL version.
* CSV: values are formatted here (fixed decimals), NaN as an empty field,
  ``\\n`` line ends, so the bytes do not depend on the pandas version.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from netqa.fileio import reproducible_gdal


def write_geotiff(path: Path, array: np.ndarray, *, crs: str, transform, nodata, description: str,
                  tags: dict[str, str] | None = None, units: str | None = None) -> None:
    """Write one band as a tiled, deflate-compressed GeoTIFF with fixed metadata."""
    import rasterio

    predictor = 3 if np.issubdtype(array.dtype, np.floating) else 2
    profile = {
        "driver": "GTiff", "height": array.shape[0], "width": array.shape[1], "count": 1,
        "dtype": array.dtype.name, "crs": crs, "transform": transform, "nodata": nodata,
        "compress": "deflate", "predictor": predictor, "zlevel": 9,
        "tiled": True, "blockxsize": 256, "blockysize": 256,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.Env(GDAL_PAM_ENABLED="NO"):
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(array, 1)
            dst.set_band_description(1, description)
            if units:
                dst.set_band_unit(1, units)
            if tags:
                dst.update_tags(**tags)


def write_gpkg(path: Path, frame, layer: str) -> None:
    """Write a GeoDataFrame as a single-layer GeoPackage with a fixed timestamp."""
    import pyogrio

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    with reproducible_gdal():
        pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG", SPATIAL_INDEX="NO")


def fmt(value, decimals: int) -> str:
    """A number with fixed decimals; NaN/None as an empty string."""
    if value is None:
        return ""
    v = float(value)
    if math.isnan(v):
        return ""
    s = f"{v:.{decimals}f}"
    if s.startswith("-") and float(s) == 0.0:
        s = s[1:]  # no "-0.0"
    return s


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]], comment: str | None = None) -> None:
    """Write pre-formatted string rows as CSV (no quoting needed: fields hold no commas)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    if comment:
        lines.extend(f"# {c}" for c in comment.splitlines())
    lines.append(",".join(header))
    for r in rows:
        lines.append(",".join(r))
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))


def quote(text: str) -> str:
    """A CSV field quoted when it holds a comma or a quote."""
    if any(c in text for c in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text
