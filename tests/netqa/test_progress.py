"""Progress on tqdm: sparse whole lines off a terminal, a bar on one, nothing when quiet."""

import sys

import pytest

import netqa.progress as P


@pytest.fixture(autouse=True)
def _enabled():
    P.set_enabled(True)
    yield
    P.set_enabled(True)


def test_non_tty_prints_sparse_whole_lines(capsys):
    with P.Progress("ingest", total=100, unit="files") as bar:
        for _ in range(100):
            bar.update(1)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert "\r" not in err
    assert len(lines) == 2  # the first update and the final line (the 5 s interval keeps the rest out)
    assert lines[-1].startswith("ingest: 100%") and "100/100" in lines[-1] and "files/s" in lines[-1]


def test_quiet_prints_nothing(capsys):
    P.set_enabled(False)
    assert list(P.progress(range(3), "x")) == [0, 1, 2]
    assert capsys.readouterr().err == ""


def test_tty_uses_a_tqdm_bar(monkeypatch, capsys):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    bar = P.Progress("predict", total=4, unit="tiles")
    assert bar._bar is not None
    for _ in range(4):
        bar.update(1)
    bar.close()
    assert bar.done == 4
    assert "4/4" in capsys.readouterr().err


def test_unknown_total(capsys):
    assert sum(P.progress(iter(range(4)), "stream", unit="blocks")) == 6
    assert "4 blocks" in capsys.readouterr().err.splitlines()[-1]
