"""netqa score on a Dask cluster gives the same table as the local run."""

from __future__ import annotations

import pandas as pd
import pytest

from netqa.errors import InputError
from netqa.score import score_regions
from netqa.score.synthetic import make_world

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return make_world(tmp_path_factory.mktemp("dworld"), k=3, n_samples=1500)


def _plain(gdf):
    return pd.DataFrame(gdf.drop(columns="geometry")).reset_index(drop=True)


def test_local_cluster_matches_local_run(world, tmp_path, monkeypatch):
    """Samples in 3 chunks prepared on the workers, regions in several batches: the same table and trends."""
    import netqa.score.chunks as chunks
    import netqa.score.runner as runner

    kw = dict(samples=world.samples, coverage=world.coverage, complaints=world.complaints, cells=world.cells)
    local = score_regions(world.regions, tmp_path / "local.gpkg", **kw)
    monkeypatch.setattr(chunks, "ROWS_PER_CHUNK", 500)
    monkeypatch.setattr(runner, "REGIONS_PER_BATCH", 2)
    assert len(chunks._sample_sources(world.samples, None)[0]) == 3
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        remote = score_regions(world.regions, tmp_path / "dask.gpkg", scheduler=cluster.scheduler_address, **kw)
    pd.testing.assert_frame_equal(_plain(remote.table), _plain(local.table))
    pd.testing.assert_frame_equal(remote.trends.reset_index(drop=True), local.trends.reset_index(drop=True))
    assert remote.n_computed == 9 and remote.n_failed == 0


def test_unreachable_scheduler_is_a_one_line_error(world, tmp_path, monkeypatch):
    from netqa import daskclient

    monkeypatch.setattr(daskclient, "CONNECT_TIMEOUT_S", 1)
    with pytest.raises(InputError, match="--scheduler"):
        score_regions(world.regions, tmp_path / "x.gpkg", samples=world.samples, scheduler="tcp://127.0.0.1:1")


def test_samples_unreadable_on_workers_is_a_one_line_error(world, tmp_path, monkeypatch):
    import netqa.score.chunks as chunks

    real = chunks._read_source

    def broken(src, columns):  # what a worker without the file sees
        if distributed.get_worker() is not None:
            raise FileNotFoundError(f"[Errno 2] No such file: {src[1]}")
        return real(src, columns)

    monkeypatch.setattr(chunks, "_read_source", broken)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        with pytest.raises(InputError, match="readable from every worker"):
            score_regions(world.regions, tmp_path / "x.gpkg", samples=world.samples, scheduler=cluster.scheduler_address)
