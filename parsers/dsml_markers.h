// DSML marker vocabulary and the scanner DsmlStream decides with: for each
// parser state, the strings that end it (canonical spellings, plus the
// tolerant ones, each tagged with the variant name it records), and
// scan(), which finds the first marker that starts in a buffer or may start
// there once more input arrives. Internal to parsers/ (dsml_stream.cpp and
// its tests). Tables are immutable after construction; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace v4rt::parsers::dsml {

enum class MarkerKind {
  kThinkEnd, kEos, kBlockOpen, kImplicitInvoke, kInvokeOpen, kBlockClose, kParamOpen, kInvokeEnd,
  kParamEnd, kParamEndLt, kParamEndLtNl, kAttrTrue, kAttrFalse, kGt, kStray,
};

struct Marker {
  std::string text;
  MarkerKind kind;
  std::vector<std::string_view> variants;  // variant names this spelling records (empty: canonical)
};

struct MarkerSet {
  std::vector<Marker> markers;
  std::array<bool, 256> first{};  // first bytes of the markers

  void add(std::string text, MarkerKind kind, std::vector<std::string_view> variants = {});
};

// The markers that end each state of DsmlStream.
struct MarkerTables {
  MarkerSet reasoning, content, header, attrs_lenient, attrs_exact, value, block_sep, param_sep, after_block;
};

// strict: the reference's spellings only; otherwise the tolerant set too.
const MarkerTables& marker_tables(bool strict);

struct Scan {
  size_t pos = 0;                  // where the marker (or the possible marker) starts; size() if none
  const Marker* marker = nullptr;  // the full marker at pos, if decided
  bool partial = false;            // a marker may start at pos but is not complete yet
};

// The first position >= from where a marker starts or may start. At a
// position where a full marker and a longer partial one both fit, waits (the
// longest marker wins ties). final: the input is complete, partials are not markers.
Scan scan(std::string_view b, size_t from, const MarkerSet& set, bool final);

// Length of s without a trailing incomplete UTF-8 sequence.
size_t complete_utf8_prefix(std::string_view s);

}  // namespace v4rt::parsers::dsml
