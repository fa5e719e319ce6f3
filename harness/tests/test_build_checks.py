"""The scheme-3 relocation check (kernel/scheme/randomized/check_relocs.py) must reject absolute kernel addresses.

Real cross compiler, real linker, real check: a deliberately bad object (a function-pointer
table, a vtable) fails it, a position-independent one passes.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures" / "relocs"
CXX = "riscv64-linux-gnu-g++"
# The kernel's code-generation flags (Makefile: COMMON_FLAGS / KERNEL_CXXFLAGS, and scheme 3's
# kernel/scheme/randomized/scheme.mk), linked at the
# kernel's link-time VA with the relocations kept, as the kernel build does.
CFLAGS = ["-std=c++20", "-march=rv64imac_zicsr_zifencei", "-mabi=lp64", "-mcmodel=medany",
          "-ffreestanding", "-nostdlib", "-fno-pie", "-fno-exceptions", "-fno-rtti", "-O2",
          "-fno-asynchronous-unwind-tables", "-fno-tree-switch-conversion"]
LDFLAGS = ["-nostdlib", "-static", "-no-pie", "-Wl,--emit-relocs", "-Wl,--build-id=none",
           "-Wl,-Ttext=0xffffffc000200000"]

pytestmark = [pytest.mark.unit,
              pytest.mark.skipif(shutil.which(CXX) is None, reason="needs the RISC-V cross compiler")]


def link(source: str, tmp_path: Path) -> Path:
    obj, elf = tmp_path / f"{source}.o", tmp_path / f"{source}.elf"
    subprocess.run([CXX, *CFLAGS, "-c", str(FIXTURES / source), "-o", str(obj)], check=True)
    subprocess.run([CXX, *LDFLAGS, str(obj), "-o", str(elf)], check=True)
    return elf


def check(elf: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["/usr/bin/python3", str(REPO / "kernel" / "scheme" / "randomized" / "check_relocs.py"), str(elf)],
                          capture_output=True, text=True)


@pytest.mark.parametrize("source", ["pointer_table.cpp", "vtable.cpp"])
def test_absolute_kernel_addresses_fail_the_check(source: str, tmp_path: Path) -> None:
    result = check(link(source, tmp_path))
    assert result.returncode == 1, result.stderr
    assert "absolute kernel address" in result.stderr
    assert "R_RISCV_64" in result.stderr


def test_position_independent_object_passes(tmp_path: Path) -> None:
    result = check(link("pc_relative.cpp", tmp_path))
    assert result.returncode == 0, result.stderr
