// `v4rt session list|show|fork|rm|pin|unpin|gc|check|export|import`: manage
// the persistent KV session store (sessions::SessionStore). Thin: parse flags,
// call the store, print (text for people, --json for programs).
#include <unistd.h>

#include <cinttypes>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>

#include "agents/cli/commands.h"
#include "agents/cli/flags.h"
#include "base/state_dirs.h"
#include "base/terminal_text.h"
#include "sessions/session_store.h"

namespace v4rt::cli {
namespace {

constexpr const char* kSubcommands =
    "usage: v4rt session <subcommand> [flags] [args]\n\n"
    "Manage the persistent KV session store (see docs/sessions.md).\n\n"
    "subcommands:\n"
    "  list                 sessions with their tokens, saved state and size\n"
    "  show NAME            one session: points, tokens, transcript\n"
    "  fork SRC DST         copy-on-write fork (--at N: at a saved point of N tokens)\n"
    "  rm NAME...           remove sessions (their blocks go when no one else uses them)\n"
    "  pin NAME / unpin NAME  protect a session's blocks from eviction\n"
    "  gc                   drop unreferenced blocks and files, enforce --budget, compact\n"
    "  check                verify the index and every block checksum (exit 1 on problems)\n"
    "  export NAME FILE     write a session to one portable file\n"
    "  import FILE          read a file made by export (--name to rename)\n\n"
    "Every subcommand takes --store DIR (env V4RT_STORE; default $XDG_DATA_HOME/v4rt/store)\n"
    "and --json. Run 'v4rt session <subcommand> --help' for its flags.\n";

struct Common {
  std::string store;
  bool json = false;
  void declare(FlagSet& f) {
    f.add_string("store", &store, "session store directory (default: $XDG_DATA_HOME/v4rt/store)", "DIR",
                 "V4RT_STORE");
    f.add_bool("json", &json, "print one JSON object on stdout");
  }
  std::filesystem::path dir() const { return store.empty() ? default_store_dir() : std::filesystem::path(store); }
};

// Parses flags; returns -1 to go on, else the exit code to return.
int parse(FlagSet& f, int argc, char** argv, const std::string& usage, size_t min_pos, size_t max_pos) {
  if (Status s = f.parse(argc, argv); !s.ok()) return report(s, usage + " --help");
  if (f.help_requested()) {
    std::fputs(f.help().c_str(), stdout);
    return 0;
  }
  size_t n = f.positional().size();
  if (n < min_pos || n > max_pos)
    return report(Status::InvalidArgument("expected " +
                                          (min_pos == max_pos ? std::to_string(min_pos)
                                                              : std::to_string(min_pos) + ".." + std::to_string(max_pos)) +
                                          " argument(s), got " + std::to_string(n)),
                  usage + " --help");
  return -1;
}

// Only import creates a store; the other subcommands need an existing one.
Result<std::unique_ptr<sessions::SessionStore>> open_store(const Common& c, uint64_t budget = 0, bool create = false) {
  std::filesystem::path dir = c.dir();
  if (dir.empty()) return Status::InvalidArgument("no store directory: set --store DIR (HOME and XDG_DATA_HOME are unset)");
  sessions::StoreOptions o;
  o.budget_bytes = budget;
  o.create_if_missing = create;
  return sessions::SessionStore::open(dir, o);
}

std::string iso_time(int64_t us) {
  std::time_t t = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string human_bytes(uint64_t b) {
  char buf[32];
  if (b >= (1ull << 30)) std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(b) / (1ull << 30));
  else if (b >= (1ull << 20)) std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(b) / (1ull << 20));
  else if (b >= 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(b) / 1024);
  else std::snprintf(buf, sizeof buf, "%" PRIu64 " B", b);
  return buf;
}

nlohmann::json to_json(const sessions::SessionInfo& s, bool full) {
  nlohmann::json j;
  j["name"] = s.name;
  j["fingerprint"] = s.fingerprint;
  j["tokens"] = s.n_tokens;
  j["head_tokens"] = s.head_tokens;
  j["pinned"] = s.pinned;
  j["state_bytes"] = s.state_bytes;
  j["created"] = iso_time(s.created_us);
  j["updated"] = iso_time(s.updated_us);
  nlohmann::json pts = nlohmann::json::array();
  for (const auto& p : s.points)
    pts.push_back({{"tokens", p.n_tokens}, {"kind", sessions::point_kind_name(p.kind)}, {"created", iso_time(p.created_us)}});
  j["points"] = pts;
  if (full) {
    j["token_ids"] = s.tokens;
    nlohmann::json t = nlohmann::json::parse(s.transcript_json, nullptr, false);
    j["transcript"] = t.is_discarded() ? nlohmann::json(s.transcript_json) : t;
  }
  return j;
}

void print_json(const nlohmann::json& j) { std::printf("%s\n", j.dump().c_str()); }

int cmd_list(int argc, char** argv) {
  Common c;
  FlagSet f("v4rt session list [flags]", "List the sessions of a store.", "v4rt session list --json");
  c.declare(f);
  if (int rc = parse(f, argc, argv, "v4rt session list", 0, 0); rc >= 0) return rc;
  // A fresh machine has no default store yet: that is an empty list, not an
  // error (a --store that names no store still is one).
  if (std::filesystem::path dir = c.dir(); c.store.empty() && !dir.empty() && !std::filesystem::exists(dir / "index.db")) {
    if (c.json) print_json({{"store", {{"dir", dir.string()}}}, {"sessions", nlohmann::json::array()}});
    else std::printf("no sessions yet (store %s)\n", terminal_safe(dir.string()).c_str());
    return 0;
  }
  auto store = open_store(c);
  if (!store) return report(store.status());
  auto list = (*store)->list();
  if (!list) return report(list.status());
  auto st = (*store)->stats();
  if (!st) return report(st.status());
  if (c.json) {
    nlohmann::json j;
    j["store"] = {{"dir", (*store)->dir().string()}, {"blocks", st->blocks}, {"points", st->points},
                  {"block_bytes", st->block_bytes}, {"tail_bytes", st->tail_bytes}, {"block_tokens", st->block_tokens}};
    j["sessions"] = nlohmann::json::array();
    for (const auto& s : *list) j["sessions"].push_back(to_json(s, false));
    print_json(j);
    return 0;
  }
  std::printf("%-24s %10s %10s %6s %10s  %s\n", "NAME", "TOKENS", "SAVED", "PINNED", "SIZE", "UPDATED");
  for (const auto& s : *list)
    std::printf("%-24s %10" PRId64 " %10" PRId64 " %6s %10s  %s\n", s.name.c_str(), s.n_tokens, s.head_tokens,
                s.pinned ? "yes" : "", human_bytes(s.state_bytes).c_str(), iso_time(s.updated_us).c_str());
  std::printf("store %s: %" PRId64 " blocks, %" PRId64 " points, %s\n", (*store)->dir().c_str(), st->blocks, st->points,
              human_bytes(st->block_bytes + st->tail_bytes).c_str());
  return 0;
}

int cmd_show(int argc, char** argv) {
  Common c;
  bool tokens = false;
  FlagSet f("v4rt session show NAME [flags]", "Show one session: saved points, transcript, token ids.",
            "v4rt session show chat1 --json");
  c.declare(f);
  f.add_bool("tokens", &tokens, "also print the token ids (text mode)");
  if (int rc = parse(f, argc, argv, "v4rt session show", 1, 1); rc >= 0) return rc;
  auto store = open_store(c);
  if (!store) return report(store.status());
  auto s = (*store)->show(f.positional()[0]);
  if (!s) return report(s.status());
  if (c.json) {
    print_json(to_json(*s, true));
    return 0;
  }
  std::printf("session      %s\nmodel        %s\ntokens       %" PRId64 "\nsaved state  %" PRId64 " tokens%s\n",
              s->name.c_str(), s->fingerprint.c_str(), s->n_tokens, s->head_tokens,
              s->head_point ? "" : " (none: evicted or never saved)");
  std::printf("pinned       %s\nsize         %s\nupdated      %s\npoints      ", s->pinned ? "yes" : "no",
              human_bytes(s->state_bytes).c_str(), iso_time(s->updated_us).c_str());
  for (const auto& p : s->points) std::printf(" %" PRId64 "(%s)", p.n_tokens, sessions::point_kind_name(p.kind));
  std::printf("\ntranscript   %s\n", s->transcript_json.c_str());
  if (tokens) {
    std::printf("token ids   ");
    for (int32_t t : s->tokens) std::printf(" %d", t);
    std::printf("\n");
  }
  return 0;
}

int cmd_fork(int argc, char** argv) {
  Common c;
  long long at = -1;
  FlagSet f("v4rt session fork SRC DST [flags]",
            "Fork a session (copy-on-write: the new session shares every stored block).",
            "v4rt session fork chat1 chat1-alt --at 4096");
  c.declare(f);
  f.add_int("at", &at, "fork at the saved point of this many tokens (default: the head)");
  if (int rc = parse(f, argc, argv, "v4rt session fork", 2, 2); rc >= 0) return rc;
  auto store = open_store(c);
  if (!store) return report(store.status());
  std::optional<int64_t> at_tokens;
  if (f.was_set("at")) at_tokens = at;
  if (Status s = (*store)->fork(f.positional()[0], f.positional()[1], at_tokens); !s.ok()) return report(s);
  if (c.json) print_json({{"forked", f.positional()[0]}, {"into", f.positional()[1]}});
  return 0;
}

int cmd_rm(int argc, char** argv) {
  Common c;
  FlagSet f("v4rt session rm NAME... [flags]", "Remove sessions; blocks no other session uses are freed.",
            "v4rt session rm chat1");
  c.declare(f);
  if (int rc = parse(f, argc, argv, "v4rt session rm", 1, 1 << 20); rc >= 0) return rc;
  auto store = open_store(c);
  if (!store) return report(store.status());
  for (const auto& name : f.positional())
    if (Status s = (*store)->remove(name); !s.ok()) return report(s);
  if (c.json) print_json({{"removed", f.positional()}});
  return 0;
}

int cmd_pin(int argc, char** argv, bool pin) {
  Common c;
  std::string usage = pin ? "v4rt session pin" : "v4rt session unpin";
  FlagSet f(usage + " NAME [flags]",
            pin ? "Pin a session: eviction never touches its blocks." : "Unpin a session: its blocks may be evicted.",
            usage + " chat1");
  c.declare(f);
  if (int rc = parse(f, argc, argv, usage, 1, 1); rc >= 0) return rc;
  auto store = open_store(c);
  if (!store) return report(store.status());
  if (Status s = (*store)->set_pinned(f.positional()[0], pin); !s.ok()) return report(s);
  if (c.json) print_json({{"name", f.positional()[0]}, {"pinned", pin}});
  return 0;
}

int cmd_gc(int argc, char** argv) {
  Common c;
  long long grace = 3600, budget = 0;
  bool repair = false;
  FlagSet f("v4rt session gc [flags]",
            "Reclaim space: drop unreferenced blocks and leftover files (older than --grace), evict least-recently "
            "used unpinned blocks down to --budget, compact the index.",
            "v4rt session gc --budget 200000000000");
  c.declare(f);
  f.add_int("grace", &grace, "keep unreferenced files younger than this many seconds (a save may be running)");
  f.add_int("budget", &budget, "evict down to this many bytes of blocks + tails (0: no eviction)", "V4RT_STORE_BUDGET");
  f.add_bool("repair", &repair, "verify every file and drop the points that use a damaged one");
  if (int rc = parse(f, argc, argv, "v4rt session gc", 0, 0); rc >= 0) return rc;
  if (grace < 0 || budget < 0) return report(Status::InvalidArgument("--grace and --budget must be >= 0"), "v4rt session gc --help");
  auto store = open_store(c, static_cast<uint64_t>(budget));
  if (!store) return report(store.status());
  sessions::GcOptions o;
  o.grace_s = grace;
  o.repair = repair;
  auto r = (*store)->gc(o);
  if (!r) return report(r.status());
  if (c.json) {
    print_json({{"files_removed", r->files_removed}, {"bytes_freed", r->bytes_freed}, {"points_dropped", r->points_dropped}});
  } else {
    std::printf("removed %" PRId64 " files (%s), dropped %" PRId64 " saved points\n", r->files_removed,
                human_bytes(r->bytes_freed).c_str(), r->points_dropped);
  }
  return 0;
}

int cmd_check(int argc, char** argv) {
  Common c;
  bool quick = false;
  FlagSet f("v4rt session check [flags]",
            "Check the store: index integrity, refcounts, every file present and (unless --quick) its checksum. "
            "Exit 1 when something is wrong.",
            "v4rt session check --json");
  c.declare(f);
  f.add_bool("quick", &quick, "check file sizes only, not checksums");
  if (int rc = parse(f, argc, argv, "v4rt session check", 0, 0); rc >= 0) return rc;
  auto store = open_store(c);
  if (!store) return report(store.status());
  auto r = (*store)->check(!quick);
  if (!r) return report(r.status());
  if (c.json) {
    print_json({{"ok", r->ok()}, {"problems", r->problems}, {"blocks", r->blocks}, {"points", r->points},
                {"sessions", r->sessions}, {"orphan_files", r->orphan_files}, {"orphan_bytes", r->orphan_bytes}});
  } else {
    std::printf("%" PRId64 " sessions, %" PRId64 " points, %" PRId64 " blocks checked; %" PRId64
                " leftover files (%s, 'v4rt session gc' removes them)\n",
                r->sessions, r->points, r->blocks, r->orphan_files, human_bytes(r->orphan_bytes).c_str());
    for (const auto& p : r->problems) std::fprintf(stderr, "problem: %s\n", p.c_str());
    if (!r->ok()) std::fprintf(stderr, "v4rt: store has %zu problem(s); 'v4rt session gc --repair' drops what uses damaged files\n", r->problems.size());
  }
  return r->ok() ? 0 : 1;
}

int cmd_export(int argc, char** argv) {
  Common c;
  FlagSet f("v4rt session export NAME FILE [flags]", "Write a session (state, tokens, transcript) to one portable file.",
            "v4rt session export chat1 chat1.v4rtsession");
  c.declare(f);
  if (int rc = parse(f, argc, argv, "v4rt session export", 2, 2); rc >= 0) return rc;
  auto store = open_store(c);
  if (!store) return report(store.status());
  // Absolute: a bare relative name ("out.file") has an empty parent, which the durable write cannot sync.
  std::error_code ec;
  std::filesystem::path out = std::filesystem::absolute(f.positional()[1], ec);
  if (ec) out = f.positional()[1];
  if (Status s = (*store)->export_session(f.positional()[0], out); !s.ok()) return report(s);
  if (c.json) print_json({{"exported", f.positional()[0]}, {"file", f.positional()[1]}});
  return 0;
}

int cmd_import(int argc, char** argv) {
  Common c;
  std::string name;
  FlagSet f("v4rt session import FILE [flags]", "Import a session written by 'v4rt session export'.",
            "v4rt session import chat1.v4rtsession --name chat1-copy");
  c.declare(f);
  f.add_string("name", &name, "session name (default: the exported one)", "NAME");
  if (int rc = parse(f, argc, argv, "v4rt session import", 1, 1); rc >= 0) return rc;
  auto store = open_store(c, 0, /*create=*/true);
  if (!store) return report(store.status());
  if (Status s = (*store)->import_session(f.positional()[0], name); !s.ok()) return report(s);
  if (c.json) print_json({{"imported", f.positional()[0]}, {"name", name}});
  return 0;
}

}  // namespace

int cmd_session(int argc, char** argv) {
  if (argc < 1) {
    std::fputs(kSubcommands, stderr);
    return 2;
  }
  std::string sub = argv[0];
  if (sub == "--help" || sub == "-h" || sub == "help") {
    std::fputs(kSubcommands, stdout);
    return 0;
  }
  int n = argc - 1;
  char** a = argv + 1;
  if (sub == "list") return cmd_list(n, a);
  if (sub == "show") return cmd_show(n, a);
  if (sub == "fork") return cmd_fork(n, a);
  if (sub == "rm") return cmd_rm(n, a);
  if (sub == "pin") return cmd_pin(n, a, true);
  if (sub == "unpin") return cmd_pin(n, a, false);
  if (sub == "gc") return cmd_gc(n, a);
  if (sub == "check") return cmd_check(n, a);
  if (sub == "export") return cmd_export(n, a);
  if (sub == "import") return cmd_import(n, a);
  std::fprintf(stderr, "v4rt session: unknown subcommand '%s'\nhint: run 'v4rt session --help'\n", sub.c_str());
  return 2;
}

}  // namespace v4rt::cli
