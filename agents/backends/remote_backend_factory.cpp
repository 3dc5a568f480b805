#include "agents/backends/remote_backend_factory.h"

#include "agents/backends/anthropic_backend.h"
#include "agents/backends/openai_chat_backend.h"
#include "agents/backends/openai_completions_backend.h"

namespace v4rt::agents::backends {

namespace {
constexpr std::string_view kCompletions = "openai-completions:";
constexpr std::string_view kChat = "openai-chat:";
constexpr std::string_view kAnthropic = "anthropic:";
bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
}  // namespace

bool is_remote_spec(std::string_view spec) {
  return starts_with(spec, kCompletions) || starts_with(spec, kChat) || starts_with(spec, kAnthropic);
}

std::string default_api_key_env(std::string_view spec) {
  if (spec.find("deepseek.com") != std::string_view::npos) return "DEEPSEEK_API_KEY";
  return starts_with(spec, kAnthropic) ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY";
}

Result<std::unique_ptr<ModelBackend>> make_remote_backend(std::string_view spec, RemoteOptions options) {
  std::string_view url = spec.substr(spec.find(':') + 1);
  if (!is_remote_spec(spec) || spec.find(':') == std::string_view::npos)
    return Status::InvalidArgument("--backend '" + std::string(spec) +
                                   "': expected openai-completions:URL, openai-chat:URL or anthropic:URL");
  if (!starts_with(url, "http://") && !starts_with(url, "https://"))
    return Status::InvalidArgument("--backend '" + std::string(spec) +
                                   "': the URL must start with http:// or https:// (e.g. openai-chat:https://api.deepseek.com)");
  options.base_url = std::string(url);
  if (starts_with(spec, kAnthropic))
    return std::unique_ptr<ModelBackend>(std::make_unique<AnthropicBackend>(std::move(options)));
  if (starts_with(spec, kChat)) return std::unique_ptr<ModelBackend>(std::make_unique<OpenAiChatBackend>(std::move(options)));
  return std::unique_ptr<ModelBackend>(std::make_unique<OpenAiCompletionsBackend>(std::move(options)));
}

}  // namespace v4rt::agents::backends
