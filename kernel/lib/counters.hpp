// The event counters (stats) that lower layers charge without knowing about processes: mm/ and
// the schemes count sfences, satp writes and faults here; proc/ defines counters_now() (the
// current process's counters, or a boot record before the first process), so no include
// arrow points up from mm/ to proc/.
#pragma once

#include "lib/types.hpp"
#include "uapi/syscall.h"

namespace stats {

uapi::Counters& counters_now();

}  // namespace stats
