#include "agents/backends/sse_reader.h"

namespace v4rt::agents::backends {

void SseReader::feed(std::string_view bytes, std::vector<SseEvent>& out) {
  bytes_seen_ += bytes.size();
  for (char c : bytes) {
    if (c == '\n' && last_cr_) {  // the LF of a CRLF: the line already ended
      last_cr_ = false;
      continue;
    }
    last_cr_ = c == '\r';
    if (c == '\n' || c == '\r') {
      std::string l;
      l.swap(line_);
      line(l, out);
    } else {
      line_.push_back(c);
    }
  }
}

void SseReader::line(std::string_view l, std::vector<SseEvent>& out) {
  if (l.empty()) {
    if (has_data_) out.push_back({event_, data_});
    event_.clear();
    data_.clear();
    has_data_ = false;
    return;
  }
  if (l.front() == ':') return;
  size_t colon = l.find(':');
  std::string_view field = l.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view() : l.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_ = std::string(value);
  }  // id, retry and unknown fields: not needed here
}

}  // namespace v4rt::agents::backends
