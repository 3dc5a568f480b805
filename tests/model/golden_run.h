// Runs the golden sequence of /work/shared/golden/v4-tiny (README "Sequence")
// through the engine and compares with a stored reference set.
#pragma once

#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "model/model.h"
#include "model/npy.h"

namespace v4rt::testing {

struct Compare {
  double max_abs = 0, rel_l2 = 0, top1 = 1;  // top1: fraction of rows with equal argmax
  double row_p50 = 0, row_p90 = 0, row_max = 0;
  int64_t rows = 0;
  std::string str() const;
};
// a and b: rows x cols.
Compare compare_rows(const std::vector<float>& a, const std::vector<float>& b, int64_t cols);

struct GoldenOutputs {
  std::vector<float> prefill_last, prefill_sel, decode, mtp_last, mtp_sel, mtp_decode;
  std::vector<float> trace_prefill, trace_decode;  // [layer, pos, hc*dim]
  // layer -> rows of selected ids (prefill probes then decode steps), scores
  std::map<int, std::vector<std::vector<int32_t>>> idx_prefill, idx_decode;
  std::map<int, std::vector<std::vector<float>>> idx_prefill_scores, idx_decode_scores;
  // Per decode step: the smallest relative gap between the last chosen and
  // the first rejected score of any routed MoE gate or indexer top-k of the
  // main model (decode_margin) or of the MTP block (mtp_margin). A near tie
  // (tiny gap) is where a last-bit difference may choose differently.
  std::vector<double> decode_margin, mtp_margin;
};
// The relative gap between the k-th and (k+1)-th largest of `scores` (+inf when k >= size).
double topk_margin(std::span<const float> scores, int64_t k);

struct GoldenCase {
  std::filesystem::path dir;        // golden/<variant>/N<len>
  std::filesystem::path weights;    // tiny/<variant>
  std::vector<int32_t> prompt, decode;
  std::vector<int64_t> logit_pos, probe_pos, mtp_pos, trace_pos, trace_steps;
};

// Reads the manifest and ids of golden/<variant>/N<len> (weights may be overridden).
bool load_case(const std::filesystem::path& golden_root, const std::string& variant, int n, GoldenCase& c,
               std::string& err);
// Runs prefill (in chunks of `chunk` if > 0) + MTP prefill + every decode step + MTP step.
Status run_case(const model::Model& m, const GoldenCase& c, GoldenOutputs& out, int64_t chunk = 0);
std::vector<float> load_f32(const std::filesystem::path& p);

}  // namespace v4rt::testing
