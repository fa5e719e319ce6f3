#include "mm/asid.hpp"

#include "arch/riscv.hpp"
#include "lib/log.hpp"
#include "mm/tlb.hpp"
#include "arch/hart.hpp"

using asid::Tag;

namespace {

constexpr unsigned MAX_BITS = 16;
constexpr u32 WORDS = (1u << MAX_BITS) / 64;

unsigned usable_bits = 0;
u32 count = 0;               // ASIDs in this generation: 1 << usable_bits (ASID 0 is the kernel's)
u64 current_generation = 1;
u64 rollover_count = 0;
u64 in_use[WORDS];           // bit a: ASID a is held in current_generation
u32 next_hint = 1;

// The ASIDs that were active (in satp, or in the trap frame about to be loaded) on each hart
// when the generation rolled over. Their owners are still running, so their entries may be
// refilled after the flush: each keeps its ASID in the new generation and nobody else gets it
// (Linux riscv: reserved_context per hart).
struct Reserved {
  bool valid = false;
  Tag owner;  // the owner's tag as it was (old generation)
};
Reserved reserved[hart::MAX];

bool held(u32 a) { return in_use[a / 64] >> (a % 64) & 1; }
void take(u32 a) { in_use[a / 64] |= 1ul << (a % 64); }
void give_back(u32 a) { in_use[a / 64] &= ~(1ul << (a % 64)); }

// A free ASID of this generation, searching from the hint; 0 if none.
u32 find_free() {
  for (u32 i = 0; i < count; i++) {
    u32 a = (next_hint + i) % count;
    if (a != 0 && !held(a)) {
      next_hint = a + 1;
      return a;
    }
  }
  return 0;
}

void rollover() {
  for (u32 i = 0; i < WORDS; i++) in_use[i] = 0;
  take(0);
  for (int h = 0; h < hart::MAX; h++) {
    u16 active = h < hart::online() ? hart::harts[h].active_asid : 0;
    reserved[h].valid = active != 0;
    if (active != 0) {
      take(active);
      reserved[h].owner = {current_generation, active};
    }
  }
  current_generation++;
  rollover_count++;
  // Every hart forgets the old generation before it next loads an ASID (acquire below), not
  // now (Linux riscv: context_tlb_flush_pending): until then it runs only its reserved ASID,
  // whose entries stay right, and never matches the old ones of the other ASIDs.
  for (int h = 0; h < hart::online(); h++) hart::harts[h].asid_flush_pending = true;
  hart::self().asid_flush_pending = false;
  tlb::flush_all();
  LOG_DEBUG("asid: rollover to generation %lu\n", current_generation);
}

Reserved* reservation_of(const Tag& t) {
  for (Reserved& r : reserved)
    if (r.valid && t.generation == r.owner.generation && t.value == r.owner.value) return &r;
  return nullptr;
}
bool is_reserved(const Tag& t) { return reservation_of(t) != nullptr; }

}  // namespace

namespace asid {

unsigned probe_width() {
  // Write all-ones to satp.ASID (keeping mode and root) and count the bits that stick.
  u64 satp = CSR_READ(satp);
  CSR_WRITE(satp, satp | (riscv::SATP_ASID_MASK << riscv::SATP_ASID_SHIFT));
  u64 back = (CSR_READ(satp) >> riscv::SATP_ASID_SHIFT) & riscv::SATP_ASID_MASK;
  CSR_WRITE(satp, satp);
  tlb::flush_all();
  unsigned bits = 0;
  while (bits < MAX_BITS && (back >> bits & 1)) bits++;
  return bits;
}

void init(unsigned cap_bits) {
  usable_bits = 0;
  if (cap_bits > 0) {
    usable_bits = cap_bits;
    // A rollover reserves every hart's active ASID and ASID 0 is the kernel's: one more must be
    // left to hand out (Linux riscv turns ASIDs off on the same condition).
    if (usable_bits < 2 || (1u << usable_bits) < static_cast<u32>(hart::online()) + 2) usable_bits = 0;
  }
  count = usable_bits ? 1u << usable_bits : 0;
  for (u32 i = 0; i < WORDS; i++) in_use[i] = 0;
  take(0);
}

unsigned bits() { return usable_bits; }
bool enabled() { return usable_bits != 0; }
u64 generation() { return current_generation; }
u64 rollovers() { return rollover_count; }

u16 acquire(Tag& tag) {
  if (!enabled()) {
    tag = {};
    return 0;
  }
  // A rollover on another hart left this hart's flush to now: before any ASID of the new
  // generation is loaded here, entries of its old owner must be gone.
  if (hart::Hart& me = hart::self(); me.asid_flush_pending) {
    me.asid_flush_pending = false;
    tlb::flush_all();
  }
  if (tag.generation == current_generation) return tag.value;
  if (Reserved* r = reservation_of(tag)) {
    r->valid = false;  // already marked held in this generation
    tag.generation = current_generation;
    return tag.value;
  }
  u32 a = find_free();
  if (a == 0) {
    rollover();
    a = find_free();  // at most ASID 0 and the reserved one are held: with >= 2 bits one is free
    if (a == 0) panic("asid: no ASID free right after a rollover");
  }
  take(a);
  tag = {current_generation, static_cast<u16>(a)};
  return tag.value;
}

void release(Tag& tag) {
  if (enabled() && tag.value != 0) {
    bool live = tag.generation == current_generation || is_reserved(tag);
    if (live) {
      // Entries tagged with this ASID (leaves and cached walks) must be gone before the ASID is
      // handed out again, and before the caller frees the tables and frames they point to.
      tlb::flush_asid(tag.value);
      give_back(tag.value);
      if (Reserved* r = reservation_of(tag)) r->valid = false;
    }
    // A stale tag's entries are dead: every hart flushes before it next loads an ASID, and until
    // then runs only its reserved one (a running owner's tag is reserved, never stale).
  }
  tag = {};
}

bool holds(const Tag& tag) {
  return enabled() && tag.value != 0 && (tag.generation == current_generation || is_reserved(tag));
}
bool marked_held(u16 value) { return value < count && held(value); }

}  // namespace asid
