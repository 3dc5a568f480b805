#include "runtime/stop_strings.h"

#include <algorithm>

namespace v4rt::runtime {

namespace {

// Bytes at the end of s that start an incomplete UTF-8 sequence (0 if none).
size_t incomplete_utf8_tail(std::string_view s) {
  size_t n = s.size();
  for (size_t back = 1; back <= std::min<size_t>(3, n); ++back) {
    unsigned char c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    size_t need = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

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
  ready = ready.substr(0, ready.size() - incomplete_utf8_tail(ready));
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
