// The remote backends by spec: "openai-completions:URL", "openai-chat:URL" or
// "anthropic:URL"
// (agents/backends/*_backend.h). The CLI fills RemoteOptions (the key from
// the environment) and calls make_remote_backend. Stateless.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "agents/backends/remote_common.h"
#include "agents/model_backend.h"

namespace v4rt::agents::backends {

// True for a spec this factory builds ("openai-completions:", "openai-chat:", "anthropic:").
bool is_remote_spec(std::string_view spec);

// The environment variable the key is read from unless --api-key-env names
// another: DEEPSEEK_API_KEY for a deepseek.com URL, else ANTHROPIC_API_KEY
// for anthropic:, else OPENAI_API_KEY.
std::string default_api_key_env(std::string_view spec);

// InvalidArgument naming the spec for an unknown kind or a URL that is not http(s).
// options.base_url is taken from the spec.
Result<std::unique_ptr<ModelBackend>> make_remote_backend(std::string_view spec, RemoteOptions options);

}  // namespace v4rt::agents::backends
