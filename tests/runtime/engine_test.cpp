#include "runtime/engine.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <stop_token>

#include "model/config.h"
#include "model/presets.h"
#include "model/random_checkpoint.h"
#include "base/file_util.h"
#include "base/thread_pool.h"
#include "runtime/tokenizer/tokenizer.h"
#include "runtime/tokenizer/tokenizer_files.h"
#include "test_util.h"

namespace v4rt::runtime {
namespace {

namespace fs = std::filesystem;

// The engine's self-consistency properties (MTP == plain decode, seeded
// reproducibility, restore-and-continue == never stopping) hold for any
// checkpoint, so they run on a generated one and never skip: the tiny preset
// (the golden tiny model's shapes, CSA + HCA + window-only layers, MTP) with
// random weights (bf16, or the release fp8/fp4 format), made once per test binary.
fs::path make_random_tiny(const fs::path& p, model::WeightFormat format) {
  fs::create_directories(p);
  model::Config c = model::preset_config({"tiny", format, 0}).value();
  EXPECT_TRUE(write_file_atomic(p / "config.json", model::config_json(c)).ok());
  ThreadPool pool(2);
  Status s = model::write_random_weights(c, p, {.seed = 7}, pool);
  EXPECT_TRUE(s.ok()) << s.to_string();
  return p;
}

fs::path random_tiny(model::WeightFormat format = model::WeightFormat::kBf16) {
  static v4rt::testing::TempDir dir;
  static const fs::path bf16 = make_random_tiny(dir.path() / "tiny-bf16", model::WeightFormat::kBf16);
  if (format == model::WeightFormat::kBf16) return bf16;
  static const fs::path fp8 = make_random_tiny(dir.path() / "tiny-fp8", model::WeightFormat::kFp8);
  return fp8;
}

std::vector<int32_t> prompt_ids(int n, int vocab, uint32_t seed) {
  std::vector<int32_t> ids;
  uint32_t x = seed;
  for (int i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    ids.push_back(static_cast<int32_t>((x >> 8) % static_cast<uint32_t>(vocab - 16)) + 2);
  }
  return ids;
}

std::unique_ptr<Engine> make_engine(ThreadPool& pool, const fs::path& dir, bool mtp, const fs::path& store = {},
                                    int64_t save_every = 0) {
  EngineOptions o;
  o.model_dir = dir;
  o.use_mtp = mtp;
  o.store_dir = store;
  o.save_every_tokens = save_every;
  o.prefill_chunk_tokens = 512;
  auto e = Engine::create(o, pool);
  EXPECT_TRUE(e.ok()) << e.status().to_string();
  return e.ok() ? std::move(*e) : nullptr;
}

GenerateRequest greedy(std::vector<int32_t> ids, int n) {
  GenerateRequest r;
  r.tokens = std::move(ids);
  r.sampling.temperature = 0;
  r.max_tokens = n;
  r.stop_at_eos = false;
  return r;
}

// A random tiny checkpoint with a tokenizer (needs the V3 tokenizer.json from scripts/setup.sh).
fs::path make_tiny_with_tokenizer(const fs::path& dir, model::WeightFormat fmt) {
  fs::path v3 = v4rt::testing::source_dir() / "data/tokenizer/deepseek-v3/tokenizer.json";
  auto text = read_file(v3);
  if (!text.ok()) return {};
  fs::create_directories(dir);
  model::Config c = model::preset_config({"tiny", fmt, 0}).value();
  EXPECT_TRUE(write_file_atomic(dir / "config.json", model::config_json(c)).ok());
  EXPECT_TRUE(write_file_atomic(dir / "tokenizer.json", make_v4_tokenizer_json(*text, c.vocab_size).value()).ok());
  EXPECT_TRUE(write_file_atomic(dir / "tokenizer_config.json", make_v4_tokenizer_config_json(2048)).ok());
  ThreadPool pool(2);
  EXPECT_TRUE(model::write_random_weights(c, dir, {.seed = 5}, pool).ok());
  return dir;
}

TEST(EngineTest, MtpSpeculativeGreedyIsIdenticalToPlainGreedy) {
  fs::path dir = random_tiny();
  ThreadPool pool(2);
  auto plain = make_engine(pool, dir, false);
  auto spec = make_engine(pool, dir, true);
  ASSERT_TRUE(plain && spec);
  ASSERT_TRUE(spec->has_mtp());
  for (uint32_t seed : {1u, 2u}) {
    auto req = greedy(prompt_ids(150, 1024, seed), 48);
    auto a = plain->generate(req);
    auto b = spec->generate(req);
    ASSERT_TRUE(a.ok()) << a.status().to_string();
    ASSERT_TRUE(b.ok()) << b.status().to_string();
    EXPECT_EQ(a->tokens, b->tokens) << "seed " << seed;
    EXPECT_EQ(a->stats.mtp_drafted, 0);
    EXPECT_GT(b->stats.mtp_drafted, 0);
    std::printf("[ info ] MTP seed %u: drafted %lld accepted %lld\n", seed,
                static_cast<long long>(b->stats.mtp_drafted), static_cast<long long>(b->stats.mtp_accepted));
  }
}

TEST(EngineTest, SeededSamplingIsReproducibleWithAndWithoutMtp) {
  fs::path dir = random_tiny();
  ThreadPool pool(2);
  auto plain = make_engine(pool, dir, false);
  auto spec = make_engine(pool, dir, true);
  auto req = greedy(prompt_ids(40, 1024, 9), 24);
  req.sampling.temperature = 0.8;
  req.sampling.top_k = 40;
  req.sampling.seed = 1234;
  auto a = plain->generate(req);
  auto b = plain->generate(req);
  auto c = spec->generate(req);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->tokens, b->tokens);
  EXPECT_EQ(a->tokens, c->tokens);
}

TEST(EngineTest, MtpAcceptAndRejectPathsKeepGreedyOutput) {
  // Random MTP weights almost never guess right, so an oracle drives the drafts:
  // the true next token except at every third position (rejected there).
  fs::path dir = random_tiny();
  ThreadPool pool(2);
  auto plain = make_engine(pool, dir, false);
  auto req = greedy(prompt_ids(130, 1024, 17), 40);
  auto a = plain->generate(req);
  ASSERT_TRUE(a.ok());
  const int64_t p0 = 130;
  EngineOptions o;
  o.model_dir = dir;
  o.draft_override_for_testing = [&](int64_t pos, int32_t draft) {
    (void)draft;
    const int32_t truth = a->tokens[static_cast<size_t>(pos - p0)];
    return pos % 3 == 0 ? (truth + 1) % 1024 : truth;
  };
  auto spec = Engine::create(o, pool);
  ASSERT_TRUE(spec.ok());
  auto b = (*spec)->generate(req);
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_EQ(a->tokens, b->tokens);
  EXPECT_GT(b->stats.mtp_accepted, 5);
  EXPECT_LT(b->stats.mtp_accepted, b->stats.mtp_drafted);
}

TEST(EngineTest, WarmStateIsReusedForExtensionsAndExactRepeats) {
  fs::path dir = random_tiny();
  ThreadPool pool(2);
  auto e = make_engine(pool, dir, false);
  auto p = prompt_ids(100, 1024, 23);
  auto a = e->generate(greedy(p, 0));  // prefill only
  ASSERT_TRUE(a.ok());
  auto b = e->generate(greedy(p, 6));  // the same sequence: nothing to prefill
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->stats.reused_tokens, 100);
  EXPECT_EQ(b->stats.prefilled_tokens, 0);
  auto q = p;  // an extension of what was fed (prompt + generated): only the new part
  q.insert(q.end(), b->tokens.begin(), b->tokens.end());
  q.push_back(9);
  auto c = e->generate(greedy(q, 3));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->stats.reused_tokens, 105);  // the last generated token was never fed
  EXPECT_EQ(c->stats.prefilled_tokens, 2);
  // The same as computing it from scratch.
  e->drop_warm_state();
  auto d = e->generate(greedy(q, 3));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->stats.reused_tokens, 0);
  EXPECT_EQ(c->tokens, d->tokens);
}

TEST(EngineTest, StopTokensAndCancellation) {
  fs::path dir = random_tiny();
  ThreadPool pool(2);
  auto e = make_engine(pool, dir, false);
  auto base = e->generate(greedy(prompt_ids(30, 1024, 3), 12));
  ASSERT_TRUE(base.ok());
  ASSERT_EQ(base->tokens.size(), 12u);
  auto req = greedy(prompt_ids(30, 1024, 3), 12);
  req.stop_tokens = {base->tokens[4]};
  auto r = e->generate(req);
  ASSERT_TRUE(r.ok());
  auto first = std::find(base->tokens.begin(), base->tokens.end(), base->tokens[4]) - base->tokens.begin();
  EXPECT_EQ(r->tokens.size(), static_cast<size_t>(first + 1));
  EXPECT_EQ(r->stop_reason, StopReason::kStopToken);

  std::stop_source ss;
  ss.request_stop();
  e->drop_warm_state();
  auto c = e->generate(greedy(prompt_ids(300, 1024, 4), 4), {}, ss.get_token());
  EXPECT_TRUE(c.status().is_cancelled());

  // Progress returning false cancels the prefill too.
  Callbacks cb;
  cb.on_progress = [](std::string_view phase, uint64_t, uint64_t) { return phase != "prefill"; };
  auto d = e->generate(greedy(prompt_ids(300, 1024, 5), 4), cb);
  EXPECT_TRUE(d.status().is_cancelled());
  // Token ids outside the vocabulary are refused.
  auto bad = e->generate(greedy({5, 2000}, 1));
  EXPECT_TRUE(bad.status().is_invalid_argument());
}

TEST(EngineTest, SessionResumeMatchesNeverStopping) {
  fs::path dir = random_tiny();
  v4rt::testing::TempDir tmp;
  ThreadPool pool(2);
  auto a = prompt_ids(200, 1024, 11), b = prompt_ids(70, 1024, 12);
  std::vector<int32_t> gen1, gen2;
  {
    auto e = make_engine(pool, dir, true, tmp.path() / "store", 128);
    auto r = greedy(a, 10);
    r.session = "s1";
    auto g = e->generate(r);
    ASSERT_TRUE(g.ok()) << g.status().to_string();
    gen1 = g->tokens;
    EXPECT_EQ(g->stats.prefilled_tokens, 200);
    EXPECT_GE(g->stats.saved_points, 2);  // periodic (128) + after prefill + turn end
  }
  {
    auto e = make_engine(pool, dir, true, tmp.path() / "store");  // a new process: nothing warm
    auto r = greedy(b, 10);
    r.session = "s1";  // the prompt is what follows the session so far
    auto g = e->generate(r);
    ASSERT_TRUE(g.ok()) << g.status().to_string();
    gen2 = g->tokens;
    EXPECT_EQ(g->stats.prompt_tokens, 200 + 10 + 70);
    EXPECT_EQ(g->stats.reused_from_store, 210);
    EXPECT_EQ(g->stats.prefilled_tokens, 70);
  }
  // Never stopping: one engine, no store, the whole sequence.
  auto e = make_engine(pool, dir, false);
  std::vector<int32_t> all = a;
  all.insert(all.end(), gen1.begin(), gen1.end());
  all.insert(all.end(), b.begin(), b.end());
  auto g = e->generate(greedy(all, 10));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->tokens, gen2);
}

TEST(EngineTest, InterruptedPrefillResumesFromItsLastSavePoint) {
  fs::path dir = random_tiny();
  v4rt::testing::TempDir tmp;
  ThreadPool pool(2);
  auto p = prompt_ids(400, 1024, 31);
  auto req = greedy(p, 6);
  req.session = "long";
  {
    auto e = make_engine(pool, dir, false, tmp.path(), 128);
    Callbacks cb;  // "crash" once 256 tokens are in
    cb.on_progress = [](std::string_view phase, uint64_t done, uint64_t) { return !(phase == "prefill" && done >= 256); };
    auto g = e->generate(req, cb);
    EXPECT_TRUE(g.status().is_cancelled()) << g.status().to_string();
  }
  auto e = make_engine(pool, dir, false, tmp.path(), 128);
  auto g = e->generate(req);  // the same command again
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  EXPECT_EQ(g->stats.prompt_tokens, 400);  // the session had not moved: the prompt is not appended twice
  EXPECT_GE(g->stats.reused_from_store, 128);
  EXPECT_LE(g->stats.prefilled_tokens, 400 - 128);
  auto fresh = make_engine(pool, dir, false);
  auto f = fresh->generate(greedy(p, 6));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(g->tokens, f->tokens);
}

TEST(EngineTest, PrefillOnlySavesAndTheCacheIsReused) {
  fs::path dir = random_tiny(model::WeightFormat::kFp8);
  v4rt::testing::TempDir tmp;
  ThreadPool pool(2);
  auto p = prompt_ids(260, 1024, 21);
  {
    auto e = make_engine(pool, dir, false, tmp.path());
    auto g = e->generate(greedy(p, 0));
    ASSERT_TRUE(g.ok()) << g.status().to_string();
    EXPECT_TRUE(g->tokens.empty());
    EXPECT_EQ(g->stats.saved_points, 1);
  }
  auto e = make_engine(pool, dir, false, tmp.path());
  auto q = p;
  q.push_back(7);
  auto g = e->generate(greedy(q, 3));
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  EXPECT_EQ(g->stats.reused_from_store, 260);
  EXPECT_EQ(g->stats.prefilled_tokens, 1);
}

// "Prefill a document once": the same prompt in a new process restores the
// whole saved point, including its next-token logits, and computes nothing;
// the generated tokens equal those of a fresh run.
TEST(EngineTest, ExactRepeatOfASavedPromptRestoresEverything) {
  fs::path dir = random_tiny(model::WeightFormat::kFp8);
  v4rt::testing::TempDir tmp;
  ThreadPool pool(2);
  auto p = prompt_ids(300, 1024, 23);
  {
    auto e = make_engine(pool, dir, false, tmp.path());
    auto g = e->generate(greedy(p, 0));
    ASSERT_TRUE(g.ok()) << g.status().to_string();
    EXPECT_GT(g->stats.saved_bytes, 0u);
  }
  auto e = make_engine(pool, dir, false, tmp.path());
  auto g = e->generate(greedy(p, 5));
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  EXPECT_EQ(g->stats.reused_from_store, 300);
  EXPECT_EQ(g->stats.prefilled_tokens, 0);
  EXPECT_GT(g->stats.restored_bytes, 0u);
  auto fresh = make_engine(pool, dir, false);
  auto f = fresh->generate(greedy(p, 5));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(g->tokens, f->tokens);
}

TEST(EngineTest, TextPromptStreamingAndStopStringsOnModelInitCheckpoint) {
  v4rt::testing::TempDir tmp;
  fs::path dir = make_tiny_with_tokenizer(tmp.path() / "m", model::WeightFormat::kFp8);
  if (dir.empty()) GTEST_SKIP() << "data/tokenizer/deepseek-v3/tokenizer.json absent (run scripts/setup.sh)";
  ThreadPool pool(2);
  auto e = make_engine(pool, dir, true);
  ASSERT_TRUE(e);
  ASSERT_NE(e->tokenizer(), nullptr);
  GenerateRequest r;
  r.text = "Hello, world! This is a test of the tiny model.";
  r.sampling.temperature = 0;
  r.max_tokens = 40;
  r.stop_at_eos = false;
  std::string streamed;
  Callbacks cb;
  cb.on_text = [&](std::string_view piece) {
    streamed += piece;
    return true;
  };
  auto g = e->generate(r, cb);
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  EXPECT_EQ(streamed, g->text);
  EXPECT_EQ(g->tokens.size(), 40u);
  // Every id is inside the model's vocabulary, so decoding never loses a token.
  EXPECT_EQ(e->tokenizer()->decode(g->tokens), g->text);
  ASSERT_GT(g->text.size(), 4u);
  // A stop string taken from the middle of that text cuts it there.
  std::string stop_at = g->text.substr(g->text.size() / 2, 2);
  r.stop_strings = {stop_at};
  streamed.clear();
  auto h = e->generate(r, cb);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->stop_reason, StopReason::kStopString);
  EXPECT_EQ(h->text, g->text.substr(0, g->text.find(stop_at)));
  EXPECT_EQ(streamed, h->text);
}

}  // namespace
}  // namespace v4rt::runtime
