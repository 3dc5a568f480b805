#include "runtime/tokenizer/tokenizer_regex.h"

#include <oniguruma.h>

#include <mutex>
#include <string>

#include "base/utf8.h"
#include "runtime/tokenizer/unicode16_pattern.h"

namespace v4rt::runtime {
namespace {

// Oniguruma wants one process-wide initialisation before the first compile;
// std::call_once makes that safe from any thread (the Rust `onig` crate does the same).
void init_oniguruma() {
  static std::once_flag once;
  std::call_once(once, [] {
    OnigEncoding encodings[] = {ONIG_ENCODING_UTF8};
    onig_initialize(encodings, 1);
  });
}

const OnigUChar* bytes(std::string_view s) { return reinterpret_cast<const OnigUChar*>(s.data()); }

// An OnigRegion on the stack; its arrays are freed on scope exit.
struct RegionGuard {
  OnigRegion region;
  RegionGuard() { onig_region_init(&region); }
  ~RegionGuard() { onig_region_free(&region, 0); }
};

}  // namespace

Result<TokenizerRegex> TokenizerRegex::compile(std::string_view pattern) {
  init_oniguruma();
  const std::string widened = widen_to_unicode16(pattern);
  regex_t* re = nullptr;
  OnigErrorInfo info{};
  int r = onig_new(&re, bytes(widened), bytes(widened) + widened.size(), ONIG_OPTION_NONE,
                   ONIG_ENCODING_UTF8, ONIG_SYNTAX_ONIGURUMA, &info);
  if (r != ONIG_NORMAL) {
    OnigUChar msg[ONIG_MAX_ERROR_MESSAGE_LEN] = {};
    onig_error_code_to_str(msg, r, &info);
    return Status::InvalidArgument("regex '" + std::string(pattern) +
                                   "' does not compile: " + reinterpret_cast<const char*>(msg));
  }
  return TokenizerRegex(re);
}

TokenizerRegex::TokenizerRegex(TokenizerRegex&& other) noexcept : re_(other.re_) { other.re_ = nullptr; }

TokenizerRegex& TokenizerRegex::operator=(TokenizerRegex&& other) noexcept {
  if (this != &other) {
    if (re_) onig_free(re_);
    re_ = other.re_;
    other.re_ = nullptr;
  }
  return *this;
}

TokenizerRegex::~TokenizerRegex() {
  if (re_) onig_free(re_);
}

void TokenizerRegex::find_all(std::string_view subject,
                              std::vector<std::pair<size_t, size_t>>& out) const {
  RegionGuard g;
  const OnigUChar* str = bytes(subject);
  const OnigUChar* end = str + subject.size();
  size_t last_end = 0;
  bool have_last = false;
  size_t last_match_end = 0;
  while (last_end <= subject.size()) {
    onig_region_clear(&g.region);
    int r = onig_search(re_, str, end, str + last_end, end, &g.region, ONIG_OPTION_NONE);
    // ONIG_MISMATCH ends the scan; other negative codes (retry limits on
    // pathological input) end it too: the rest of the subject stays one piece.
    if (r < 0) return;
    size_t s = static_cast<size_t>(g.region.beg[0]);
    size_t e = static_cast<size_t>(g.region.end[0]);
    if (e == s && have_last && last_match_end == e) {
      last_end += last_end < subject.size() ? utf8::sequence_length(static_cast<unsigned char>(subject[last_end])) : 1;
      continue;
    }
    last_end = e;
    last_match_end = e;
    have_last = true;
    out.emplace_back(s, e);
  }
}

bool TokenizerRegex::matches_prefix(std::string_view subject) const {
  const OnigUChar* str = bytes(subject);
  return onig_match(re_, str, str + subject.size(), str, nullptr, ONIG_OPTION_NONE) >= 0;
}

}  // namespace v4rt::runtime
