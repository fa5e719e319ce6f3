// Programs are ELF files embedded in the kernel image (generated/programs.S). The table there
// holds offsets, not pointers, so that the image has no absolute addresses in it.
#include "proc/loader.hpp"

#include "lib/log.hpp"
#include "mm/tlb.hpp"

using namespace uapi;

extern "C" const u32 embedded_programs[];  // count, then {name_off, elf_off, elf_size} each

namespace {

struct ProgramEntry {
  u32 name_off, elf_off, elf_size;
};

const char* base() { return reinterpret_cast<const char*>(embedded_programs); }
u32 program_count() { return embedded_programs[0]; }
const ProgramEntry& entry(u32 i) { return reinterpret_cast<const ProgramEntry*>(embedded_programs + 1)[i]; }

// ELF64 structures (only the fields we read).
struct Elf64Header {
  u8 ident[16];
  u16 type, machine;
  u32 version;
  u64 entry, phoff, shoff;
  u32 flags;
  u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct Elf64Phdr {
  u32 type, flags;
  u64 offset, vaddr, paddr, filesz, memsz, align;
};
constexpr u32 PT_LOAD = 1;
constexpr u16 ET_EXEC = 2, EM_RISCV = 243;
constexpr u32 PF_X = 1, PF_W = 2, PF_R = 4;

u8 prot_of(u32 flags) {
  u8 prot = 0;
  if (flags & PF_R) prot |= PROT_READ;
  if (flags & PF_W) prot |= PROT_WRITE | PROT_READ;
  if (flags & PF_X) prot |= PROT_EXEC;
  return prot;
}

// Copy kernel bytes to a user VA of a space that is not (necessarily) the running one. Fault
// unless the range lies in the space's readable areas and every page is a user (U) page: nothing
// is written through an unchecked address. Write permission is deliberately not required: the
// loader fills the program's read-only segments (text, rodata) through here too.
[[nodiscard]] Error write_user(AddressSpace& space, u64 va, const void* src, size_t len) {
  if (!space.range_ok(va, len, PROT_READ)) return Error::Fault;
  if (Error e = space.prepare_kernel_access(va, len, true); e != Error::None) return e;
  PageTable pt = space.table();
  const u8* s = static_cast<const u8*>(src);
  while (len) {
    PhysAddr pa;
    PteFlags flags;
    if (!pt.translate(VirtAddr(va), &pa, &flags) || !any(flags & PteFlags::U)) return Error::Fault;
    size_t chunk = min<size_t>(len, layout::PAGE_SIZE - (va & (layout::PAGE_SIZE - 1)));
    memcpy(phys_to_virt(pa), s, chunk);
    va += chunk, s += chunk, len -= chunk;
  }
  return Error::None;
}

}  // namespace

bool find_program(const char* name, ProgramImage* out) {
  for (u32 i = 0; i < program_count(); i++) {
    const ProgramEntry& e = entry(i);
    if (strcmp(base() + e.name_off, name) == 0) {
      out->data = reinterpret_cast<const u8*>(base() + e.elf_off);
      out->size = e.elf_size;
      return true;
    }
  }
  return false;
}

size_t list_programs(char* buf, size_t len) {
  size_t total = 0;
  for (u32 i = 0; i < program_count(); i++) {
    const char* name = base() + entry(i).name_off;
    size_t n = strlen(name) + 1;
    for (size_t k = 0; k < n; k++, total++)
      if (total < len) buf[total] = name[k];
  }
  return total;
}

Error load_program(Process& p, AddressSpace& space, const char* name, const char* const* argv, int argc) {
  ProgramImage image;
  if (!find_program(name, &image)) return Error::NoEntry;
  if (image.size < sizeof(Elf64Header)) return Error::NotExec;
  auto* eh = reinterpret_cast<const Elf64Header*>(image.data);
  if (memcmp(eh->ident, "\x7f" "ELF", 4) != 0 || eh->ident[4] != 2 || eh->type != ET_EXEC ||
      eh->machine != EM_RISCV || eh->phentsize != sizeof(Elf64Phdr) ||
      eh->phoff + u64(eh->phnum) * sizeof(Elf64Phdr) > image.size)
    return Error::NotExec;

  u64 image_end = 0;
  for (u16 i = 0; i < eh->phnum; i++) {
    Elf64Phdr ph;
    memcpy(&ph, image.data + eh->phoff + i * sizeof ph, sizeof ph);
    if (ph.type != PT_LOAD || ph.memsz == 0) continue;
    u64 start = align_down(ph.vaddr, layout::PAGE_SIZE);
    u64 end = align_up(ph.vaddr + ph.memsz, layout::PAGE_SIZE);
    if (ph.filesz > ph.memsz || ph.offset + ph.filesz > image.size || start < layout::USER_BASE ||
        end > layout::MMAP_BASE || end < start)
      return Error::NotExec;
    Error e = space.map_anonymous(start, end, prot_of(ph.flags), AreaKind::Image);
    if (e != Error::None) return e == Error::Invalid ? Error::NotExec : e;
    if (Error w = write_user(space, ph.vaddr, image.data + ph.offset, ph.filesz); w != Error::None) return w;
    image_end = max(image_end, ph.vaddr + ph.memsz);
  }
  if (image_end == 0) return Error::NotExec;
  space.set_break_start(image_end);

  // The stack, with an unmapped guard page below it.
  u64 stack_top = layout::USER_STACK_TOP;
  Error e = space.map_anonymous(stack_top - layout::USER_STACK_SIZE, stack_top, PROT_READ | PROT_WRITE,
                                AreaKind::Stack);
  if (e != Error::None) return e;

  // argv: the strings at the top, then the pointer array (16-byte aligned) below them. It must
  // fit the stack with room to spare for the program's own first frame.
  constexpr int ARGC_MAX = 32;
  constexpr u64 STACK_RESERVE = 256;  // bytes left below argv at the least
  if (argc > ARGC_MAX) return Error::TooBig;
  u64 need = (argc + 1) * sizeof(u64) + 16;
  for (int i = 0; i < argc; i++) need += strlen(argv[i]) + 1;
  if (need + STACK_RESERVE > layout::USER_STACK_SIZE) return Error::TooBig;
  u64 sp = stack_top;
  u64 user_argv[ARGC_MAX + 1];
  for (int i = argc - 1; i >= 0; i--) {
    size_t n = strlen(argv[i]) + 1;
    sp -= n;
    if (Error w = write_user(space, sp, argv[i], n); w != Error::None) return w;
    user_argv[i] = sp;
  }
  user_argv[argc] = 0;
  sp = align_down<u64>(sp - (argc + 1) * sizeof(u64), 16);
  if (Error w = write_user(space, sp, user_argv, (argc + 1) * sizeof(u64)); w != Error::None) return w;

  TrapFrame* tf = scheme::trapframe(p);
  memset(tf->x, 0, sizeof tf->x);
  tf->epc = eh->entry;
  tf->x[2] = sp;
  tf->x[10] = argc;
  tf->x[11] = sp;
  return Error::None;
}
