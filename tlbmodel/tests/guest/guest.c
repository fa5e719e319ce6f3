/* A tiny bare-metal S-mode guest for the TLB-model tests. OpenSBI enters it at 0x80200000 with
 * the MMU off. It builds Sv39 tables (with stores, so the model's shadow sees them), turns
 * translation on and runs one access pattern, chosen by the parameter block that QEMU's
 * generic loader device writes at PARAM_PA (`-device loader,addr=...,data=...,data-len=8`).
 * Each pattern brackets its measured parts with region markers (`slti x0, x0, N`), whose TLB
 * counts the tests know in advance. See tlbmodel/tests/tlbmodel_guest.py for the parameter layout. */
#include <stdint.h>

typedef uint64_t u64;

/* ---- parameters (written by the loader device; not stores) ---- */
#define PARAM_PA 0x80f00000UL
#define PARAM_MAGIC 0x4d424c54UL /* "TLBM" */
enum { P_MAGIC, P_PATTERN, P_K, P_PASSES, P_STRIDE, P_FLAGS, P_N, P_SPLIT, P_SEQ, P_WORDS = 48 };
enum {
  PAT_PAGES = 1,  /* U: touch K pages (stride STRIDE pages): region 1 one pass, region 2 PASSES */
  PAT_SUPER = 2,  /* U: 512 x 4 KiB in a 2 MiB page (regions 1, 2), 8 x 2 MiB in a 1 GiB (3) */
  PAT_ASID = 3,   /* U touches K pages (1); S switches satp away and touches (3) and back; U (2) */
  PAT_SFENCE = 4, /* S: K global + K non-global pages, every sfence.vma form (regions 1..8) */
  PAT_PROBE = 5,  /* S touches a kernel-half VA; U loads it K times (faults) in region 1 */
  PAT_LOOP = 6,   /* U: a loop-heavy workload over K pages, PASSES times (region 1) */
  PAT_SEQ = 7,    /* U: pointer chase through the page sequence SEQ (regions 1 and 2) */
  PAT_IFETCH = 8, /* U: call K code pages in turn: region 1 one pass, region 2 PASSES */
  PAT_ALIAS = 9,  /* U: call K code pages (1), switch to B where they sit at another VA (2, 3) */
  PAT_CROSS = 10, /* U: K 8-byte loads (1), then K stores (2), each across a page boundary */
  PAT_GNL = 11,   /* S: K pages under a G pointer (1), fence ASID A (2), switch to B (3) */
  PAT_FAULT = 12, /* U: K loads of an unmapped VA, each a page fault (region 1) */
  PAT_HARTS = 13, /* S, 2 harts: the boot hart touches K pages (3) and starts the other, which
                     touches them (1), is fenced by the boot hart through SBI RFENCE and touches
                     them again (2) */
};
enum {
  F_FLUSH_SATP = 1,  /* sfence.vma zero, zero after every satp write (a kernel without ASIDs) */
  F_KGLOBAL = 2,     /* the kernel-half mapping is global */
  F_PROBE_FLUSH = 4, /* sfence.vma zero, zero before entering U in the probe pattern */
};

/* ---- virtual layout ---- */
#define IMAGE_PA 0x80200000UL
#define USER_IMAGE_VA 0x40200000UL  /* 2 MiB, U: the whole image again, for the U-mode code */
#define USER_PAGES_VA 0x40400000UL  /* 512 x 4 KiB, U: address space A -> PAGES_A_PA, B -> _B_ */
#define USER_SUPER_VA 0x40800000UL  /* 2 MiB, U -> SUPER_PA */
#define USER_STUB_VA 0x40a00000UL   /* 16 x 4 KiB, U|X: the stub code pages (space A) */
#define USER_STUB2_VA 0x40c00000UL  /* the same pages in space B (and only there) */
#define USER_GIGA_VA 0x100000000UL  /* 1 GiB, U -> 0x80000000 */
#define KERN_PAGES_VA 0xc0000000UL  /* 4 KiB pages, S only -> KERN_PAGES_PA, first K global */
#define KHALF_VA 0xffffffc000000000UL /* 1 GiB, S only -> 0x80000000 */
#define GNL_VA 0x140000000UL        /* 4 KiB pages, S only, under a G level-2 pointer; leaves not G */
#define UNMAPPED_VA 0x40600000UL    /* nothing at level 1 index 3 of the user table */
#define PAGES_A_PA 0x81000000UL
#define PAGES_B_PA 0x81800000UL
#define KERN_PAGES_PA 0x81400000UL
#define SUPER_PA 0x82000000UL
#define ASID_A 1UL
#define ASID_B 2UL

#define PTE_V 1UL
#define PTE_R 2UL
#define PTE_W 4UL
#define PTE_X 8UL
#define PTE_U 16UL
#define PTE_G 32UL
#define PTE_A 64UL
#define PTE_D 128UL

#define SYS_EXIT 1
#define SYS_SWITCH 2
#define SYS_TO_B 3

/* Parameters copied where U-mode code can read them (the image is mapped for U too). */
static u64 P[P_WORDS];
static u64 satp_a, satp_b;
static volatile u64 probe_faults;

static u64 pt_pool[16][512] __attribute__((aligned(4096)));
static unsigned pt_used;
static u64 user_stack[2048] __attribute__((aligned(16)));
extern char stub_pages[];

/* ---- console and exit ---- */
static void sbi_putchar(char ch) {
  register long a0 asm("a0") = (unsigned char)ch;
  register long a6 asm("a6") = 2;            /* DBCN: write byte */
  register long a7 asm("a7") = 0x4442434E;   /* debug console extension */
  asm volatile("ecall" : "+r"(a0) : "r"(a6), "r"(a7) : "a1", "memory");
}
static void puts_(const char* s) {
  while (*s) sbi_putchar(*s++);
}
static void puthex(u64 v) {
  char buf[19];
  buf[0] = '0';
  buf[1] = 'x';
  for (int i = 0; i < 16; i++) buf[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 15];
  buf[18] = 0;
  puts_(buf);
}

void guest_exit(u64 code) __attribute__((noreturn));
void guest_exit(u64 code) {
  /* The virt test device at 0x100000, identity-mapped (or reached with the MMU off). */
  volatile uint32_t* dev = (volatile uint32_t*)0x100000UL;
  *dev = code ? (uint32_t)((code << 16) | 0x3333) : 0x5555;
  for (;;) asm volatile("wfi");
}

static void fail(const char* what, u64 a, u64 b) __attribute__((noreturn));
static void fail(const char* what, u64 a, u64 b) {
  puts_("guest: FAIL ");
  puts_(what);
  puts_(" ");
  puthex(a);
  puts_(" ");
  puthex(b);
  puts_("\n");
  guest_exit(3);
}

void* memset(void* d, int c, unsigned long n) {
  unsigned char* p = d;
  while (n--) *p++ = (unsigned char)c;
  return d;
}
void* memcpy(void* d, const void* s, unsigned long n) {
  unsigned char* p = d;
  const unsigned char* q = s;
  while (n--) *p++ = *q++;
  return d;
}

/* ---- page tables ---- */
static u64* new_table(void) {
  if (pt_used >= 16) fail("page-table pool exhausted", pt_used, 0);
  u64* t = pt_pool[pt_used++];
  for (int i = 0; i < 512; i++) t[i] = 0; /* stores: already zero, but explicit */
  return t;
}
static u64 leaf(u64 pa, u64 flags) { return ((pa >> 12) << 10) | flags | PTE_V | PTE_A | PTE_D; }
static u64 pointer(u64* table) { return (((u64)table >> 12) << 10) | PTE_V; }
static unsigned vpn(u64 va, int level) { return (va >> (12 + 9 * level)) & 511; }
static u64 user_va(const void* p) { return (u64)p - IMAGE_PA + USER_IMAGE_VA; }

static void build_tables(void) {
  u64* root_a = new_table();
  u64* root_b = new_table();
  u64* l1_user_a = new_table();
  u64* l1_user_b = new_table();
  u64* l0_pages_a = new_table();
  u64* l0_pages_b = new_table();
  u64* l0_stubs = new_table();
  u64* l1_kern = new_table();
  u64* l0_kern = new_table();
  u64* l1_gnl = new_table();
  u64* l0_gnl = new_table();
  const u64 k = P[P_K];
  const u64 kh_flags = PTE_R | PTE_W | ((P[P_FLAGS] & F_KGLOBAL) ? PTE_G : 0);

  /* shared by both address spaces: MMIO, RAM identity, kernel pages, the kernel half */
  for (int s = 0; s < 2; s++) {
    u64* root = s ? root_b : root_a;
    root[0] = leaf(0, PTE_R | PTE_W | PTE_G);                      /* MMIO identity */
    root[2] = leaf(0x80000000UL, PTE_R | PTE_W | PTE_X | PTE_G);   /* RAM identity */
    root[3] = pointer(l1_kern);
    root[vpn(USER_GIGA_VA, 2)] = leaf(0x80000000UL, PTE_R | PTE_W | PTE_U);
    root[vpn(KHALF_VA, 2)] = leaf(0x80000000UL, kh_flags);
  }
  for (int s = 0; s < 2; s++) (s ? root_b : root_a)[vpn(GNL_VA, 2)] = pointer(l1_gnl) | PTE_G;
  l1_gnl[0] = pointer(l0_gnl);
  for (u64 i = 0; i < 512; i++) l0_gnl[i] = leaf(KERN_PAGES_PA + i * 4096, PTE_R | PTE_W);
  root_a[1] = pointer(l1_user_a);
  root_b[1] = pointer(l1_user_b);
  for (int s = 0; s < 2; s++) {
    u64* l1 = s ? l1_user_b : l1_user_a;
    l1[vpn(USER_IMAGE_VA, 1)] = leaf(IMAGE_PA, PTE_R | PTE_W | PTE_X | PTE_U);
    l1[vpn(USER_PAGES_VA, 1)] = pointer(s ? l0_pages_b : l0_pages_a);
    l1[vpn(USER_SUPER_VA, 1)] = leaf(SUPER_PA, PTE_R | PTE_W | PTE_U);
  }
  l1_user_a[vpn(USER_STUB_VA, 1)] = pointer(l0_stubs);
  l1_user_b[vpn(USER_STUB2_VA, 1)] = pointer(l0_stubs);
  for (u64 i = 0; i < 512; i++) {
    l0_pages_a[i] = leaf(PAGES_A_PA + i * 4096, PTE_R | PTE_W | PTE_U);
    l0_pages_b[i] = leaf(PAGES_B_PA + i * 4096, PTE_R | PTE_W | PTE_U);
    l0_kern[i] = leaf(KERN_PAGES_PA + i * 4096, PTE_R | PTE_W | (i < k ? PTE_G : 0));
  }
  for (u64 i = 0; i < 16; i++)
    l0_stubs[i] = leaf((u64)stub_pages + i * 4096, PTE_R | PTE_X | PTE_U);
  l1_kern[0] = pointer(l0_kern);

  satp_a = (8UL << 60) | (ASID_A << 44) | ((u64)root_a >> 12);
  satp_b = (8UL << 60) | (ASID_B << 44) | ((u64)root_b >> 12);
}

static void write_satp(u64 v) {
  asm volatile("csrw satp, %0" ::"r"(v) : "memory");
  if (P[P_FLAGS] & F_FLUSH_SATP) asm volatile("sfence.vma zero, zero" ::: "memory");
}

/* ---- measured loops: everything between two markers is in one asm block, so the only
 * data accesses inside a region are the ones the pattern means to make. ---- */
#define TOUCH_LOOP(region, base, stride, k, passes)                                     \
  do {                                                                                  \
    u64 p_ = (passes);                                                                  \
    asm volatile("slti x0, x0, " #region "\n"                                            \
                 "1: mv t0, %[b]\n"                                                     \
                 "   mv t1, %[n]\n"                                                     \
                 "2: ld t2, 0(t0)\n"                                                    \
                 "   add t0, t0, %[s]\n"                                                \
                 "   addi t1, t1, -1\n"                                                 \
                 "   bnez t1, 2b\n"                                                     \
                 "   addi %[p], %[p], -1\n"                                             \
                 "   bnez %[p], 1b\n"                                                   \
                 "slti x0, x0, 0\n"                                                     \
                 : [p] "+r"(p_)                                                         \
                 : [b] "r"(base), [s] "r"(stride), [n] "r"(k)                           \
                 : "t0", "t1", "t2", "memory");                                         \
  } while (0)

static void user_exit(u64 code) __attribute__((noreturn));
static void user_exit(u64 code) {
  register u64 a0 asm("a0") = code;
  register u64 a7 asm("a7") = SYS_EXIT;
  asm volatile("ecall" ::"r"(a0), "r"(a7) : "memory");
  for (;;) {
  }
}

#define CALL_STUBS(region, base, k, rounds)                                              \
  do {                                                                                   \
    u64 r_ = (rounds);                                                                   \
    asm volatile("slti x0, x0, " #region "\n"                                            \
                 "1: mv t0, %[b]\n"                                                      \
                 "   mv t1, %[n]\n"                                                      \
                 "2: jalr ra, 0(t0)\n"                                                   \
                 "   add t0, t0, %[s]\n"                                                 \
                 "   addi t1, t1, -1\n"                                                  \
                 "   bnez t1, 2b\n"                                                      \
                 "   addi %[r], %[r], -1\n"                                              \
                 "   bnez %[r], 1b\n"                                                    \
                 "slti x0, x0, 0\n"                                                      \
                 : [r] "+r"(r_)                                                          \
                 : [b] "r"(base), [s] "r"(4096UL), [n] "r"(k)                            \
                 : "t0", "t1", "ra", "memory");                                          \
  } while (0)

static void user_syscall(u64 nr) {
  register u64 a7 asm("a7") = nr;
  asm volatile("ecall" ::"r"(a7) : "memory", "a0");
}

static void user_switch(void) {
  register u64 a7 asm("a7") = SYS_SWITCH;
  asm volatile("ecall" ::"r"(a7) : "memory", "a0");
}

/* ---- U-mode programs (run at USER_IMAGE_VA; PC-relative code and data work there) ---- */
void user_main(u64 unused) {
  (void)unused;
  const u64 k = P[P_K], passes = P[P_PASSES], stride = P[P_STRIDE] * 4096;
  switch (P[P_PATTERN]) {
    case PAT_PAGES:
      TOUCH_LOOP(1, USER_PAGES_VA, stride, k, 1);
      TOUCH_LOOP(2, USER_PAGES_VA, stride, k, passes);
      break;
    case PAT_SUPER:
      TOUCH_LOOP(1, USER_SUPER_VA, 4096, 512, 1);
      TOUCH_LOOP(2, USER_SUPER_VA, 4096, 512, 1);
      TOUCH_LOOP(3, USER_GIGA_VA + (4UL << 20), 2UL << 20, 8, 1);
      break;
    case PAT_ASID:
      TOUCH_LOOP(1, USER_PAGES_VA, 4096, k, 1);
      user_switch();
      TOUCH_LOOP(2, USER_PAGES_VA, 4096, k, 1);
      break;
    case PAT_PROBE: {
      u64 n = k;
      asm volatile(".option push\n.option norvc\n"
                   "slti x0, x0, 1\n"
                   "1: ld t2, 0(%[va])\n" /* faults; the handler skips these 4 bytes */
                   "   addi %[n], %[n], -1\n"
                   "   bnez %[n], 1b\n"
                   "slti x0, x0, 0\n"
                   ".option pop\n"
                   : [n] "+r"(n)
                   : [va] "r"(KHALF_VA + 0x400000UL)
                   : "t2", "memory");
      break;
    }
    case PAT_LOOP: {
      asm volatile("slti x0, x0, 1" ::: "memory");
      u64 sum = 0;
      for (u64 pass = 0; pass < passes; pass++) {
        for (u64 page = 0; page < k; page++) {
          volatile u64* w = (volatile u64*)(USER_PAGES_VA + page * 4096);
          for (u64 i = 0; i < 512; i += 8) {
            sum += w[i] * 3 + (sum >> 7);
            w[i + 1] = sum ^ i;
          }
        }
      }
      asm volatile("slti x0, x0, 0" ::: "memory");
      P[P_N] = sum;
      break;
    }
    case PAT_SEQ: {
      /* Slot j of the chain lives in page SEQ[j] at offset 8*j and holds the slot j+1's VA. */
      u64 p = USER_PAGES_VA + ((P[P_SEQ + 0] & 0xff) * 4096);
      u64 first = P[P_SPLIT], second = P[P_N] - P[P_SPLIT];
      asm volatile("slti x0, x0, 1\n"
                   "1: ld %[p], 0(%[p])\n"
                   "   addi %[a], %[a], -1\n"
                   "   bnez %[a], 1b\n"
                   "slti x0, x0, 0\n"
                   "slti x0, x0, 2\n"
                   "2: ld %[p], 0(%[p])\n"
                   "   addi %[b], %[b], -1\n"
                   "   bnez %[b], 2b\n"
                   "slti x0, x0, 0\n"
                   : [p] "+r"(p), [a] "+r"(first), [b] "+r"(second)
                   :
                   : "memory");
      break;
    }
    case PAT_IFETCH:
      CALL_STUBS(1, USER_STUB_VA, k, 1);
      CALL_STUBS(2, USER_STUB_VA, k, passes);
      break;
    case PAT_CROSS: {
      /* load i reads the last 4 bytes of page 2i and the first 4 of page 2i+1; store i the
       * same across pages 2K+2i and 2K+2i+1 */
      u64 n = k, m = k, a = USER_PAGES_VA + 4092, b = USER_PAGES_VA + 2 * k * 4096 + 4092;
      asm volatile("slti x0, x0, 1\n"
                   "1: ld t2, 0(%[a])\n"
                   "   add %[a], %[a], %[s]\n"
                   "   addi %[n], %[n], -1\n"
                   "   bnez %[n], 1b\n"
                   "slti x0, x0, 0\n"
                   "slti x0, x0, 2\n"
                   "2: sd %[a], 0(%[b])\n"
                   "   add %[b], %[b], %[s]\n"
                   "   addi %[m], %[m], -1\n"
                   "   bnez %[m], 2b\n"
                   "slti x0, x0, 0\n"
                   : [n] "+r"(n), [m] "+r"(m), [a] "+r"(a), [b] "+r"(b)
                   : [s] "r"(2 * 4096UL)
                   : "t2", "memory");
      break;
    }
    case PAT_FAULT: {
      u64 n = k;
      asm volatile(".option push\n.option norvc\n"
                   "slti x0, x0, 1\n"
                   "1: ld t2, 0(%[va])\n" /* faults; the handler skips these 4 bytes */
                   "   addi %[n], %[n], -1\n"
                   "   bnez %[n], 1b\n"
                   "slti x0, x0, 0\n"
                   ".option pop\n"
                   : [n] "+r"(n)
                   : [va] "r"(UNMAPPED_VA)
                   : "t2", "memory");
      break;
    }
    case PAT_ALIAS:
      /* QEMU runs the blocks translated at USER_STUB_VA again at USER_STUB2_VA (its blocks
       * are position independent): the model must see the VA they run at. */
      CALL_STUBS(1, USER_STUB_VA, k, 1);
      user_syscall(SYS_TO_B);
      CALL_STUBS(2, USER_STUB2_VA, k, 1);
      CALL_STUBS(3, USER_STUB2_VA, k, 1);
      break;
  }
  user_exit(0);
}

/* ---- traps ---- */
struct frame {
  u64 x[32];
};

void trap_handler(struct frame* f) {
  u64 cause, epc, tval;
  asm volatile("csrr %0, scause" : "=r"(cause));
  asm volatile("csrr %0, sepc" : "=r"(epc));
  asm volatile("csrr %0, stval" : "=r"(tval));
  if (cause == 8) { /* ecall from U */
    epc += 4;
    asm volatile("csrw sepc, %0" ::"r"(epc));
    switch (f->x[17]) {
      case SYS_EXIT:
        guest_exit(f->x[10]);
      case SYS_SWITCH: {
        /* Away to address space B, touch the same user VAs there (other PAs), and back. */
        write_satp(satp_b);
        asm volatile("csrs sstatus, %0" ::"r"(1UL << 18)); /* SUM */
        TOUCH_LOOP(3, USER_PAGES_VA, 4096UL, P[P_K], 1);
        asm volatile("csrc sstatus, %0" ::"r"(1UL << 18));
        write_satp(satp_a);
        return;
      }
      case SYS_TO_B:
        write_satp(satp_b);
        return;
    }
    fail("unknown ecall", f->x[17], epc);
  }
  if ((cause == 13 || cause == 15 || cause == 5 || cause == 7) &&
      ((P[P_PATTERN] == PAT_PROBE && tval >= KHALF_VA) ||
       (P[P_PATTERN] == PAT_FAULT && tval == UNMAPPED_VA))) {
    probe_faults++;
    epc += 4;
    asm volatile("csrw sepc, %0" ::"r"(epc));
    return;
  }
  puts_("guest: unexpected trap scause=");
  puthex(cause);
  puts_(" sepc=");
  puthex(epc);
  puts_(" stval=");
  puthex(tval);
  puts_("\n");
  guest_exit(2);
}

extern void enter_user(u64 entry, u64 sp, u64 arg) __attribute__((noreturn));

/* ---- S-mode patterns ---- */
static void sfence_regions(void) {
  const u64 k = P[P_K], all = 2 * k, base = KERN_PAGES_VA, pg = 4096;
  const u64 g0 = base, n0 = base + k * pg, a1 = ASID_A, a2 = ASID_B;
  TOUCH_LOOP(1, base, pg, all, 1);
  asm volatile("sfence.vma zero, %0" ::"r"(a1) : "memory");
  TOUCH_LOOP(2, base, pg, all, 1);
  asm volatile("sfence.vma %0, zero" ::"r"(g0) : "memory");
  TOUCH_LOOP(3, base, pg, all, 1);
  asm volatile("sfence.vma %0, %1" ::"r"(g0), "r"(a1) : "memory");
  TOUCH_LOOP(4, base, pg, all, 1);
  asm volatile("sfence.vma %0, %1" ::"r"(n0), "r"(a1) : "memory");
  TOUCH_LOOP(5, base, pg, all, 1);
  asm volatile("sfence.vma %0, %1" ::"r"(n0), "r"(a2) : "memory");
  TOUCH_LOOP(6, base, pg, all, 1);
  asm volatile("sfence.vma zero, %0" ::"r"(a2) : "memory");
  TOUCH_LOOP(7, base, pg, all, 1);
  asm volatile("sfence.vma zero, zero" ::: "memory");
  TOUCH_LOOP(8, base, pg, all, 1);
}

/* G on the level-2 pointer only: the leaves below it are global all the same. */
static void gnl_regions(void) {
  const u64 k = P[P_K], pg = 4096, a1 = ASID_A;
  TOUCH_LOOP(1, GNL_VA, pg, k, 1);
  asm volatile("sfence.vma zero, %0" ::"r"(a1) : "memory");
  TOUCH_LOOP(2, GNL_VA, pg, k, 1);
  write_satp(satp_b);
  TOUCH_LOOP(3, GNL_VA, pg, k, 1);
}

/* Two harts (-smp 2, hart ids 0 and 1): each has a TLB of its own in the model. */
static volatile u64 hart_step; /* 1: the other hart touched (1); 2: fenced; 3: touched again */
extern char secondary_start[];

static long sbi_call(u64 eid, u64 fid, u64 arg0, u64 arg1, u64 arg2, u64 arg3) {
  register u64 a0 asm("a0") = arg0;
  register u64 a1 asm("a1") = arg1;
  register u64 a2 asm("a2") = arg2;
  register u64 a3 asm("a3") = arg3;
  register u64 a6 asm("a6") = fid;
  register u64 a7 asm("a7") = eid;
  asm volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a3), "r"(a6), "r"(a7) : "memory");
  return (long)a0;
}

/* The other hart, from start.S (MMU off, its own stack). */
void secondary_main(u64 hartid) {
  (void)hartid;
  asm volatile("csrw satp, %0\n sfence.vma zero, zero" ::"r"(satp_a) : "memory");
  TOUCH_LOOP(1, KERN_PAGES_VA, 4096UL, P[P_K], 1);
  hart_step = 1;
  while (hart_step != 2) {
  }
  TOUCH_LOOP(2, KERN_PAGES_VA, 4096UL, P[P_K], 1);
  hart_step = 3;
  for (;;) asm volatile("wfi");
}

static void harts_regions(u64 hartid) {
  const u64 other = hartid ^ 1;
  TOUCH_LOOP(3, KERN_PAGES_VA, 4096UL, P[P_K], 1);
  long err = sbi_call(0x48534D, 0, other, (u64)secondary_start, 0, 0); /* HSM hart_start */
  if (err) fail("hart_start", (u64)err, other);
  while (hart_step != 1) {
  }
  /* RFENCE remote_sfence_vma: hart mask, mask base 0, the whole address space */
  err = sbi_call(0x52464E43, 1, 1UL << other, 0, 0, ~0UL);
  if (err) fail("remote_sfence_vma", (u64)err, other);
  hart_step = 2;
  while (hart_step != 3) {
  }
}

static void build_chain(void) {
  const u64 n = P[P_N];
  for (u64 j = 0; j < n; j++) {
    const u64 idx = (P[P_SEQ + j / 8] >> (8 * (j % 8))) & 0xff;
    const u64 next = j + 1 < n ? (P[P_SEQ + (j + 1) / 8] >> (8 * ((j + 1) % 8))) & 0xff : 0;
    /* written through the RAM identity mapping (S mode) */
    *(volatile u64*)(PAGES_A_PA + idx * 4096 + 8 * j) = USER_PAGES_VA + next * 4096 + 8 * (j + 1);
  }
}

void guest_main(u64 hartid) {
  const volatile u64* param = (const volatile u64*)PARAM_PA;
  if (param[P_MAGIC] != PARAM_MAGIC) fail("no parameter block", param[P_MAGIC], PARAM_PA);
  for (int i = 0; i < P_WORDS; i++) P[i] = param[i];
  if (P[P_STRIDE] == 0) P[P_STRIDE] = 1;
  if (P[P_PASSES] == 0) P[P_PASSES] = 1;
  if (P[P_K] == 0) P[P_K] = 1;
  if (P[P_K] * P[P_STRIDE] > 512 && P[P_PATTERN] != PAT_SFENCE) fail("K*STRIDE > 512", P[P_K], P[P_STRIDE]);
  if (P[P_PATTERN] == PAT_CROSS && P[P_K] > 127) fail("K > 127", P[P_K], 0);
  if (P[P_PATTERN] == PAT_SFENCE && P[P_K] > 256) fail("K > 256", P[P_K], 0);
  if ((P[P_PATTERN] == PAT_IFETCH || P[P_PATTERN] == PAT_ALIAS) && P[P_K] > 16) fail("K > 16", P[P_K], 0);
  if (P[P_PATTERN] == PAT_SEQ && (P[P_N] < 2 || P[P_N] > 256 || P[P_SPLIT] < 1 || P[P_SPLIT] >= P[P_N]))
    fail("bad sequence", P[P_N], P[P_SPLIT]);

  build_tables();
  if (P[P_PATTERN] == PAT_SEQ) build_chain();
  asm volatile("csrw satp, %0\n sfence.vma zero, zero" ::"r"(satp_a) : "memory");

  switch (P[P_PATTERN]) {
    case PAT_SFENCE:
      sfence_regions();
      guest_exit(0);
    case PAT_GNL:
      gnl_regions();
      guest_exit(0);
    case PAT_HARTS:
      harts_regions(hartid);
      guest_exit(0);
    case PAT_PROBE:
      *(volatile u64*)(KHALF_VA + 0x400000UL); /* the kernel's own use of the mapping */
      if (P[P_FLAGS] & F_PROBE_FLUSH) asm volatile("sfence.vma zero, zero" ::: "memory");
      break;
    case PAT_PAGES:
    case PAT_SUPER:
    case PAT_ASID:
    case PAT_LOOP:
    case PAT_SEQ:
    case PAT_IFETCH:
    case PAT_ALIAS:
    case PAT_CROSS:
    case PAT_FAULT:
      break;
    default:
      fail("unknown pattern", P[P_PATTERN], 0);
  }
  enter_user(user_va((const void*)user_main), user_va(user_stack + 2048), 0);
}
