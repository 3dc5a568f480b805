// ThreadPool: a fixed set of worker threads made by the program and passed in
// (no global pool). parallel_for splits [0, n) into one contiguous range per
// thread (fixed split) and runs them; the calling thread takes the first range.
// Thread-safety: parallel_for may be called from one thread at a time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace v4rt {

class ThreadPool {
 public:
  // threads <= 0: one per hardware thread.
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end) on disjoint ranges covering [0, n); ranges are at
  // least `grain` long (except the last). Returns when all are done.
  void parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn, size_t grain = 1);

 private:
  void worker_loop(int index);

  std::vector<std::thread> workers_;
  std::mutex mu_;  // guards job_, generation_, pending_, stop_
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  const std::function<void(size_t, size_t)>* job_ = nullptr;
  std::vector<std::pair<size_t, size_t>> ranges_;
  unsigned long generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
  // Mirrors of generation_ and pending_ read without the lock, only to spin
  // for a few microseconds before sleeping: decode issues hundreds of small
  // parallel_for calls per token, and a futex wake-up costs more than each.
  std::atomic<unsigned long> generation_seen_{0};
  std::atomic<int> pending_seen_{0};
};

}  // namespace v4rt
