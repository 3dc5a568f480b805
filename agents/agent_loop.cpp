#include "agents/agent_loop.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include "parsers/dsml_stream.h"
#include "parsers/json_schema.h"
#include "parsers/tool_call.h"
#include "tools/workspace.h"

namespace v4rt::agents {

namespace {

using Clock = std::chrono::steady_clock;

nlohmann::json to_plain(const nlohmann::ordered_json& j) { return nlohmann::json::parse(j.dump()); }
nlohmann::ordered_json to_ordered(const nlohmann::json& j) { return nlohmann::ordered_json::parse(j.dump()); }

// Models often quote numbers and booleans (string="true"): accept "12" for an
// integer and "true"/"false" for a boolean when the schema says so.
void coerce_scalars(const nlohmann::json& schema, nlohmann::json& args) {
  if (!args.is_object() || !schema.contains("properties") || !schema["properties"].is_object()) return;
  for (auto& [k, v] : args.items()) {
    if (!v.is_string() || !schema["properties"].contains(k)) continue;
    const auto& p = schema["properties"][k];
    if (!p.is_object() || !p.contains("type") || !p["type"].is_string()) continue;
    const std::string type = p["type"].get<std::string>();
    const std::string str = v.get<std::string>();
    if (type == "integer" && !str.empty() && str.size() < 19 &&
        str.find_first_not_of("-0123456789") == std::string::npos && str.find('-', 1) == std::string::npos &&
        str != "-")
      v = std::stoll(str);
    else if (type == "boolean" && (str == "true" || str == "false"))
      v = str == "true";
  }
}

}  // namespace

std::string check_arguments(const nlohmann::json& schema, nlohmann::json& args) {
  if (!args.is_object()) return "arguments must be an object\n";
  coerce_scalars(schema, args);
  std::string out;
  for (const auto& e : parsers::validate_json(to_ordered(args), to_ordered(schema)))
    out += (e.pointer.empty() ? std::string("arguments") : "argument " + e.pointer) + ": " + e.message + "\n";
  // Unknown keys are usually typos ("pathh"): say so even where the schema allows extras.
  if (schema.contains("properties") && schema["properties"].is_object()) {
    const auto& props = schema["properties"];
    for (const auto& [k, v] : args.items()) {
      if (props.contains(k)) continue;
      std::string known;
      for (const auto& [pk, pv] : props.items()) known += (known.empty() ? "" : ", ") + pk;
      out += "unknown argument '" + k + "' (known: " + known + ")\n";
    }
  }
  return out;
}

nlohmann::ordered_json make_system_message(const std::string& instructions, const tools::ToolRegistry& registry) {
  nlohmann::ordered_json m = nlohmann::ordered_json::object();
  m["role"] = "system";
  m["content"] = instructions;
  m["tools"] = to_ordered(registry.declarations());
  return m;
}

struct AgentLoop::Call {
  std::string id, name;
  nlohmann::json args;
  tools::Tool* tool = nullptr;
  bool runnable = false;
  std::string result;
  bool is_error = false;
};

AgentLoop::AgentLoop(ModelBackend& backend, tools::ToolRegistry& registry, tools::ToolContext base,
                     tools::PermissionPolicy& policy, const tools::Sandbox* sandbox, const tools::Hooks* hooks,
                     Approver approver, AgentOptions options)
    : backend_(backend),
      registry_(registry),
      base_(base),
      policy_(policy),
      sandbox_(sandbox),
      hooks_(hooks),
      approver_(std::move(approver)),
      options_(std::move(options)) {}

void AgentLoop::process_calls(std::vector<Call>& calls, AgentObserver* observer, std::stop_token stop) {
  auto emit = [&](const AgentEvent& e) {
    if (observer) observer->on_event(e);
  };
  // 1. Validate, decide permissions, run pre-hooks: in order, one at a time.
  for (Call& c : calls) {
    AgentEvent ev;
    ev.kind = AgentEvent::Kind::kToolCall;
    ev.id = c.id;
    ev.name = c.name;
    ev.arguments = c.args;
    emit(ev);
    if (c.is_error) continue;  // arguments did not decode
    c.tool = registry_.find(c.name);
    if (!c.tool) {
      c.is_error = true;
      std::string names;
      for (const auto& n : registry_.names()) names += (names.empty() ? "" : ", ") + n;
      c.result = "unknown tool '" + c.name + "'; the available tools are: " + names;
      continue;
    }
    if (!options_.default_cwd.empty() && c.args.is_object() && !c.args.contains("cwd") &&
        c.tool->spec().parameters.contains("properties") &&
        c.tool->spec().parameters["properties"].contains("cwd"))
      c.args["cwd"] = options_.default_cwd;
    std::string problems = check_arguments(c.tool->spec().parameters, c.args);
    if (!problems.empty()) {
      c.is_error = true;
      c.result = "invalid arguments for " + c.name + ":\n" + problems + "Fix the call and try again.";
      continue;
    }
    tools::PermissionRequest req;
    req.tool = c.name;
    req.kind = c.tool->spec().kind;
    const std::string& sa = c.tool->spec().subject_arg;
    if (!sa.empty() && c.args.contains(sa) && c.args[sa].is_string()) req.subject = c.args[sa].get<std::string>();
    req.sandboxed = sandbox_ ? sandbox_->enabled() : false;
    req.workspace = base_.workspace;
    if (req.kind == tools::ToolKind::kExecute && c.args.contains("cwd") && c.args["cwd"].is_string())
      req.cwd = c.args["cwd"].get<std::string>();
    tools::PermissionVerdict v;
    // Path rules see the canonical paths the call touches ("./x", absolute
    // paths inside the workspace and symlinks all name the file they reach).
    Result<std::vector<std::string>> touched = std::vector<std::string>{};
    if (req.kind == tools::ToolKind::kRead || req.kind == tools::ToolKind::kEdit)
      touched = c.tool->touched_paths(c.args, base_);
    if (!touched.ok()) {
      v = {tools::Decision::kDeny, touched.status().message()};
    } else {
      req.paths = std::move(*touched);
      v = policy_.decide(req);
    }
    if (v.decision == tools::Decision::kAsk) {
      if (approver_) {
        Approval d = approver_(req, v.reason);
        v.decision = d.decision == tools::Decision::kAllow ? tools::Decision::kAllow : tools::Decision::kDeny;
        v.reason = v.decision == tools::Decision::kAllow ? "approved by the user"
                   : d.note.empty()                      ? "refused by the user"
                                                         : "refused by the user, who says: " + d.note;
      } else {
        v.decision = tools::Decision::kDeny;
        if (req.kind == tools::ToolKind::kExecute && !req.subject.empty())
          v.reason += "; not interactive, so refused (pre-approve commands with --allow 'shell(PATTERN)': every "
                      "command of the line must match an allow rule, or choose --permission-mode)";
        else
          v.reason += "; not interactive, so refused (pre-approve with --allow '" + c.name +
                      (req.subject.empty() ? "" : "(" + req.subject + ")") + "' or choose --permission-mode)";
      }
    }
    AgentEvent pe;
    pe.kind = AgentEvent::Kind::kPermission;
    pe.id = c.id;
    pe.name = c.name;
    pe.decision = std::string(tools::decision_name(v.decision));
    pe.reason = v.reason;
    emit(pe);
    if (v.decision != tools::Decision::kAllow) {
      c.is_error = true;
      c.result = "permission denied for " + c.name + ": " + v.reason +
                 ". Do not retry the same call; choose another approach or ask the user.";
      continue;
    }
    if (hooks_) {
      tools::HookOutcome h = hooks_->run_pre(base_.workspace ? base_.workspace->root() : std::filesystem::path(),
                                             c.name, c.args);
      if (h.blocked) {
        c.is_error = true;
        c.result = h.message;
        continue;
      }
    }
    c.runnable = true;
  }
  // 2. Run: consecutive read-only calls together, the others one by one.
  auto run_one = [&](Call& c) {
    tools::ToolContext ctx = base_;
    ctx.stop = stop;
    // Multi-file readers (grep, glob, list) leave out files that path deny/ask rules hide.
    if (policy_.has_read_path_rules()) {
      auto outer = base_.may_read;
      const tools::Workspace* ws = base_.workspace;
      ctx.may_read = [this, outer, ws](const std::string& rel) {
        if (!policy_.may_read(rel) || (outer && !outer(rel))) return false;
        if (!ws) return true;
        // A symlink inside the workspace names the file it reaches: judge that too.
        auto abs = ws->resolve(rel);
        if (!abs) return false;
        std::string canonical = ws->relative(*abs);
        return canonical == rel || policy_.may_read(canonical);
      };
    }
    ctx.max_output_bytes = options_.max_tool_output_bytes;
    Result<tools::ToolOutput> r = c.tool->invoke(c.args, ctx);
    if (r.ok()) {
      c.result = r->text;
    } else {
      c.is_error = true;
      c.result = r.status().message();
    }
  };
  for (size_t i = 0; i < calls.size();) {
    if (!calls[i].runnable) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    if (calls[i].tool->spec().read_only())
      while (j < calls.size() && calls[j].runnable && calls[j].tool->spec().read_only() &&
             static_cast<int>(j - i) < options_.max_parallel_tools)
        ++j;
    if (stop.stop_requested()) {
      for (size_t k = i; k < j; ++k) {
        calls[k].is_error = true;
        calls[k].result = "cancelled by the user before it ran";
      }
    } else if (j - i == 1) {
      run_one(calls[i]);
    } else {
      std::vector<std::thread> threads;
      for (size_t k = i; k < j; ++k) threads.emplace_back([&, k] { run_one(calls[k]); });
      for (auto& t : threads) t.join();
    }
    i = j;
  }
  // 3. Post-hooks, caps, events.
  for (Call& c : calls) {
    if (c.is_error) c.result = "error: " + c.result;
    c.result = tools::truncate_middle(c.result, options_.max_tool_output_bytes);
    if (hooks_ && c.runnable)
      c.result += hooks_->run_post(base_.workspace ? base_.workspace->root() : std::filesystem::path(), c.name,
                                   c.args, c.result, c.is_error);
    AgentEvent ev;
    ev.kind = AgentEvent::Kind::kToolResult;
    ev.id = c.id;
    ev.name = c.name;
    ev.is_error = c.is_error;
    ev.text = c.result;
    emit(ev);
  }
}

Result<RunSummary> AgentLoop::run(nlohmann::ordered_json& messages, const Budget& budget, AgentObserver* observer,
                                  std::stop_token user_stop) {
  auto emit = [&](const AgentEvent& e) {
    if (observer) observer->on_event(e);
  };
  RunSummary s;
  auto t0 = Clock::now();
  // One stop for the run: the caller's (Ctrl-C) or the wall-time deadline,
  // which a watcher requests on time, so a running tool (its process group)
  // or model turn is cut within a moment, not when it ends by itself.
  std::stop_source run_stop;
  std::stop_callback forward_user_stop(user_stop, [&run_stop] { run_stop.request_stop(); });
  std::atomic<bool> deadline_hit{false};
  std::jthread deadline;
  if (budget.max_wall_s > 0)
    deadline = std::jthread([&run_stop, &deadline_hit, t0, limit = budget.max_wall_s](std::stop_token st) {
      auto until = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limit));
      std::mutex m;
      std::condition_variable_any cv;
      std::unique_lock<std::mutex> lock(m);
      if (!cv.wait_until(lock, st, until, [] { return false; }) && !st.stop_requested()) {
        deadline_hit = true;
        run_stop.request_stop();
      }
    });
  std::stop_token stop = run_stop.get_token();
  auto stopped_reason = [&] { return deadline_hit ? "wall_time" : "cancelled"; };
  const bool thinking = options_.chat.thinking_mode == parsers::ThinkingMode::kThinking;
  int parse_errors = 0;
  int64_t last_prompt_tokens = 0;
  for (int step = 1;; ++step) {
    double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    if (stop.stop_requested()) { s.stop_reason = stopped_reason(); break; }
    if (step > budget.max_steps) { s.stop_reason = "max_steps"; break; }
    if (budget.max_wall_s > 0 && elapsed > budget.max_wall_s) { s.stop_reason = "wall_time"; break; }
    if (budget.max_total_tokens > 0 && s.generated_tokens >= budget.max_total_tokens) {
      s.stop_reason = "max_tokens";
      break;
    }
    if (compactor_ && options_.context_limit_tokens > 0 &&
        static_cast<double>(last_prompt_tokens) > options_.compact_at * static_cast<double>(options_.context_limit_tokens)) {
      std::string what = compactor_(messages);
      if (!what.empty()) {
        AgentEvent ce;
        ce.kind = AgentEvent::Kind::kCompacted;
        ce.text = what;
        emit(ce);
      }
    }
    const bool structured_backend = backend_.takes_messages();
    // Text plus the encoder's structure: the backend matches special tokens
    // only there, so tool results, files and the task stay literal. A chat
    // backend sends the messages themselves and does its own rendering remotely.
    Result<parsers::RenderedPrompt> prompt = parsers::RenderedPrompt{};
    if (!structured_backend) {
      prompt = encoder_.render_prompt(messages, options_.chat);
      if (!prompt.ok()) return prompt.status().with_context("agent loop: rendering the conversation");
    }
    AgentEvent ts;
    ts.kind = AgentEvent::Kind::kTurnStart;
    ts.step = step;
    emit(ts);

    parsers::DsmlOptions dopts;
    dopts.thinking = thinking;
    parsers::DsmlStream stream(dopts);
    std::vector<parsers::DsmlEvent> evs;
    auto emit_delta = [&](AgentEvent::Kind kind, std::string text) {
      AgentEvent d;
      d.kind = kind;
      d.step = step;
      d.text = std::move(text);
      emit(d);
    };
    auto forward = [&]() {
      for (const auto& e : evs) {
        if (e.kind == parsers::DsmlEvent::Kind::kText || e.kind == parsers::DsmlEvent::Kind::kReasoning)
          emit_delta(e.kind == parsers::DsmlEvent::Kind::kText ? AgentEvent::Kind::kText : AgentEvent::Kind::kReasoning,
                     e.text);
      }
      evs.clear();
    };
    CompletionOptions copts;
    copts.max_tokens = budget.max_tokens_per_turn;
    copts.stop = stop;
    Result<Completion> completion =
        structured_backend
            ? backend_.complete_messages(messages, options_.chat, copts,
                                         [&](DeltaKind kind, std::string_view piece) {
                                           emit_delta(kind == DeltaKind::kText ? AgentEvent::Kind::kText
                                                                               : AgentEvent::Kind::kReasoning,
                                                      std::string(piece));
                                           return !stop.stop_requested();
                                         })
            : backend_.complete(*prompt, copts, [&](std::string_view piece) {
                stream.feed(piece, evs);
                forward();
                return !stop.stop_requested();
              });
    if (completion.ok() && structured_backend && !completion->structured)
      completion = Status::Internal(backend_.describe() + ": complete_messages() returned no structured turn");
    if (!completion.ok()) {
      s.stop_reason = "backend_error";
      s.backend_status = completion.status();
      break;
    }
    if (!structured_backend) {
      stream.finish(evs);
      forward();
    }
    s.steps = step;
    s.prompt_tokens = completion->prompt_tokens;
    last_prompt_tokens = completion->prompt_tokens;
    s.reused_tokens += completion->reused_tokens;
    s.generated_tokens += completion->generated_tokens;
    s.prefill_s += completion->prefill_s;
    s.decode_s += completion->decode_s;
    AgentEvent te;
    te.kind = AgentEvent::Kind::kTurnEnd;
    te.step = step;
    te.prompt_tokens = completion->prompt_tokens;
    te.reused_tokens = completion->reused_tokens;
    te.generated_tokens = completion->generated_tokens;
    te.prefill_s = completion->prefill_s;
    te.decode_s = completion->decode_s;
    if (completion->ttft_s >= 0) te.extra["ttft_s"] = completion->ttft_s;
    if (completion->retries > 0) te.extra["retries"] = completion->retries;
    emit(te);

    parsers::ParsedMessage parsed;
    if (structured_backend) {
      const StructuredTurn& st = *completion->structured;
      parsed.content = st.content;
      parsed.reasoning_content = st.reasoning;
      for (const auto& tc : st.tool_calls) parsed.tool_calls.push_back({tc.name, tc.arguments, {}});
    } else {
      parsed = stream.result();
    }
    nlohmann::ordered_json am = nlohmann::ordered_json::object();
    am["role"] = "assistant";
    am["content"] = parsed.content;
    if (thinking || !parsed.reasoning_content.empty()) am["reasoning_content"] = parsed.reasoning_content;
    if (!structured_backend) am["raw"] = completion->text;
    if (completion->cancelled) {
      messages.push_back(am);
      s.stop_reason = stopped_reason();
      break;
    }
    if (const parsers::ParseError* err = structured_backend ? nullptr : stream.error()) {
      // The raw text stays in history (byte-stable prompt); a notice tells the model what to fix.
      am.erase("raw");
      am["content"] = "";
      if (thinking) am["reasoning_content"] = "";
      messages.push_back(am);
      std::string notice = "[v4rt] Your previous message could not be parsed (" + err->category + ": " +
                           err->message +
                           "). Call tools exactly in the DSML format described in the Tools section, or "
                           "answer in plain text without tool calls.";
      nlohmann::ordered_json um = nlohmann::ordered_json::object();
      um["role"] = "user";
      um["content"] = notice;
      messages.push_back(um);
      AgentEvent pe;
      pe.kind = AgentEvent::Kind::kParseError;
      pe.step = step;
      pe.text = err->category + ": " + err->message;
      emit(pe);
      if (++parse_errors >= budget.max_parse_errors) {
        s.stop_reason = "parse_errors";
        break;
      }
      continue;
    }
    parse_errors = 0;
    if (parsed.tool_calls.empty()) {
      messages.push_back(am);
      s.final_text = parsed.content;
      s.stop_reason = completion->hit_max_tokens ? "max_tokens" : "answered";
      break;
    }
    std::vector<Call> calls;
    nlohmann::ordered_json tcs = nlohmann::ordered_json::array();
    for (size_t i = 0; i < parsed.tool_calls.size(); ++i) {
      const parsers::ToolCall& tc = parsed.tool_calls[i];
      Call c;
      c.id = "call_" + std::to_string(step) + "_" + std::to_string(i + 1);
      c.name = tc.name;
      if (structured_backend) {
        // A chat API's arguments are JSON text; the server's id orders the results.
        const std::string& sid = completion->structured->tool_calls[i].id;
        if (!sid.empty()) c.id = sid;
        nlohmann::json a = nlohmann::json::parse(tc.arguments.empty() ? "{}" : tc.arguments, nullptr, false);
        if (a.is_discarded() || !a.is_object()) {
          c.is_error = true;
          c.result = "invalid arguments for " + tc.name + ": not a JSON object: " +
                     tools::truncate_middle(tc.arguments, 400);
          c.args = nlohmann::json::object();
        } else {
          c.args = std::move(a);
        }
      } else {
        parsers::TypedArguments ta = parsers::typed_arguments(tc);
        c.args = to_plain(ta.object);
        if (!ta.errors.empty()) {
          c.is_error = true;
          c.result = "invalid arguments for " + tc.name + ":";
          for (const auto& e : ta.errors) c.result += "\n" + e;
        }
      }
      nlohmann::ordered_json fn = nlohmann::ordered_json::object();
      fn["name"] = tc.name;
      fn["arguments"] = tc.arguments;
      nlohmann::ordered_json entry = nlohmann::ordered_json::object();
      entry["id"] = c.id;
      entry["type"] = "function";
      entry["function"] = fn;
      tcs.push_back(entry);
      calls.push_back(std::move(c));
    }
    am["tool_calls"] = tcs;
    messages.push_back(am);
    process_calls(calls, observer, stop);
    for (const Call& c : calls) {
      ++s.tool_calls;
      s.tool_errors += c.is_error ? 1 : 0;
      nlohmann::ordered_json tm = nlohmann::ordered_json::object();
      tm["role"] = "tool";
      tm["tool_call_id"] = c.id;
      tm["content"] = c.result;
      messages.push_back(tm);
    }
  }
  if (deadline.joinable()) {
    deadline.request_stop();
    deadline.join();
  }
  s.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  AgentEvent done;
  done.kind = AgentEvent::Kind::kDone;
  done.stop_reason = s.stop_reason;
  done.text = s.final_text;
  done.extra = {{"steps", s.steps},
                {"tool_calls", s.tool_calls},
                {"tool_errors", s.tool_errors},
                {"prompt_tokens", s.prompt_tokens},
                {"reused_tokens", s.reused_tokens},
                {"generated_tokens", s.generated_tokens},
                {"prefill_s", s.prefill_s},
                {"decode_s", s.decode_s},
                {"wall_s", s.wall_s}};
  if (!s.backend_status.ok()) done.extra["error"] = s.backend_status.message();
  emit(done);
  return s;
}

}  // namespace v4rt::agents
