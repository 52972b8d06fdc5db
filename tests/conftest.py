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


@pytest.fixture(autouse=True)
def _restore_netqa_logger():
    """Tests that call the CLI in-process configure the ``netqa`` logger (own handler, no propagation);
    restore it afterwards so that ``caplog`` in later tests still sees netqa's records."""
    import logging

    logger = logging.getLogger("netqa")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]
