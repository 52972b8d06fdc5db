"""The real Cork G-NetTrack logs (GPL-3.0 data, ../shared/realdata; skipped when absent) still ingest and reconcile."""

from pathlib import Path

import pytest

from netqa.ingest import ingest_logs

REPO = Path(__file__).resolve().parents[2]
CORK = next((p for p in ((REPO / ".." / "shared" / "realdata" / "uccmisl-5g-cork").resolve(),
                         (REPO.parents[1] / "shared" / "realdata" / "uccmisl-5g-cork").resolve()) if p.is_dir()), None)
pytestmark = pytest.mark.skipif(CORK is None, reason="real data not available (../shared/realdata/uccmisl-5g-cork)")


def test_cork_download_traces_reconcile(tmp_path):
    res = ingest_logs([CORK / "Download" / "Driving", CORK / "Download" / "Static"], tmp_path / "s.parquet",
                      fmt="gnettrack", tz="Europe/Dublin")
    # README: 21 files, 43,208 rows; 3 LTE rows with RSRP = -200 (a sentinel); ~11 % share a timestamp
    assert res.files_failed == () and len(res.files) == 21
    assert (res.n_read, res.n_accepted, res.n_rejected) == (43208, 41630, 1578)
    assert res.reasons["rejected: rsrp_dbm out of range"] == 3
    assert res.reasons["rejected: duplicate row"] == 1575
    assert res.files_tz_assumed_utc == ()  # --tz given: no warning
    assert not any("non-finite" in k or "coordinate exactly 0" in k or "damaged" in k for k in res.reasons)
