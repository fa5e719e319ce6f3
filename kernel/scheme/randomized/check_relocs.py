#!/usr/bin/python3
"""Fail when the kernel image holds an absolute address into the kernel.

    check_relocs.py kernel.elf    (linked with --emit-relocs)

In scheme 3 the kernel runs at a different VA in every process, so any absolute address of a
kernel symbol stored in the image (R_RISCV_64 / R_RISCV_32 / R_RISCV_HI20-LO12 against a
kernel symbol: initialised pointer tables, vtables, function-pointer arrays, .init_array)
would be right in one address space and wrong in all others. PC-relative references
(AUIPC-based, R_RISCV_PCREL_*, branches, calls) and assembler-time differences
(R_RISCV_ADD/SUB pairs, resolved in place) are position independent and allowed.
"""
import sys

from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection

# RISC-V relocation types that write an absolute address.
ABSOLUTE = {1: "R_RISCV_32", 2: "R_RISCV_64", 26: "R_RISCV_HI20", 27: "R_RISCV_LO12_I", 28: "R_RISCV_LO12_S"}
KERNEL_HALF = 0xFFFFFFC000000000


def check(path: str) -> list[str]:
    problems = []
    with open(path, "rb") as f:
        elf = ELFFile(f)
        for section in elf.iter_sections():
            if not isinstance(section, RelocationSection):
                continue
            target = elf.get_section(section["sh_info"])
            if not (target["sh_flags"] & 0x2):  # SHF_ALLOC: loaded, read at run time
                continue
            symtab = elf.get_section(section["sh_link"])
            for rel in section.iter_relocations():
                kind = rel["r_info_type"]
                if kind not in ABSOLUTE:
                    continue
                sym = symtab.get_symbol(rel["r_info_sym"])
                addend = rel["r_addend"] if rel.is_RELA() else 0
                value = sym["st_value"] + addend
                if sym["st_shndx"] == "SHN_ABS" or value < KERNEL_HALF:
                    continue  # a constant, not an address in the kernel
                name = sym.name or f"section {sym['st_shndx']}"
                problems.append(
                    f"{target.name}+0x{rel['r_offset'] - target['sh_addr']:x}: {ABSOLUTE[kind]} "
                    f"-> {name}+0x{addend:x} (absolute kernel address 0x{value:x})")
    return problems


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: check_relocs.py kernel.elf", file=sys.stderr)
        return 2
    problems = check(sys.argv[1])
    if problems:
        print(f"check_relocs: {sys.argv[1]} holds {len(problems)} absolute kernel address(es); "
              "scheme 3 runs the kernel at a different VA in every process, so these would be wrong "
              "in all but one. Use PC-relative code, offsets or KPtr instead:", file=sys.stderr)
        for p in problems[:40]:
            print("  " + p, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
