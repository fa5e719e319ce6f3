// usertests: faults kill the process.
#include "framework.hpp"

namespace {

void load_from(long addr) { (void)*(volatile long*)addr; }
void store_to(long addr) { *(volatile long*)addr = 1; }
void jump_to(long addr) { ((void (*)())addr)(); }

TEST(kernel_access) {
  EXPECT_KILLED("load from 0xffffffc000200000", load_from, KADDR);
  EXPECT_KILLED("load from 0xffffffff00000000", load_from, KADDR_HIGH);
  EXPECT_KILLED("store to 0xffffffc000200000", store_to, KADDR);
  EXPECT_KILLED("jump to 0xffffffc000200000", jump_to, KADDR);
  EXPECT_KILLED("load from the trampoline page", load_from, TRAMPOLINE);
  EXPECT_KILLED("jump to the trampoline page", jump_to, TRAMPOLINE);
  // The kernel's own address of one of its objects, as this process's table maps it.
  long ka = diag(DIAG_KERNEL_ADDR, 0);
  EXPECT_KILLED("load from diag(DIAG_KERNEL_ADDR)", load_from, ka);
  EXPECT_KILLED("store to diag(DIAG_KERNEL_ADDR)", store_to, ka);
  EXPECT_KILLED("load from diag(DIAG_KERNEL_SLOT)", load_from, diag(DIAG_KERNEL_SLOT, 0));
  return true;
}

TEST(user_faults) {
  EXPECT_KILLED("load from null", load_from, 0);
  EXPECT_KILLED("store to null", store_to, 0);
  EXPECT_KILLED("load from an unmapped address", load_from, UNMAPPED);
  EXPECT_KILLED("load from 0x4000000000 (above user space)", load_from, USER_TOP);
  EXPECT_KILLED("store to program text", store_to, text_addr());
  EXPECT_KILLED("store to read-only data", store_to, rodata_addr());
  static uint32_t data_ret[2] = {RET_INSN, RET_INSN};
  EXPECT_KILLED("executing data", jump_to, (long)data_ret);
  EXPECT_KILLED("executing the stack", [](long) {
    uint32_t code[2] = {RET_INSN, RET_INSN};
    asm volatile("fence.i" ::: "memory");
    ((void (*)())(long)code)();
  }, 0);
  return true;
}

// Unbounded recursion runs into the guard page below the stack.
__attribute__((noinline)) long recurse(long n) {
  volatile long pad[64];  // 512 bytes per frame
  pad[0] = n;
  pad[63] = n;
  if (n < 0) return pad[0];  // only for a negative start: keeps the recursion from looking infinite
  return recurse(n + 1) + pad[n & 63];
}

TEST(stack_overflow) {
  EXPECT_KILLED("unbounded recursion", [](long) { recurse(0); }, 0);
  // We (the parent) are fine and our stack works.
  EXPECT(recurse(-1), -1);
  return true;
}

TEST(illegal_instruction) {
  EXPECT_KILLED(".word 0", [](long) { asm volatile(".word 0"); }, 0);
  EXPECT_KILLED("unimp", [](long) { asm volatile("unimp"); }, 0);
  EXPECT_KILLED("csrr sstatus", [](long) {
    long v;
    asm volatile("csrr %0, sstatus" : "=r"(v));
  }, 0);
  EXPECT_KILLED("csrw satp", [](long) { asm volatile("csrw satp, zero"); }, 0);
  EXPECT_KILLED("sret", [](long) { asm volatile("sret"); }, 0);
  EXPECT_KILLED("ebreak", [](long) { asm volatile("ebreak"); }, 0);
  return true;
}

// rdtime and rdinstret are readable from user mode (the benchmarks rely on it).
TEST(user_counters) {
  long st = run_child([](long) {
    uint64_t t0 = rdtime(), i0 = rdinstret();
    spin(1000);
    uint64_t t1 = rdtime(), i1 = rdinstret();
    return (t1 >= t0 && i1 > i0 + 1000) ? 0 : 1;
  }, 0);
  CHECK(st == 0, "reading time/instret from user mode: status %ld (-1: killed)", st);
  return true;
}

}  // namespace
