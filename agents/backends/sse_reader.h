// SseReader: a text/event-stream body, fed in pieces of any size -> events
// (the "event:" name and the joined "data:" lines), per the WHATWG
// server-sent events rules that OpenAI and Anthropic streams follow: lines end
// in LF, CRLF or CR; ':' starts a comment; a blank line dispatches. Bytes that
// never reach a blank line are the truncated tail (pending()). Not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace v4rt::agents::backends {

struct SseEvent {
  std::string event;  // "" when the server named none ("message")
  std::string data;
};

class SseReader {
 public:
  // Appends the events completed by `bytes` to out.
  void feed(std::string_view bytes, std::vector<SseEvent>& out);
  // True when bytes of an event that was never dispatched are held.
  bool pending() const { return !line_.empty() || has_data_ || !event_.empty(); }
  size_t bytes_seen() const { return bytes_seen_; }

 private:
  void line(std::string_view l, std::vector<SseEvent>& out);
  std::string line_;  // the current line, without its end
  bool last_cr_ = false;
  std::string event_, data_;
  bool has_data_ = false;
  size_t bytes_seen_ = 0;
};

}  // namespace v4rt::agents::backends
