"""The bench's end-to-end tests need wrk (Debian's package `wrk`); without it they are skipped,
saying how to install it."""

from __future__ import annotations

import shutil

import pytest

from portal_dev.bench import wrk


@pytest.fixture
def needs_wrk() -> None:
    if shutil.which("wrk") is None:
        pytest.skip(wrk.INSTALL_HINT)
