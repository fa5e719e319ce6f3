"""The kernel variants: every scheme with ASIDs on and off (2 MiB kernel superpages, the
default), every scheme with ASIDs on and the kernel mapped with 4 KiB pages (`-4k`), and every
scheme with ASIDs on, demand paging and copy-on-write fork (`-dc`: CONFIG_MEMORY_DEMAND=y,
CONFIG_FORK_COW=y). The paging choice is the tidy CSV's `paging` column: ``eager-copy`` (eager
population, eager fork copy: every other variant) or ``demand-cow``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List

PAGING_EAGER = "eager-copy"
PAGING_DEMAND_COW = "demand-cow"
PAGINGS = (PAGING_EAGER, PAGING_DEMAND_COW)


def paging_of(variant: str) -> str:
    """The paging choice of a variant name (`-dc`: demand-cow)."""
    return PAGING_DEMAND_COW if variant.endswith("-dc") else PAGING_EAGER


SCHEME_NAMES = {
    1: "separate kernel table",
    2: "shared table, same kernel VA",
    3: "shared table, per-process kernel VA",
}


@dataclass(frozen=True)
class Variant:
    scheme: int
    asid: bool
    kernel_4k: bool = False  # CONFIG_KERNEL_MAP_4K: the kernel window in 4 KiB pages
    demand_cow: bool = False  # CONFIG_MEMORY_DEMAND=y and CONFIG_FORK_COW=y

    @property
    def paging(self) -> str:
        """The tidy CSV's `paging` value."""
        return PAGING_DEMAND_COW if self.demand_cow else PAGING_EAGER

    @property
    def name(self) -> str:
        return (f"s{self.scheme}-{'asid' if self.asid else 'noasid'}" + ("-4k" if self.kernel_4k else "")
                + ("-dc" if self.demand_cow else ""))

    @property
    def defconfig(self) -> str:
        return f"scheme{self.scheme}_defconfig"

    @property
    def setconfig(self) -> List[str]:
        """Options changed with `make setconfig SET=...` after the defconfig."""
        return (([] if self.asid else ["ASID=n"]) + (["KERNEL_MAP_4K=y"] if self.kernel_4k else [])
                + (["MEMORY_DEMAND=y", "FORK_COW=y"] if self.demand_cow else []))

    def __str__(self) -> str:
        return self.name


ALL_VARIANTS: List[Variant] = ([Variant(s, a) for s in (1, 2, 3) for a in (True, False)]
                               + [Variant(s, True, kernel_4k=True) for s in (1, 2, 3)]
                               + [Variant(s, True, demand_cow=True) for s in (1, 2, 3)])
VARIANT_NAMES: List[str] = [v.name for v in ALL_VARIANTS]


def variant_by_name(name: str) -> Variant:
    for v in ALL_VARIANTS:
        if v.name == name:
            return v
    raise ValueError(f"unknown variant {name!r}; known: {', '.join(VARIANT_NAMES)}")


def select_variants(names: Iterable[str] | None) -> List[Variant]:
    if not names:
        return list(ALL_VARIANTS)
    return [variant_by_name(n) for n in names]
