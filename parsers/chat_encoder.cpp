// ChatEncoder (see chat_encoder.h). The steps mirror the reference
// encode_messages() in order, because each one changes what the next sees:
//   1. per message: list content -> content blocks + joined text;
//   2. tool messages -> tool_result blocks of user turns; consecutive user
//      messages fuse into one turn;
//   3. tool results re-ordered to the call order of the latest assistant
//      message with tool calls;
//   4. BOS, the drop-thinking decision and the drop itself;
//   5. each new message rendered with its transition suffix.
// We work on copies of the caller's JSON and mutate them as the reference
// mutates its dicts, so the correspondence stays line-by-line checkable.
#include "parsers/chat_encoder.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "parsers/chat_templates.h"
#include "parsers/py_json.h"
#include "parsers/special_tokens.h"

namespace v4rt::parsers {
namespace {

using json = nlohmann::ordered_json;
namespace tok = tokens;

constexpr std::string_view kImagePlaceholder = "<\uFF5Cdeepseek_image\uFF5C>";

Status error(std::string_view category, std::string_view message) {
  return Status::InvalidArgument(std::string(category) + ": " + std::string(message));
}

// A message being prepared, with where it came from for error messages.
struct Item {
  json msg;            // always an object
  std::string origin;  // "messages[3]" or "context[0]"
};

const json* get(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

// Python truthiness of a JSON value (absent counts as None).
bool truthy(const json* v) {
  if (v == nullptr) return false;
  switch (v->type()) {
    case json::value_t::null:
    case json::value_t::discarded:
      return false;
    case json::value_t::boolean:
      return v->get<bool>();
    case json::value_t::number_integer:
      return v->get<int64_t>() != 0;
    case json::value_t::number_unsigned:
      return v->get<uint64_t>() != 0;
    case json::value_t::number_float:
      return v->get<double>() != 0.0;
    case json::value_t::string:
      return !v->get_ref<const std::string&>().empty();
    case json::value_t::array:
    case json::value_t::object:
    case json::value_t::binary:
      return !v->empty();
  }
  return false;
}

bool is_null(const json* v) { return v == nullptr || v->is_null(); }

bool equals(const json* v, std::string_view s) { return v != nullptr && v->is_string() && v->get_ref<const std::string&>() == s; }

bool role_is(const json& msg, std::string_view role) { return equals(get(msg, "role"), role); }

std::string role_text(const json& msg) {
  const json* r = get(msg, "role");
  if (r == nullptr || r->is_null()) return "None";
  if (r->is_string()) return r->get<std::string>();
  return std::string("a JSON ") + r->type_name();
}

std::string describe(const Item& item) { return item.origin + " (role " + role_text(item.msg) + ")"; }

// `value or ""` for a text field: falsy -> "", a non-empty string -> itself;
// anything else would be printed as a Python repr by the reference.
Result<std::string> text_or_empty(const Item& item, const char* field) {
  const json* v = get(item.msg, field);
  if (!truthy(v)) return std::string();
  if (!v->is_string()) {
    return error("invalid_message", describe(item) + ": \"" + field + "\" is a JSON " + v->type_name() +
                                        "; give a string (or null)");
  }
  return v->get<std::string>();
}

Status check_no_placeholder(const Item& item, const json* v, std::string_view field) {
  if (v != nullptr && v->is_string() && v->get_ref<const std::string&>().find(kImagePlaceholder) != std::string::npos) {
    return error("unsupported_content", describe(item) + ": \"" + std::string(field) +
                                            "\" contains the image placeholder token; v4rt renders text only");
  }
  return Status::Ok();
}

// Step 1 on one list of blocks (recursing into tool_result content lists):
// image blocks are not supported; text may not contain the image token.
Status check_blocks(const Item& item, const json& blocks) {
  for (const json& block : blocks) {
    if (!block.is_object()) continue;
    const json* type = get(block, "type");
    if (equals(type, "image") || equals(type, "image_url")) {
      return error("unsupported_content", describe(item) + ": image content blocks are not supported; send text");
    }
    if (equals(type, "tool_result")) {
      const json* content = get(block, "content");
      if (content != nullptr && content->is_array()) V4RT_RETURN_IF_ERROR(check_blocks(item, *content));
    } else if (equals(type, "text")) {
      V4RT_RETURN_IF_ERROR(check_no_placeholder(item, get(block, "text"), "text"));
    }
  }
  return Status::Ok();
}

// Step 1 (reference process_image_messages, text only).
Status flatten_content(Item& item) {
  json& msg = item.msg;
  V4RT_RETURN_IF_ERROR(check_no_placeholder(item, get(msg, "content"), "content"));
  V4RT_RETURN_IF_ERROR(check_no_placeholder(item, get(msg, "reasoning_content"), "reasoning_content"));
  const json* given = get(msg, "content_blocks");
  if (given != nullptr && !given->is_null() && !given->is_array()) {
    return error("invalid_message", describe(item) + ": \"content_blocks\" must be a list of blocks");
  }
  const json* content = get(msg, "content");
  if (content != nullptr && content->is_array() && given == nullptr) {
    json blocks = *content;
    msg.erase("content");
    msg["content_blocks"] = std::move(blocks);
  }
  const json* blocks = get(msg, "content_blocks");
  if (!truthy(blocks)) return Status::Ok();
  V4RT_RETURN_IF_ERROR(check_blocks(item, *blocks));
  content = get(msg, "content");
  if (content != nullptr && content->is_string()) return Status::Ok();
  std::string joined;
  bool first = true;
  for (const json& block : *blocks) {
    if (!block.is_object() || !equals(get(block, "type"), "text")) continue;
    const json* text = get(block, "text");
    if (text != nullptr && !text->is_string()) {
      return error("invalid_message", describe(item) + ": a text block's \"text\" must be a string");
    }
    if (!first) joined += "\n\n";
    first = false;
    if (text != nullptr) joined += text->get_ref<const std::string&>();
  }
  msg["content"] = std::move(joined);
  return Status::Ok();
}

// Step 2 (reference merge_tool_messages).
Result<std::vector<Item>> merge_tool_messages(std::vector<Item> items) {
  std::vector<Item> merged;
  auto previous_is_user_turn = [&merged]() {
    return !merged.empty() && role_is(merged.back().msg, "user") && merged.back().msg.contains("content_blocks");
  };
  for (Item& item : items) {
    json& msg = item.msg;
    if (role_is(msg, "tool")) {
      json block = json::object();
      block["type"] = "tool_result";
      const json* id = get(msg, "tool_call_id");
      block["tool_use_id"] = id != nullptr ? *id : json("");
      const json* content = get(msg, "content");
      block["content"] = content != nullptr ? *content : json("");
      if (previous_is_user_turn()) {
        merged.back().msg["content_blocks"].push_back(std::move(block));
      } else {
        json turn = json::object();
        turn["role"] = "user";
        turn["content_blocks"] = json::array({std::move(block)});
        merged.push_back(Item{std::move(turn), item.origin});
      }
    } else if (role_is(msg, "user")) {
      json blocks;
      const json* given = get(msg, "content_blocks");
      if (is_null(given)) {
        const json* content = get(msg, "content");
        if (content != nullptr && content->is_array()) {
          return error("invalid_message", describe(item) + ": list content together with a null \"content_blocks\"");
        }
        json block = json::object();
        block["type"] = "text";
        block["text"] = content != nullptr ? *content : json("");
        blocks = json::array({std::move(block)});
      } else {
        blocks = *given;
      }
      if (previous_is_user_turn() && is_null(get(merged.back().msg, "task"))) {
        json& target = merged.back().msg["content_blocks"];
        for (json& b : blocks) target.push_back(std::move(b));
      } else {
        msg["content_blocks"] = std::move(blocks);
        merged.push_back(std::move(item));
      }
    } else {
      merged.push_back(std::move(item));
    }
  }
  return merged;
}

// A hashable key for a tool-call id, as a Python dict would use it.
Result<std::string> id_key(const Item& item, const json& id) {
  if (id.is_string()) return std::string("s") + id.get<std::string>();
  if (id.is_array() || id.is_object()) {
    return error("invalid_message", describe(item) + ": a tool call id must be a string");
  }
  return std::string("j") + id.dump();
}

// Step 3 (reference sort_tool_results_by_call_order).
Status sort_tool_results(std::vector<Item>& items) {
  std::map<std::string, size_t> order;
  for (Item& item : items) {
    json& msg = item.msg;
    const json* tool_calls = get(msg, "tool_calls");
    if (role_is(msg, "assistant") && truthy(tool_calls)) {
      if (!tool_calls->is_array()) {
        return error("invalid_message", describe(item) + ": \"tool_calls\" must be a list");
      }
      order.clear();
      for (size_t idx = 0; idx < tool_calls->size(); ++idx) {
        const json& tc = (*tool_calls)[idx];
        if (!tc.is_object()) return error("invalid_message", describe(item) + ": each tool call must be an object");
        const json* id = get(tc, "id");
        if (!truthy(id)) {
          const json* fn = get(tc, "function");
          if (fn != nullptr && !fn->is_object()) {
            return error("invalid_message", describe(item) + ": a tool call's \"function\" must be an object");
          }
          id = fn != nullptr ? get(*fn, "id") : nullptr;
        }
        if (truthy(id)) {
          auto key = id_key(item, *id);
          if (!key) return key.status();
          order[*key] = idx;
        }
      }
    } else if (role_is(msg, "user") && truthy(get(msg, "content_blocks"))) {
      json& blocks = msg["content_blocks"];
      std::vector<std::pair<size_t, json>> results;  // (sort key, block)
      for (const json& b : blocks) {
        if (!b.is_object()) return error("invalid_message", describe(item) + ": each content block must be an object");
        if (!equals(get(b, "type"), "tool_result")) continue;
        const json* id = get(b, "tool_use_id");
        size_t key = 0;
        if (id != nullptr) {
          auto k = id_key(item, *id);
          if (!k) return k.status();
          auto it = order.find(*k);
          if (it != order.end()) key = it->second;
        } else {
          auto it = order.find("s");
          if (it != order.end()) key = it->second;
        }
        results.emplace_back(key, b);
      }
      if (results.size() <= 1 || order.empty()) continue;
      std::stable_sort(results.begin(), results.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      size_t next = 0;
      for (json& b : blocks) {
        if (equals(get(b, "type"), "tool_result")) b = std::move(results[next++].second);
      }
    }
  }
  return Status::Ok();
}

long find_last_user_index(const std::vector<Item>& items) {
  for (long i = static_cast<long>(items.size()) - 1; i >= 0; --i) {
    const json& m = items[static_cast<size_t>(i)].msg;
    if (role_is(m, "user") || role_is(m, "developer")) return i;
  }
  return -1;
}

// Step 4 (reference _drop_thinking_messages): before the last user/developer
// message, assistants lose their reasoning and all roles other than user,
// system, tool, latest_reminder and direct_search_results are removed.
std::vector<Item> drop_thinking_messages(const std::vector<Item>& items) {
  const long last_user = find_last_user_index(items);
  std::vector<Item> out;
  for (size_t i = 0; i < items.size(); ++i) {
    const json& m = items[i].msg;
    if (role_is(m, "user") || role_is(m, "system") || role_is(m, "tool") || role_is(m, "latest_reminder") ||
        role_is(m, "direct_search_results") || static_cast<long>(i) >= last_user) {
      out.push_back(items[i]);
    } else if (role_is(m, "assistant")) {
      Item copy = items[i];
      copy.msg.erase("reasoning_content");
      out.push_back(std::move(copy));
    }
  }
  return out;
}

// Appends to a RenderedPrompt, recording which bytes are the encoder's own
// structure (rendered_prompt.h). Touching structure ranges are merged.
class PromptBuilder {
 public:
  void structure(std::string_view s) {
    if (s.empty()) return;
    const size_t begin = p_.text.size();
    p_.text += s;
    mark(begin, p_.text.size());
  }
  void content(std::string_view s) { p_.text += s; }
  void append(const PromptBuilder& other) {
    const size_t base = p_.text.size();
    p_.text += other.p_.text;
    for (const PromptRange& r : other.p_.structure) mark(base + r.begin, base + r.end);
  }
  RenderedPrompt take() { return std::move(p_); }

 private:
  void mark(size_t begin, size_t end) {
    if (!p_.structure.empty() && p_.structure.back().end == begin) p_.structure.back().end = end;
    else p_.structure.push_back({begin, end});
  }
  RenderedPrompt p_;
};

// The tools preamble: kToolsPreamble, one JSON line per tool's "function"
// object, kToolsClosing. The schemas are content: plugins and MCP servers
// write them.
Result<PromptBuilder> render_tools(const Item& item, const json& tools) {
  if (!tools.is_array()) return error("invalid_message", describe(item) + ": \"tools\" must be a list of tools");
  PromptBuilder out;
  out.structure(templates::kToolsPreamble);
  bool first = true;
  for (const json& tool : tools) {
    const json* fn = tool.is_object() ? get(tool, "function") : nullptr;
    if (fn == nullptr) {
      return error("invalid_message",
                   describe(item) + ": each tool must be an object with a \"function\" key (OpenAI format)");
    }
    auto line = py_json_dumps(*fn);
    if (!line) return line.status();
    if (!first) out.structure("\n");
    first = false;
    out.content(*line);
  }
  out.structure(templates::kToolsClosing);
  return out;
}

// "\n\n" + tools preamble and/or "\n\n" + response format, for system and
// developer messages.
Status append_tools_and_format(const Item& item, PromptBuilder& out) {
  const json* tools = get(item.msg, "tools");
  if (truthy(tools)) {
    auto text = render_tools(item, *tools);
    if (!text) return text.status();
    out.structure("\n\n");
    out.append(*text);
  }
  const json* format = get(item.msg, "response_format");
  if (truthy(format)) {
    auto schema = py_json_dumps(*format);
    if (!schema) return schema.status();
    out.structure("\n\n");
    out.structure(templates::kResponseFormatHeader);
    out.content(*schema);
  }
  return Status::Ok();
}

void append_parameter(PromptBuilder& out, std::string_view key, bool is_string, std::string_view value) {
  out.structure(tok::kParameterOpenPrefix);
  out.structure(" name=\"");
  out.content(key);
  out.structure(is_string ? "\" string=\"true\">" : "\" string=\"false\">");
  out.content(value);
  out.structure(tok::kParameterClose);
}

// The parameters of one invoke (reference encode_arguments_to_dsml).
Result<PromptBuilder> encode_arguments(const Item& item, const json& arguments) {
  PromptBuilder out;
  if (arguments.is_string()) {
    const std::string& raw = arguments.get_ref<const std::string&>();
    auto parsed = py_json_loads(raw);
    if (!parsed) {  // not JSON: one parameter holding the raw text
      append_parameter(out, "arguments", true, raw);
      return out;
    }
    if (parsed->kind != PyJson::Kind::kObject) {
      return error("arguments_not_object", describe(item) + ": tool-call arguments decode to JSON that is not an "
                                                            "object; give an object such as {\"key\": value}");
    }
    bool first = true;
    for (const auto& [key, value] : parsed->members) {
      if (!first) out.structure("\n");
      first = false;
      if (value.kind == PyJson::Kind::kString) {
        append_parameter(out, key, true, value.text);
      } else {
        append_parameter(out, key, false, py_json_dumps(value));
      }
    }
    return out;
  }
  // Not a string (e.g. an object given directly): the reference's json.loads
  // raises TypeError and the whole value becomes one non-string parameter.
  auto text = py_json_dumps(arguments);
  if (!text) return text.status();
  append_parameter(out, "arguments", false, *text);
  return out;
}

// "\n\n<｜DSML｜tool_calls>\n" + invokes + "\n</｜DSML｜tool_calls>".
Result<PromptBuilder> render_tool_calls(const Item& item, const json& tool_calls) {
  if (!tool_calls.is_array()) return error("invalid_message", describe(item) + ": \"tool_calls\" must be a list");
  PromptBuilder out;
  out.structure("\n\n");
  out.structure(tok::kToolCallsOpen);
  out.structure("\n");
  bool first = true;
  for (const json& tc : tool_calls) {
    const json* fn = tc.is_object() ? get(tc, "function") : nullptr;
    const json* name = fn != nullptr && fn->is_object() ? get(*fn, "name") : nullptr;
    const json* arguments = fn != nullptr && fn->is_object() ? get(*fn, "arguments") : nullptr;
    if (name == nullptr || arguments == nullptr) {
      return error("invalid_message", describe(item) + ": each tool call needs \"function\": {\"name\", \"arguments\"}");
    }
    if (!name->is_string()) {
      return error("invalid_message", describe(item) + ": a tool call's function name must be a string");
    }
    auto params = encode_arguments(item, *arguments);
    if (!params) return params.status();
    if (!first) out.structure("\n");
    first = false;
    out.structure(tok::kInvokeOpenPrefix);
    out.structure(" name=\"");
    out.content(name->get_ref<const std::string&>());
    out.structure("\">\n");
    out.append(*params);
    out.structure("\n");
    out.structure(tok::kInvokeClose);
  }
  out.structure("\n");
  out.structure(tok::kToolCallsClose);
  return out;
}

// "[Unsupported TYPE]" for a block the reference does not render.
void append_unsupported(PromptBuilder& out, const json* type) {
  out.structure("[Unsupported ");
  if (type != nullptr && type->is_string()) out.content(type->get_ref<const std::string&>());
  else out.structure("None");
  out.structure("]");
}

// A user turn: its blocks joined by "\n\n" (reference render_message, user).
Result<PromptBuilder> render_user_body(const Item& item) {
  PromptBuilder out;
  const json* blocks = get(item.msg, "content_blocks");
  if (!truthy(blocks)) {
    auto text = text_or_empty(item, "content");
    if (!text) return text.status();
    out.content(*text);
    return out;
  }
  bool first = true;
  for (const json& block : *blocks) {
    if (!block.is_object()) return error("invalid_message", describe(item) + ": each content block must be an object");
    if (!first) out.structure("\n\n");
    first = false;
    const json* type = get(block, "type");
    if (equals(type, "text")) {
      const json* text = get(block, "text");
      if (text == nullptr) continue;
      if (!text->is_string()) {
        return error("invalid_message", describe(item) + ": \"content\" / text block is not a string; give text");
      }
      out.content(text->get_ref<const std::string&>());
    } else if (equals(type, "tool_result")) {
      const json* content = get(block, "content");
      out.structure(tok::kToolResultOpen);
      if (content == nullptr) {
        // reference default: ""
      } else if (content->is_string()) {
        out.content(content->get_ref<const std::string&>());
      } else if (content->is_array()) {
        bool first_part = true;
        for (const json& part : *content) {
          if (!part.is_object()) {
            return error("invalid_message", describe(item) + ": each tool-result content block must be an object");
          }
          if (!first_part) out.structure("\n\n");
          first_part = false;
          const json* ptype = get(part, "type");
          if (equals(ptype, "text")) {
            const json* text = get(part, "text");
            if (text != nullptr && !text->is_string()) {
              return error("invalid_message", describe(item) + ": a tool-result text block's \"text\" must be a string");
            }
            if (text != nullptr) out.content(text->get_ref<const std::string&>());
          } else if (ptype == nullptr || ptype->is_null() || ptype->is_string()) {
            append_unsupported(out, ptype);
          } else {
            return error("invalid_message", describe(item) + ": a content block's \"type\" must be a string");
          }
        }
      } else {
        return error("invalid_message", describe(item) + ": tool result content is a JSON " +
                                            content->type_name() + "; give a string or a list of text blocks");
      }
      out.structure(tok::kToolResultClose);
    } else if (type == nullptr || type->is_null() || type->is_string()) {
      append_unsupported(out, type);
    } else {
      return error("invalid_message", describe(item) + ": a content block's \"type\" must be a string");
    }
  }
  return out;
}

struct RenderContext {
  const std::vector<Item>& items;
  const ChatOptions& options;
  bool drop_thinking;  // effective: requested and no message has tools
  long last_user;
};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Text the model wrote after its reasoning: content, with each DSML marker
// (its tool-call framing, emitted as the ｜DSML｜ token) as structure. Every
// other special-token text in it is literal: the model may have copied it
// from a hostile file, and it must not open a user turn in re-rendered history.
void append_generated_answer(PromptBuilder& out, std::string_view text) {
  for (size_t at = text.find(tok::kDsml); at != std::string_view::npos; at = text.find(tok::kDsml)) {
    out.content(text.substr(0, at));
    out.structure(tok::kDsml);
    text.remove_prefix(at + tok::kDsml.size());
  }
  out.content(text);
}

// An assistant turn re-rendered from "raw", the text it generated. Structure:
// the first "</think>" when reasoning is shown (the DSML parser ends
// reasoning there too), the DSML markers after it, and the EOS that ends the
// turn. So a turn whose text holds no other special-token text gets the ids
// the model generated, and the cached prefix stays valid.
void append_raw_assistant(PromptBuilder& out, std::string_view bytes, bool show_reasoning, bool wo_eos) {
  const bool has_eos = ends_with(bytes, tok::kEos);
  if (has_eos) bytes.remove_suffix(tok::kEos.size());
  if (show_reasoning) {
    const size_t end = bytes.find(tok::kThinkEnd);
    if (end == std::string_view::npos) {  // stopped inside its reasoning
      out.content(bytes);
      bytes = {};
    } else {
      out.content(bytes.substr(0, end));
      out.structure(tok::kThinkEnd);
      bytes.remove_prefix(end + tok::kThinkEnd.size());
    }
  }
  append_generated_answer(out, bytes);
  if (has_eos || !wo_eos) out.structure(tok::kEos);
}

// An assistant turn: THINK + content + tool calls + EOS, or its raw bytes.
Status render_assistant(const RenderContext& rc, size_t index, PromptBuilder& out) {
  const Item& item = rc.items[index];
  const bool thinking = rc.options.thinking_mode == ThinkingMode::kThinking;
  const bool prev_has_task = index > 0 && !is_null(get(rc.items[index - 1].msg, "task"));
  const bool show_reasoning =
      thinking && !prev_has_task && (!rc.drop_thinking || static_cast<long>(index) > rc.last_user);
  const bool wo_eos = truthy(get(item.msg, "wo_eos"));

  const json* tool_calls = get(item.msg, "tool_calls");
  PromptBuilder tc_content;
  if (truthy(tool_calls)) {
    auto text = render_tool_calls(item, *tool_calls);
    if (!text) return text.status();
    tc_content = std::move(*text);
  }
  auto content = text_or_empty(item, "content");
  if (!content) return content.status();
  auto reasoning = text_or_empty(item, "reasoning_content");
  if (!reasoning) return reasoning.status();

  const json* raw = get(item.msg, "raw");
  if (!is_null(raw)) {
    if (!raw->is_string()) return error("invalid_message", describe(item) + ": \"raw\" must be a string");
    std::string_view bytes = raw->get_ref<const std::string&>();
    if (!show_reasoning) {
      size_t end = bytes.find(tok::kThinkEnd);
      if (end != std::string_view::npos) bytes.remove_prefix(end + tok::kThinkEnd.size());
    }
    append_raw_assistant(out, bytes, show_reasoning, wo_eos);
    return Status::Ok();
  }

  if (show_reasoning) {
    out.content(*reasoning);
    out.structure(tok::kThinkEnd);
  }
  out.content(*content);
  out.append(tc_content);
  if (!wo_eos) out.structure(tok::kEos);
  return Status::Ok();
}

Status render_message(const RenderContext& rc, size_t index, PromptBuilder& out) {
  const Item& item = rc.items[index];
  const json& msg = item.msg;
  const bool thinking = rc.options.thinking_mode == ThinkingMode::kThinking;

  if (index == 0 && thinking) {
    if (rc.options.reasoning_effort == ReasoningEffort::kHigh) out.structure(templates::kEffortHigh);
    if (rc.options.reasoning_effort == ReasoningEffort::kMax) out.structure(templates::kEffortMax);
  }
  // The reference converts tools of any message before looking at the role.
  const json* tools = get(msg, "tools");
  if (truthy(tools)) {
    auto checked = render_tools(item, *tools);
    if (!checked) return checked.status();
  }

  if (role_is(msg, "system")) {
    auto content = text_or_empty(item, "content");
    if (!content) return content.status();
    out.content(*content);
    V4RT_RETURN_IF_ERROR(append_tools_and_format(item, out));
  } else if (role_is(msg, "developer")) {
    const json* content = get(msg, "content");
    if (!truthy(content)) {
      return error("invalid_message", describe(item) + ": a developer message needs non-empty \"content\"");
    }
    if (!content->is_string()) return error("invalid_message", describe(item) + ": \"content\" must be a string");
    out.structure(tok::kUser);
    out.content(content->get_ref<const std::string&>());
    V4RT_RETURN_IF_ERROR(append_tools_and_format(item, out));
  } else if (role_is(msg, "user")) {
    auto body = render_user_body(item);
    if (!body) return body.status();
    out.structure(tok::kUser);
    out.append(*body);
  } else if (role_is(msg, "latest_reminder")) {
    const json* content = get(msg, "content");
    if (content == nullptr || !content->is_string()) {
      return error("invalid_message", describe(item) + ": a latest_reminder message needs string \"content\"");
    }
    out.structure(tok::kLatestReminder);
    out.content(content->get_ref<const std::string&>());
  } else if (role_is(msg, "assistant")) {
    V4RT_RETURN_IF_ERROR(render_assistant(rc, index, out));
  } else {
    return error("unknown_role", describe(item) + ": unknown role \"" + role_text(msg) +
                                     "\"; use system, user, assistant, tool, developer or latest_reminder");
  }

  // Transition suffix: only before an assistant / latest_reminder message,
  // or after the last message.
  if (index + 1 < rc.items.size()) {
    const json& next = rc.items[index + 1].msg;
    if (!role_is(next, "assistant") && !role_is(next, "latest_reminder")) return Status::Ok();
  }
  const json* task = get(msg, "task");
  if (!is_null(task)) {
    static constexpr std::pair<std::string_view, std::string_view> kTasks[] = {
        {"action", tok::kAction}, {"query", tok::kQuery},   {"authority", tok::kAuthority},
        {"domain", tok::kDomain}, {"title", tok::kTitle},   {"read_url", tok::kReadUrl},
    };
    std::string_view token;
    for (const auto& [name, sp] : kTasks) {
      if (equals(task, name)) token = sp;
    }
    if (token.empty()) {
      std::string shown = task->is_string() ? std::string("\"") + task->get<std::string>() + "\"" : std::string("a JSON ") + task->type_name();
      return error("invalid_task", describe(item) + ": task " + shown +
                                       " is not one of action, query, authority, domain, title, read_url");
    }
    if (token == tok::kAction) {
      out.structure(tok::kAssistant);
      out.structure(thinking ? tok::kThinkStart : tok::kThinkEnd);
    }
    out.structure(token);
  } else if (role_is(msg, "user") || role_is(msg, "developer")) {
    out.structure(tok::kAssistant);
    const bool open_thinking = thinking && (!rc.drop_thinking || static_cast<long>(index) >= rc.last_user);
    out.structure(open_thinking ? tok::kThinkStart : tok::kThinkEnd);
  }
  return Status::Ok();
}

Result<std::vector<Item>> prepare(const json& list, std::string_view name) {
  std::vector<Item> items;
  items.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    Item item{list[i], std::string(name) + "[" + std::to_string(i) + "]"};
    if (!item.msg.is_object()) {
      return error("invalid_message", item.origin + " is a JSON " + std::string(item.msg.type_name()) +
                                          "; each message must be an object with a \"role\"");
    }
    V4RT_RETURN_IF_ERROR(flatten_content(item));
    items.push_back(std::move(item));
  }
  return merge_tool_messages(std::move(items));
}

// True when `value` nests deeper than `limit` (iterative: deep input must not
// exhaust the stack here, and copies below are recursive).
bool nests_deeper_than(const json& value, int limit) {
  std::vector<std::pair<const json*, int>> stack{{&value, 0}};
  while (!stack.empty()) {
    auto [v, depth] = stack.back();
    stack.pop_back();
    if (depth > limit) return true;
    if (v->is_array() || v->is_object()) {
      for (const json& child : *v) stack.emplace_back(&child, depth + 1);
    }
  }
  return false;
}

constexpr int kMaxNesting = 256;

Result<RenderedPrompt> render_impl(const json& messages, const ChatOptions& options, const json* context) {
  if (!messages.is_array()) return error("invalid_request", "\"messages\" must be a JSON array of message objects");
  if (nests_deeper_than(messages, kMaxNesting) || (context != nullptr && nests_deeper_than(*context, kMaxNesting))) {
    return error("invalid_request", "messages nest JSON deeper than 256 levels; flatten the tool schemas or arguments");
  }
  const bool has_context = truthy(context);
  if (has_context && !context->is_array()) {
    return error("invalid_request", "\"context\" must be a JSON array of message objects or null");
  }
  std::vector<Item> ctx;
  if (has_context) {
    auto prepared = prepare(*context, "context");
    if (!prepared) return prepared.status();
    ctx = std::move(*prepared);
  }
  auto prepared = prepare(messages, "messages");
  if (!prepared) return prepared.status();
  std::vector<Item> fresh = std::move(*prepared);

  // One pass over context + messages orders the results exactly as the
  // reference's two passes do (stable sort, same call-order map).
  std::vector<Item> full = ctx;
  full.insert(full.end(), fresh.begin(), fresh.end());
  V4RT_RETURN_IF_ERROR(sort_tool_results(full));

  PromptBuilder prompt;
  if (options.add_default_bos_token && ctx.empty()) prompt.structure(tok::kBos);

  bool drop = options.drop_thinking;
  for (const Item& item : full) {
    if (truthy(get(item.msg, "tools"))) drop = false;
  }
  long context_len = static_cast<long>(ctx.size());
  long num_to_render = static_cast<long>(fresh.size());
  if (options.thinking_mode == ThinkingMode::kThinking && drop) {
    // The reference re-derives the split from the dropped lists; when the
    // drop removes context messages the counts shift, and we reproduce that.
    std::vector<Item> sorted_ctx(full.begin(), full.begin() + context_len);
    full = drop_thinking_messages(full);
    num_to_render = static_cast<long>(full.size()) - static_cast<long>(drop_thinking_messages(sorted_ctx).size());
    context_len = static_cast<long>(full.size()) - num_to_render;
  }
  RenderContext rc{full, options, drop, find_last_user_index(full)};
  for (long idx = 0; idx < num_to_render; ++idx) {
    V4RT_RETURN_IF_ERROR(render_message(rc, static_cast<size_t>(idx + context_len), prompt));
  }
  return prompt.take();
}

}  // namespace

Result<ChatOptions> ChatOptions::from_json(const json& options) {
  if (!options.is_object()) return error("invalid_request", "\"options\" must be a JSON object");
  ChatOptions o;
  const json* mode = get(options, "thinking_mode");
  if (equals(mode, "chat")) {
    o.thinking_mode = ThinkingMode::kChat;
  } else if (equals(mode, "thinking")) {
    o.thinking_mode = ThinkingMode::kThinking;
  } else {
    std::string shown = mode == nullptr ? "missing" : (mode->is_string() ? mode->get<std::string>() : std::string("a JSON ") + mode->type_name());
    return error("invalid_thinking_mode", "thinking_mode `" + shown + "` is not \"chat\" or \"thinking\"");
  }
  const json* effort = get(options, "reasoning_effort");
  if (!truthy(effort) || equals(effort, "low")) {  // the reference: `effort or "low"`
    o.reasoning_effort = ReasoningEffort::kLow;
  } else if (equals(effort, "high")) {
    o.reasoning_effort = ReasoningEffort::kHigh;
  } else if (equals(effort, "max")) {
    o.reasoning_effort = ReasoningEffort::kMax;
  } else {
    std::string shown = effort->is_string() ? effort->get<std::string>() : std::string("a JSON ") + effort->type_name();
    return error("invalid_reasoning_effort", "reasoning_effort `" + shown + "` is not one of low, high, max (or null)");
  }
  for (const auto& [key, field] : {std::pair{"drop_thinking", &o.drop_thinking},
                                   std::pair{"add_default_bos_token", &o.add_default_bos_token}}) {
    const json* v = get(options, key);
    if (is_null(v)) continue;
    if (!v->is_boolean()) return error("invalid_request", std::string(key) + " must be true or false");
    *field = v->get<bool>();
  }
  return o;
}

Result<RenderedPrompt> ChatEncoder::render_prompt(const json& messages, const ChatOptions& options,
                                                  const json* context) const {
  try {
    return render_impl(messages, options, context);
  } catch (const json::exception& e) {  // a bug here, never bad input: report, don't throw
    return Status::Internal(std::string("chat encoder: unexpected JSON error: ") + e.what());
  }
}

Result<std::string> ChatEncoder::render(const json& messages, const ChatOptions& options, const json* context) const {
  auto prompt = render_prompt(messages, options, context);
  if (!prompt) return prompt.status();
  return std::move(prompt->text);
}

Result<std::string> ChatEncoder::render_request(const json& request) const {
  auto prompt = render_request_prompt(request);
  if (!prompt) return prompt.status();
  return std::move(prompt->text);
}

Result<RenderedPrompt> ChatEncoder::render_request_prompt(const json& request) const {
  if (!request.is_object()) return error("invalid_request", "a render request must be a JSON object");
  if (nests_deeper_than(request, kMaxNesting + 2)) {
    return error("invalid_request", "the request nests JSON deeper than 256 levels; flatten it");
  }
  const json* messages = get(request, "messages");
  if (messages == nullptr || !messages->is_array()) {
    return error("invalid_request", "\"messages\" must be a JSON array of message objects");
  }
  const json* options_json = get(request, "options");
  auto options = ChatOptions::from_json(options_json != nullptr ? *options_json : json::object());
  if (!options) return options.status();
  const json* context = options_json != nullptr ? get(*options_json, "context") : nullptr;
  const json* tools = get(request, "tools");
  if (is_null(tools)) return render_prompt(*messages, *options, context);
  if (!messages->empty() && !(*messages)[0].is_object()) return error("invalid_message", "messages[0] must be an object");
  json with_tools = *messages;
  // Tools render only on a system/developer message. Without one first, they
  // travel in an empty leading system message (as serving stacks do; the
  // spec's Example C shows that prompt), never dropped.
  const json* role = with_tools.empty() ? nullptr : get(with_tools[0], "role");
  if (!(equals(role, "system") || equals(role, "developer"))) {
    json sys = json::object();
    sys["role"] = "system";
    sys["content"] = "";
    with_tools.insert(with_tools.begin(), std::move(sys));
  }
  with_tools[0]["tools"] = *tools;
  return render_prompt(with_tools, *options, context);
}

std::string_view chat_error_category(const Status& status) {
  std::string_view m = status.message();
  size_t colon = m.find(':');
  if (colon == std::string_view::npos || colon == 0) return "error";
  std::string_view head = m.substr(0, colon);
  for (char c : head) {
    if (!((c >= 'a' && c <= 'z') || c == '_')) return "error";
  }
  return head;
}

}  // namespace v4rt::parsers
