// Physical frames: a free list of 4 KiB frames, and Frame, the RAII owner of one.
#pragma once

#include "mm/kview.hpp"

namespace frames {

// Hand the frames in [start, end) to the allocator.
void init(PhysAddr start, PhysAddr end);
// A zero-filled frame (one reference), or Error::NoMemory.
Result<PhysPageNum> alloc_zeroed();
// Give a frame back (kernel frames, page tables: never shared).
void free(PhysPageNum ppn);
// User frames can be shared (copy-on-write fork): one more reference, one fewer (the frame is
// freed with the last), and whether more than one mapping refers to it. With FORK_COPY every
// frame has exactly one reference and release is free.
void share(PhysPageNum ppn);
void release(PhysPageNum ppn);
bool shared(PhysPageNum ppn);
u64 free_count();
u64 total_count();

}  // namespace frames

// Owns one frame; frees it when destroyed unless release() handed it on (to a page table).
class Frame {
 public:
  Frame() = default;
  static Frame alloc() {
    Frame f;
    auto r = frames::alloc_zeroed();
    if (r.ok()) f.ppn_ = r.value(), f.valid_ = true;
    return f;
  }
  static Frame adopt(PhysPageNum ppn) {
    Frame f;
    f.ppn_ = ppn;
    f.valid_ = true;
    return f;
  }
  Frame(Frame&& o) : ppn_(o.ppn_), valid_(o.valid_) { o.valid_ = false; }
  Frame& operator=(Frame&& o) {
    if (this != &o) {
      reset();
      ppn_ = o.ppn_, valid_ = o.valid_, o.valid_ = false;
    }
    return *this;
  }
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;
  ~Frame() { reset(); }

  bool valid() const { return valid_; }
  PhysPageNum ppn() const { return ppn_; }
  template <typename T = u8>
  T* as() const { return phys_to_virt<T>(ppn_.addr()); }
  PhysPageNum release() {
    valid_ = false;
    return ppn_;
  }
  void reset() {
    if (valid_) frames::free(ppn_);
    valid_ = false;
  }

 private:
  PhysPageNum ppn_;
  bool valid_ = false;
};
