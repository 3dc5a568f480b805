#include "tools/plugin/plugin_loader.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <mutex>

#include "tools/confined_fs.h"
#include "tools/plugin/v4rt_plugin.h"
#include "tools/workspace.h"

namespace v4rt::tools {

namespace fs = std::filesystem;

// Owns the dlopen handle and the plugin's table: destroy(), then dlclose().
class PluginLibrary {
 public:
  PluginLibrary(void* handle, const v4rt_plugin* table) : handle_(handle), table_(table) {}
  ~PluginLibrary() {
    if (table_ && table_->destroy) table_->destroy(table_->state);
    if (handle_) dlclose(handle_);
  }
  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;
  const v4rt_plugin& table() const { return *table_; }

 private:
  void* handle_;
  const v4rt_plugin* table_;
};

namespace {

bool valid_plugin_name(const char* s) {
  if (!s) return false;
  size_t n = 0;
  for (; s[n]; ++n) {
    char c = s[n];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return false;
    if (n >= 48) return false;
  }
  return n > 0;
}

// The host side of one invocation: what the C callbacks reach through ctx.host.
struct HostCall {
  ToolContext* ctx = nullptr;
  std::string output;
  size_t cap = 0;
  bool cut = false;
  std::string error;
};

int host_is_cancelled(void* host) { return static_cast<HostCall*>(host)->ctx->stop.stop_requested() ? 1 : 0; }

int host_write(void* host, const char* data, size_t len) {
  auto* h = static_cast<HostCall*>(host);
  if (!data) return 0;
  size_t room = h->output.size() < h->cap ? h->cap - h->output.size() : 0;
  h->output.append(data, std::min(room, len));
  if (len > room) h->cut = true;
  return h->cut ? 1 : 0;
}

void host_set_error(void* host, const char* message) {
  static_cast<HostCall*>(host)->error = message ? message : "";
}

int host_open_read(void* host, const char* path) {
  auto* h = static_cast<HostCall*>(host);
  if (!path) {
    h->error = "open_read: null path";
    return -1;
  }
  if (!h->ctx->workspace) {
    h->error = "open_read: no workspace in this session";
    return -1;
  }
  auto opened = open_beneath(*h->ctx->workspace, path, O_RDONLY);
  if (!opened.ok()) {
    h->error = opened.status().message();
    return -1;
  }
  if (h->ctx->may_read && !h->ctx->may_read(opened->rel)) {
    h->error = "'" + std::string(path) + "' is hidden by a read deny rule; choose another file";
    return -1;
  }
  struct stat st {};
  if (fstat(opened->fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    h->error = "'" + std::string(path) + "' is not a regular file";
    return -1;
  }
  return opened->fd.release();
}

Status code_to_status(int code, std::string message, const std::string& tool) {
  if (message.empty()) message = tool + " failed (plugin status " + std::to_string(code) + ", no message)";
  switch (code) {
    case V4RT_STATUS_INVALID_ARGUMENT: return Status::InvalidArgument(message);
    case V4RT_STATUS_NOT_FOUND: return Status::NotFound(message);
    case V4RT_STATUS_IO_ERROR: return Status::IoError(message);
    case V4RT_STATUS_CANCELLED: return Status::Cancelled(message);
    case V4RT_STATUS_RESOURCE_EXHAUSTED: return Status::ResourceExhausted(message);
    case V4RT_STATUS_UNSUPPORTED: return Status::Unsupported(message);
    default: return Status::Internal(message);
  }
}

class PluginTool : public Tool {
 public:
  PluginTool(std::shared_ptr<PluginLibrary> lib, size_t index, ToolSpec spec)
      : lib_(std::move(lib)), index_(index), spec_(std::move(spec)) {}
  const ToolSpec& spec() const override { return spec_; }

  Result<ToolOutput> invoke(const nlohmann::json& args, ToolContext& ctx) override {
    if (ctx.stop.stop_requested()) return Status::Cancelled(spec_.name + ": cancelled before it started");
    HostCall h;
    h.ctx = &ctx;
    h.cap = std::max<size_t>(ctx.max_output_bytes, 1);
    std::string root = ctx.workspace ? ctx.workspace->root().string() : std::string();
    v4rt_call_context c{};
    c.struct_size = sizeof(v4rt_call_context);
    c.workspace_root = root.c_str();
    c.output_cap_bytes = h.cap;
    c.host = &h;
    c.is_cancelled = &host_is_cancelled;
    c.write = &host_write;
    c.set_error = &host_set_error;
    c.open_read = &host_open_read;
    std::string args_text = args.is_object() ? args.dump() : std::string("{}");
    const v4rt_plugin& t = lib_->table();
    // Serialise calls of non-read tools (the ABI promises concurrency only for read tools).
    std::unique_lock<std::mutex> lock(mu_, std::defer_lock);
    if (!spec_.read_only()) lock.lock();
    int rc = t.invoke(t.state, index_, args_text.c_str(), &c);
    if (rc != V4RT_STATUS_OK) return code_to_status(rc, std::move(h.error), spec_.name);
    if (h.cut) h.output += "\n[output cut at " + std::to_string(h.cap) + " bytes by the host]";
    return ToolOutput{std::move(h.output)};
  }

 private:
  std::shared_ptr<PluginLibrary> lib_;
  size_t index_;
  ToolSpec spec_;
  std::mutex mu_;
};

}  // namespace

std::vector<fs::path> plugin_files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".so" && it->is_regular_file(ec)) out.push_back(it->path());
  std::sort(out.begin(), out.end());
  return out;
}

Result<LoadedPluginInfo> load_plugin(const fs::path& file, ToolRegistry& registry) {
  const std::string where = "plugin " + file.string();
  std::error_code ec;
  if (!fs::exists(file, ec))
    return Status::NotFound(where + ": no such file; check the --plugin path or the plugins folder");
  // An absolute path, so dlopen never searches LD_LIBRARY_PATH for it.
  fs::path abs = fs::absolute(file, ec);
  dlerror();
  void* handle = dlopen(abs.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* e = dlerror();
    return Status::InvalidArgument(where + ": cannot be loaded (" + std::string(e ? e : "unknown error") +
                                   "); rebuild it against this v4rt and its libraries");
  }
  auto fail = [&](const std::string& why) {
    dlclose(handle);
    return Status::InvalidArgument(where + ": " + why);
  };
  void* sym = dlsym(handle, V4RT_PLUGIN_ENTRY_SYMBOL);
  if (!sym)
    return fail("exports no '" V4RT_PLUGIN_ENTRY_SYMBOL "' function; is it a v4rt plugin? (see docs/tools-sdk.md)");
  auto entry = reinterpret_cast<v4rt_plugin_entry_fn>(sym);
  const v4rt_plugin* t = entry(V4RT_PLUGIN_ABI_VERSION);
  if (!t) return fail("its entry function returned no table (the plugin refused to start)");
  if (t->abi_version != V4RT_PLUGIN_ABI_VERSION)
    return fail("built for plugin ABI version " + std::to_string(t->abi_version) + ", this v4rt speaks version " +
                std::to_string(V4RT_PLUGIN_ABI_VERSION) + "; rebuild it against this v4rt's v4rt_plugin.h");
  // From here the table is valid enough to destroy: the library owns both.
  auto lib = std::make_shared<PluginLibrary>(handle, t);
  auto bad = [&](const std::string& why) { return Status::InvalidArgument(where + ": " + why); };
  if (t->struct_size < sizeof(v4rt_plugin)) return bad("table is smaller than this ABI's v4rt_plugin");
  if (!valid_plugin_name(t->name)) return bad("plugin name must be 1-48 characters from [A-Za-z0-9_-]");
  if (!t->invoke) return bad("table has no invoke function");
  if (t->n_tools > 0 && !t->tools) return bad("table says it has tools but the tools array is null");
  if (t->n_tools > 1000) return bad("table declares " + std::to_string(t->n_tools) + " tools (at most 1000)");
  LoadedPluginInfo info;
  info.name = t->name;
  info.version = t->version ? t->version : "";
  info.path = abs;
  const std::string source = "plugin:" + info.name;
  for (Tool* existing : registry.list())
    if (registry.source(existing->spec().name) == source)
      return bad("a plugin named '" + info.name + "' is already loaded; remove one of the two files");
  std::vector<std::unique_ptr<Tool>> tools;
  for (size_t i = 0; i < t->n_tools; ++i) {
    const v4rt_tool_def& d = t->tools[i];
    std::string label = "tool #" + std::to_string(i);
    if (!valid_plugin_name(d.name)) return bad(label + ": name must be 1-48 characters from [A-Za-z0-9_-]");
    label = "tool '" + std::string(d.name) + "'";
    if (!d.description || !*d.description) return bad(label + " has no description");
    if (!d.parameters_json) return bad(label + " has no parameters schema");
    auto schema = nlohmann::json::parse(d.parameters_json, nullptr, false);
    if (schema.is_discarded() || !schema.is_object())
      return bad(label + ": parameters schema is not a JSON object");
    if (d.kind != V4RT_TOOL_KIND_OTHER && d.kind != V4RT_TOOL_KIND_READ)
      return bad(label + ": unknown kind " + std::to_string(d.kind));
    ToolSpec spec;
    spec.name = plugin_tool_name(d.name);
    spec.description = d.description;
    spec.parameters = std::move(schema);
    // Permissions treat every plugin tool as kOther (asks unless a rule
    // allows it); kRead only marks it safe to run concurrently, which the
    // registry cannot express separately, so read plugins are kOther too.
    spec.kind = ToolKind::kOther;
    spec.subject_arg = d.subject_arg ? d.subject_arg : "";
    for (const auto& other : tools)
      if (other->spec().name == spec.name) return bad(label + " is declared twice; rename one");
    if (registry.find(spec.name))
      return bad(label + " (" + spec.name + ") is already provided by " + registry.source(spec.name) +
                 "; remove one of the plugins or rename the tool");
    tools.push_back(std::make_unique<PluginTool>(lib, i, std::move(spec)));
  }
  for (auto& tool : tools) {
    info.tools.push_back(tool->spec().name);
    V4RT_RETURN_IF_ERROR(registry.add(std::move(tool), source));
  }
  return info;
}

}  // namespace v4rt::tools
