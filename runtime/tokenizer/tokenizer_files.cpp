#include "runtime/tokenizer/tokenizer_files.h"

#include <iterator>
#include <map>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "parsers/special_tokens.h"

namespace v4rt::runtime {

namespace {

using json = nlohmann::json;  // not ordered_json: its lookups are linear, and the vocab has 128K keys

constexpr int kReleaseVocab = 129280;

// V4 chat specials (spec §6.1) and their release ids: parsers/special_tokens.h.
constexpr auto& kV4Specials = parsers::tokens::kChatSpecials;
constexpr int kNumSpecials = static_cast<int>(std::size(kV4Specials));

json added(int id, const std::string& content, bool special) {
  json t;
  t["id"] = id;
  t["content"] = content;
  t["single_word"] = false;
  t["lstrip"] = false;
  t["rstrip"] = false;
  t["normalized"] = false;
  t["special"] = special;
  return t;
}

std::string placeholder(int id) { return "<\uFF5Cplace\u2581holder\u2581no\u2581" + std::to_string(id) + "\uFF5C>"; }

}  // namespace

Result<std::string> make_v4_tokenizer_json(std::string_view v3_text, int vocab_size) {
  json t = json::parse(v3_text, nullptr, false);
  if (t.is_discarded() || !t.is_object() || !t.contains("model") || !t["model"].contains("vocab") ||
      !t["model"].contains("merges") || !t.contains("added_tokens"))
    return Status::InvalidArgument(
        "the V3 tokenizer.json is not a Hugging Face BPE tokenizer (needs model.vocab, model.merges, "
        "added_tokens); pass --tokenizer with DeepSeek-V3's tokenizer.json or run scripts/setup.sh");
  if (vocab_size < 259 + kNumSpecials)
    return Status::InvalidArgument("vocab_size " + std::to_string(vocab_size) + " is too small for a byte-level "
                                   "tokenizer; it needs at least " + std::to_string(259 + kNumSpecials));

  json& vocab = t["model"]["vocab"];
  json& merges = t["model"]["merges"];
  json& added_tokens = t["added_tokens"];

  if (vocab_size >= kReleaseVocab) {
    std::set<int> used;
    for (auto& [k, v] : vocab.items()) used.insert(v.get<int>());
    std::map<int, json> extra;
    for (auto& a : added_tokens) used.insert(a["id"].get<int>());
    for (const auto& s : kV4Specials) {
      if (used.count(s.id)) continue;
      extra[s.id] = added(s.id, std::string(s.text), false);
      used.insert(s.id);
    }
    for (int id = 0; id < vocab_size; ++id)
      if (!used.count(id)) extra[id] = added(id, placeholder(id), true);
    for (auto& [id, tok] : extra) added_tokens.push_back(std::move(tok));
    return t.dump() + "\n";
  }

  // Reduced vocabulary: keep ids < keep, merges whose parts and result survive.
  const int keep = vocab_size - kNumSpecials;
  json new_vocab = json::object();
  std::set<std::string> kept;
  for (auto& [k, v] : vocab.items())
    if (v.get<int>() < keep) {
      new_vocab[k] = v;
      kept.insert(k);
    }
  json new_merges = json::array();
  for (auto& m : merges) {
    std::string a, b;
    if (m.is_string()) {
      std::string s = m.get<std::string>();
      size_t sp = s.find(' ');
      if (sp == std::string::npos) continue;
      a = s.substr(0, sp);
      b = s.substr(sp + 1);
    } else if (m.is_array() && m.size() == 2) {
      a = m[0].get<std::string>();
      b = m[1].get<std::string>();
    } else {
      continue;
    }
    if (kept.count(a) && kept.count(b) && kept.count(a + b)) new_merges.push_back(m);
  }
  json new_added = json::array();
  for (auto& a : added_tokens)
    if (a["id"].get<int>() < keep) new_added.push_back(a);
  for (int i = 0; i < kNumSpecials; ++i) new_added.push_back(added(keep + i, std::string(kV4Specials[i].text), false));
  vocab = std::move(new_vocab);
  merges = std::move(new_merges);
  added_tokens = std::move(new_added);
  return t.dump() + "\n";
}

std::string make_v4_tokenizer_config_json(int64_t model_max_length) {
  json j;
  j["add_bos_token"] = true;
  j["add_eos_token"] = false;
  j["bos_token"] = "<\uFF5Cbegin\u2581of\u2581sentence\uFF5C>";
  j["eos_token"] = "<\uFF5Cend\u2581of\u2581sentence\uFF5C>";
  j["pad_token"] = "<\uFF5Cend\u2581of\u2581sentence\uFF5C>";
  j["clean_up_tokenization_spaces"] = false;
  j["legacy"] = true;
  j["model_max_length"] = model_max_length;
  j["unk_token"] = nullptr;
  j["tokenizer_class"] = "LlamaTokenizerFast";
  return j.dump(2) + "\n";
}

}  // namespace v4rt::runtime
