#include "parsers/dsml_markers.h"

#include <utility>

#include "base/utf8.h"
#include "parsers/special_tokens.h"

namespace v4rt::parsers::dsml {

// Every decision of the parser is "which marker starts first in the buffer";
// a marker that might still be completing blocks the decision, so the outcome
// does not depend on where the input was split.

void MarkerSet::add(std::string text, MarkerKind kind, std::vector<std::string_view> variants) {
  std::vector<std::string_view> v;
  for (std::string_view s : variants)
    if (!s.empty()) v.push_back(s);
  first[static_cast<unsigned char>(text[0])] = true;
  markers.push_back({std::move(text), kind, std::move(v)});
}

namespace {

struct Spelling {
  std::string_view text;
  std::string_view variant;  // empty: canonical
};

constexpr std::array<Spelling, 4> kDsmlSpellings = {{
    {"\uFF5CDSML\uFF5C", ""},
    {"\uFF5C\uFF5CDSML\uFF5C\uFF5C", "doubled_pipes"},
    {"|DSML|", "ascii_pipes"},
    {"||DSML||", "doubled_ascii_pipes"},
}};
constexpr std::array<Spelling, 3> kWrapperSpellings = {{
    {"tool_calls", ""},
    {"function_calls", "function_calls_wrapper"},
    {"toolcalls", "toolcalls_wrapper"},
}};
constexpr std::array<Spelling, 3> kBlockPrefixes = {{
    {"\n\n", ""},
    {"\n", "tool_calls_without_blank_line"},
    {"", "tool_calls_without_blank_line"},
}};

std::string s(std::string_view a, std::string_view b = "", std::string_view c = "", std::string_view d = "") {
  std::string r(a);
  r += b;
  r += c;
  r += d;
  return r;
}

MarkerTables build_tables(bool strict) {
  MarkerTables t;
  const size_t nd = strict ? 1 : kDsmlSpellings.size();
  const size_t nw = strict ? 1 : kWrapperSpellings.size();
  const size_t np = strict ? 1 : kBlockPrefixes.size();

  auto add_block_openers = [&](MarkerSet& set, bool implicit_invoke) {
    for (size_t p = 0; p < np; ++p)
      for (size_t d = 0; d < nd; ++d)
        for (size_t w = 0; w < nw; ++w)
          set.add(s(kBlockPrefixes[p].text, "<", kDsmlSpellings[d].text, kWrapperSpellings[w].text), MarkerKind::kBlockOpen,
                  {kBlockPrefixes[p].variant, kDsmlSpellings[d].variant, kWrapperSpellings[w].variant});
    // A bare invoke in the answer opens a block (not in reasoning, where the
    // model may be talking about DSML).
    if (strict || !implicit_invoke) return;
    for (size_t p = 0; p < np; ++p)
      for (size_t d = 0; d < nd; ++d)
        set.add(s(kBlockPrefixes[p].text, "<", kDsmlSpellings[d].text, "invoke"), MarkerKind::kImplicitInvoke,
                {"missing_tool_calls_wrapper", kDsmlSpellings[d].variant});
  };
  auto add_strays = [&](MarkerSet& set, bool think_end_is_stray) {
    set.add(std::string(tokens::kBos), MarkerKind::kStray);
    set.add(std::string(tokens::kThinkStart), MarkerKind::kStray);
    if (think_end_is_stray) set.add(std::string(tokens::kThinkEnd), MarkerKind::kStray);
    for (size_t d = 0; d < 2; ++d) {  // the special-token spellings; ASCII ones are ordinary text
      set.add(s("<", kDsmlSpellings[d].text), MarkerKind::kStray);
      set.add(s("</", kDsmlSpellings[d].text), MarkerKind::kStray);
      set.add(s(kDsmlSpellings[d].text), MarkerKind::kStray);
    }
  };
  auto add_each_dsml = [&](MarkerSet& set, std::string_view before, std::string_view after, MarkerKind kind,
                           std::string_view extra_variant = "") {
    for (size_t d = 0; d < nd; ++d)
      set.add(s(before, kDsmlSpellings[d].text, after), kind, {kDsmlSpellings[d].variant, extra_variant});
  };
  auto add_block_closers = [&](MarkerSet& set, std::string_view extra_variant) {
    for (size_t d = 0; d < nd; ++d)
      for (size_t w = 0; w < nw; ++w)
        set.add(s("</", kDsmlSpellings[d].text, kWrapperSpellings[w].text, ">"), MarkerKind::kBlockClose,
                {kDsmlSpellings[d].variant, kWrapperSpellings[w].variant, extra_variant});
  };

  // Reasoning: up to </think> (the tool-call opener here is an error in strict mode).
  t.reasoning.add(std::string(tokens::kThinkEnd), MarkerKind::kThinkEnd);
  add_block_openers(t.reasoning, /*implicit_invoke=*/false);
  // Content: up to EOS or the tool-call opener.
  t.content.add(std::string(tokens::kEos), MarkerKind::kEos);
  add_block_openers(t.content, /*implicit_invoke=*/true);
  if (!strict) {
    t.reasoning.add(std::string(tokens::kEos), MarkerKind::kEos);
    add_strays(t.reasoning, /*think_end_is_stray=*/false);
    add_strays(t.content, /*think_end_is_stray=*/true);
  }
  // Invoke header: up to the first parameter or the invoke's end.
  add_each_dsml(t.header, "<", "parameter", MarkerKind::kParamOpen);
  add_each_dsml(t.header, "</", "invoke", MarkerKind::kInvokeEnd);
  // Parameter attributes. Exact: the reference's pattern; lenient: up to the first '>'.
  t.attrs_exact.add("\" string=\"true\">", MarkerKind::kAttrTrue);
  t.attrs_exact.add("\" string=\"false\">", MarkerKind::kAttrFalse);
  add_each_dsml(t.attrs_exact, "/", "parameter", MarkerKind::kParamEnd);
  t.attrs_lenient.add(">", MarkerKind::kGt);
  add_each_dsml(t.attrs_lenient, "/", "parameter", MarkerKind::kParamEnd);
  // Parameter value: up to "/｜DSML｜parameter", which must follow "<" (or "<\n").
  add_each_dsml(t.value, "</", "parameter", MarkerKind::kParamEndLt);
  add_each_dsml(t.value, "<\n/", "parameter", MarkerKind::kParamEndLtNl);
  add_each_dsml(t.value, "/", "parameter", MarkerKind::kParamEnd);
  // Separators: ">\n" then one of these.
  add_each_dsml(t.block_sep, "<", "invoke", MarkerKind::kInvokeOpen);
  add_block_closers(t.block_sep, "");
  add_each_dsml(t.param_sep, "<", "parameter", MarkerKind::kParamOpen);
  add_each_dsml(t.param_sep, "</", "invoke", MarkerKind::kInvokeEnd);
  // After the block: only EOS (strict).
  t.after_block.add(std::string(tokens::kEos), MarkerKind::kEos);
  if (!strict) {
    for (MarkerSet* set : {&t.header, &t.attrs_exact, &t.attrs_lenient, &t.value, &t.block_sep, &t.param_sep})
      set->add(std::string(tokens::kEos), MarkerKind::kEos, {"missing_closing_tags"});
    add_each_dsml(t.value, "</", "invoke", MarkerKind::kInvokeEnd, "missing_parameter_close");
    add_each_dsml(t.param_sep, "<", "invoke", MarkerKind::kInvokeOpen, "missing_invoke_close");
    add_block_closers(t.param_sep, "missing_invoke_close");
  }
  return t;
}

}  // namespace

const MarkerTables& marker_tables(bool strict) {
  static const MarkerTables kStrict = build_tables(true);  // immutable after construction
  static const MarkerTables kTolerant = build_tables(false);
  return strict ? kStrict : kTolerant;
}

// The first position >= from where a marker starts or may start. At a
// position where a full marker and a longer partial one both fit, waits (the
// longest marker wins ties). final: the input is complete, partials are not markers.
Scan scan(std::string_view b, size_t from, const MarkerSet& set, bool final) {
  const size_t n = b.size();
  for (size_t q = from; q < n; ++q) {
    if (!set.first[static_cast<unsigned char>(b[q])]) continue;
    const Marker* best = nullptr;
    bool partial = false;
    const size_t avail = n - q;
    for (const Marker& m : set.markers) {
      if (avail >= m.text.size()) {
        if (b.compare(q, m.text.size(), m.text) == 0 && (!best || m.text.size() > best->text.size())) best = &m;
      } else if (!final && m.text.compare(0, avail, b.substr(q)) == 0) {
        partial = true;
      }
    }
    if (partial) return {q, nullptr, true};
    if (best) return {q, best, false};
  }
  return {n, nullptr, false};
}

// Length of s without a trailing incomplete UTF-8 sequence.
size_t complete_utf8_prefix(std::string_view s) { return s.size() - utf8::incomplete_tail(s); }

}  // namespace v4rt::parsers::dsml
