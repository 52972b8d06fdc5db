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
