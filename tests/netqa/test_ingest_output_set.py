"""Ingest's samples, events and rejects are one output set: a kill at any moment leaves the old or the new set.

The kill tests run ``netqa.ingest.ingest_logs`` in a subprocess and SIGKILL it
(1) at each rename of the commit (deterministically, from inside), and
(2) from outside while it is still writing its temporaries.  The next run (or a
reader) then finds the complete old set or the complete new set, never a mix,
and no temporary left behind.
"""

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from netqa.fileio import atomic_set, clean_stale_parts, finish_pending_commits
from netqa.ingest import ingest_logs, load_samples

REPO = Path(__file__).resolve().parents[2]
HEADER = "time,lat,lon,session,tech,cell_id,rsrp_dbm,rsrq_db,sinr_db,dl_mbps,ul_mbps\n"


def _log(path: Path, n: int, rsrp: int, cell_change_every: int | None, bad_every: int = 7) -> Path:
    rows = []
    for i in range(n):
        cell = 1001 + (i // cell_change_every) % 2 if cell_change_every else 1001
        r = -300 if i % bad_every == 3 else rsrp  # a few rejects
        rows.append(f"2024-03-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z,{51.9 + i * 1e-4:.6f},-8.4,d,LTE,{cell},{r},-10,10,20.0,5.0\n")
    path.write_text(HEADER + "".join(rows))
    return path


def _digest(out: Path) -> dict:
    d = {}
    for name in ("s.parquet", "s.events.parquet", "s.rejects.csv"):
        p = out / name
        d[name] = hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None
    return d


def _reference(tmp_path: Path, log: Path, tag: str) -> dict:
    ref = tmp_path / f"ref_{tag}"
    ingest_logs([log], ref / "s.parquet", block_bytes=512)
    return _digest(ref)


@pytest.fixture
def logs(tmp_path):
    # old set: with handover events; new set: no events (the old events file must go) and other rows
    old = _log(tmp_path / "old.csv", 40, -90, cell_change_every=5)
    new = _log(tmp_path / "new.csv", 60, -80, cell_change_every=None, bad_every=5)
    return old, new


SCRIPT = textwrap.dedent("""
    import os, signal, sys, time
    import netqa.fileio as fio
    from netqa.ingest import ingest_logs
    mode, arg, log, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    if mode == "rename":  # SIGKILL ourselves just before rename number `arg` of the commit
        calls = [0]
        real = fio._replace
        def replace(src, dst):
            if calls[0] == arg:
                os.kill(os.getpid(), signal.SIGKILL)
            calls[0] += 1
            real(src, dst)
        fio._replace = replace
    else:  # slow the sample writer so that an outside SIGKILL lands mid-write
        import netqa.ingest.writer as w
        enc = w.SampleWriter._encode
        def slow(self, b, f):
            enc(self, b, f)
            print("writing", flush=True)
            time.sleep(0.2)
        w.SampleWriter._encode = slow
    ingest_logs([log], out, overwrite=True, block_bytes=512)
    print("done", flush=True)
""")


def _run(mode: str, arg: int, log: Path, out: Path, **kw):
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-c", SCRIPT, mode, str(arg), str(log), str(out / "s.parquet")],
                            env=env, stdout=subprocess.PIPE, text=True, **kw)


def _assert_old_or_new(out: Path, old: dict, new: dict) -> str:
    load_samples(out / "s.parquet")  # a reader completes a pending commit first
    got = _digest(out)
    assert got in (old, new), f"mixed set: {got}\nold {old}\nnew {new}"
    leftovers = [p.name for p in out.iterdir() if ".part" in p.name or p.name.startswith(".netqa-commit")]
    clean_stale_parts(out)
    assert not [p.name for p in out.iterdir() if ".part" in p.name], leftovers
    return "old" if got == old else "new"


@pytest.mark.parametrize("k", [0, 1, 2])  # renames: journal, samples, rejects (events: removed)
def test_kill_at_each_commit_rename_leaves_old_or_new_set(tmp_path, logs, k):
    old_log, new_log = logs
    ref_old, ref_new = _reference(tmp_path, old_log, "old"), _reference(tmp_path, new_log, "new")
    assert ref_old["s.events.parquet"] and ref_new["s.events.parquet"] is None and ref_old != ref_new
    out = tmp_path / "out"
    ingest_logs([old_log], out / "s.parquet", block_bytes=512)
    proc = _run("rename", k, new_log, out)
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL  # it really was killed
    # rename 0 is the journal's: before it the old set stands; from it on the new set is rolled forward
    assert _assert_old_or_new(out, ref_old, ref_new) == ("old" if k == 0 else "new")


def test_outside_sigkill_mid_write_leaves_old_set_and_next_run_cleans(tmp_path, logs):
    old_log, _new_log = logs
    big = _log(tmp_path / "big.csv", 400, -85, cell_change_every=None)
    ref_old, ref_big = _reference(tmp_path, old_log, "old"), _reference(tmp_path, big, "big")
    out = tmp_path / "out"
    ingest_logs([old_log], out / "s.parquet", block_bytes=512)
    for wait_lines in (1, 3):
        proc = _run("slow", 0, big, out)
        for _ in range(wait_lines):
            assert proc.stdout.readline().strip() == "writing"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL
        assert any(".part" in p.name for p in out.iterdir())  # the killed run left its temporary
        assert _assert_old_or_new(out, ref_old, ref_big) == "old"
    # the next run removes nothing of the old set it replaces but every leftover, and commits the new set
    proc = _run("slow", 0, big, out)
    assert proc.communicate(timeout=120)[0].strip().endswith("done")
    assert _digest(out) == ref_big
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]


def test_stale_parts_of_dead_processes_are_removed_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / f".s.parquet.{dead_pid}-0123abcd.part.parquet").write_bytes(b"x")
        (tmp_path / f".s.parquet.{live.pid}-0123abcd.part.parquet").write_bytes(b"x")
        (tmp_path / "keep.part.csv").write_bytes(b"user file")  # not a netqa temporary
        removed = clean_stale_parts(tmp_path)
        assert [p.name for p in removed] == [f".s.parquet.{dead_pid}-0123abcd.part.parquet"]
        assert (tmp_path / f".s.parquet.{live.pid}-0123abcd.part.parquet").exists()
        assert (tmp_path / "keep.part.csv").exists()
    finally:
        live.kill()
        live.wait()


def test_failed_set_changes_nothing(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("old a")
    b.write_text("old b")
    with pytest.raises(RuntimeError, match="boom"), atomic_set([a, b]) as s:
        s.path(a).write_text("new a")
        raise RuntimeError("boom")
    assert (a.read_text(), b.read_text()) == ("old a", "old b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]
    with atomic_set([a, b]) as s:
        s.path(a).write_text("new a")  # b not written: absent from the new set
    assert a.read_text() == "new a" and not b.exists()
    assert finish_pending_commits(tmp_path) == 0
    with pytest.raises(ValueError, match="not a member"), atomic_set([a]) as s:
        s.path(b)


def test_single_file_writes_clean_leftovers_of_killed_runs_too(tmp_path):
    from netqa.fileio import write_text_atomic

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    stale = tmp_path / f".kpi.json.{int(dead.stdout)}-89abcdef.part.json"
    stale.write_text("{half")
    write_text_atomic(tmp_path / "kpi.json", "{}\n")
    assert not stale.exists() and (tmp_path / "kpi.json").read_text() == "{}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kpi.json"]
