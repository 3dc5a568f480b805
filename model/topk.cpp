// Top-k with torch.topk's CPU tie behaviour (see layers.h): the candidates are
// (value, index) pairs in index order; when k*64 <= n the first k are found by
// a partial sort, otherwise by nth_element at k-1 followed by a sort of the
// first k-1; the order relation compares values only (NaN first). Because both
// use the standard library's algorithms, exact ties resolve identically.
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "model/layers.h"

namespace v4rt::model {

void topk_like_torch(const float* scores, int64_t n, int64_t k, std::vector<int32_t>& out) {
  out.clear();
  if (k <= 0 || n <= 0) return;
  k = std::min(k, n);
  using Elem = std::pair<double, int64_t>;
  std::vector<Elem> q(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) q[static_cast<size_t>(j)] = {static_cast<double>(scores[j]), j};
  auto greater = [](const Elem& x, const Elem& y) {
    return (std::isnan(x.first) && !std::isnan(y.first)) || x.first > y.first;
  };
  if (k * 64 <= n) {
    std::partial_sort(q.begin(), q.begin() + k, q.end(), greater);
  } else {
    std::nth_element(q.begin(), q.begin() + (k - 1), q.end(), greater);
    std::sort(q.begin(), q.begin() + (k - 1), greater);
  }
  out.resize(static_cast<size_t>(k));
  for (int64_t j = 0; j < k; ++j) out[static_cast<size_t>(j)] = static_cast<int32_t>(q[static_cast<size_t>(j)].second);
}

}  // namespace v4rt::model
