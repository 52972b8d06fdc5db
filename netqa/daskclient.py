"""The Dask client of netqa's batch commands (``netqa score``, ``netqa predict``): one connection rule.

``--scheduler ADDRESS`` connects to an existing cluster (a one-line
:class:`~netqa.errors.InputError` when it does not answer within
:data:`CONNECT_TIMEOUT_S`); otherwise ``--workers N`` starts a local cluster
of N single-threaded worker processes.
"""

from __future__ import annotations

import uuid
import warnings

from netqa.errors import InputError

#: Seconds to wait for a Dask scheduler to answer. [s]
CONNECT_TIMEOUT_S = 30


def dask_client(scheduler: str | None, workers: int):
    """``(client, cluster)``: connected to ``scheduler``, else to a new local cluster of ``workers`` processes
    (``cluster`` is None for a remote scheduler; the caller closes both)."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s"), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"--scheduler {scheduler!r}: cannot connect to the Dask scheduler ({exc})") from exc
    with warnings.catch_warnings():  # the scheduler's HTTP server takes another port when 8787 is busy: no news
        warnings.filterwarnings("ignore", message="Port 8787 is already in use", category=UserWarning)
        cluster = LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster), cluster


def task_token() -> str:
    """A short random suffix for task keys, so that two runs on one cluster never share a key."""
    return uuid.uuid4().hex[:12]
