"""The trap-path generators (kernel/scheme/<scheme>/trapgen.py over trapgen_common.py) and the
static_asserts they emit (generated/trap_checks.hpp, compiled by kernel/trap/trapgen_checks.cpp).

Every trap-frame field the generator lays out has a check; and a generator that disagrees with
the C++ side (here: a wrong SYS_COUNT, a wrong trampoline address, a scheme-1 field moved) fails
the real compile of trapgen_checks.cpp against a real build's generated headers."""
from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from harness.build import build_variant
from harness.variants import variant_by_name

REPO = Path(__file__).resolve().parents[2]
SCHEMES = {1: "separate", 2: "shared", 3: "randomized"}
CXX = "riscv64-linux-gnu-g++"
TEST_LOGS = REPO / "build" / "test-logs"


def generate(folder: str, out: Path) -> None:
    cfg = out / ".config"
    out.mkdir(parents=True, exist_ok=True)
    cfg.write_text("CONFIG_ASID=y\nCONFIG_STATS=y\n")
    subprocess.run([sys.executable, str(REPO / "kernel" / "scheme" / folder / "trapgen.py"), str(cfg), str(out)],
                   check=True)


@pytest.mark.unit
@pytest.mark.parametrize("scheme", [1, 2, 3])
def test_every_trapframe_field_is_checked(scheme: int, tmp_path: Path) -> None:
    generate(SCHEMES[scheme], tmp_path)
    fields = re.findall(r"#define (TF_[A-Z_]+) \d+", (tmp_path / "trap_layout.h").read_text())
    checks = (tmp_path / "trap_checks.hpp").read_text()
    fields.remove("TF_SIZE")
    assert fields, "no trap-frame fields generated"
    for f in fields:
        assert f"({f})" in checks, f"no static_assert for {f}"
    for fact in ("sizeof(TrapFrame)", "sizeof(Context)", "layout::TRAMPOLINE", "uapi::SYS_COUNT",
                 "riscv::Exception::UserEcall", "KERNELVEC_SEPC_INDEX"):
        assert fact in checks, f"no static_assert on {fact}"
    # Scheme 1's own fields exist only in scheme 1's frame.
    assert ("TF_KERNEL_SATP" in fields) == (scheme == 1)


def load_common() -> ModuleType:
    spec = importlib.util.spec_from_file_location("trapgen_common_under_test",
                                                  REPO / "kernel" / "scheme" / "trapgen_common.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compile_checks(gen: Path, build_dir: Path, folder: str) -> subprocess.CompletedProcess[str]:
    flags = ["-std=c++20", "-march=rv64imac_zicsr_zifencei", "-mabi=lp64", "-mcmodel=medany", "-ffreestanding",
             "-nostdlib", "-fno-exceptions", "-fno-rtti", "-fsyntax-only",
             f"-I{gen}", f"-I{build_dir / 'generated'}", f"-I{REPO / 'kernel'}", f"-I{REPO / 'include'}",
             f"-DSCHEME_SLIDE_HEADER=\"scheme/{folder}/slide.hpp\"",
             f"-DSCHEME_STATE_HEADER=\"scheme/{folder}/state.hpp\""]
    return subprocess.run([CXX, *flags, str(REPO / "kernel" / "trap" / "trapgen_checks.cpp")],
                          capture_output=True, text=True)


@pytest.mark.kernel
@pytest.mark.skipif(shutil.which(CXX) is None, reason="needs the RISC-V cross compiler")
@pytest.mark.parametrize("scheme,change,message", [
    (2, ("SYS_COUNT", 23), "SYS_COUNT"),
    (3, ("TRAMPOLINE", 0xFFFFFFFFFFFFE000), "TRAMPOLINE"),
    (1, ("X_REGS_BYTES", 31 * 8), "TrapFrame"),
])
def test_a_disagreeing_generator_fails_the_build(scheme: int, change: tuple, message: str, tmp_path: Path) -> None:
    built = build_variant(variant_by_name(f"s{scheme}-asid"), REPO, TEST_LOGS)
    assert built.ok, f"build failed: {built.error}\n  log: {built.log}"
    folder = SCHEMES[scheme]
    # As generated: compiles.
    good = tmp_path / "good"
    generate(folder, good)
    res = compile_checks(good, built.build_dir, folder)
    assert res.returncode == 0, res.stderr
    # The same generator with one fact changed: the compile fails and names the fact.
    common = load_common()
    setattr(common, change[0], change[1])
    spec = importlib.util.spec_from_file_location("scheme_trapgen_under_test",
                                                  REPO / "kernel" / "scheme" / folder / "trapgen.py")
    assert spec and spec.loader
    saved = sys.modules.get("trapgen_common")
    sys.modules["trapgen_common"] = common
    sys.modules.pop("trapgen", None)  # scheme 2's generator, which scheme 3's imports: load it afresh
    try:
        gen_module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(gen_module)
    finally:
        if saved is not None:
            sys.modules["trapgen_common"] = saved
        else:
            sys.modules.pop("trapgen_common", None)
        sys.modules.pop("trapgen", None)
    scheme_class = next(v for v in vars(gen_module).values()
                        if isinstance(v, type) and getattr(v, "number", None) == scheme)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "trap_checks.hpp").write_text(scheme_class({"ASID": "y", "STATS": "y"}).checks_header())
    res = compile_checks(bad, built.build_dir, folder)
    assert res.returncode != 0, "a generator that disagrees with the C++ side still compiled"
    assert "static assertion failed" in res.stderr and message in res.stderr, res.stderr
