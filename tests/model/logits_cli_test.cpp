// `v4rt logits` as a real subprocess: shapes, rows against the golden
// ref_fp32act (default engine tie order: statistical bound), errors.
#include <gtest/gtest.h>

#include <fstream>

#include "golden_run.h"
#include "base/file_util.h"
#include "test_util.h"

namespace v4rt::testing {
namespace {

TEST(LogitsCli, MatchesGoldenAndReportsErrors) {
  auto root = golden_dir();
  if (root.empty()) GTEST_SKIP() << "golden data absent (../shared/golden)";
  GoldenCase c;
  std::string err;
  ASSERT_TRUE(load_case(root, "bf16", 300, c, err)) << err;
  TempDir tmp;
  std::string json = "{\"prompt\": [";
  for (size_t i = 0; i < c.prompt.size(); ++i) {
    if (i) json += ',';
    json += std::to_string(c.prompt[i]);
  }
  json += "], \"decode\": [";
  for (size_t i = 0; i < 96; ++i) {
    if (i) json += ',';
    json += std::to_string(c.decode[i]);
  }
  json += "]}";
  ASSERT_TRUE(write_file_atomic(tmp.path() / "ids.json", json).ok());
  const std::string out = (tmp.path() / "l.npy").string(), mtp = (tmp.path() / "m.npy").string();
  auto r = run_command(shell_quote(v4rt_binary().string()) + " logits --model " + shell_quote(c.weights.string()) +
                       " --tokens " + shell_quote((tmp.path() / "ids.json").string()) + " --out " + shell_quote(out) +
                       " --mtp-out " + shell_quote(mtp) + " --chunk 77");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto a = model::npy_read(out);
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  ASSERT_EQ(a->shape, (std::vector<int64_t>{97, 1024}));
  std::vector<float> ref = load_f32(c.dir / "ref_fp32act" / "prefill_logits_last.npy");
  auto dec = load_f32(c.dir / "ref_fp32act" / "decode_logits.npy");
  ref.insert(ref.end(), dec.begin(), dec.end());
  Compare cmp = compare_rows(a->as_float(), ref, 1024);
  EXPECT_LE(cmp.rel_l2, 0.03) << cmp.str();
  EXPECT_GE(cmp.top1, 0.98) << cmp.str();
  auto m = model::npy_read(mtp);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->shape, (std::vector<int64_t>{96, 1024}));

  auto bad = run_command(shell_quote(v4rt_binary().string()) + " logits --model /nonexistent --tokens x --out y");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("v4rt:"), std::string::npos);
  auto usage = run_command(shell_quote(v4rt_binary().string()) + " logits --model " + shell_quote(c.weights.string()));
  EXPECT_EQ(usage.exit_code, 2) << usage.err;
}

}  // namespace
}  // namespace v4rt::testing
