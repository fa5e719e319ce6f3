// The TLB model proper: TLB structures, the Sv39 walker over a shadow of guest RAM, the
// hierarchy (L1 ITLB + L1 DTLB + optional shared L2) and its counters. Nothing here depends on
// QEMU: tests/unit/test_model.cpp drives it directly. One header per part:
//   tlb.hpp          one TLB structure and tree-PLRU
//   counters.hpp     event counters and the cost model
//   walker.hpp       the shadow of guest RAM, the Sv39 walker and its page-walk cache
//   presets.hpp      a configuration and the presets
//   mmu.hpp          the hierarchy
//   lru_profile.hpp  LRU stack distances
#pragma once

#include "counters.hpp"
#include "lru_profile.hpp"
#include "mmu.hpp"
#include "presets.hpp"
#include "tlb.hpp"
#include "walker.hpp"
