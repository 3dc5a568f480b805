#include "tools/glob_match.h"

namespace v4rt::tools {

namespace {

// Matches a class at p[pi] == '['; sets pi past it. Returns -1 if malformed.
int match_class(std::string_view p, size_t& pi, char c) {
  size_t i = pi + 1;
  bool negate = false;
  if (i < p.size() && (p[i] == '!' || p[i] == '^')) {
    negate = true;
    ++i;
  }
  bool matched = false;
  bool first = true;
  while (i < p.size() && (p[i] != ']' || first)) {
    first = false;
    char lo = p[i];
    if (lo == '\\' && i + 1 < p.size()) lo = p[++i];
    char hi = lo;
    if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
      hi = p[i + 2];
      i += 2;
    }
    if (c >= lo && c <= hi) matched = true;
    ++i;
  }
  if (i >= p.size()) return -1;
  pi = i + 1;
  return (matched != negate) ? 1 : 0;
}

bool match(std::string_view p, size_t pi, std::string_view s, size_t si, int depth) {
  if (depth > 64) return false;  // bounds pathological patterns
  while (pi < p.size()) {
    char pc = p[pi];
    if (pc == '*') {
      bool dbl = pi + 1 < p.size() && p[pi + 1] == '*';
      if (dbl) {
        size_t next = pi + 2;
        bool at_seg_start = pi == 0 || p[pi - 1] == '/';
        if (at_seg_start && next < p.size() && p[next] == '/') {
          // "**/": zero or more whole directories.
          if (match(p, next + 1, s, si, depth + 1)) return true;
          for (size_t k = si; k < s.size(); ++k)
            if (s[k] == '/' && match(p, next + 1, s, k + 1, depth + 1)) return true;
          return false;
        }
        for (size_t k = si; k <= s.size(); ++k)
          if (match(p, next, s, k, depth + 1)) return true;
        return false;
      }
      for (size_t k = si; k <= s.size(); ++k) {
        if (match(p, pi + 1, s, k, depth + 1)) return true;
        if (k < s.size() && s[k] == '/') break;
      }
      return false;
    }
    if (si >= s.size()) return false;
    if (pc == '?') {
      if (s[si] == '/') return false;
      ++pi;
      ++si;
      continue;
    }
    if (pc == '[') {
      size_t save = pi;
      int r = match_class(p, pi, s[si]);
      if (r < 0) {  // literal '['
        pi = save;
        if (s[si] != '[') return false;
        ++pi;
        ++si;
        continue;
      }
      if (r == 0 || s[si] == '/') return false;
      ++si;
      continue;
    }
    if (pc == '\\' && pi + 1 < p.size()) pc = p[++pi];
    if (s[si] != pc) return false;
    ++pi;
    ++si;
  }
  return si == s.size();
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
  return match(pattern, 0, path, 0, 0);
}

}  // namespace v4rt::tools
