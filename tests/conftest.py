"""Shared test set-up: no display, no GPU needed, paths to ../shared."""
from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
ARTWORKS = SHARED_DATA / "artworks"
BSDS500 = SHARED_DATA / "bsds500"


@pytest.fixture(scope="session")
def artworks_dir() -> Path:
    if not ARTWORKS.is_dir():
        pytest.skip("../shared/data/artworks is not beside the checkout")
    return ARTWORKS


@pytest.fixture(scope="session")
def bsds_dir() -> Path:
    if not BSDS500.is_dir():
        pytest.skip("../shared/data/bsds500 is not beside the checkout")
    return BSDS500
