#include "runtime/stop_strings.h"

#include <algorithm>

#include "base/utf8.h"

namespace v4rt::runtime {

namespace {

}  // namespace

StopStringMatcher::StopStringMatcher(std::vector<std::string> stops) {
  for (auto& s : stops)
    if (!s.empty()) {
      max_len_ = std::max(max_len_, s.size());
      stops_.push_back(std::move(s));
    }
}

StopStringMatcher::Step StopStringMatcher::feed(std::string_view piece) {
  Step step;
  if (stopped_) {
    step.stopped = true;
    return step;
  }
  const size_t old_size = text_.size();
  text_.append(piece);
  // A stop string can only start where it would overlap the new bytes.
  size_t search_from = old_size > max_len_ ? old_size - max_len_ + 1 : 0;
  search_from = std::max(search_from, emitted_);
  size_t best = std::string::npos;
  for (const auto& s : stops_) {
    size_t at = text_.find(s, search_from);
    if (at < best) best = at;
  }
  if (best != std::string::npos) {
    text_.resize(best);
    step.emit = text_.substr(emitted_);
    emitted_ = text_.size();
    stopped_ = true;
    step.stopped = true;
    return step;
  }
  // Hold back the longest suffix that is a proper prefix of some stop string.
  size_t hold = 0;
  const std::string_view pending = std::string_view(text_).substr(emitted_);
  for (const auto& s : stops_) {
    for (size_t k = std::min(s.size() - 1, pending.size()); k > hold; --k)
      if (pending.substr(pending.size() - k) == std::string_view(s).substr(0, k)) {
        hold = k;
        break;
      }
  }
  std::string_view ready = pending.substr(0, pending.size() - hold);
  ready = ready.substr(0, ready.size() - utf8::incomplete_tail(ready));
  step.emit = std::string(ready);
  emitted_ += ready.size();
  return step;
}

std::string StopStringMatcher::finish() {
  std::string rest = text_.substr(emitted_);
  emitted_ = text_.size();
  return rest;
}

}  // namespace v4rt::runtime
