// Tool: one capability the model may call (name, description, JSON schema of
// its arguments, invoke). ToolContext is what an invocation may use: the
// workspace, what the model has seen of each file, cancellation and output
// limits. A tool is written once and registered in a ToolRegistry; built-in
// tools, shared-library plugins and MCP servers all present this interface
// (a plugin or an MCP client wraps its calls in a Tool subclass).
// Thread-safety: invoke() may be called concurrently for tools whose spec says
// read_only; other tools are invoked one at a time.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace v4rt::tools {

class Workspace;
class FileMemory;

// What a tool does, as the permission policy sees it.
enum class ToolKind {
  kRead,     // changes nothing: may run concurrently, allowed in every mode
  kEdit,     // changes files inside the workspace only
  kExecute,  // runs commands (sandboxed or not)
  kOther,    // anything else (network, plugins, MCP): asks unless a rule allows it
};

struct ToolSpec {
  std::string name;           // stable, [A-Za-z0-9_.-]+; what the model writes in invoke name="..."
  std::string description;    // one paragraph for the model
  nlohmann::json parameters;  // JSON schema (type object, properties, required)
  ToolKind kind = ToolKind::kOther;
  std::string subject_arg;    // argument that permission rules match ("path", "command"); may be empty
  bool read_only() const { return kind == ToolKind::kRead; }
};

// What a tool returns to the model. A failure the model can act on is an
// error Status instead (the loop sends "error: <message>" back as the result).
struct ToolOutput {
  std::string text;
};

struct ToolContext {
  Workspace* workspace = nullptr;    // required for file tools; borrowed
  FileMemory* memory = nullptr;      // what the model has seen of each file; borrowed
  std::stop_token stop;              // cancellation (Ctrl-C, budget)
  size_t max_output_bytes = 30000;   // a tool's text is cut to this (head and tail kept)
  // Whether a read may touch this workspace-relative path (path deny rules on
  // reads); null: every path. Tools that read many files (grep, glob, list)
  // leave refused files out; a tool asked for one refused file fails.
  std::function<bool(const std::string& rel_path)> may_read;
};

class Tool {
 public:
  virtual ~Tool() = default;
  virtual const ToolSpec& spec() const = 0;
  // Arguments have been checked against spec().parameters by the caller when a
  // validator is available; a tool still checks what it relies on.
  virtual Result<ToolOutput> invoke(const nlohmann::json& args, ToolContext& ctx) = 0;
  // The canonical workspace-relative paths this call would touch, which path
  // permission rules are matched against (apply_patch: every file in the
  // patch). Default: for a file tool whose subject_arg is "path",
  // touched_path_names() of that path ("." when absent); otherwise none. An
  // error (e.g. the path escapes the workspace) refuses the call.
  virtual Result<std::vector<std::string>> touched_paths(const nlohmann::json& args, const ToolContext& ctx) const;
};

// The names a model-given path touches, for path rules: the entry itself
// (its directory resolved, its last component as written) and, when it
// resolves inside the workspace, the canonical file it reaches (symlinks
// followed). An error when neither is inside (e.g. ".." or an escaping
// directory): the call is refused with the resolver's message.
Result<std::vector<std::string>> touched_path_names(const Workspace& ws, std::string_view user_path);

// Cuts text to at most max_bytes, keeping the head and the tail and saying how
// much was left out (never splits a UTF-8 sequence).
std::string truncate_middle(const std::string& text, size_t max_bytes);

// Argument helpers: InvalidArgument naming the tool and the argument when the
// value is missing or of the wrong type.
Result<std::string> arg_string(const nlohmann::json& args, const std::string& tool,
                               const std::string& key);
Result<std::string> arg_string_or(const nlohmann::json& args, const std::string& tool,
                                  const std::string& key, std::string fallback);
Result<long long> arg_int_or(const nlohmann::json& args, const std::string& tool,
                             const std::string& key, long long fallback);
Result<bool> arg_bool_or(const nlohmann::json& args, const std::string& tool, const std::string& key,
                         bool fallback);

}  // namespace v4rt::tools
