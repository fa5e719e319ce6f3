// The areas of an address space: a list of heap nodes sorted by start, so that how many areas a
// process may have is bounded by memory alone (each node is one small heap block), not by the
// size of one heap allocation. Node links are KPtr: valid at every scheme-3 slot.
#pragma once

#include "mm/heap.hpp"

enum class AreaKind : u8 { Image, Heap, Stack, Mmap };

struct Area {
  u64 start;  // page-aligned VA
  u64 end;    // page-aligned VA, exclusive
  u8 prot;    // uapi::PROT_* bits
  AreaKind kind;
};

class AreaList {
  struct Node {
    Area area;
    KPtr<Node> next;
  };

 public:
  AreaList() = default;
  AreaList(const AreaList&) = delete;
  AreaList& operator=(const AreaList&) = delete;
  ~AreaList() {
    clear();
    drop_spare();
  }

  class Iterator {
   public:
    explicit Iterator(Node* n) : n_(n) {}
    Area& operator*() const { return n_->area; }
    Area* operator->() const { return &n_->area; }
    Iterator& operator++() {
      n_ = n_->next.get();
      return *this;
    }
    bool operator!=(const Iterator& o) const { return n_ != o.n_; }

   private:
    Node* n_;
  };
  Iterator begin() const { return Iterator(head_.get()); }
  Iterator end() const { return Iterator(nullptr); }
  size_t size() const { return size_; }

  // Make sure the next insert cannot fail for lack of memory.
  [[nodiscard]] bool reserve_one() {
    if (!spare_) spare_ = static_cast<Node*>(heap::alloc(sizeof(Node)));
    return static_cast<bool>(spare_);
  }
  // Insert in start order; false when out of memory (the list is unchanged).
  [[nodiscard]] bool insert(const Area& a) {
    if (!reserve_one()) return false;
    Node* n = spare_.get();
    spare_ = KPtr<Node>();
    n->area = a;
    KPtr<Node>* link = &head_;
    while (*link && (*link)->area.start < a.start) link = &(*link)->next;
    n->next = *link;
    *link = n;
    size_++;
    return true;
  }
  // Remove the area that starts at `start`; false if there is none.
  bool erase_starting_at(u64 start) {
    for (KPtr<Node>* link = &head_; *link; link = &(*link)->next) {
      if ((*link)->area.start != start) continue;
      Node* n = link->get();
      *link = n->next;
      heap::free(n);
      size_--;
      return true;
    }
    return false;
  }
  // The first area overlapping [start, end), or nullptr.
  Area* first_overlapping(u64 start, u64 end) const {
    for (Node* n = head_.get(); n; n = n->next.get())
      if (n->area.start < end && start < n->area.end) return &n->area;
    return nullptr;
  }
  void clear() {
    while (head_) {
      Node* n = head_.get();
      head_ = n->next;
      heap::free(n);
    }
    size_ = 0;
  }
  void swap(AreaList& o) {
    KPtr<Node> h = head_;
    head_ = o.head_, o.head_ = h;
    size_t s = size_;
    size_ = o.size_, o.size_ = s;
  }

 private:
  void drop_spare() {
    if (spare_) heap::free(spare_.get());
    spare_ = KPtr<Node>();
  }

  KPtr<Node> head_;
  KPtr<Node> spare_;  // one node kept for an insert that must not fail
  size_t size_ = 0;
};
