// The settings and the global state of the plugin (plugin.hpp), and its log.
#include "plugin.hpp"

extern "C" {
QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;
}

namespace tlbp {

// Global state lives on the heap and is never destroyed: QEMU calls the atexit callback after
// the plugin's static destructors would have run.
Settings& g_set = *new Settings;

tlbm::Shadow& g_shadow = *new tlbm::Shadow;
qemu_plugin_u64 g_insns;  // per-vCPU instruction counter, bumped inline before each insn
struct qemu_plugin_scoreboard* g_insn_board = nullptr;
qemu_plugin_register* g_reg_satp = nullptr;
qemu_plugin_register* g_reg_priv = nullptr;
qemu_plugin_register* g_reg_scause = nullptr;
qemu_plugin_register* g_reg_stval = nullptr;
qemu_plugin_register* g_reg_pc = nullptr;
qemu_plugin_register* g_reg_mhartid = nullptr;
qemu_plugin_register* g_gpr[32] = {};
std::atomic<bool> g_calibrated{false};
std::atomic<uintptr_t> g_host_delta{0};  // host address of guest PA 0 of RAM (haddr - pa)
std::atomic<uint64_t> g_calib_conflicts{0};
std::atomic<uint64_t> g_tbs{0};
std::atomic<uint64_t> g_split_stores{0};
uint64_t g_kernel_bytes = 0;
std::string& g_kernel_path = *new std::string;
std::string& g_kernel_error = *new std::string;

std::mutex g_sample_lock;
std::vector<Sample>& g_samples = *new std::vector<Sample>;
Arena& g_arena = *new Arena;
std::vector<std::unique_ptr<Vcpu>>& g_vcpus = *new std::vector<std::unique_ptr<Vcpu>>;
bool g_by_hart = false;
thread_local Vcpu* t_running = nullptr;

void logf(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  qemu_plugin_outs(buf);
}

int fail(const char* fmt, const char* arg) {
  std::fprintf(stderr, "tlbmodel: ");
  std::fprintf(stderr, fmt, arg);
  std::fprintf(stderr, "\n");
  return 1;
}

}  // namespace tlbp
