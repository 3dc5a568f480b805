// ReplayBackend: plays recorded model turns in order instead of running a
// model. FILE is JSON Lines, one object per model turn:
//   {"output": "<raw text the model emits for that turn, DSML included>"}
// An output without the final EOS gets one appended (the turn ended there).
// Blank lines and lines starting with '#' are skipped. Everything around it
// (encoder, parser, tools, permissions, sandbox) runs for real. The prompts it
// was given are kept for tests (prompts(), rendered()); their structure ranges
// are not used here. Not thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "agents/model_backend.h"

namespace v4rt::agents {

class ReplayBackend : public ModelBackend {
 public:
  // InvalidArgument naming the file and line for bad JSON or a missing "output".
  static Result<std::unique_ptr<ReplayBackend>> open(const std::filesystem::path& file);
  static std::unique_ptr<ReplayBackend> from_outputs(std::vector<std::string> outputs, std::string label);

  std::string describe() const override;
  // ResourceExhausted when every recorded turn has been played.
  Result<Completion> complete(const parsers::RenderedPrompt& prompt, const CompletionOptions& options,
                              const TextSink& on_text) override;

  // The prompt texts, in order.
  std::vector<std::string> prompts() const;
  // The prompts with their structure ranges, in order.
  const std::vector<parsers::RenderedPrompt>& rendered() const { return prompts_; }
  size_t turns_left() const { return outputs_.size() - next_; }

 private:
  ReplayBackend(std::vector<std::string> outputs, std::string label)
      : outputs_(std::move(outputs)), label_(std::move(label)) {}
  std::vector<std::string> outputs_;
  std::string label_;
  size_t next_ = 0;
  std::vector<parsers::RenderedPrompt> prompts_;
};

}  // namespace v4rt::agents
