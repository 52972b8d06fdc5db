"""netqa watch: follows a log while rows are appended; alerts on threshold crossings."""

import json
import threading
import time

import pytest

from netqa.watch import Watcher, watch

HEADER = "time,lat,lon,session,tech,cell_id,rsrp_dbm,rsrq_db,sinr_db,dl_mbps,ul_mbps\n"


def rows(start, n, rsrp, cell="A"):
    return "".join(f"2024-03-01T10:{(start + i) // 60:02d}:{(start + i) % 60:02d}Z,51.9,-8.4,d1,LTE,{cell},{rsrp},-10,10,20.0,\n" for i in range(n))


@pytest.fixture
def profile(tmp_path):
    p = tmp_path / "p.toml"
    p.write_text('[profile]\nname = "t"\ntech = "LTE"\n[coverage]\nrsrp_dbm_min = -110.0\nsinr_db_min = -3.0\n'
                 '[watch]\nwindow_s = 20.0\nmin_samples = 5\ncoverage_rate_min = 0.9\nho_success_rate_min = 0.95\n')
    return p


def test_poll_appended_rows_half_line_and_alerts(tmp_path, profile):
    d = tmp_path / "live"
    d.mkdir()
    log = d / "drive.csv"
    alerts = tmp_path / "alerts.jsonl"
    lines = []
    w = Watcher(d, profile, alerts, emit=lines.append)
    log.write_text(HEADER[:20])  # header still being written
    assert w.poll_once() == [] and w.state.n_read == 0
    with open(log, "a") as fh:
        fh.write(HEADER[20:] + rows(0, 10, -90))
    assert w.poll_once() == [] and w.state.n_accepted == 10
    half = rows(10, 1, -125)
    with open(log, "a") as fh:
        fh.write(rows(10, 19, -125)[: -len(half) // 2])  # 18 full rows + half of the 19th
    got = w.poll_once()
    assert w.state.n_read == 28  # the half-written line is held back
    assert [(a["kpi"], a["status"], a["scope"]) for a in got] == [("coverage_rate", "breached", "overall"), ("coverage_rate", "breached", "d1")]
    with open(log, "a") as fh:
        fh.write(rows(10, 19, -125)[-len(half) // 2:] + rows(29, 30, -80))
    got = w.poll_once()
    assert w.state.n_read == 59 and w.rejects.n_rejected == 0
    assert {a["status"] for a in got} == {"recovered"}
    written = [json.loads(x) for x in alerts.read_text().splitlines()]
    assert len(written) == 4 and written[0]["value"] < 0.9 and written[0]["denominator"] >= 5
    assert any(line.startswith("ALERT [overall] coverage_rate") for line in lines)


def test_handover_alert_from_derived_events(tmp_path, profile):
    d = tmp_path / "live"
    d.mkdir()
    (d / "drive.csv").write_text(HEADER + rows(0, 6, -90, "A") + rows(6, 6, -90, "B"))
    ev = "time,session,event\n2024-03-01T10:00:07Z,drive,ho_attempt\n2024-03-01T10:00:08Z,drive,ho_failure\n"
    (d / "other.events.csv").write_text(ev)
    w = Watcher(d, profile)
    w.poll_once()
    assert w.summary()["n_ho_attempts"] == 2  # one derived (A -> B) + one explicit


def test_watch_follows_file_written_by_another_thread(tmp_path, profile):
    d = tmp_path / "live"
    d.mkdir()
    log = d / "drive.csv"
    alerts = tmp_path / "alerts.jsonl"
    done = threading.Event()

    def writer():
        with open(log, "w") as fh:
            fh.write(HEADER)
            fh.flush()
            for k in range(6):
                fh.write(rows(k * 5, 5, -90 if k < 3 else -130))
                fh.flush()
                time.sleep(0.05)
        done.set()

    t = threading.Thread(target=writer)
    t.start()
    summary = watch(d, profile, interval_s=0.02, alerts_path=alerts, stop=done.is_set, max_s=10)
    t.join(timeout=10)
    assert summary["n_read"] == 30 and summary["n_accepted"] == 30
    assert summary["n_alerts"] >= 1
    assert json.loads(alerts.read_text().splitlines()[0])["kpi"] == "coverage_rate"


def test_cli_watch_stops_by_itself(tmp_path, profile, capsys):
    from netqa.cli import main

    d = tmp_path / "live"
    d.mkdir()
    (d / "drive.csv").write_text(HEADER + rows(0, 12, -130))
    assert main(["watch", str(d), "--profile", str(profile), "--interval-s", "0.05", "--max-s", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "ALERT [overall] coverage_rate" in out and "watch summary: files 1, read 12, accepted 12" in out


def test_watch_rejects_missing_folder(tmp_path):
    from netqa.errors import InputError

    with pytest.raises(InputError, match="not a folder"):
        Watcher(tmp_path / "nope")
