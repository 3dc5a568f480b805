#include "runtime/server/api_request.h"

#include <cmath>
#include <random>
#include <set>
#include <utility>

namespace v4rt::runtime::server {

namespace {

using json = nlohmann::ordered_json;

Status field_error(const std::string& field, const std::string& what) {
  return Status::InvalidArgument(field + ": " + what);
}

Result<json> parse_body(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("the request body is not valid JSON; send a JSON object");
  if (!j.is_object()) return Status::InvalidArgument("the request body must be a JSON object");
  return j;
}

Status check_known(const json& j, const std::set<std::string>& known) {
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!known.count(it.key()))
      return field_error(it.key(), "unknown field (not supported by this server)");
  return Status::Ok();
}

Status get_bool(const json& j, const char* key, bool* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_boolean()) return field_error(key, "must be a boolean");
  *out = it->get<bool>();
  return Status::Ok();
}

Status get_number(const json& j, const char* key, double lo, double hi, double* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_number()) return field_error(key, "must be a number");
  double v = it->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi)
    return field_error(key, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  *out = v;
  return Status::Ok();
}

Status get_int(const json& j, const char* key, long long lo, long long hi, long long* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_number_integer() && !it->is_number_unsigned()) return field_error(key, "must be an integer");
  if (it->is_number_unsigned() && it->get<unsigned long long>() > static_cast<unsigned long long>(hi))
    return field_error(key, "must be at most " + std::to_string(hi));
  long long v = it->get<long long>();
  if (v < lo || v > hi) return field_error(key, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  *out = v;
  return Status::Ok();
}

Status get_string(const json& j, const char* key, std::string* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return field_error(key, "must be a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

// "stop" / "stop_sequences": a string or an array of up to 16 non-empty strings.
Status get_stop(const json& j, const char* key, std::vector<std::string>* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (it->is_string()) {
    if (!it->get<std::string>().empty()) out->push_back(it->get<std::string>());
    return Status::Ok();
  }
  if (!it->is_array() || it->size() > 16) return field_error(key, "must be a string or an array of at most 16 strings");
  for (const json& s : *it) {
    if (!s.is_string()) return field_error(key, "must contain only strings");
    if (!s.get<std::string>().empty()) out->push_back(s.get<std::string>());
  }
  return Status::Ok();
}

Status common_sampling(const json& j, ApiRequest* r) {
  r->sampling.temperature = 1.0;
  V4RT_RETURN_IF_ERROR(get_number(j, "temperature", 0, 2, &r->sampling.temperature));
  V4RT_RETURN_IF_ERROR(get_number(j, "top_p", 0, 1, &r->sampling.top_p));
  if (r->sampling.top_p == 0) r->sampling.top_p = 1e-9;  // "only the most likely token"
  long long top_k = 0;
  V4RT_RETURN_IF_ERROR(get_int(j, "top_k", 0, 1 << 20, &top_k));
  r->sampling.top_k = static_cast<int>(top_k);
  V4RT_RETURN_IF_ERROR(get_number(j, "min_p", 0, 1, &r->sampling.min_p));
  V4RT_RETURN_IF_ERROR(get_number(j, "repetition_penalty", 0.01, 10, &r->sampling.repetition_penalty));
  // No seed: a fresh one per request (a fixed default would make every reply identical).
  long long seed = static_cast<long long>(std::random_device{}() >> 1);
  auto it = j.find("seed");
  if (it != j.end() && !it->is_null()) {
    if (!it->is_number_integer() && !it->is_number_unsigned()) return field_error("seed", "must be an integer");
    seed = it->is_number_unsigned() ? static_cast<long long>(it->get<unsigned long long>()) : it->get<long long>();
  }
  r->sampling.seed = static_cast<uint64_t>(seed);
  return Status::Ok();
}

// OpenAI content: a string, null, or an array of {"type":"text","text":...} parts.
Result<json> text_content(const json& c, const std::string& field) {
  if (c.is_null() || c.is_string()) return c;
  if (!c.is_array()) return field_error(field, "must be a string, null or an array of text parts");
  std::string text;
  for (size_t i = 0; i < c.size(); ++i) {
    const json& p = c[i];
    const std::string pf = field + "[" + std::to_string(i) + "]";
    if (!p.is_object() || !p.contains("type") || !p["type"].is_string())
      return field_error(pf, "must be an object with a \"type\"");
    std::string type = p["type"].get<std::string>();
    if (type != "text" && type != "input_text" && type != "output_text")
      return field_error(pf, "content type \"" + type + "\" is not supported (text only)");
    if (!p.contains("text") || !p["text"].is_string()) return field_error(pf + ".text", "must be a string");
    text += p["text"].get<std::string>();
  }
  return json(text);
}

Result<parsers::ChatOptions> chat_options(bool thinking, const std::string& effort) {
  parsers::ChatOptions o;
  o.thinking_mode = thinking ? parsers::ThinkingMode::kThinking : parsers::ThinkingMode::kChat;
  if (effort == "high") o.reasoning_effort = parsers::ReasoningEffort::kHigh;
  else if (effort == "max" || effort == "xhigh") o.reasoning_effort = parsers::ReasoningEffort::kMax;
  return o;
}

}  // namespace

Result<ApiRequest> parse_openai_chat(std::string_view body, const parsers::ChatEncoder& encoder,
                                     int default_max_tokens) {
  auto j_r = parse_body(body);
  if (!j_r.ok()) return j_r.status();
  json j = std::move(*j_r);
  V4RT_RETURN_IF_ERROR(check_known(
      j, {"model", "messages", "tools", "tool_choice", "stream", "stream_options", "stop", "max_tokens",
          "max_completion_tokens", "temperature", "top_p", "top_k", "min_p", "repetition_penalty", "seed",
          "reasoning_effort", "thinking", "n", "user", "parallel_tool_calls", "presence_penalty",
          "frequency_penalty", "logprobs", "store", "metadata", "response_format", "ignore_eos"}));
  ApiRequest r;
  r.api = Api::kOpenAIChat;
  V4RT_RETURN_IF_ERROR(get_string(j, "model", &r.model));
  V4RT_RETURN_IF_ERROR(get_bool(j, "stream", &r.stream));
  if (auto it = j.find("stream_options"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return field_error("stream_options", "must be an object");
    V4RT_RETURN_IF_ERROR(get_bool(*it, "include_usage", &r.include_usage));
  }
  long long n = 1;
  V4RT_RETURN_IF_ERROR(get_int(j, "n", 1, 1, &n));
  bool logprobs = false;
  V4RT_RETURN_IF_ERROR(get_bool(j, "logprobs", &logprobs));
  if (logprobs) return field_error("logprobs", "is not supported");
  for (const char* k : {"presence_penalty", "frequency_penalty"}) {
    double v = 0;
    V4RT_RETURN_IF_ERROR(get_number(j, k, -2, 2, &v));
  }
  if (auto it = j.find("response_format"); it != j.end() && !it->is_null()) {
    if (!it->is_object() || it->value("type", "") != "text")
      return field_error("response_format", "only {\"type\": \"text\"} is supported");
  }
  long long max_tokens = default_max_tokens;
  V4RT_RETURN_IF_ERROR(get_int(j, "max_tokens", 0, 1 << 20, &max_tokens));
  V4RT_RETURN_IF_ERROR(get_int(j, "max_completion_tokens", 0, 1 << 20, &max_tokens));
  r.max_tokens = static_cast<int>(max_tokens);
  V4RT_RETURN_IF_ERROR(common_sampling(j, &r));
  V4RT_RETURN_IF_ERROR(get_stop(j, "stop", &r.stop));
  V4RT_RETURN_IF_ERROR(get_bool(j, "ignore_eos", &r.ignore_eos));

  std::string effort;
  V4RT_RETURN_IF_ERROR(get_string(j, "reasoning_effort", &effort));
  if (!effort.empty() && effort != "none" && effort != "minimal" && effort != "low" && effort != "medium" &&
      effort != "high" && effort != "max" && effort != "xhigh")
    return field_error("reasoning_effort", "must be one of none, minimal, low, medium, high, max");
  bool thinking = !effort.empty() && effort != "none" && effort != "minimal";
  if (auto it = j.find("thinking"); it != j.end() && !it->is_null()) {
    if (!it->is_object() || !it->contains("type") || !(*it)["type"].is_string())
      return field_error("thinking", "must be {\"type\": \"enabled\"|\"disabled\"}");
    std::string t = (*it)["type"].get<std::string>();
    if (t != "enabled" && t != "disabled") return field_error("thinking.type", "must be \"enabled\" or \"disabled\"");
    thinking = t == "enabled";
  }
  r.thinking = thinking;

  json tools = nullptr;
  if (auto it = j.find("tools"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return field_error("tools", "must be an array of function tools");
    for (size_t i = 0; i < it->size(); ++i) {
      const json& t = (*it)[i];
      if (!t.is_object() || t.value("type", "") != "function" || !t.contains("function") ||
          !t["function"].is_object() || !t["function"].contains("name") || !t["function"]["name"].is_string())
        return field_error("tools[" + std::to_string(i) + "]",
                           "must be {\"type\": \"function\", \"function\": {\"name\": ..., \"parameters\": ...}}");
    }
    if (!it->empty()) tools = *it;
  }
  if (auto it = j.find("tool_choice"); it != j.end() && !it->is_null()) {
    if (it->is_string() && it->get<std::string>() == "none") tools = nullptr;
    else if (!(it->is_string() && it->get<std::string>() == "auto"))
      return field_error("tool_choice", "only \"auto\" and \"none\" are supported (no constrained decoding)");
  }

  auto mit = j.find("messages");
  if (mit == j.end() || !mit->is_array() || mit->empty())
    return field_error("messages", "required: a non-empty array of messages");
  json messages = json::array();
  for (size_t i = 0; i < mit->size(); ++i) {
    const json& m = (*mit)[i];
    const std::string f = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return field_error(f, "must be an object");
    if (!m.contains("role") || !m["role"].is_string()) return field_error(f + ".role", "required string");
    json out = json::object();
    std::string role = m["role"].get<std::string>();
    out["role"] = role == "developer" ? "system" : role;
    json content = m.contains("content") ? m["content"] : json(nullptr);
    auto text_r = text_content(content, f + ".content");
    if (!text_r.ok()) return text_r.status();
    json text = std::move(*text_r);
    if (text.is_null() && role == "assistant") text = "";
    out["content"] = text;
    for (const char* k : {"reasoning_content", "tool_calls", "tool_call_id"})
      if (m.contains(k) && !m[k].is_null()) out[k] = m[k];
    messages.push_back(std::move(out));
  }
  auto options_r = chat_options(thinking, effort);
  if (!options_r.ok()) return options_r.status();
  parsers::ChatOptions options = std::move(*options_r);
  json req = json::object();
  req["messages"] = messages;
  req["tools"] = tools;
  req["options"] = {{"thinking_mode", thinking ? "thinking" : "chat"},
                    {"reasoning_effort", options.reasoning_effort == parsers::ReasoningEffort::kHigh  ? json("high")
                                         : options.reasoning_effort == parsers::ReasoningEffort::kMax ? json("max")
                                                                                                      : json(nullptr)}};
  auto rendered = encoder.render_request_prompt(req);
  if (!rendered.ok()) return Status::InvalidArgument("messages: " + rendered.status().message());
  r.prompt = std::move(*rendered);
  return r;
}

Result<ApiRequest> parse_openai_completion(std::string_view body, int default_max_tokens) {
  auto j_r = parse_body(body);
  if (!j_r.ok()) return j_r.status();
  json j = std::move(*j_r);
  V4RT_RETURN_IF_ERROR(check_known(j, {"model", "prompt", "stream", "stream_options", "stop", "max_tokens",
                                       "temperature", "top_p", "top_k", "min_p", "repetition_penalty", "seed", "n",
                                       "user", "presence_penalty", "frequency_penalty", "echo", "logprobs", "ignore_eos",
                                       "skip_special_tokens"}));
  // vLLM/SGLang's extension. The text always keeps special tokens (EOS,
  // DSML markers): a client that renders with its own encoder needs them
  // to parse tool calls; so false is what this server does, true is refused.
  bool skip_special = false;
  V4RT_RETURN_IF_ERROR(get_bool(j, "skip_special_tokens", &skip_special));
  if (skip_special)
    return field_error("skip_special_tokens", "only false is supported: the completion text keeps special tokens");
  ApiRequest r;
  r.api = Api::kOpenAICompletion;
  r.chat = false;
  V4RT_RETURN_IF_ERROR(get_string(j, "model", &r.model));
  V4RT_RETURN_IF_ERROR(get_bool(j, "stream", &r.stream));
  if (auto it = j.find("stream_options"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return field_error("stream_options", "must be an object");
    V4RT_RETURN_IF_ERROR(get_bool(*it, "include_usage", &r.include_usage));
  }
  long long n = 1;
  V4RT_RETURN_IF_ERROR(get_int(j, "n", 1, 1, &n));
  bool echo = false;
  V4RT_RETURN_IF_ERROR(get_bool(j, "echo", &echo));
  if (echo) return field_error("echo", "is not supported");
  if (auto it = j.find("logprobs"); it != j.end() && !it->is_null()) return field_error("logprobs", "is not supported");
  long long max_tokens = default_max_tokens;
  V4RT_RETURN_IF_ERROR(get_int(j, "max_tokens", 0, 1 << 20, &max_tokens));
  r.max_tokens = static_cast<int>(max_tokens);
  V4RT_RETURN_IF_ERROR(common_sampling(j, &r));
  V4RT_RETURN_IF_ERROR(get_stop(j, "stop", &r.stop));
  V4RT_RETURN_IF_ERROR(get_bool(j, "ignore_eos", &r.ignore_eos));
  auto it = j.find("prompt");
  if (it == j.end()) return field_error("prompt", "required: the prompt text");
  if (it->is_array() && it->size() == 1 && (*it)[0].is_string()) {
    r.raw_prompt = (*it)[0].get<std::string>();
  } else if (it->is_string()) {
    r.raw_prompt = it->get<std::string>();
  } else {
    return field_error("prompt", "must be a string (or an array of one string)");
  }
  if (r.raw_prompt.empty()) return field_error("prompt", "must not be empty");
  return r;
}

namespace {

// Anthropic content (string or blocks) of one message -> encoder messages appended to `out`.
Status anthropic_message(const json& m, const std::string& f, json* out) {
  if (!m.is_object()) return field_error(f, "must be an object");
  if (!m.contains("role") || !m["role"].is_string()) return field_error(f + ".role", "required string");
  std::string role = m["role"].get<std::string>();
  if (role != "user" && role != "assistant") return field_error(f + ".role", "must be \"user\" or \"assistant\"");
  if (!m.contains("content")) return field_error(f + ".content", "required");
  const json& c = m["content"];
  if (c.is_string()) {
    out->push_back({{"role", role}, {"content", c}});
    return Status::Ok();
  }
  if (!c.is_array()) return field_error(f + ".content", "must be a string or an array of content blocks");
  std::string text, reasoning;
  json tool_calls = json::array();
  for (size_t i = 0; i < c.size(); ++i) {
    const json& b = c[i];
    const std::string bf = f + ".content[" + std::to_string(i) + "]";
    if (!b.is_object() || !b.contains("type") || !b["type"].is_string())
      return field_error(bf, "must be an object with a \"type\"");
    std::string type = b["type"].get<std::string>();
    if (type == "text") {
      if (!b.contains("text") || !b["text"].is_string()) return field_error(bf + ".text", "must be a string");
      text += b["text"].get<std::string>();
    } else if (type == "thinking" && role == "assistant") {
      if (!b.contains("thinking") || !b["thinking"].is_string())
        return field_error(bf + ".thinking", "must be a string");
      reasoning += b["thinking"].get<std::string>();
    } else if (type == "redacted_thinking" && role == "assistant") {
      // nothing to render: this server never redacts
    } else if (type == "tool_use" && role == "assistant") {
      if (!b.contains("id") || !b["id"].is_string()) return field_error(bf + ".id", "must be a string");
      if (!b.contains("name") || !b["name"].is_string()) return field_error(bf + ".name", "must be a string");
      if (!b.contains("input") || !b["input"].is_object()) return field_error(bf + ".input", "must be an object");
      tool_calls.push_back({{"id", b["id"]},
                            {"type", "function"},
                            {"function", {{"name", b["name"]}, {"arguments", b["input"].dump()}}}});
    } else if (type == "tool_result" && role == "user") {
      if (!b.contains("tool_use_id") || !b["tool_use_id"].is_string())
        return field_error(bf + ".tool_use_id", "must be a string");
      std::string result;
      if (b.contains("content")) {
        const json& rc = b["content"];
        if (rc.is_string()) {
          result = rc.get<std::string>();
        } else if (rc.is_array()) {
          for (size_t k = 0; k < rc.size(); ++k) {
            if (!rc[k].is_object() || rc[k].value("type", "") != "text" || !rc[k].contains("text") ||
                !rc[k]["text"].is_string())
              return field_error(bf + ".content[" + std::to_string(k) + "]", "only text blocks are supported");
            result += rc[k]["text"].get<std::string>();
          }
        } else if (!rc.is_null()) {
          return field_error(bf + ".content", "must be a string or an array of text blocks");
        }
      }
      if (b.value("is_error", false)) result = "Error: " + result;
      out->push_back({{"role", "tool"}, {"tool_call_id", b["tool_use_id"]}, {"content", result}});
    } else {
      return field_error(bf + ".type", "block type \"" + type + "\" is not supported in a " + role + " message");
    }
  }
  if (role == "assistant") {
    json a = {{"role", "assistant"}, {"content", text}};
    if (!reasoning.empty()) a["reasoning_content"] = reasoning;
    if (!tool_calls.empty()) a["tool_calls"] = tool_calls;
    out->push_back(std::move(a));
  } else if (!text.empty() || out->empty() || out->back()["role"] != "tool") {
    out->push_back({{"role", "user"}, {"content", text}});
  }
  return Status::Ok();
}

Result<ApiRequest> anthropic_common(std::string_view body, const parsers::ChatEncoder& encoder, bool count_only) {
  auto j_r = parse_body(body);
  if (!j_r.ok()) return j_r.status();
  json j = std::move(*j_r);
  V4RT_RETURN_IF_ERROR(check_known(j, {"model", "messages", "system", "tools", "tool_choice", "stream", "max_tokens",
                                       "stop_sequences", "temperature", "top_p", "top_k", "thinking", "metadata",
                                       "service_tier", "container", "mcp_servers", "context_management"}));
  for (const char* k : {"container", "mcp_servers"})
    if (j.contains(k) && !j[k].is_null()) return field_error(k, "is not supported");
  ApiRequest r;
  r.api = Api::kAnthropicMessages;
  V4RT_RETURN_IF_ERROR(get_string(j, "model", &r.model));
  V4RT_RETURN_IF_ERROR(get_bool(j, "stream", &r.stream));
  long long max_tokens = -1;
  V4RT_RETURN_IF_ERROR(get_int(j, "max_tokens", 1, 1 << 20, &max_tokens));
  if (max_tokens < 0 && !count_only) return field_error("max_tokens", "required: a positive integer");
  r.max_tokens = static_cast<int>(max_tokens);
  V4RT_RETURN_IF_ERROR(common_sampling(j, &r));
  V4RT_RETURN_IF_ERROR(get_stop(j, "stop_sequences", &r.stop));
  bool thinking = false;
  if (auto it = j.find("thinking"); it != j.end() && !it->is_null()) {
    if (!it->is_object() || !it->contains("type") || !(*it)["type"].is_string())
      return field_error("thinking", "must be {\"type\": \"enabled\", \"budget_tokens\": N} or {\"type\": \"disabled\"}");
    std::string t = (*it)["type"].get<std::string>();
    if (t != "enabled" && t != "disabled" && t != "adaptive")
      return field_error("thinking.type", "must be \"enabled\", \"adaptive\" or \"disabled\"");
    thinking = t != "disabled";
  }
  r.thinking = thinking;
  json messages = json::array();
  if (auto it = j.find("system"); it != j.end() && !it->is_null()) {
    auto sys_r = text_content(*it, "system");
    if (!sys_r.ok()) return sys_r.status();
    json sys = std::move(*sys_r);
    if (!sys.get<std::string>().empty()) messages.push_back({{"role", "system"}, {"content", sys}});
  }
  json tools = nullptr;
  if (auto it = j.find("tools"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return field_error("tools", "must be an array");
    json list = json::array();
    for (size_t i = 0; i < it->size(); ++i) {
      const json& t = (*it)[i];
      const std::string f = "tools[" + std::to_string(i) + "]";
      if (!t.is_object() || !t.contains("name") || !t["name"].is_string())
        return field_error(f, "must be {\"name\": ..., \"input_schema\": {...}}");
      if (t.contains("type") && t["type"].is_string() && t["type"] != "custom")
        return field_error(f + ".type", "server tools are not supported (custom tools only)");
      json fn = {{"name", t["name"]}};
      if (t.contains("description") && t["description"].is_string()) fn["description"] = t["description"];
      fn["parameters"] = t.contains("input_schema") ? t["input_schema"] : json::object();
      list.push_back({{"type", "function"}, {"function", fn}});
    }
    if (!list.empty()) tools = list;
  }
  if (auto it = j.find("tool_choice"); it != j.end() && !it->is_null()) {
    std::string type = it->is_object() ? it->value("type", "") : "";
    if (type == "none") tools = nullptr;
    else if (type != "auto")
      return field_error("tool_choice", "only {\"type\": \"auto\"} and {\"type\": \"none\"} are supported");
  }
  auto mit = j.find("messages");
  if (mit == j.end() || !mit->is_array() || mit->empty())
    return field_error("messages", "required: a non-empty array of messages");
  for (size_t i = 0; i < mit->size(); ++i)
    V4RT_RETURN_IF_ERROR(anthropic_message((*mit)[i], "messages[" + std::to_string(i) + "]", &messages));
  json req = json::object();
  req["messages"] = messages;
  req["tools"] = tools;
  req["options"] = {{"thinking_mode", thinking ? "thinking" : "chat"}, {"reasoning_effort", nullptr}};
  auto rendered = encoder.render_request_prompt(req);
  if (!rendered.ok()) return Status::InvalidArgument("messages: " + rendered.status().message());
  r.prompt = std::move(*rendered);
  return r;
}

}  // namespace

Result<ApiRequest> parse_anthropic_messages(std::string_view body, const parsers::ChatEncoder& encoder) {
  return anthropic_common(body, encoder, false);
}

Result<ApiRequest> parse_anthropic_count_tokens(std::string_view body, const parsers::ChatEncoder& encoder) {
  return anthropic_common(body, encoder, true);
}

}  // namespace v4rt::runtime::server
