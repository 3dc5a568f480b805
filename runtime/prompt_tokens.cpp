#include "runtime/prompt_tokens.h"

#include "runtime/tokenizer/tokenizer.h"

namespace v4rt::runtime {

std::vector<int32_t> prompt_token_ids(const Tokenizer& tokenizer, const parsers::RenderedPrompt& prompt,
                                      int32_t bos_id) {
  std::vector<ByteRange> structure;
  structure.reserve(prompt.structure.size());
  for (const parsers::PromptRange& r : prompt.structure) structure.push_back({r.begin, r.end});
  std::vector<int32_t> ids = tokenizer.encode_structured(prompt.text, structure);
  if (ids.empty() || ids[0] != bos_id) ids.insert(ids.begin(), bos_id);
  return ids;
}

}  // namespace v4rt::runtime
