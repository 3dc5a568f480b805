#include "agents/replay_backend.h"

#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/utf8.h"
#include "parsers/special_tokens.h"
#include "base/file_util.h"

namespace v4rt::agents {

Result<std::unique_ptr<ReplayBackend>> ReplayBackend::open(const std::filesystem::path& file) {
  auto text = read_file(file);
  if (!text) return Status::NotFound("replay file " + file.string() + ": cannot read it (" +
                                     text.status().message() + "); check --backend replay:FILE");
  std::vector<std::string> outputs;
  std::istringstream in(*text);
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("output") || !j["output"].is_string())
      return Status::InvalidArgument("replay file " + file.string() + " line " + std::to_string(line_no) +
                                     ": expected a JSON object {\"output\": \"...\"} per line");
    outputs.push_back(j["output"].get<std::string>());
  }
  if (outputs.empty())
    return Status::InvalidArgument("replay file " + file.string() + " holds no turns; add {\"output\": ...} lines");
  return from_outputs(std::move(outputs), file.string());
}

std::unique_ptr<ReplayBackend> ReplayBackend::from_outputs(std::vector<std::string> outputs, std::string label) {
  return std::unique_ptr<ReplayBackend>(new ReplayBackend(std::move(outputs), std::move(label)));
}

std::string ReplayBackend::describe() const {
  return "replay:" + label_ + " (recorded outputs, not a model)";
}

std::vector<std::string> ReplayBackend::prompts() const {
  std::vector<std::string> texts;
  texts.reserve(prompts_.size());
  for (const parsers::RenderedPrompt& p : prompts_) texts.push_back(p.text);
  return texts;
}

Result<Completion> ReplayBackend::complete(const parsers::RenderedPrompt& prompt, const CompletionOptions& options,
                                           const TextSink& on_text) {
  prompts_.push_back(prompt);
  if (next_ >= outputs_.size())
    return Status::ResourceExhausted("replay " + label_ + ": all " + std::to_string(outputs_.size()) +
                                     " recorded turns were played and the loop asked for another; add a "
                                     "final turn without tool calls");
  std::string out = outputs_[next_++];
  const std::string eos(parsers::tokens::kEos);
  if (out.size() < eos.size() || out.compare(out.size() - eos.size(), eos.size(), eos) != 0) out += eos;
  Completion c;
  // Stream in small pieces, as a model would, so the parser sees split markers.
  constexpr size_t kPiece = 7;
  for (size_t i = 0; i < out.size();) {
    if (options.stop.stop_requested()) {
      c.cancelled = true;
      break;
    }
    size_t n = std::min(kPiece, out.size() - i);
    while (i + n < out.size() && utf8::is_continuation(static_cast<unsigned char>(out[i + n]))) ++n;
    std::string_view piece(out.data() + i, n);
    c.text.append(piece);
    i += n;
    if (on_text && !on_text(piece)) {
      c.cancelled = i < out.size();
      break;
    }
  }
  c.prompt_tokens = static_cast<int64_t>(prompt.text.size() / 4);  // estimate: no tokenizer in replay
  c.generated_tokens = static_cast<int64_t>(c.text.size() / 4);
  return c;
}

}  // namespace v4rt::agents
