"""The presets are defined once (src/presets.cpp): the plugin applies them, tlbmodel-presets prints
them, and the harness reads that listing (harness/tlb.py load_presets). These tests check that
what the harness sees is exactly what the plugin does under QEMU."""
import json
import subprocess
import sys

import pytest

from tlbmodel_guest import BUILD, PLUGIN, QEMU, REPO

sys.path.insert(0, str(REPO))
from harness.tlb import PRESETS  # noqa: E402


@pytest.fixture(scope="module")
def listing(built):
    subprocess.run(["make", "-s", "-C", str(REPO / "tlbmodel"), f"O={BUILD}", "presets"], check=True)
    return {d["name"]: d for d in json.loads((BUILD / "presets.json").read_text())["presets"]}


def test_harness_lists_the_plugins_presets_in_order(listing):
    """The plugin names its presets in its usage message (built from the same table): the
    harness has exactly those, in the same order."""
    p = subprocess.run([QEMU, "-machine", "virt", "-nographic", "-bios", "none",
                        "-plugin", f"{PLUGIN},no_such_setting=1"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    usage = p.stderr[p.stderr.index("preset=") + len("preset="):].split()[0]
    assert usage.split("|") == list(PRESETS) == list(listing)


@pytest.mark.parametrize("name", list(PRESETS))
def test_harness_preset_is_what_the_plugin_applies(run, listing, name):
    """Each preset's report configuration (the plugin applying it) is the listing the harness
    reads, field for field, and the harness's summary of it (L1 sizes, ASID width, satp cost)."""
    cfg = run("pages", f"preset={name}", k=2).report["config"]
    d = listing[name]
    for key in ("l1i", "l1d", "l2", "l1i_super", "l1d_super", "l2_4k_only", "walk_cache",
                "replacement", "cost_model"):
        assert cfg[key] == d[key], (name, key)
    assert cfg["core_asid_bits"] == d["asid_bits"] == PRESETS[name].asid_bits
    entries = {k: (None if cfg[k]["entries"] == "infinite" else cfg[k]["entries"])
               for k in ("l1i", "l1d")}
    assert (PRESETS[name].l1i, PRESETS[name].l1d) == (entries["l1i"], entries["l1d"])
    assert PRESETS[name].satp_write == cfg["cost_model"]["satp_write"]
    assert PRESETS[name].core == d["core"] and PRESETS[name].text == d["text"]
