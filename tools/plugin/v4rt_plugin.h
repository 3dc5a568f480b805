/* v4rt_plugin.h: the C ABI of v4rt tool plugins (shared libraries).
 *
 * A plugin is a .so exporting one function,
 *
 *     const v4rt_plugin* v4rt_plugin_entry(uint32_t host_abi_version);
 *
 * that returns a table describing the plugin and its tools, or NULL when it
 * cannot serve this host (it may then print nothing; the host reports "entry
 * returned no table"). The host loads the library with
 * dlopen(RTLD_NOW | RTLD_LOCAL), refuses a table whose abi_version differs
 * from V4RT_PLUGIN_ABI_VERSION, validates every field, and calls destroy()
 * once before dlclose().
 *
 * Memory ownership (nothing is ever freed across the boundary):
 *  - Everything the plugin hands over (the table, names, descriptions, schema
 *    text) is owned by the plugin and must stay valid until destroy().
 *  - Everything the host hands over (arguments, the call context, strings it
 *    returns) is owned by the host and valid only during that call.
 *  - Results and error messages are passed by value through the context's
 *    write()/set_error(): the host copies the bytes before returning.
 *
 * Rules: plain C types only; no C++ exception may leave invoke() (the C++
 * helper v4rt_plugin.hpp catches them); invoke() may be called from several
 * threads at once only for tools of kind V4RT_TOOL_KIND_READ, so keep state
 * behind a lock or per call. A plugin runs inside the v4rt process with the
 * user's privileges: a crash takes v4rt down, so only install plugins you trust.
 */
#ifndef V4RT_PLUGIN_H_
#define V4RT_PLUGIN_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define V4RT_PLUGIN_ABI_VERSION 1u
#define V4RT_PLUGIN_ENTRY_SYMBOL "v4rt_plugin_entry"

/* Status codes returned by invoke() (0 = success). */
typedef enum v4rt_status_code {
  V4RT_STATUS_OK = 0,
  V4RT_STATUS_INVALID_ARGUMENT = 1, /* the model's arguments are wrong: say which and how */
  V4RT_STATUS_NOT_FOUND = 2,
  V4RT_STATUS_IO_ERROR = 3,
  V4RT_STATUS_CANCELLED = 4,        /* is_cancelled() said stop */
  V4RT_STATUS_RESOURCE_EXHAUSTED = 5,
  V4RT_STATUS_UNSUPPORTED = 6,
  V4RT_STATUS_INTERNAL = 7
} v4rt_status_code;

/* What a tool does, for the permission policy's default decision. The host
 * treats every plugin tool as V4RT_TOOL_KIND_OTHER for permissions (it asks
 * unless a rule allows it); READ additionally lets the host invoke the tool
 * concurrently with other read tools. */
typedef enum v4rt_tool_kind {
  V4RT_TOOL_KIND_OTHER = 0,
  V4RT_TOOL_KIND_READ = 1
} v4rt_tool_kind;

/* One invocation's view of the host. Valid only during invoke(). */
typedef struct v4rt_call_context {
  uint32_t struct_size;         /* sizeof(v4rt_call_context) of the host; newer fields go at the end */
  const char* workspace_root;   /* absolute path of the workspace (UTF-8, NUL-terminated) */
  size_t output_cap_bytes;      /* write() keeps at most this many bytes in total */
  void* host;                   /* opaque; pass it back to the functions below */
  /* Nonzero once the call should stop (Ctrl-C, budget): check it in loops. */
  int (*is_cancelled)(void* host);
  /* Appends len bytes to the tool's result text. Returns 0, or 1 when the cap
   * was reached (the excess is dropped; stop producing output). */
  int (*write)(void* host, const char* data, size_t len);
  /* Sets the error message shown to the model when invoke() returns nonzero
   * (copied; the last call wins). Name the thing, the fault and the next step. */
  void (*set_error)(void* host, const char* message);
  /* Opens a workspace-relative (or absolute, inside the workspace) path for
   * reading through v4rt's confinement layer: symlinks and ".." cannot leave
   * the workspace, and read deny rules apply. Returns a file descriptor that
   * the plugin owns and must close(), or -1 with the reason already passed to
   * set_error(). The only sanctioned way for a plugin to read a user file. */
  int (*open_read)(void* host, const char* path);
} v4rt_call_context;

typedef struct v4rt_tool_def {
  const char* name;             /* [A-Za-z0-9_-]{1,48}; the model sees "plugin__<name>" */
  const char* description;      /* one paragraph for the model */
  const char* parameters_json;  /* JSON schema object of the arguments ("type":"object") */
  uint32_t kind;                /* v4rt_tool_kind */
  const char* subject_arg;      /* argument that permission rules tool(pattern) match; NULL: none */
} v4rt_tool_def;

typedef struct v4rt_plugin {
  uint32_t abi_version;         /* V4RT_PLUGIN_ABI_VERSION the plugin was built against */
  uint32_t struct_size;         /* sizeof(v4rt_plugin) of the plugin */
  const char* name;             /* [A-Za-z0-9_-]{1,48} */
  const char* version;          /* free text, e.g. "1.2.0" */
  size_t n_tools;
  const v4rt_tool_def* tools;   /* n_tools entries */
  void* state;                  /* passed back to invoke() and destroy() */
  /* Runs tools[tool_index] with the model's arguments (a JSON object, UTF-8,
   * NUL-terminated). Writes the result through ctx->write(); returns
   * V4RT_STATUS_OK, or an error code after ctx->set_error(). */
  int (*invoke)(void* state, size_t tool_index, const char* args_json, const v4rt_call_context* ctx);
  /* Frees state; the table and its strings may be freed after it returns. May be NULL. */
  void (*destroy)(void* state);
} v4rt_plugin;

typedef const v4rt_plugin* (*v4rt_plugin_entry_fn)(uint32_t host_abi_version);

#ifdef __cplusplus
}
#endif

#endif /* V4RT_PLUGIN_H_ */
