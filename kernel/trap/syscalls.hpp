// System-call handlers (trap/syscall.cpp). The generated trap entry calls them through
// syscall_table with the user's a0..a5 as arguments; the result goes back in a0.
#pragma once

#include "lib/types.hpp"

extern "C" {
long sys_write(long fd, u64 buf, u64 len);
long sys_read(long fd, u64 buf, u64 len);
long sys_exec(u64 upath, u64 uargv);
long sys_mmap(u64 addr, u64 len, long prot);
long sys_munmap(u64 addr, u64 len);
long sys_stats(u64 out);
long sys_programs(u64 buf, u64 len);
long sys_bench_echo(u64 in, u64 out, u64 len);
long sys_diag(long op, u64 arg);
long sys_getppid();
long sys_yield();
long sys_sleep(long ns);
long sys_sbrk(long increment);
long sys_getpid();
long sys_exit(long status);
long sys_fork();
long sys_waitpid(long pid, u64 status, long options);
long sys_get_time();
long sys_pipe(u64 user_fds);
long sys_close(long fd);
long sys_dup2(long old_fd, long new_fd);
long sys_kill(long pid);
long sys_console_poll(u64 buf, u64 len);
long sys_nosys();
}
