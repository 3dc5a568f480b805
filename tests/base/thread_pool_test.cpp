#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace v4rt {
namespace {

TEST(ThreadPool, CoversEveryIndexOnce) {
  ThreadPool pool(3);
  for (size_t n : {0u, 1u, 2u, 7u, 1000u}) {
    std::vector<std::atomic<int>> hits(n);
    for (int rep = 0; rep < 20; ++rep)
      pool.parallel_for(n, [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i) hits[i]++;
      });
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(hits[i].load(), 20) << "n=" << n << " i=" << i;
  }
}

TEST(ThreadPool, RespectsGrain) {
  ThreadPool pool(2);
  pool.parallel_for(100, [&](size_t b, size_t e) {
    EXPECT_EQ(b % 64, 0u);
    EXPECT_TRUE(e - b >= 64 || e == 100);
  }, 64);
}

}  // namespace
}  // namespace v4rt
