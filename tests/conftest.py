"""Shared fixtures: paths to the committed test world and to the optional real data."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO / "testdata"
#: Real public measurement data beside the project root (never copied into it).
REALDATA = (REPO / ".." / "shared" / "realdata").resolve()


@pytest.fixture(scope="session")
def testdata() -> Path:
    return TESTDATA


@pytest.fixture(scope="session")
def realdata() -> Path:
    """``../shared/realdata``; tests using it skip cleanly when it is absent."""
    if not REALDATA.is_dir():
        pytest.skip(f"real data not available at {REALDATA}")
    return REALDATA


import logging  # noqa: E402

#: The ``netqa`` logger as the package leaves it (no handler, propagating), before any test configures it.
_NETQA_LOGGER_PRISTINE = (list(logging.getLogger("netqa").handlers), logging.getLogger("netqa").level,
                          logging.getLogger("netqa").propagate)  # fmt: skip


def _pristine_netqa_logger():
    logger = logging.getLogger("netqa")
    logger.handlers[:], logger.level, logger.propagate = list(_NETQA_LOGGER_PRISTINE[0]), *_NETQA_LOGGER_PRISTINE[1:]


@pytest.fixture(autouse=True)
def _restore_netqa_logger():
    """Tests (and module-scoped fixtures) that call the CLI in-process configure the ``netqa`` logger (own
    handler, no propagation); every test starts and ends with it as the package leaves it, so that ``caplog``
    sees netqa's records whatever ran before."""
    _pristine_netqa_logger()
    yield
    _pristine_netqa_logger()
