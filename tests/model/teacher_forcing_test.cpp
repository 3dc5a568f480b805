// Teacher forcing (golden fp8/TF160): each main block alone, from a fresh
// state, on the reference's input residual stream; compared with the
// reference's output of that block (README: per layer <= ~1e-3).
#include <gtest/gtest.h>

#include <cstdio>

#include "golden_run.h"
#include "model/model.h"
#include "model/state.h"
#include "test_util.h"

namespace v4rt::testing {
namespace {

void run_tf(bool act_quant, double limit) {
  auto root = golden_dir();
  if (root.empty()) GTEST_SKIP() << "golden data absent (../shared/golden)";
  const auto dir = root / "v4-tiny" / "golden" / "fp8" / "TF160";
  auto ids_a = model::npy_read(dir / "prompt_ids.npy");
  auto io_a = model::npy_read(dir / "ref_fp32act" / "layer_io.npy");
  ASSERT_TRUE(ids_a.ok() && io_a.ok());
  std::vector<int32_t> ids;
  for (int64_t v : ids_a->as_int()) ids.push_back(static_cast<int32_t>(v));
  auto io = io_a->as_float();
  model::ModelOptions o;
  o.activation_quant = act_quant;
  o.reference_prefill_topk = true;
  auto m = model::Model::load(root / "v4-tiny" / "tiny" / "fp8", o, nullptr);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  const int L = (*m)->config().n_layers;
  const size_t per = io.size() / static_cast<size_t>(L + 1);
  for (int l = 0; l < L; ++l) {
    std::vector<float> x(io.begin() + static_cast<std::ptrdiff_t>(l * per), io.begin() + static_cast<std::ptrdiff_t>((l + 1) * per));
    std::vector<float> ref(io.begin() + static_cast<std::ptrdiff_t>((l + 1) * per), io.begin() + static_cast<std::ptrdiff_t>((l + 2) * per));
    auto st = (*m)->new_state();
    ASSERT_TRUE((*m)->run_block(l, x, ids, *st).ok());
    Compare c = compare_rows(x, ref, static_cast<int64_t>(per / ids.size()));
    std::printf("[teacher-forcing fp8%s] L%d %s\n", act_quant ? "" : " no-act-quant", l, c.str().c_str());
    if (act_quant) {
      EXPECT_LE(c.rel_l2, limit) << "layer " << l;
    }
  }
}

TEST(TeacherForcing, Fp8PerLayerVsRefFp32act) { run_tf(true, 1e-3); }

}  // namespace
}  // namespace v4rt::testing
