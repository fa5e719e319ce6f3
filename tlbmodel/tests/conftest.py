"""Builds the plugin, its unit test and the test guest once per session (into
build/tlbmodel-test, or $TLBMODEL_BUILD)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tlbmodel_guest as guestlib  # noqa: E402


@pytest.fixture(scope="session")
def built():
    guestlib.build()
    return guestlib


@pytest.fixture
def run(built, tmp_path):
    """run(pattern, plugin_args, smp=1, icount=False, **params) -> guestlib.Run (QEMU exit
    status checked)."""
    def _run(pattern, plugin_args="preset=u54", check_rc=True, smp=1, icount=False, **kw):
        return built.run_guest(tmp_path, built.params(pattern, **kw), plugin_args, check_rc=check_rc,
                               smp=smp, icount=icount)
    return _run
