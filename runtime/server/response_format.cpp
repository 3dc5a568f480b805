#include "runtime/server/response_format.h"

#include <utility>
#include <vector>

#include "parsers/special_tokens.h"
#include "parsers/tool_call.h"

namespace v4rt::runtime::server {

namespace {

using json = nlohmann::ordered_json;
using parsers::DsmlEvent;

std::string sse_data(const json& j) { return "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n"; }
std::string sse_event(const char* name, const json& j) {
  return std::string("event: ") + name + "\n" + sse_data(j);
}

std::string json_string_body(std::string_view s) {
  std::string q = parsers::python_json_string(s);
  return q.substr(1, q.size() - 2);
}

// Feeds generated text into a DsmlStream and remembers the outcome; shared by
// the two chat formatters.
class ChatParse {
 public:
  explicit ChatParse(bool thinking) : stream_(parsers::DsmlOptions{.thinking = thinking, .strict = false}) {}
  std::vector<DsmlEvent> feed(std::string_view piece) {
    std::vector<DsmlEvent> ev;
    stream_.feed(piece, ev);
    return ev;
  }
  std::vector<DsmlEvent> finish(const GenerateResult& r) {
    std::vector<DsmlEvent> ev;
    // The engine leaves EOS out of the text; the grammar ends a turn with it.
    if (r.stop_reason == StopReason::kEos) stream_.feed(parsers::tokens::kEos, ev);
    stream_.finish(ev);
    result_ = stream_.result();
    if (const parsers::ParseError* e = stream_.error()) error_ = e->to_status().message();
    return ev;
  }
  const parsers::ParsedMessage& result() const { return result_; }
  const std::string& error() const { return error_; }

 private:
  parsers::DsmlStream stream_;
  parsers::ParsedMessage result_;
  std::string error_;
};

const char* openai_finish(StopReason r, bool tool_calls) {
  if (r == StopReason::kMaxTokens) return "length";
  if (tool_calls) return "tool_calls";
  return "stop";
}

json openai_usage(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
}

class OpenAIChat : public ResponseFormatter {
 public:
  OpenAIChat(const ApiRequest& r, std::string model, std::string id, int64_t created)
      : req_(r), model_(std::move(model)), id_(std::move(id)), created_(created), parse_(r.thinking) {}

  std::string start() override { return chunk({{"role", "assistant"}, {"content", ""}}, nullptr); }

  std::string feed(std::string_view piece) override { return frames(parse_.feed(piece)); }

  std::string finish(const GenerateResult& r) override {
    std::string out = frames(parse_.finish(r));
    result_ = r;
    usage_ = usage_of(r.stats);
    const bool calls = !parse_.result().tool_calls.empty();
    if (!req_.stream) return "";
    out += chunk(json::object(), openai_finish(r.stop_reason, calls));
    if (req_.include_usage) {
      json u = base();
      u["choices"] = json::array();
      u["usage"] = openai_usage(usage_);
      out += sse_data(u);
    }
    out += "data: [DONE]\n\n";
    return out;
  }

  json body() const override {
    const parsers::ParsedMessage& m = parse_.result();
    json msg = {{"role", "assistant"}, {"content", m.content}};
    if (!m.reasoning_content.empty()) msg["reasoning_content"] = m.reasoning_content;
    if (!m.tool_calls.empty()) {
      json calls = json::array();
      for (size_t i = 0; i < m.tool_calls.size(); ++i)
        calls.push_back({{"id", call_id(static_cast<int>(i))},
                         {"type", "function"},
                         {"function", {{"name", m.tool_calls[i].name}, {"arguments", m.tool_calls[i].arguments}}}});
      msg["tool_calls"] = calls;
    }
    json b = base();
    b["object"] = "chat.completion";
    b["choices"] = json::array({{{"index", 0},
                                 {"message", msg},
                                 {"finish_reason", openai_finish(result_.stop_reason, !m.tool_calls.empty())}}});
    b["usage"] = openai_usage(usage_);
    return b;
  }

  std::string parse_error() const override { return parse_.error(); }

 private:
  json base() const {
    return {{"id", id_}, {"object", "chat.completion.chunk"}, {"created", created_}, {"model", model_}};
  }
  std::string call_id(int index) const { return "call_" + id_.substr(id_.find('-') + 1) + "_" + std::to_string(index); }
  std::string chunk(json delta, json finish) {
    if (!req_.stream) return "";
    json c = base();
    c["choices"] = json::array({{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", std::move(finish)}}});
    return sse_data(c);
  }
  std::string frames(const std::vector<DsmlEvent>& events) {
    std::string out;
    for (const DsmlEvent& e : events) {
      switch (e.kind) {
        case DsmlEvent::Kind::kText:
          out += chunk({{"content", e.text}}, nullptr);
          break;
        case DsmlEvent::Kind::kReasoning:
          out += chunk({{"reasoning_content", e.text}}, nullptr);
          break;
        case DsmlEvent::Kind::kToolCallStart:
          args_ = ArgumentsStreamer();
          out += chunk({{"tool_calls", json::array({{{"index", e.call_index},
                                                     {"id", call_id(e.call_index)},
                                                     {"type", "function"},
                                                     {"function", {{"name", e.text}, {"arguments", ""}}}}})}},
                       nullptr);
          break;
        case DsmlEvent::Kind::kToolArgDelta:
          out += arg_chunk(e.call_index, args_.on_delta(e));
          break;
        case DsmlEvent::Kind::kToolCallEnd:
          out += arg_chunk(e.call_index, args_.on_end(e.call));
          break;
        case DsmlEvent::Kind::kError:
          break;  // reported by parse_error(); the text so far stands
      }
    }
    return out;
  }
  std::string arg_chunk(int index, const std::string& text) {
    if (text.empty()) return "";
    return chunk({{"tool_calls", json::array({{{"index", index}, {"function", {{"arguments", text}}}}})}}, nullptr);
  }

  ApiRequest req_;
  std::string model_, id_;
  int64_t created_;
  ChatParse parse_;
  ArgumentsStreamer args_;
  GenerateResult result_;
  Usage usage_;
};

class OpenAICompletion : public ResponseFormatter {
 public:
  OpenAICompletion(const ApiRequest& r, std::string model, std::string id, int64_t created)
      : req_(r), model_(std::move(model)), id_(std::move(id)), created_(created) {}
  std::string start() override { return ""; }
  std::string feed(std::string_view piece) override {
    text_ += piece;
    return chunk(std::string(piece), nullptr);
  }
  std::string finish(const GenerateResult& r) override {
    result_ = r;
    usage_ = usage_of(r.stats);
    if (!req_.stream) return "";
    std::string out = chunk("", openai_finish(r.stop_reason, false));
    if (req_.include_usage) {
      json u = base();
      u["choices"] = json::array();
      u["usage"] = openai_usage(usage_);
      out += sse_data(u);
    }
    return out + "data: [DONE]\n\n";
  }
  json body() const override {
    json b = base();
    b["choices"] = json::array({{{"index", 0},
                                 {"text", text_},
                                 {"logprobs", nullptr},
                                 {"finish_reason", openai_finish(result_.stop_reason, false)}}});
    b["usage"] = openai_usage(usage_);
    return b;
  }

 private:
  json base() const { return {{"id", id_}, {"object", "text_completion"}, {"created", created_}, {"model", model_}}; }
  std::string chunk(std::string text, json finish) {
    if (!req_.stream) return "";
    json c = base();
    c["choices"] = json::array(
        {{{"index", 0}, {"text", std::move(text)}, {"logprobs", nullptr}, {"finish_reason", std::move(finish)}}});
    return sse_data(c);
  }
  ApiRequest req_;
  std::string model_, id_;
  int64_t created_;
  std::string text_;
  GenerateResult result_;
  Usage usage_;
};

// Anthropic Messages: content blocks (thinking, text, tool_use) and the
// documented event sequence message_start, (content_block_start,
// content_block_delta*, content_block_stop)*, message_delta, message_stop.
class AnthropicMessages : public ResponseFormatter {
 public:
  AnthropicMessages(const ApiRequest& r, std::string model, std::string id, int64_t prompt_tokens)
      : req_(r), model_(std::move(model)), id_(std::move(id)), prompt_tokens_(prompt_tokens), parse_(r.thinking) {}

  std::string start() override {
    if (!req_.stream) return "";
    json msg = {{"id", id_},           {"type", "message"},         {"role", "assistant"},
                {"content", json::array()}, {"model", model_},     {"stop_reason", nullptr},
                {"stop_sequence", nullptr},
                {"usage", {{"input_tokens", prompt_tokens_}, {"output_tokens", 0}}}};
    return sse_event("message_start", {{"type", "message_start"}, {"message", msg}});
  }

  std::string feed(std::string_view piece) override { return frames(parse_.feed(piece)); }

  std::string finish(const GenerateResult& r) override {
    std::string out = frames(parse_.finish(r));
    result_ = r;
    usage_ = usage_of(r.stats);
    if (!req_.stream) return "";
    out += close_block();
    json delta = {{"stop_reason", stop_reason()}, {"stop_sequence", nullptr}};
    out += sse_event("message_delta", {{"type", "message_delta"}, {"delta", delta}, {"usage", usage_json()}});
    out += sse_event("message_stop", {{"type", "message_stop"}});
    return out;
  }

  json body() const override {
    const parsers::ParsedMessage& m = parse_.result();
    json content = json::array();
    if (!m.reasoning_content.empty())
      content.push_back({{"type", "thinking"}, {"thinking", m.reasoning_content}, {"signature", ""}});
    if (!m.content.empty()) content.push_back({{"type", "text"}, {"text", m.content}});
    for (size_t i = 0; i < m.tool_calls.size(); ++i)
      content.push_back({{"type", "tool_use"},
                         {"id", tool_id(static_cast<int>(i))},
                         {"name", m.tool_calls[i].name},
                         {"input", parsers::typed_arguments(m.tool_calls[i]).object}});
    return {{"id", id_},         {"type", "message"},         {"role", "assistant"},
            {"content", content}, {"model", model_},         {"stop_reason", stop_reason()},
            {"stop_sequence", nullptr}, {"usage", usage_json()}};
  }

  std::string parse_error() const override { return parse_.error(); }

 private:
  enum class Block { kNone, kThinking, kText, kTool };

  std::string tool_id(int index) const { return "toolu_" + id_.substr(id_.find('_') + 1) + "_" + std::to_string(index); }
  const char* stop_reason() const {
    if (result_.stop_reason == StopReason::kMaxTokens) return "max_tokens";
    if (result_.stop_reason == StopReason::kStopString) return "stop_sequence";
    if (!parse_.result().tool_calls.empty()) return "tool_use";
    return "end_turn";
  }
  json usage_json() const {
    // input_tokens counts what was not read from the cache, as Anthropic's API does.
    return {{"input_tokens", usage_.prompt_tokens - usage_.cached_tokens},
            {"output_tokens", usage_.completion_tokens},
            {"cache_read_input_tokens", usage_.cached_tokens},
            {"cache_creation_input_tokens", 0}};
  }
  std::string close_block() {
    if (block_ == Block::kNone) return "";
    std::string out;
    if (block_ == Block::kThinking)
      out += sse_event("content_block_delta", {{"type", "content_block_delta"},
                                               {"index", index_},
                                               {"delta", {{"type", "signature_delta"}, {"signature", ""}}}});
    out += sse_event("content_block_stop", {{"type", "content_block_stop"}, {"index", index_}});
    block_ = Block::kNone;
    ++index_;
    return out;
  }
  std::string open_block(Block b, json block) {
    std::string out = close_block();
    block_ = b;
    return out + sse_event("content_block_start",
                           {{"type", "content_block_start"}, {"index", index_}, {"content_block", std::move(block)}});
  }
  std::string delta(json d) {
    return sse_event("content_block_delta", {{"type", "content_block_delta"}, {"index", index_}, {"delta", std::move(d)}});
  }
  std::string frames(const std::vector<DsmlEvent>& events) {
    if (!req_.stream) return "";
    std::string out;
    for (const DsmlEvent& e : events) {
      switch (e.kind) {
        case DsmlEvent::Kind::kText:
          if (block_ != Block::kText) out += open_block(Block::kText, {{"type", "text"}, {"text", ""}});
          out += delta({{"type", "text_delta"}, {"text", e.text}});
          break;
        case DsmlEvent::Kind::kReasoning:
          if (block_ != Block::kThinking)
            out += open_block(Block::kThinking, {{"type", "thinking"}, {"thinking", ""}, {"signature", ""}});
          out += delta({{"type", "thinking_delta"}, {"thinking", e.text}});
          break;
        case DsmlEvent::Kind::kToolCallStart:
          args_ = ArgumentsStreamer();
          out += open_block(Block::kTool, {{"type", "tool_use"},
                                          {"id", tool_id(e.call_index)},
                                          {"name", e.text},
                                          {"input", json::object()}});
          break;
        case DsmlEvent::Kind::kToolArgDelta:
        case DsmlEvent::Kind::kToolCallEnd: {
          std::string t = e.kind == DsmlEvent::Kind::kToolArgDelta ? args_.on_delta(e) : args_.on_end(e.call);
          if (!t.empty()) out += delta({{"type", "input_json_delta"}, {"partial_json", t}});
          if (e.kind == DsmlEvent::Kind::kToolCallEnd) out += close_block();
          break;
        }
        case DsmlEvent::Kind::kError:
          break;
      }
    }
    return out;
  }

  ApiRequest req_;
  std::string model_, id_;
  int64_t prompt_tokens_;
  ChatParse parse_;
  ArgumentsStreamer args_;
  GenerateResult result_;
  Usage usage_;
  Block block_ = Block::kNone;
  int index_ = 0;
};

}  // namespace

Usage usage_of(const GenerateStats& s) { return {s.prompt_tokens, s.generated_tokens, s.reused_tokens}; }

std::string ArgumentsStreamer::on_delta(const DsmlEvent& e) {
  if (held_) return "";
  std::string out;
  if (e.param_index != param_) {
    if (e.param_index != param_ + 1) {  // a parameter with an empty value sent no delta
      held_ = true;
      return "";
    }
    if (param_ >= 0 && param_is_string_) out += '"';
    out += param_ < 0 ? "{" : ", ";
    out += parsers::python_json_string(e.param) + ": ";
    param_ = e.param_index;
    param_is_string_ = e.param_is_string;
    if (param_is_string_) out += '"';
  }
  out += param_is_string_ ? json_string_body(e.text) : e.text;
  emitted_ += out;
  return out;
}

std::string ArgumentsStreamer::on_end(const parsers::ToolCall& call) {
  if (call.arguments.compare(0, emitted_.size(), emitted_) != 0) return "";  // cannot happen; see header
  std::string rest = call.arguments.substr(emitted_.size());
  emitted_ = call.arguments;
  return rest;
}

std::unique_ptr<ResponseFormatter> make_formatter(const ApiRequest& request, const std::string& model_name,
                                                  const std::string& id, int64_t created, int64_t prompt_tokens) {
  switch (request.api) {
    case Api::kOpenAIChat: return std::make_unique<OpenAIChat>(request, model_name, id, created);
    case Api::kOpenAICompletion: return std::make_unique<OpenAICompletion>(request, model_name, id, created);
    case Api::kAnthropicMessages: return std::make_unique<AnthropicMessages>(request, model_name, id, prompt_tokens);
  }
  return nullptr;
}

}  // namespace v4rt::runtime::server
