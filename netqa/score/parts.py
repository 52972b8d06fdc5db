"""Resumable scoring: input fingerprints and the per-region part files under ``SCORES.gpkg.parts/``."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from netqa.fileio import write_text_atomic

#: Bump when indicator definitions change, so old resume parts are not reused.
PARTS_VERSION = "score-2"


def fingerprint(files, *settings) -> str:
    h = hashlib.sha256(PARTS_VERSION.encode())
    for f in files:
        if f is None or isinstance(f, (gpd.GeoDataFrame, pd.DataFrame)):
            h.update(b"<none>" if f is None else pd.util.hash_pandas_object(pd.DataFrame(f).drop(columns="geometry", errors="ignore")).values.tobytes())
            continue
        p = Path(f)
        st = p.stat()
        h.update(f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
    h.update(json.dumps([str(s) for s in settings]).encode())
    return h.hexdigest()


def region_fp(base: str, r) -> str:
    g = r.geometry.wkb if r.geometry is not None else b""
    return hashlib.sha256(base.encode() + g + f"{r.region_id}|{r.name}|{r.area_type}|{r.status}".encode()).hexdigest()


def part_path(parts_dir: Path, rid: str) -> Path:
    return parts_dir / (hashlib.sha1(str(rid).encode()).hexdigest()[:20] + ".json")


def write_part(parts_dir: Path, rid: str, fp: str, res) -> None:
    doc = {"fingerprint": fp, "region_id": rid, "row": json_clean(res[0]), "trends": [json_clean(t) for t in res[1]]}
    write_text_atomic(part_path(parts_dir, rid), json.dumps(doc))


def read_part(parts_dir: Path, rid: str, fp: str):
    p = part_path(parts_dir, rid)
    if not p.exists():
        return None
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if doc.get("fingerprint") != fp:
        return None
    return doc["row"], doc["trends"]


def json_clean(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, (np.floating, float)):
            v = float(v)
            v = v if math.isfinite(v) else None
        elif isinstance(v, np.integer):
            v = int(v)
        elif isinstance(v, np.bool_):
            v = bool(v)
        out[k] = v
    return out


__all__ = ["PARTS_VERSION", "fingerprint", "json_clean", "part_path", "read_part", "region_fp", "write_part"]
