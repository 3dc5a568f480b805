// v4rt_plugin.hpp: a header-only C++ layer over the C ABI of v4rt_plugin.h,
// so a plugin tool is a name, a schema and a lambda:
//
//   #include "v4rt_plugin.hpp"
//   static std::unique_ptr<v4rt_plugin_sdk::Plugin> make() {
//     auto p = std::make_unique<v4rt_plugin_sdk::Plugin>("hello", "1.0.0");
//     p->add({"greet", "Greets someone by name.",
//             {{"type", "object"}, {"properties", {{"who", {{"type", "string"}}}}}, {"required", {"who"}}},
//             V4RT_TOOL_KIND_READ, "",
//             [](const nlohmann::json& args, v4rt_plugin_sdk::Call&) {
//               return "hello, " + v4rt_plugin_sdk::arg_string(args, "who");
//             }});
//     return p;
//   }
//   V4RT_PLUGIN_ENTRY(make)
//
// A handler returns the result text, or throws v4rt_plugin_sdk::Error (any
// other exception becomes V4RT_STATUS_INTERNAL): no exception ever crosses
// the C boundary. Needs nlohmann/json (header-only). Build with
// -fvisibility=hidden; only v4rt_plugin_entry is exported.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "v4rt_plugin.h"

namespace v4rt_plugin_sdk {

// A failure the model can act on: code (v4rt_status_code) and message.
struct Error {
  int code = V4RT_STATUS_INVALID_ARGUMENT;
  std::string message;
};

// One invocation's view of the host (wraps v4rt_call_context). Valid during the call.
class Call {
 public:
  explicit Call(const v4rt_call_context* ctx) : ctx_(ctx) {}
  bool cancelled() const { return ctx_->is_cancelled(ctx_->host) != 0; }
  // Appends to the result; false once the output cap is reached.
  bool write(std::string_view text) const { return ctx_->write(ctx_->host, text.data(), text.size()) == 0; }
  std::string workspace_root() const { return ctx_->workspace_root; }
  size_t output_cap_bytes() const { return ctx_->output_cap_bytes; }
  // A read-only fd of a workspace file (confined; read deny rules apply). The
  // caller closes it. Throws Error (kept as the host's message) on refusal.
  int open_read(const std::string& path) const {
    int fd = ctx_->open_read(ctx_->host, path.c_str());
    if (fd < 0) throw Error{V4RT_STATUS_INVALID_ARGUMENT, std::string()};  // message already set by the host
    return fd;
  }

 private:
  const v4rt_call_context* ctx_;
};

using Handler = std::function<std::string(const nlohmann::json& args, Call& call)>;

struct Tool {
  std::string name;
  std::string description;
  nlohmann::json parameters;
  v4rt_tool_kind kind = V4RT_TOOL_KIND_OTHER;
  std::string subject_arg;
  Handler run;
};

// Argument helpers: Error naming the argument when missing or of the wrong type.
inline std::string arg_string(const nlohmann::json& args, const std::string& key) {
  auto it = args.find(key);
  if (it == args.end() || !it->is_string())
    throw Error{V4RT_STATUS_INVALID_ARGUMENT, "argument '" + key + "' (a string) is required"};
  return it->get<std::string>();
}
inline long long arg_int_or(const nlohmann::json& args, const std::string& key, long long fallback) {
  auto it = args.find(key);
  if (it == args.end() || it->is_null()) return fallback;
  if (!it->is_number_integer())
    throw Error{V4RT_STATUS_INVALID_ARGUMENT, "argument '" + key + "' must be an integer"};
  return it->get<long long>();
}

class Plugin {
 public:
  Plugin(std::string name, std::string version) : name_(std::move(name)), version_(std::move(version)) {}
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;
  void add(Tool tool) { tools_.push_back(std::move(tool)); }

  // The C table; valid while *this lives (the host destroys it through destroy()).
  const v4rt_plugin* table() {
    schemas_.clear();
    defs_.clear();
    for (const Tool& t : tools_) schemas_.push_back(t.parameters.dump());
    for (size_t i = 0; i < tools_.size(); ++i)
      defs_.push_back(v4rt_tool_def{tools_[i].name.c_str(), tools_[i].description.c_str(), schemas_[i].c_str(),
                                    static_cast<uint32_t>(tools_[i].kind),
                                    tools_[i].subject_arg.empty() ? nullptr : tools_[i].subject_arg.c_str()});
    table_ = v4rt_plugin{V4RT_PLUGIN_ABI_VERSION, sizeof(v4rt_plugin), name_.c_str(), version_.c_str(),
                         defs_.size(), defs_.data(), this, &Plugin::invoke_c, &Plugin::destroy_c};
    return &table_;
  }

 private:
  static int invoke_c(void* state, size_t index, const char* args_json, const v4rt_call_context* ctx) noexcept {
    auto* self = static_cast<Plugin*>(state);
    try {
      if (index >= self->tools_.size()) throw Error{V4RT_STATUS_INTERNAL, "tool index out of range"};
      nlohmann::json args = nlohmann::json::parse(args_json, nullptr, false);
      if (args.is_discarded() || !args.is_object())
        throw Error{V4RT_STATUS_INVALID_ARGUMENT, "arguments must be a JSON object"};
      Call call(ctx);
      std::string out = self->tools_[index].run(args, call);
      if (!out.empty()) call.write(out);
      return V4RT_STATUS_OK;
    } catch (const Error& e) {
      if (!e.message.empty()) ctx->set_error(ctx->host, e.message.c_str());
      return e.code == V4RT_STATUS_OK ? V4RT_STATUS_INTERNAL : e.code;
    } catch (const std::exception& e) {
      ctx->set_error(ctx->host, (std::string("plugin error: ") + e.what()).c_str());
      return V4RT_STATUS_INTERNAL;
    } catch (...) {
      ctx->set_error(ctx->host, "plugin error: unknown exception");
      return V4RT_STATUS_INTERNAL;
    }
  }
  static void destroy_c(void* state) noexcept { delete static_cast<Plugin*>(state); }

  std::string name_, version_;
  std::vector<Tool> tools_;
  std::vector<std::string> schemas_;
  std::vector<v4rt_tool_def> defs_;
  v4rt_plugin table_{};
};

}  // namespace v4rt_plugin_sdk

// Defines the exported entry point from a factory returning std::unique_ptr<Plugin>.
// A factory that throws yields no table (the host reports it).
#define V4RT_PLUGIN_ENTRY(factory)                                                          \
  extern "C" __attribute__((visibility("default"))) const v4rt_plugin* v4rt_plugin_entry( \
      uint32_t host_abi_version) {                                                         \
    (void)host_abi_version;                                                                \
    try {                                                                                  \
      return factory().release()->table();                                                 \
    } catch (...) {                                                                        \
      return nullptr;                                                                      \
    }                                                                                      \
  }
