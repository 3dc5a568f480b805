// StopStringMatcher: finds stop strings in generated text that arrives in
// pieces of any size (a token's bytes, possibly a partial UTF-8 character), and
// decides what is safe to stream: text that could still turn into a stop
// string (the longest suffix that is a prefix of one) and an incomplete UTF-8
// character at the end are held back until the next piece decides them.
// Not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace v4rt::runtime {

class StopStringMatcher {
 public:
  explicit StopStringMatcher(std::vector<std::string> stops);

  struct Step {
    std::string emit;      // text now safe to stream (never contains a stop string)
    bool stopped = false;  // a stop string was found; `emit` ends right before it
  };
  // Appends `piece`. After a stop, further pieces are ignored.
  Step feed(std::string_view piece);
  // The held-back text when generation ends without a stop string.
  std::string finish();
  // All text accepted so far (emitted + held back; excludes the stop string and anything after it).
  const std::string& text() const { return text_; }

 private:
  std::vector<std::string> stops_;
  size_t max_len_ = 0;
  std::string text_;     // everything fed, cut at the stop string once found
  size_t emitted_ = 0;   // bytes of text_ already returned
  bool stopped_ = false;
};

}  // namespace v4rt::runtime
