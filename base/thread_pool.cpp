#include "base/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace v4rt {
namespace {

// Spins until done() holds or about 30 us have passed; the caller then
// checks its condition again under the lock (spinning is only a hint).
template <typename Done>
void spin_until(Done done) {
  constexpr auto kSpin = std::chrono::microseconds(30);
  const auto until = std::chrono::steady_clock::now() + kSpin;
  for (int i = 0;; ++i) {
    if (done()) return;
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > until) return;
  }
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn, size_t grain) {
  if (n == 0) return;
  grain = std::max<size_t>(grain, 1);
  size_t parts = std::min<size_t>(static_cast<size_t>(size()), (n + grain - 1) / grain);
  if (parts <= 1) {
    fn(0, n);
    return;
  }
  size_t chunk = (n + parts - 1) / parts;
  chunk = (chunk + grain - 1) / grain * grain;
  std::vector<std::pair<size_t, size_t>> ranges;
  for (size_t b = 0; b < n; b += chunk) ranges.emplace_back(b, std::min(n, b + chunk));
  {
    std::lock_guard<std::mutex> lock(mu_);
    ranges_ = ranges;
    job_ = &fn;
    pending_ = static_cast<int>(ranges.size()) - 1;
    pending_seen_.store(pending_, std::memory_order_relaxed);
    ++generation_;
    generation_seen_.store(generation_, std::memory_order_release);
  }
  start_cv_.notify_all();
  fn(ranges[0].first, ranges[0].second);
  spin_until([this] { return pending_seen_.load(std::memory_order_acquire) == 0; });
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [this] { return pending_ == 0; });
  job_ = nullptr;
}

void ThreadPool::worker_loop(int index) {
  unsigned long seen = 0;
  for (;;) {
    std::pair<size_t, size_t> range;
    const std::function<void(size_t, size_t)>* job = nullptr;
    spin_until([&] { return generation_seen_.load(std::memory_order_acquire) != seen; });
    {
      std::unique_lock<std::mutex> lock(mu_);
      start_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (static_cast<size_t>(index) >= ranges_.size()) continue;
      range = ranges_[index];
      job = job_;
    }
    (*job)(range.first, range.second);
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_seen_.store(pending_ - 1, std::memory_order_release);
      if (--pending_ == 0) done_cv_.notify_all();
    }
  }
}

}  // namespace v4rt
