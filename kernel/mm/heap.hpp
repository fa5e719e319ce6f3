// The kernel heap: power-of-two size classes from 16 B to 4 KiB (a whole frame), carved out of frames.
#pragma once

#include "mm/kview.hpp"

namespace heap {

inline constexpr size_t MAX_ALLOC = 4096 - 8;  // one frame minus the block header
// nullptr when out of memory or when n > MAX_ALLOC.
void* alloc(size_t n);
void free(void* p);
u64 bytes_in_use();
u64 pages_held();

}  // namespace heap

// A growable array in kernel memory for small trivially-copyable T. Its storage pointer is a
// KPtr, so a KVector in shared kernel data is valid in every address space.
template <typename T>
class KVector {
 public:
  KVector() = default;
  KVector(const KVector&) = delete;
  KVector& operator=(const KVector&) = delete;
  ~KVector() { clear(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* begin() { return data_.get(); }
  T* end() { return data_.get() + size_; }
  const T* begin() const { return data_.get(); }
  const T* end() const { return data_.get() + size_; }

  // false when out of memory (the vector is unchanged).
  [[nodiscard]] bool insert(size_t at, const T& v) {
    if (size_ == cap_ && !grow()) return false;
    T* d = data_.get();
    memmove(d + at + 1, d + at, (size_ - at) * sizeof(T));
    d[at] = v;
    size_++;
    return true;
  }
  [[nodiscard]] bool push_back(const T& v) { return insert(size_, v); }
  void erase(size_t at) {
    T* d = data_.get();
    memmove(d + at, d + at + 1, (size_ - at - 1) * sizeof(T));
    size_--;
  }
  void clear() {
    if (data_) heap::free(data_.get());
    data_ = KPtr<T>();
    size_ = cap_ = 0;
  }
  void swap(KVector& o) {
    KPtr<T> d = data_;
    data_ = o.data_, o.data_ = d;
    size_t t = size_;
    size_ = o.size_, o.size_ = t;
    t = cap_;
    cap_ = o.cap_, o.cap_ = t;
  }
  // Copy of another vector; false when out of memory.
  [[nodiscard]] bool assign(const KVector& o) {
    clear();
    for (const T& v : o)
      if (!push_back(v)) return false;
    return true;
  }

 private:
  static constexpr size_t MAX_ELEMENTS = heap::MAX_ALLOC / sizeof(T);
  bool grow() {
    if (cap_ == MAX_ELEMENTS) return false;
    size_t cap = min(cap_ ? cap_ * 2 : 4, MAX_ELEMENTS);
    T* d = static_cast<T*>(heap::alloc(cap * sizeof(T)));
    if (!d) return false;
    if (size_) memcpy(d, data_.get(), size_ * sizeof(T));
    if (data_) heap::free(data_.get());
    data_ = d;
    cap_ = cap;
    return true;
  }

  KPtr<T> data_;
  size_t size_ = 0;
  size_t cap_ = 0;
};
