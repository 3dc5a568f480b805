#include "runtime/engine.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>

#include "model/config.h"
#include "model/model.h"
#include "model/state.h"
#include "base/thread_pool.h"
#include "runtime/state_adapters.h"
#include "runtime/stop_strings.h"
#include "runtime/tokenizer/tokenizer.h"
#include "sessions/session_store.h"

namespace v4rt::runtime {

namespace fs = std::filesystem;

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::kMaxTokens: return "max_tokens";
    case StopReason::kEos: return "eos";
    case StopReason::kStopToken: return "stop_token";
    case StopReason::kStopString: return "stop_string";
    case StopReason::kCancelled: return "cancelled";
    case StopReason::kNone: return "none";
  }
  return "none";
}

Status validate(const EngineOptions& o) {
  if (o.model_dir.empty()) return Status::InvalidArgument("model_dir is empty; pass --model DIR");
  if (o.prefill_chunk_tokens < 1)
    return Status::InvalidArgument("prefill_chunk_tokens must be >= 1 (got " + std::to_string(o.prefill_chunk_tokens) + ")");
  if (o.save_every_tokens < 0)
    return Status::InvalidArgument("save_every_tokens must be >= 0 (got " + std::to_string(o.save_every_tokens) +
                                   "); 0 turns periodic saves off");
  if (o.save_every_tokens > 0 && o.store_dir.empty())
    return Status::InvalidArgument("save_every_tokens needs a session store (store_dir)");
  return Status::Ok();
}

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

bool is_prefix(std::span<const int32_t> a, std::span<const int32_t> b) {
  return a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

struct Engine::Impl {
  EngineOptions options;
  ThreadPool* pool = nullptr;
  std::unique_ptr<model::Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
  std::string fingerprint;
  // The warm state and the tokens fed into it (state->position() == state_tokens.size()).
  std::unique_ptr<model::State> state;
  std::vector<int32_t> state_tokens;
  std::vector<float> logits, logits_mid, mtp_logits;
  bool logits_valid = false;  // `logits` are the next-token logits after state_tokens
  struct WarmCopy {
    std::unique_ptr<model::State> state;
    std::vector<int32_t> tokens;
    std::vector<float> logits;
    bool logits_valid = false;
  };
  std::optional<WarmCopy> kept;  // keep_warm_copy()

  void log(LogLevel level, const std::string& msg) const {
    if (options.log) options.log->log(level, "engine", msg);
  }
};

Engine::Engine() : impl_(std::make_unique<Impl>()) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::create(const EngineOptions& options, ThreadPool& pool) {
  V4RT_RETURN_IF_ERROR(validate(options));
  std::unique_ptr<Engine> e(new Engine());
  Impl& im = *e->impl_;
  im.options = options;
  im.pool = &pool;
  model::ModelOptions mo;
  mo.activation_quant = options.activation_quant;
  mo.prefill_chunk_tokens = std::max(1, std::min(options.prefill_chunk_tokens, 2048));
  auto m = model::Model::load(options.model_dir, mo, &pool);
  if (!m.ok()) return m.status();
  im.model = std::move(*m);
  const int V = im.model->config().vocab_size;
  auto src = locate_tokenizer(options.model_dir, options.tokenizer);
  if (src.ok()) {
    auto tok = Tokenizer::load(src->path, src->add_v4_specials);
    if (!tok.ok()) return tok.status();
    im.tokenizer = std::move(*tok);
  } else if (!src.status().is_not_found()) {
    return src.status();
  } else {
    // Token-id requests still work (e.g. the golden checkpoints, which ship no tokenizer).
    im.log(LogLevel::kWarn, options.model_dir.string() + " has no tokenizer.json: text prompts are refused and "
                            "generated text is empty; pass --tokenizer PATH");
  }
  im.fingerprint = im.model->fingerprint();
  if (im.tokenizer && im.tokenizer->vocab_size() > V)
    im.log(LogLevel::kWarn, src->path.string() + " has " + std::to_string(im.tokenizer->vocab_size()) +
                                " ids but the model only " + std::to_string(V) +
                                "; text that encodes to larger ids is refused");
  im.state = im.model->new_state();
  im.logits.resize(static_cast<size_t>(V));
  im.logits_mid.resize(static_cast<size_t>(V));
  im.mtp_logits.resize(static_cast<size_t>(V));
  if (!options.store_dir.empty()) {
    sessions::StoreOptions so;
    so.budget_bytes = options.store_budget_bytes;
    so.log = options.log;
    auto store = sessions::SessionStore::open(options.store_dir, so);
    if (!store.ok()) return store.status();
    e->store_ = std::move(*store);
  }
  return e;
}

const model::Config& Engine::config() const { return impl_->model->config(); }
const model::Model& Engine::model() const { return *impl_->model; }
const Tokenizer* Engine::tokenizer() const { return impl_->tokenizer.get(); }
bool Engine::has_mtp() const { return impl_->model->has_mtp(); }
uint64_t Engine::state_bytes() const { return impl_->state->memory_bytes(); }
int64_t Engine::state_tokens() const { return static_cast<int64_t>(impl_->state_tokens.size()); }
uint64_t Engine::state_row_bytes(int64_t* tokens_covered) const {
  const int64_t n = impl_->state->position() / model::kRowGranularity * model::kRowGranularity;
  if (tokens_covered) *tokens_covered = n;
  return n > 0 ? impl_->state->export_rows(0, n).size() : 0;
}
void Engine::keep_warm_copy() {
  Impl& im = *impl_;
  im.kept = Impl::WarmCopy{im.state->clone(), im.state_tokens, im.logits, im.logits_valid};
}

bool Engine::restore_warm_copy() {
  Impl& im = *impl_;
  if (!im.kept) return false;
  im.state = im.kept->state->clone();
  im.state_tokens = im.kept->tokens;
  im.logits = im.kept->logits;
  im.logits_valid = im.kept->logits_valid;
  return true;
}

void Engine::drop_warm_state() {
  impl_->state->reset();
  impl_->state_tokens.clear();
  impl_->logits_valid = false;
}

Result<GenerateResult> Engine::generate(const GenerateRequest& req, const Callbacks& cb, std::stop_token stop) {
  Impl& im = *impl_;
  const model::Config& cfg = im.model->config();
  V4RT_RETURN_IF_ERROR(validate(req.sampling));
  if (req.max_tokens < 0)
    return Status::InvalidArgument("max_tokens must be >= 0 (got " + std::to_string(req.max_tokens) + ")");
  if (!req.session.empty() && !store_)
    return Status::InvalidArgument("session '" + req.session + "' needs a session store; pass --store DIR");
  GenerateResult result;
  GenerateStats& st = result.stats;
  const bool use_store = store_ && req.use_store;

  // 1. The whole sequence: the session's tokens so far, then the prompt.
  std::vector<int32_t> seq;
  if (!req.session.empty()) {
    auto info = store_->show(req.session);
    if (info.ok()) seq = info->tokens;
    else if (!info.status().is_not_found()) return info.status();
  }
  if (req.tokens.empty() && !req.text.empty() && !im.tokenizer)
    return Status::InvalidArgument(im.options.model_dir.string() +
                                   " has no tokenizer.json, so a text prompt cannot be encoded; pass --tokenizer PATH "
                                   "or token ids");
  std::vector<int32_t> prompt =
      !req.tokens.empty() ? req.tokens : (im.tokenizer ? im.tokenizer->encode(req.text) : std::vector<int32_t>{});
  if (seq.empty() && req.tokens.empty() && req.add_bos && (prompt.empty() || prompt[0] != cfg.bos_token_id))
    seq.push_back(cfg.bos_token_id);
  seq.insert(seq.end(), prompt.begin(), prompt.end());
  if (seq.empty()) return Status::InvalidArgument("the prompt is empty; give some text or token ids");
  for (int32_t t : seq)
    if (t < 0 || t >= cfg.vocab_size)
      return Status::InvalidArgument("token id " + std::to_string(t) + " is outside the model's vocabulary [0, " +
                                     std::to_string(cfg.vocab_size) +
                                     "); the tokenizer does not fit this model (use the tokenizer.json written "
                                     "with the checkpoint)");
  st.prompt_tokens = static_cast<int64_t>(seq.size());

  // 2. Reuse: the warm state or the store, whichever covers more. At least the
  //    last token is always fed, so that its logits are fresh.
  //    Exception: the warm state is exactly the sequence and its logits are kept.
  const std::span<const int32_t> reusable(seq.data(), seq.size() - 1);
  const auto t_restore = Clock::now();
  int64_t warm = is_prefix(im.state_tokens, reusable) ? static_cast<int64_t>(im.state_tokens.size()) : 0;
  if (im.logits_valid && im.state_tokens == seq) warm = static_cast<int64_t>(seq.size());
  int64_t have = 0;
  if (use_store) {
    // A point at the whole sequence carries its next-token logits, so an exact
    // repeat of a saved prompt (the usual "prefill a document once" step)
    // restores everything and feeds nothing.
    auto match = store_->lookup_longest_prefix(im.fingerprint, seq);
    if (!match.ok()) return match.status();
    const bool whole = match->n_tokens == static_cast<int64_t>(seq.size());
    if (!whole && match->n_tokens > warm) {
      match = store_->lookup_longest_prefix(im.fingerprint, reusable);
      if (!match.ok()) return match.status();
    }
    if (match->n_tokens > warm) {
      auto restore = [&](std::span<const int32_t> upto) -> Status {
        StateRestorer sink(*im.state);
        auto restored = store_->restore_longest(im.fingerprint, upto, sink, cb.on_progress);
        if (!restored.ok()) return restored.status();
        for (auto& w : restored->warnings) {
          im.log(LogLevel::kWarn, w);
          result.warnings.push_back(w);
        }
        have = restored->n_tokens;
        st.reused_from_store = have;
        st.restored_bytes += restored->bytes_read;
        im.logits_valid = false;
        if (have == static_cast<int64_t>(seq.size()) && restored->logits.size() == im.logits.size()) {
          im.logits = std::move(restored->logits);
          im.logits_valid = true;
        }
        im.state_tokens.assign(seq.begin(), seq.begin() + have);
        return Status::Ok();
      };
      V4RT_RETURN_IF_ERROR(restore(whole ? std::span<const int32_t>(seq) : reusable));
      // A whole-sequence point without logits: go back to feeding the last token.
      if (have == static_cast<int64_t>(seq.size()) && !im.logits_valid) V4RT_RETURN_IF_ERROR(restore(reusable));
    }
  }
  if (have == 0) {
    if (warm > 0) {
      have = warm;
      im.state_tokens.resize(static_cast<size_t>(warm));
    } else {
      im.state->reset();
      im.state_tokens.clear();
      im.logits_valid = false;
    }
  }
  check(im.state->position() == have, "engine: restored state position != reused tokens");
  st.reused_tokens = have;
  st.restore_s = seconds_since(t_restore);

  // Only a turn end moves a named session; intermediate points (periodic,
  // after the prefill) are anonymous prefix-cache points, so that re-running
  // the same command after a crash finds them without appending the prompt twice.
  auto save = [&](bool turn_end) -> Status {
    if (!use_store) return Status::Ok();
    const auto t0 = Clock::now();
    sessions::SaveOptions so;
    so.session = turn_end ? req.session : std::string();
    so.kind = so.session.empty() ? sessions::PointKind::kCache : sessions::PointKind::kTurn;
    so.progress = cb.on_progress;
    StateSnapshot source(*im.state);
    auto r = store_->save(im.fingerprint, im.state_tokens, im.logits, source, so);
    st.save_s += seconds_since(t0);
    if (!r.ok()) return r.status();
    ++st.saved_points;
    st.saved_bytes += r->bytes_written;
    return Status::Ok();
  };

  // 3. Prefill the rest in chunks, with progress, cancellation and save points.
  im.state->reserve_tokens(static_cast<int64_t>(seq.size()) + std::max(0, req.max_tokens) + 2);
  const auto t_prefill = Clock::now();
  const int64_t total = static_cast<int64_t>(seq.size());
  int64_t every = 0;
  if (use_store && im.options.save_every_tokens > 0) {
    // Multiples of the state's row granularity; a point between block
    // boundaries keeps its partial block in the tail, so any N >= 128 works.
    const int64_t g = model::kRowGranularity;
    every = (im.options.save_every_tokens + g - 1) / g * g;
  }
  const int64_t chunk = im.options.prefill_chunk_tokens;
  int64_t pos = have;
  while (pos < total) {
    if (stop.stop_requested())
      return Status::Cancelled("prefill cancelled at token " + std::to_string(pos) + " of " + std::to_string(total));
    int64_t end = std::min(total, pos + chunk);
    if (every > 0) end = std::min(end, (pos / every + 1) * every);
    std::span<const int32_t> part(seq.data() + pos, static_cast<size_t>(end - pos));
    im.logits_valid = false;
    V4RT_RETURN_IF_ERROR(im.model->forward(part, *im.state, im.logits));
    im.state_tokens.insert(im.state_tokens.end(), part.begin(), part.end());
    im.logits_valid = true;
    pos = end;
    if (cb.on_progress && !cb.on_progress("prefill", static_cast<uint64_t>(pos - have), static_cast<uint64_t>(total - have)))
      return Status::Cancelled("prefill cancelled at token " + std::to_string(pos) + " of " + std::to_string(total));
    if (every > 0 && pos % every == 0 && pos < total) {
      st.prefill_s += seconds_since(t_prefill);  // saves are timed separately
      V4RT_RETURN_IF_ERROR(save(/*turn_end=*/false));
      st.prefill_s -= seconds_since(t_prefill);
    }
  }
  st.prefilled_tokens = total - have;
  st.prefill_s += seconds_since(t_prefill);
  if (st.prefilled_tokens > 0 || (!req.session.empty() && req.max_tokens == 0))
    V4RT_RETURN_IF_ERROR(save(/*turn_end=*/req.max_tokens == 0));
  if (req.max_tokens == 0) {
    result.stop_reason = StopReason::kMaxTokens;
    return result;
  }

  // 4. Decode.
  const auto t_decode = Clock::now();
  Sampler sampler(req.sampling, cfg.vocab_size);
  StopStringMatcher matcher(req.stop_strings);
  std::vector<int32_t> history = im.state_tokens;  // prompt + generated, for the repetition penalty
  const bool mtp = im.options.use_mtp && req.allow_mtp && im.model->has_mtp();
  model::ForwardTrace trace;
  trace.on_logits = [&](int64_t, std::span<const float> l) { std::copy(l.begin(), l.end(), im.logits_mid.begin()); };
  bool done = false;
  bool fed_last = false;  // whether the last generated token is in the state

  // Commits one generated token; sets done when generation ends.
  auto commit = [&](int32_t tok) {
    result.tokens.push_back(tok);
    history.push_back(tok);
    if (cb.on_token) cb.on_token(tok);
    const bool is_eos = req.stop_at_eos && tok == cfg.eos_token_id;
    if (is_eos || std::find(req.stop_tokens.begin(), req.stop_tokens.end(), tok) != req.stop_tokens.end()) {
      result.stop_reason = is_eos ? StopReason::kEos : StopReason::kStopToken;
      done = true;
      return;
    }
    const int32_t one[1] = {tok};
    auto s = matcher.feed(im.tokenizer ? im.tokenizer->decode(one) : std::string());
    result.text += s.emit;
    if (!s.emit.empty() && cb.on_text && !cb.on_text(s.emit)) {
      result.stop_reason = StopReason::kCancelled;
      done = true;
      return;
    }
    if (s.stopped) {
      result.stop_reason = StopReason::kStopString;
      done = true;
    } else if (static_cast<int>(result.tokens.size()) >= req.max_tokens) {
      result.stop_reason = StopReason::kMaxTokens;
      done = true;
    } else if (stop.stop_requested()) {
      result.stop_reason = StopReason::kCancelled;
      done = true;
    }
  };
  auto feed = [&](std::span<const int32_t> toks, const model::ForwardTrace* tr) -> Status {
    im.logits_valid = false;
    V4RT_RETURN_IF_ERROR(im.model->forward(toks, *im.state, im.logits, {}, tr));
    im.state_tokens.insert(im.state_tokens.end(), toks.begin(), toks.end());
    im.logits_valid = true;
    return Status::Ok();
  };

  int32_t next = sampler.sample(im.logits, history);
  commit(next);
  while (!done) {
    const int remaining = req.max_tokens - static_cast<int>(result.tokens.size());
    const bool drafting = mtp && !(im.options.mtp_min_acceptance > 0 && st.mtp_drafted >= 16 &&
                                   static_cast<double>(st.mtp_accepted) <
                                       im.options.mtp_min_acceptance * static_cast<double>(st.mtp_drafted));
    if (drafting && remaining >= 2) {
      // Draft the token after `next` with the MTP block, then verify both in one forward.
      V4RT_RETURN_IF_ERROR(im.model->forward_mtp(next, *im.state, im.mtp_logits));
      int32_t draft = Sampler::argmax(im.mtp_logits);
      if (im.options.draft_override_for_testing)
        draft = im.options.draft_override_for_testing(im.state->position() + 1, draft);
      // O(1) undo point (no copy of the growing KV), restored bit for bit on rejection.
      im.state->remember();
      trace.logit_positions = {im.state->position()};
      const int32_t pair[2] = {next, draft};
      V4RT_RETURN_IF_ERROR(feed(pair, &trace));
      ++st.mtp_drafted;
      // history must hold `next` when sampling the token after it.
      const int32_t after = sampler.sample(im.logits_mid, history);
      if (after == draft) {
        ++st.mtp_accepted;
        commit(draft);
        fed_last = true;
        if (done) break;
        next = sampler.sample(im.logits, history);
        fed_last = false;
        commit(next);
      } else {
        // Roll back to before the pair and feed `next` alone.
        check(im.state->rollback(), "MTP rollback without a remembered state");
        im.state_tokens.resize(im.state_tokens.size() - 2);
        im.logits_valid = false;
        V4RT_RETURN_IF_ERROR(feed(std::span<const int32_t>(&next, 1), nullptr));
        next = after;
        fed_last = false;
        commit(next);
      }
    } else {
      V4RT_RETURN_IF_ERROR(feed(std::span<const int32_t>(&next, 1), nullptr));
      next = sampler.sample(im.logits, history);
      fed_last = false;
      commit(next);
    }
  }
  st.generated_tokens = static_cast<int64_t>(result.tokens.size());
  st.decode_s = seconds_since(t_decode);
  if (result.stop_reason != StopReason::kStopString) {
    std::string rest = matcher.finish();
    result.text += rest;
    if (!rest.empty() && cb.on_text) cb.on_text(rest);
  }

  // 5. Turn end: the state covers every token (feed the last one), then save.
  if (use_store && !result.tokens.empty()) {
    if (!fed_last) V4RT_RETURN_IF_ERROR(feed(std::span<const int32_t>(&result.tokens.back(), 1), nullptr));
    V4RT_RETURN_IF_ERROR(save(/*turn_end=*/true));
  }
  return result;
}

}  // namespace v4rt::runtime
