// The debug checks of lib/spinlock.hpp (CONFIG_DEBUG_LOCKS).
#include "lib/spinlock.hpp"

namespace {
// Held locks are recorded as offsets from an anchor in the image, not as pointers: in scheme 3
// the kernel lock is taken at one process's slot and released at another's.
char anchor;
u64 key(const SpinLock* l) { return reinterpret_cast<u64>(l) - reinterpret_cast<u64>(&anchor); }
const SpinLock* lock_at(u64 k) { return reinterpret_cast<const SpinLock*>(k + reinterpret_cast<u64>(&anchor)); }
}  // namespace

void SpinLock::check_order() const {
  hart::Hart& me = hart::self();
  for (int i = 0; i < me.nlocks_held; i++) {
    const SpinLock* held = lock_at(me.locks_held[i]);
    if (held == this) panic("locks: %s taken twice on hart %d", name_, me.logical);
    if (u8(held->rank_) >= u8(rank_))
      panic("locks: %s (rank %u) taken while holding %s (rank %u): against the lock order", name_,
            unsigned(rank_), held->name_, unsigned(held->rank_));
  }
}

void SpinLock::push_held() {
  hart::Hart& me = hart::self();
  if (me.nlocks_held == hart::Hart::LOCKS_HELD_MAX) panic("locks: more than %d locks held", me.nlocks_held);
  me.locks_held[me.nlocks_held++] = key(this);
}

void SpinLock::pop_held() {
  hart::Hart& me = hart::self();
  for (int i = me.nlocks_held - 1; i >= 0; i--) {
    if (me.locks_held[i] != key(this)) continue;
    for (int j = i; j + 1 < me.nlocks_held; j++) me.locks_held[j] = me.locks_held[j + 1];
    me.nlocks_held--;
    return;
  }
  panic("locks: %s released on hart %d, which does not hold it", name_, me.logical);
}

namespace locks {

void check_switch(const SpinLock& switch_lock) {
  if constexpr (!config::debug_locks) return;
  hart::Hart& me = hart::self();
  for (int i = 0; i < me.nlocks_held; i++) {
    const SpinLock* held = lock_at(me.locks_held[i]);
    if (!held->crosses_switch())
      panic("locks: %s held across a context switch (only %s may be)", held->name(), switch_lock.name());
  }
}

}  // namespace locks
