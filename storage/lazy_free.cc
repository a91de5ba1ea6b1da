#include "storage/lazy_free.h"

#include <pthread.h>

#include <utility>

namespace sluice::storage {

LazyFreer::LazyFreer() : LazyFreer(Options{}) {}

LazyFreer::LazyFreer(Options options)
    : on_free_(std::move(options.on_free)), slots_(options.max_pending_items) {
  if (!options.start_thread) return;
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (...) {
    // Usually std::system_error (EAGAIN: out of threads). Run without a
    // thread: every Submit then frees inline.
    return;
  }
  // Shows in /proc/<pid>/task/<tid>/comm and in debuggers (at most 15 bytes).
  pthread_setname_np(thread_.native_handle(), "sluice-lazyfree");
}

LazyFreer::~LazyFreer() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_one();
  thread_.join();
}

void LazyFreer::Submit(std::unique_ptr<Shard> contents) noexcept {
  if (contents == nullptr) return;
  Item item;
  {
    std::lock_guard<ShardMutex> lock(contents->mu());
    item.objects = contents->size();
  }
  item.shard = contents.release();
  if (!TryEnqueue(item)) Free(item, /*in_background=*/false);
}

void LazyFreer::Submit(Entry* entry) noexcept {
  if (entry == nullptr) return;
  const Item item{.entry = entry, .objects = 1};
  if (!TryEnqueue(item)) Free(item, /*in_background=*/false);
}

void LazyFreer::FreeEntry(Entry* entry) noexcept {
  if (entry == nullptr) return;
  if (entry->AllocatedBytes() >= kMinDeferredEntryBytes) {
    Submit(entry);
  } else {
    Entry::Destroy(entry);
  }
}

size_t LazyFreer::pending_items() const { return pending_items_.load(std::memory_order_relaxed); }

size_t LazyFreer::pending_objects() const {
  return pending_objects_.load(std::memory_order_relaxed);
}

uint64_t LazyFreer::freed_objects() const { return freed_objects_.load(std::memory_order_relaxed); }

bool LazyFreer::WaitIdle(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [this] { return pending_items_.load() == 0; });
}

bool LazyFreer::TryEnqueue(const Item& item) noexcept {
  if (!thread_.joinable()) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queued_ == slots_.size()) return false;
    slots_[(head_ + queued_) % slots_.size()] = item;
    ++queued_;
    pending_items_.fetch_add(1, std::memory_order_relaxed);
    pending_objects_.fetch_add(item.objects, std::memory_order_relaxed);
  }
  work_cv_.notify_one();
  return true;
}

void LazyFreer::Free(const Item& item, bool in_background) noexcept {
  if (on_free_) {
    on_free_(FreeEvent{.item = item.shard != nullptr ? static_cast<const void*>(item.shard)
                                                     : static_cast<const void*>(item.entry),
                       .objects = item.objects,
                       .in_background = in_background});
  }
  if (item.shard != nullptr) delete item.shard;  // destroys its entries
  if (item.entry != nullptr) Entry::Destroy(item.entry);
}

void LazyFreer::Run() noexcept {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [this] { return queued_ > 0 || stopping_; });
    if (queued_ == 0) return;  // stopping, and everything is freed
    const Item item = slots_[head_];
    head_ = (head_ + 1) % slots_.size();
    --queued_;
    lock.unlock();
    Free(item, /*in_background=*/true);
    lock.lock();
    pending_objects_.fetch_sub(item.objects, std::memory_order_relaxed);
    freed_objects_.fetch_add(item.objects, std::memory_order_relaxed);
    if (pending_items_.fetch_sub(1, std::memory_order_relaxed) == 1) idle_cv_.notify_all();
  }
}

}  // namespace sluice::storage
