#include "arch/fp.hpp"

#include "arch/riscv.hpp"

// The only FP instructions in the kernel. `.option arch` lets this file use them while the
// rest of the kernel is compiled without F and D.
asm(R"(
    .section .text
    .option push
    .option arch, +d
    .globl fp_save_regs
    .balign 4
fp_save_regs:                  # a0 = State*
)"
#define FP_SD(i) "    fsd f" #i ", " #i "*8(a0)\n"
#define FP_LD(i) "    fld f" #i ", " #i "*8(a0)\n"
#define ALL32(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15) \
  X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25) X(26) X(27) X(28) X(29) X(30) X(31)
    ALL32(FP_SD)
R"(    frcsr t0
    sd t0, 256(a0)
    ret
    .globl fp_load_regs
    .balign 4
fp_load_regs:                  # a0 = const State*
)"
    ALL32(FP_LD)
R"(    ld t0, 256(a0)
    fscsr t0
    ret
    .option pop
)");
#undef FP_SD
#undef FP_LD
#undef ALL32

extern "C" void fp_save_regs(fp::State*);
extern "C" void fp_load_regs(const fp::State*);
static_assert(__builtin_offsetof(fp::State, fcsr) == 256, "fp_save_regs stores fcsr at 256");

namespace {

constexpr u64 FS_OFF = 0ul << 13, FS_INITIAL = 1ul << 13, FS_CLEAN = 2ul << 13, FS_DIRTY = 3ul << 13;
u64 save_count = 0, restore_count = 0;

u64 fs() { return CSR_READ(sstatus) & riscv::SSTATUS_FS; }
void set_fs(u64 v) {
  CSR_CLEAR(sstatus, riscv::SSTATUS_FS);
  if (v) CSR_SET(sstatus, v);
}

void save_if_dirty(fp::State& s) {
  if (fs() == FS_DIRTY) {
    fp_save_regs(&s);
    save_count++;
    set_fs(FS_CLEAN);
  }
}

void load(const fp::State& s) {
  set_fs(FS_INITIAL);  // FP instructions need FS != Off, also in S-mode
  fp_load_regs(&s);
  restore_count++;
  set_fs(FS_CLEAN);
}

}  // namespace

namespace fp {

void init() { set_fs(FS_OFF); }

void switch_out_in(State& from, State& to) {
  save_if_dirty(from);
  if (to.in_use) load(to);
  else set_fs(FS_OFF);
}

void switch_out(State& from) {
  save_if_dirty(from);
  set_fs(FS_OFF);
}

void switch_in(State& to) {
  if (to.in_use) load(to);
  else set_fs(FS_OFF);
}

void fork_copy(State& parent, State& child) {
  save_if_dirty(parent);
  child = parent;
}

void exec_reset(State& s) {
  s = {};
  set_fs(FS_OFF);
}

bool first_use(State& s) {
  if (s.in_use || fs() != FS_OFF) return false;  // FP was on: a genuinely illegal instruction
  s = {};
  s.in_use = true;
  load(s);
  return true;
}

u64 saves() { return save_count; }
u64 restores() { return restore_count; }

}  // namespace fp
