// File descriptors: the console and pipe ends. A process's descriptor table is a small array
// of (kind, pipe index) pairs; a pipe counts the descriptors, in all processes, that refer to
// each of its ends, so EOF and EPIPE follow from the counts. No pointers: an index means the
// same at every scheme-3 slot.
#pragma once

#include "lib/types.hpp"
#include "uapi/syscall.h"

// The console is two kinds: its input (fd 0 at start) only reads, its output (1, 2) only writes.
enum class FdKind : u8 { Closed, ConsoleIn, ConsoleOut, PipeRead, PipeWrite };

struct Fd {
  FdKind kind = FdKind::Closed;
  u16 pipe = 0;
};

struct FdTable {
  Fd fd[uapi::FD_MAX];
};

namespace files {

// A new process's table: 0, 1, 2 on the console (init), or a copy of the parent's (fork).
void init_console(FdTable& t);
void copy(const FdTable& from, FdTable& to);
// Exit: close everything (wakes the other ends' waiters).
void close_all(FdTable& t);

Result<long> pipe(FdTable& t, int* read_fd, int* write_fd);
Error close(FdTable& t, long fd);
Result<long> dup2(FdTable& t, long old_fd, long new_fd);
// read/write on a descriptor of the current process; user buffers are checked inside.
Result<long> read(long fd, u64 user_buf, u64 len);
Result<long> write(long fd, u64 user_buf, u64 len);

// Console input typed so far, without waiting (the shell watches for Ctrl-C with it).
Result<long> console_poll(u64 user_buf, u64 len);

// The console poll interval is one tick of this timebase.
void set_timebase(u64 hz);

// Pipes in use now (tests: every pipe is freed when its last descriptor closes).
u64 pipes_in_use();

}  // namespace files
