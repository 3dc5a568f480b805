// LocalBackend: the in-process engine as a ModelBackend. Each turn sends the
// whole rendered prompt; the engine finds the longest prefix it already has
// (its warm state, else the session store), so a conversation only prefills
// what is new, and a repository prefix cached by an earlier run is restored
// instead of recomputed (reported as reused_tokens). The prompt is tokenized
// here with special tokens matched only in the encoder's structure
// (Tokenizer::encode_structured): for ordinary prompts the ids are exactly
// those of the text, so cached prefixes still hit. Not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "agents/model_backend.h"
#include "runtime/engine.h"
#include "runtime/prompt_tokens.h"

namespace v4rt::runtime {
class Tokenizer;
}

namespace v4rt::agents {

// The token ids of a rendered prompt as the model sees them (special tokens
// only in the encoder's structure, BOS first): runtime/prompt_tokens.h, shared
// with the HTTP server.
using runtime::prompt_token_ids;

class LocalBackend : public ModelBackend {
 public:
  // engine is borrowed and must outlive the backend.
  LocalBackend(runtime::Engine& engine, std::string label, runtime::SamplingParams sampling)
      : engine_(engine), label_(std::move(label)), sampling_(sampling) {}

  std::string describe() const override { return "local:" + label_; }
  Result<Completion> complete(const parsers::RenderedPrompt& prompt, const CompletionOptions& options,
                              const TextSink& on_text) override;

 private:
  runtime::Engine& engine_;
  std::string label_;
  runtime::SamplingParams sampling_;
};

}  // namespace v4rt::agents
