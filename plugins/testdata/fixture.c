/* Plugin fixtures for tests/tools/plugin_loader_test.cpp, one per FIXTURE_*
 * define: a good plain-C plugin ("echo", which also exercises the output cap
 * and cancellation) and plugins the loader must refuse. */
#include <string.h>

#include "v4rt_plugin.h"

#if defined(FIXTURE_UNDEFINED_SYMBOL)
/* Resolved by nothing: dlopen(RTLD_NOW) must fail. */
extern int v4rt_fixture_symbol_that_does_not_exist(void);
__attribute__((visibility("default"))) int fixture_use(void) { return v4rt_fixture_symbol_that_does_not_exist(); }
#endif

static int echo_invoke(void* state, size_t index, const char* args, const v4rt_call_context* ctx) {
  (void)state;
  if (index == 1) { /* "spin": writes until cancelled or capped */
    for (;;) {
      if (ctx->is_cancelled(ctx->host)) {
        ctx->set_error(ctx->host, "spin: cancelled");
        return V4RT_STATUS_CANCELLED;
      }
      if (ctx->write(ctx->host, "0123456789", 10)) return V4RT_STATUS_OK;
    }
  }
  if (strstr(args, "\"fail\"")) {
    ctx->set_error(ctx->host, "echo: asked to fail; drop the 'fail' argument");
    return V4RT_STATUS_INVALID_ARGUMENT;
  }
  ctx->write(ctx->host, "echo:", 5);
  ctx->write(ctx->host, args, strlen(args));
  return V4RT_STATUS_OK;
}

__attribute__((unused)) static const char kSchema[] = "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}}}";

static const v4rt_tool_def kTools[] = {
#if defined(FIXTURE_DUP_TOOL)
    {"echo", "Echoes its arguments.", kSchema, V4RT_TOOL_KIND_READ, 0},
#elif defined(FIXTURE_BAD_SCHEMA)
    {"broken", "Has a broken schema.", "{\"type\": \"object\",", V4RT_TOOL_KIND_OTHER, 0},
#else
    {"echo", "Echoes its arguments.", kSchema, V4RT_TOOL_KIND_READ, 0},
    {"spin", "Writes digits until cancelled or capped.", kSchema, V4RT_TOOL_KIND_OTHER, 0},
#endif
};

v4rt_plugin fixture_table = {
#if defined(FIXTURE_BAD_ABI)
    99u,
#else
    V4RT_PLUGIN_ABI_VERSION,
#endif
    sizeof(v4rt_plugin),
#if defined(FIXTURE_DUP_TOOL)
    "other_echo",
#else
    "echo",
#endif
    "1.0.0",
    sizeof(kTools) / sizeof(kTools[0]),
    kTools,
    0,
    echo_invoke,
    0};

#if !defined(FIXTURE_NO_ENTRY)
__attribute__((visibility("default"))) const v4rt_plugin* v4rt_plugin_entry(uint32_t host_abi_version) {
  (void)host_abi_version;
#if defined(FIXTURE_NULL_TABLE)
  return 0;
#else
  return &fixture_table;
#endif
}
#else
__attribute__((visibility("default"))) const v4rt_plugin* some_other_function(void) { return &fixture_table; }
#endif
