#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace v4rt::runtime {

namespace {
std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", x);
  return buf;
}
}  // namespace

Status validate(const SamplingParams& p) {
  if (!(p.temperature >= 0.0) || !std::isfinite(p.temperature))
    return Status::InvalidArgument("temperature must be >= 0 (got " + num(p.temperature) + "); use 0 for greedy");
  if (p.top_k < 0) return Status::InvalidArgument("top_k must be >= 0 (got " + std::to_string(p.top_k) + "); 0 turns it off");
  if (!(p.top_p > 0.0 && p.top_p <= 1.0))
    return Status::InvalidArgument("top_p must be in (0, 1] (got " + num(p.top_p) + "); 1 turns it off");
  if (!(p.min_p >= 0.0 && p.min_p <= 1.0))
    return Status::InvalidArgument("min_p must be in [0, 1] (got " + num(p.min_p) + "); 0 turns it off");
  if (!(p.repetition_penalty > 0.0) || !std::isfinite(p.repetition_penalty))
    return Status::InvalidArgument("repetition_penalty must be > 0 (got " + num(p.repetition_penalty) +
                                   "); 1 turns it off");
  if (p.repetition_window < 0)
    return Status::InvalidArgument("repetition_window must be >= 0 (got " + std::to_string(p.repetition_window) +
                                   "); 0 means the whole history");
  return Status::Ok();
}

Sampler::Sampler(const SamplingParams& params, int vocab_size)
    : params_(params), vocab_size_(vocab_size), rng_(params.seed) {
  check(vocab_size > 0, "Sampler needs a positive vocab_size");
  work_.resize(static_cast<size_t>(vocab_size));
  cand_.resize(static_cast<size_t>(vocab_size));
  seen_.assign(static_cast<size_t>(vocab_size), 0);
}

int32_t Sampler::argmax(std::span<const float> logits) {
  int32_t best = 0;
  float best_v = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < logits.size(); ++i)
    if (logits[i] > best_v) {  // strict: the lowest id wins ties
      best_v = logits[i];
      best = static_cast<int32_t>(i);
    }
  return best;
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
  check(logits.size() == static_cast<size_t>(vocab_size_), "Sampler::sample: logits size != vocab_size");
  std::copy(logits.begin(), logits.end(), work_.begin());

  if (params_.repetition_penalty != 1.0 && !history.empty()) {
    size_t from = 0;
    if (params_.repetition_window > 0 && history.size() > static_cast<size_t>(params_.repetition_window))
      from = history.size() - static_cast<size_t>(params_.repetition_window);
    const float pen = static_cast<float>(params_.repetition_penalty);
    for (size_t i = from; i < history.size(); ++i) {
      int32_t t = history[i];
      if (t < 0 || t >= vocab_size_ || seen_[static_cast<size_t>(t)]) continue;
      seen_[static_cast<size_t>(t)] = 1;
      float& v = work_[static_cast<size_t>(t)];
      v = v > 0 ? v / pen : v * pen;
    }
    for (size_t i = from; i < history.size(); ++i)
      if (history[i] >= 0 && history[i] < vocab_size_) seen_[static_cast<size_t>(history[i])] = 0;
  }

  if (greedy()) return argmax(work_);

  // Candidates sorted by logit, best first (ties: lower id first, for determinism).
  const float inv_t = static_cast<float>(1.0 / params_.temperature);
  size_t n = 0;
  for (int32_t i = 0; i < vocab_size_; ++i) {
    float v = work_[static_cast<size_t>(i)];
    if (std::isnan(v) || v == -std::numeric_limits<float>::infinity()) continue;
    cand_[n++] = {v * inv_t, i};
  }
  if (n == 0) return argmax(work_);
  auto better = [](const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  size_t keep = n;
  if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < n) keep = static_cast<size_t>(params_.top_k);
  if (keep < n) {
    std::partial_sort(cand_.begin(), cand_.begin() + static_cast<std::ptrdiff_t>(keep),
                      cand_.begin() + static_cast<std::ptrdiff_t>(n), better);
  } else {
    std::sort(cand_.begin(), cand_.begin() + static_cast<std::ptrdiff_t>(n), better);
  }
  n = keep;

  // Softmax over the kept candidates (in double for a stable sum).
  const double max_l = cand_[0].first;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    double e = std::exp(static_cast<double>(cand_[i].first) - max_l);
    cand_[i].first = static_cast<float>(e);
    sum += e;
  }
  // top-p: smallest prefix whose mass reaches top_p.
  if (params_.top_p < 1.0) {
    double acc = 0;
    size_t cut = n;
    for (size_t i = 0; i < n; ++i) {
      acc += cand_[i].first / sum;
      if (acc >= params_.top_p) {
        cut = i + 1;
        break;
      }
    }
    n = cut;
  }
  // min-p: relative to the most likely token (cand_[0]).
  if (params_.min_p > 0.0) {
    const double floor_p = params_.min_p * cand_[0].first;
    size_t cut = 1;
    while (cut < n && cand_[cut].first >= floor_p) ++cut;
    n = cut;
  }
  double total = 0;
  for (size_t i = 0; i < n; ++i) total += cand_[i].first;
  // A 53-bit uniform in [0, 1) from the raw generator (std distributions differ between libraries).
  const double u = static_cast<double>(rng_() >> 11) * (1.0 / 9007199254740992.0) * total;
  double acc = 0;
  for (size_t i = 0; i < n; ++i) {
    acc += cand_[i].first;
    if (u < acc) return cand_[i].second;
  }
  return cand_[n - 1].second;
}

}  // namespace v4rt::runtime
