// `v4rt chat parse [FILE|-]`: raw model completions -> assistant messages.
// JSON Lines in: {"text": "...", "tools": [...]|null, "options":
// {"thinking_mode": "chat"|"thinking", "strict": bool}} (golden parse.jsonl
// lines work as they are). JSON Lines out, one per request: the message as in
// parse.jsonl ({"role", "content", "reasoning_content", "tool_calls"}, plus
// "dsml_variants" when tolerant mode accepted a non-canonical form), or
// {"error": "<category>", "message": "..."}; "name" is copied first when the
// request has one. The parsing itself is parsers::parse_completion / DsmlStream.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <istream>
#include <string>

#include <nlohmann/json.hpp>

#include "agents/cli/commands.h"
#include "agents/cli/flags.h"
#include "parsers/completion_parser.h"
#include "parsers/dsml_stream.h"
#include "parsers/json_schema.h"

namespace v4rt::cli {
namespace {

using ojson = nlohmann::ordered_json;

std::string dump_line(const ojson& j) { return j.dump(-1, ' ', false, ojson::error_handler_t::replace) + "\n"; }

void write_line(const ojson& j) {
  const std::string s = dump_line(j);
  std::fwrite(s.data(), 1, s.size(), stdout);
}

ojson event_json(const parsers::DsmlEvent& e) {
  using K = parsers::DsmlEvent::Kind;
  ojson j;
  switch (e.kind) {
    case K::kText: j["type"] = "text"; j["text"] = e.text; break;
    case K::kReasoning: j["type"] = "reasoning"; j["text"] = e.text; break;
    case K::kToolCallStart: j["type"] = "tool_call_start"; j["index"] = e.call_index; j["name"] = e.text; break;
    case K::kToolArgDelta:
      j["type"] = "tool_arg_delta";
      j["index"] = e.call_index;
      j["param"] = e.param;
      j["string"] = e.param_is_string;
      j["text"] = e.text;
      break;
    case K::kToolCallEnd:
      j["type"] = "tool_call_end";
      j["index"] = e.call_index;
      j["name"] = e.call.name;
      j["arguments"] = e.call.arguments;
      break;
    case K::kError:
      j["type"] = "error";
      j["error"] = e.error.category;
      j["message"] = e.error.message;
      break;
  }
  return j;
}

// Parses one request line; writes its output line(s). Returns false if it failed.
bool parse_one(const std::string& line, long line_no, bool strict_flag, bool thinking_flag, bool events,
               bool check_args) {
  ojson out = ojson::object();
  ojson request = ojson::parse(line, nullptr, /*allow_exceptions=*/false);
  auto fail = [&](std::string category, std::string message) {
    out["error"] = std::move(category);
    out["message"] = std::move(message);
    write_line(out);
    return false;
  };
  if (request.is_discarded() || !request.is_object())
    return fail("invalid_json", "line " + std::to_string(line_no) + ": not a JSON object; give one object per line");
  if (request.contains("name")) out["name"] = request["name"];
  if (!request.contains("text") || !request["text"].is_string())
    return fail("invalid_request", "line " + std::to_string(line_no) + ": \"text\" (the completion, a string) is missing");

  parsers::DsmlOptions options{.thinking = thinking_flag, .strict = strict_flag};
  if (request.contains("options") && request["options"].is_object()) {
    const ojson& o = request["options"];
    if (o.contains("thinking_mode")) {
      if (o["thinking_mode"] == "thinking") options.thinking = true;
      else if (o["thinking_mode"] == "chat") options.thinking = false;
      else
        return fail("invalid_thinking_mode", "line " + std::to_string(line_no) + ": options.thinking_mode must be "
                                             "\"chat\" or \"thinking\", got " + dump_line(o["thinking_mode"]).substr(0, 60));
    }
    if (o.contains("strict") && o["strict"].is_boolean()) options.strict = o["strict"].get<bool>();
  }
  const std::string& text = request["text"].get_ref<const std::string&>();

  parsers::ParseError err;
  Result<parsers::ParsedMessage> msg = Status::Internal("unset");
  if (events) {
    parsers::DsmlStream stream(options);
    std::vector<parsers::DsmlEvent> ev;
    stream.feed(text, ev);
    stream.finish(ev);
    for (const auto& e : ev) {
      ojson j = event_json(e);
      if (out.contains("name")) j["name"] = out["name"];
      write_line(j);
    }
    if (stream.error()) {
      err = *stream.error();
      msg = err.to_status();
    } else {
      msg = stream.result();
    }
  } else {
    msg = parsers::parse_completion(text, options, &err);
  }
  if (!msg.ok()) return fail(err.category, err.message);
  const ojson message = msg->to_json();
  for (auto it = message.begin(); it != message.end(); ++it) out[it.key()] = *it;
  bool ok = true;
  if (check_args) {
    const ojson tools = request.contains("tools") ? request["tools"] : ojson();
    ojson errors = ojson::array();
    for (size_t i = 0; i < msg->tool_calls.size(); ++i) {
      parsers::ToolCallCheck c = parsers::check_tool_call(msg->tool_calls[i], tools);
      for (const auto& e : c.errors) errors.push_back({{"call", i}, {"pointer", e.pointer}, {"message", e.message}});
    }
    out["argument_errors"] = errors;
    ok = errors.empty();
  }
  write_line(out);
  return ok;
}

}  // namespace

int cmd_chat_parse(int argc, char** argv) {
  bool strict = false, thinking = false, events = false, check_args = false;
  FlagSet flags(
      "v4rt chat parse [flags] [FILE|-]",
      "Parse raw DeepSeek-V4 completions (the text generated after the prompt, EOS included) into "
      "assistant messages: reasoning, content and DSML tool calls. Reads JSON Lines (FILE, or stdin when "
      "absent or '-'): {\"text\": \"...\", \"tools\": [...]|null, \"options\": {\"thinking_mode\": "
      "\"chat\"|\"thinking\", \"strict\": bool}}. Writes one JSON line per request: {\"role\": "
      "\"assistant\", \"content\", \"reasoning_content\", \"tool_calls\": [{\"type\": \"function\", "
      "\"function\": {\"name\", \"arguments\"}}]} (+ \"dsml_variants\" when tolerant mode accepted a "
      "non-canonical form; see docs/dsml-parsing.md), or {\"error\": \"<category>\", \"message\": \"...\"}. "
      "Tolerant mode is the default. Exit 0 when every request parsed (and, with --check-args, every "
      "call matched its tool's schema), 1 otherwise.",
      "printf '%s\\n' '{\"text\":\"Hi<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>\","
      "\"options\":{\"thinking_mode\":\"chat\"}}' | v4rt chat parse --strict");
  flags.add_bool("strict", &strict, "accept only what the reference parser accepts (its errors, no recovery)");
  flags.add_bool("thinking", &thinking, "thinking mode when a request has no options.thinking_mode");
  flags.add_bool("events", &events,
                 "also write the streaming events (text, reasoning, tool_call_start, tool_arg_delta, "
                 "tool_call_end, error) as JSON lines before each message");
  flags.add_bool("check-args", &check_args,
                 "validate each call against the request's \"tools\" schemas; adds \"argument_errors\"");
  if (Status s = flags.parse(argc, argv); !s.ok()) return report(s, "v4rt chat parse --help");
  if (flags.help_requested()) {
    std::fputs(flags.help().c_str(), stdout);
    return 0;
  }
  if (flags.positional().size() > 1)
    return report(Status::InvalidArgument("chat parse takes one input file (or '-')"), "v4rt chat parse --help");
  const std::string path = flags.positional().empty() ? "-" : flags.positional()[0];
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) return report(Status::IoError(path + ": cannot open for reading; check the path"));
    in = &file;
  }
  bool all_ok = true;
  std::string line;
  long line_no = 0;
  while (std::getline(*in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    all_ok = parse_one(line, line_no, strict, thinking, events, check_args) && all_ok;
  }
  std::fflush(stdout);
  return all_ok ? 0 : 1;
}

}  // namespace v4rt::cli
