"""The harness as an instrument, without a kernel: `make mrproper` / `distclean` delete only
what they say, a benchmark declared in its program is measured with no harness file touched
(fake QEMU), variants given as data (the file, the command line, a sweep's config dimension)
resolve through Kconfig and are told apart in the CSV."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import UserError
from harness.variants import load_variants, parse_spec, variant_by_name, with_settings

from .conftest import FAKES

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ make mrproper / distclean

@pytest.fixture
def build_tree(tmp_path: Path) -> Path:
    """A tree with the real Makefile and a build/ holding the default build and the harness's
    and other builds' directories."""
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    b = tmp_path / "build"
    for f in (".config", "kernel.elf", "generated/config.hpp", "kernel/main.cpp.o",
              "variants/abc/kernel.elf", "results/measurements.csv",
              "sweeps/smoke/points/k.json", "s2/kernel.elf", ".results.staging-1/x"):
        (b / f).parent.mkdir(parents=True, exist_ok=True)
        (b / f).write_text("x")
    return tmp_path


def _make(tree: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=tree, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, check=True)


def test_mrproper_without_o_keeps_other_builds_and_outputs(build_tree: Path) -> None:
    out = _make(build_tree, "mrproper").stdout
    b = build_tree / "build"
    for gone in (".config", "kernel.elf", "generated", "kernel"):
        assert not (b / gone).exists(), gone
    for kept in ("variants/abc/kernel.elf", "results/measurements.csv",
                 "sweeps/smoke/points/k.json", "s2/kernel.elf"):
        assert (b / kept).is_file(), kept
    assert "kept build/variants" in out and "make distclean" in out
    _make(build_tree, "O=build/s2", "mrproper")  # a directory of its own: emptied
    assert (b / "s2").is_dir() and not any((b / "s2").iterdir())
    assert (b / "variants/abc/kernel.elf").is_file()


def test_distclean_names_what_it_removes(build_tree: Path) -> None:
    out = _make(build_tree, "distclean").stdout
    for name in ("results", "sweeps", "variants", "s2", "kernel.elf", ".results.staging-1"):
        assert f"distclean: removing build/{name} (" in out, name
    assert not (build_tree / "build").exists()
    assert "nothing to remove" in _make(build_tree, "distclean").stdout


# ------------------------------------------------------------------ variants as data

def test_the_thirteen_variants_are_declared_in_the_file() -> None:
    vs = load_variants(REPO)
    one = [v for v in vs if v.harts == 1]
    assert len(one) == 13 and len({v.config_hash for v in one}) == 13
    assert [v for v in vs if v.name == "s2-kaslr"][0].config_string == "KASLR_BOOT=y"
    # the multi-hart variants (issue 17) reuse the one-hart builds: -smp is not a build setting;
    # only the three with the other shootdown mechanism (SHOOTDOWN_IPI=y) are kernels of their own
    many = [v for v in vs if v.harts > 1]
    rfence = [v for v in many if "SHOOTDOWN_IPI=y" not in v.config_string]
    ipi = [v for v in many if v.config_string == "SHOOTDOWN_IPI=y"]
    assert {v.harts for v in many} == {2, 4} and {v.config_hash for v in rfence} <= {v.config_hash for v in one}
    assert len(rfence) + len(ipi) == len(many) and len({v.config_hash for v in ipi}) == 3
    assert not {v.config_hash for v in ipi} & {v.config_hash for v in one}
    by = {v.name: v for v in vs}
    assert (by["s1-noasid"].scheme, by["s1-noasid"].asid, by["s1-noasid"].config_string) == (
        1, False, "ASID=n")
    assert (by["s3-asid-4k"].kernel_4k, by["s3-asid-4k"].config_string) == (
        True, "KERNEL_MAP_4K=y")
    assert (by["s2-asid-dc"].paging, by["s2-asid-dc"].config_string) == (
        "demand-cow", "FORK_COW=y,MEMORY_DEMAND=y")
    assert by["s2-asid"].config_string == "" and by["s2-asid"].paging == "eager-copy"


def test_a_variant_on_the_command_line() -> None:
    v = parse_spec("s2-hz1000:scheme2_defconfig+TIMER_HZ=1000")
    assert (v.scheme, v.asid, v.config_string) == (2, True, "TIMER_HZ=1000")
    assert v.config_hash != variant_by_name("s2-asid").config_hash
    assert parse_spec("x:scheme2+TIMER_HZ=1000").config_hash == v.config_hash  # same .config
    for bad, says in (("x:scheme2+SCHEME=3", "no prompt"), ("x:scheme2+NOPE=1", "not a Kconfig"),
                      ("x:scheme2+TIMER_HZ=fast", "not accepted"), ("x:scheme7", "no defconfig"),
                      ("noconfig", "NAME:DEFCONFIG"), ("x:scheme2+ASID", "OPT=VAL")):
        with pytest.raises(UserError, match=says):
            parse_spec(bad)


def test_a_sweep_takes_kconfig_settings_as_a_dimension(tmp_path: Path) -> None:
    from harness.sweep import expand, load_sweep
    f = tmp_path / "hz.toml"
    f.write_text('[dimensions]\nvariant = ["s2-asid", "s1-noasid"]\n'
                 'config = ["", "TIMER_HZ=1000", "TIMER_HZ=250+NPROC=64"]\n'
                 'bench = ["bench_null"]\n')
    sweep = load_sweep(f)
    names = [v.name for v in sweep.variants]
    assert names == ["s2-asid", "s2-asid+TIMER_HZ=1000", "s2-asid+TIMER_HZ=250+NPROC=64",
                     "s1-noasid", "s1-noasid+TIMER_HZ=1000", "s1-noasid+TIMER_HZ=250+NPROC=64"]
    configs = [p.variant.config_string for p in expand(sweep)]
    assert configs == ["", "TIMER_HZ=1000", "NPROC=64,TIMER_HZ=250", "ASID=n",
                       "ASID=n,TIMER_HZ=1000", "ASID=n,NPROC=64,TIMER_HZ=250"]
    assert len({p.variant.config_hash for p in expand(sweep)}) == 6
    f.write_text('[dimensions]\nvariant = ["s2-asid"]\nconfig = ["SCHEME=1"]\n'
                 'bench = ["bench_null"]\n')
    with pytest.raises(UserError, match="hz.toml.*SCHEME cannot be set"):
        load_sweep(f)
    assert with_settings(variant_by_name("s2-asid"), []).name == "s2-asid"


# ------------------------------------------------------------------ a benchmark is one file

NEW_BENCH = """// bench_three: prints three lines (a test's benchmark)
//! [bench_three]
//! op = "nothing"
//! args = ["9"]
//! quick = ["3"]
//! lines = 3
int main() { return 0; }
"""


def test_a_declared_benchmark_is_measured_with_no_harness_edit(fake_repo: Path,
                                                              tmp_path: Path) -> None:
    """A copy of the code with one more file under user/bench/: --help lists it, `bench -B`
    measures it (the fake QEMU prints the lines its declaration promises), rows in the CSV."""
    code = tmp_path / "code"
    shutil.copytree(REPO / "harness", code / "harness",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "user" / "bench", code / "user" / "bench")
    (code / "user" / "bench" / "bench_three.cpp").write_text(NEW_BENCH)
    shutil.copy(REPO / "user" / "kaslr_probe.cpp", code / "user" / "kaslr_probe.cpp")
    # tlbmodel/: the harness lists the TLB presets from the plugin's own definitions
    for f in ("Kconfig", "configs", "tlbmodel"):
        src = REPO / f
        (shutil.copytree if src.is_dir() else shutil.copy)(src, code / f)
    qemu = code / "harness" / "tests" / "fakes" / "fake_qemu.py"

    def harness(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "harness", *args], cwd=code,
                              capture_output=True, text=True, timeout=300)

    assert "bench_three" in harness("bench", "--help").stdout
    out = tmp_path / "out"
    res = harness("bench", "--quick", "--repo", str(fake_repo), "--qemu", str(qemu),
                  "--results", str(out), "--no-progress", "-V", "s2-asid",
                  "--variant", "s2-hz:scheme2_defconfig+TIMER_HZ=1000", "-B", "bench_three",
                  "--no-kaslr", "--no-tlb")
    assert res.returncode == 0, res.stdout + res.stderr
    sys.path.insert(0, str(REPO))
    from harness.tidy import read_csv
    df = read_csv(out / "measurements.csv")
    ic = df[(df["mode"] == "icount") & (df["metric"] == "insns_per_op")]
    assert sorted(ic.groupby(["variant", "config"]).size().items()) == [
        (("s2-asid", ""), 3), (("s2-hz", "TIMER_HZ=1000"), 3)]
    assert len(df[df["mode"] == "wall"]) == 2 * 3 * 2  # 2 variants x 3 lines x 2 repetitions
    assert not (FAKES.parent.parent.parent / "user" / "bench" / "bench_three.cpp").exists()
