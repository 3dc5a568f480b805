#include "golden_run.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>

#include <nlohmann/json.hpp>

#include "model/state.h"
#include "base/file_util.h"

namespace v4rt::testing {

std::string Compare::str() const {
  char b[256];
  std::snprintf(b, sizeof b, "rows %lld max_abs %.3g rel_l2 %.3g row_max_abs p50/p90/max %.3g/%.3g/%.3g top1 %.4f",
                static_cast<long long>(rows), max_abs, rel_l2, row_p50, row_p90, row_max, top1);
  return b;
}

Compare compare_rows(const std::vector<float>& a, const std::vector<float>& b, int64_t cols) {
  Compare c;
  if (a.size() != b.size() || cols <= 0 || a.empty()) {
    c.max_abs = c.rel_l2 = INFINITY;
    c.top1 = 0;
    return c;
  }
  const int64_t rows = static_cast<int64_t>(a.size()) / cols;
  c.rows = rows;
  double num = 0, den = 0;
  int agree = 0;
  std::vector<double> row_max;
  for (int64_t r = 0; r < rows; ++r) {
    double rm = 0;
    int64_t ia = 0, ib = 0;
    for (int64_t j = 0; j < cols; ++j) {
      const double x = a[static_cast<size_t>(r * cols + j)], y = b[static_cast<size_t>(r * cols + j)];
      rm = std::max(rm, std::fabs(x - y));
      num += (x - y) * (x - y);
      den += y * y;
      if (x > a[static_cast<size_t>(r * cols + ia)]) ia = j;
      if (y > b[static_cast<size_t>(r * cols + ib)]) ib = j;
    }
    agree += ia == ib;
    row_max.push_back(rm);
    c.max_abs = std::max(c.max_abs, rm);
  }
  c.rel_l2 = std::sqrt(num / std::max(den, 1e-30));
  c.top1 = static_cast<double>(agree) / static_cast<double>(rows);
  std::sort(row_max.begin(), row_max.end());
  auto q = [&](double f) { return row_max[std::min(row_max.size() - 1, static_cast<size_t>(f * static_cast<double>(row_max.size())))]; };
  c.row_p50 = q(0.5);
  c.row_p90 = q(0.9);
  c.row_max = row_max.back();
  return c;
}

std::vector<float> load_f32(const std::filesystem::path& p) {
  auto a = model::npy_read(p);
  if (!a.ok()) return {};
  return a->as_float();
}

bool load_case(const std::filesystem::path& root, const std::string& variant, int n, GoldenCase& c, std::string& err) {
  c.dir = root / "v4-tiny" / "golden" / variant / ("N" + std::to_string(n));
  c.weights = root / "v4-tiny" / "tiny" / variant;
  auto text = read_file(c.dir / "manifest.json");
  if (!text.ok()) {
    err = text.status().to_string();
    return false;
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) {
    err = "bad manifest";
    return false;
  }
  for (auto v : j["token_ids"]["prompt"]) c.prompt.push_back(v.get<int32_t>());
  auto dec = model::npy_read(c.dir / "decode_ids.npy");
  if (!dec.ok()) {
    err = dec.status().to_string();
    return false;
  }
  for (int64_t v : dec->as_int()) c.decode.push_back(static_cast<int32_t>(v));
  for (auto v : j["prefill_logit_positions"]) c.logit_pos.push_back(v.get<int64_t>());
  for (auto v : j["prefill_probe_positions"]) c.probe_pos.push_back(v.get<int64_t>());
  for (auto v : j["mtp_prefill_positions"]) c.mtp_pos.push_back(v.get<int64_t>());
  for (auto v : j["trace_prefill_positions"]) c.trace_pos.push_back(v.get<int64_t>());
  for (auto v : j["trace_decode_steps"]) c.trace_steps.push_back(v.get<int64_t>());
  return true;
}

Status run_case(const model::Model& m, const GoldenCase& c, GoldenOutputs& out, int64_t chunk) {
  const auto& cfg = m.config();
  const int64_t V = cfg.vocab_size, CD = int64_t{cfg.hc_mult} * cfg.dim, N = static_cast<int64_t>(c.prompt.size());
  const int L = cfg.n_layers;
  auto state = m.new_state();
  std::vector<float> logits(static_cast<size_t>(V));
  std::vector<float> hidden(static_cast<size_t>(N * CD));
  out.prefill_sel.assign(c.logit_pos.size() * static_cast<size_t>(V), 0.0f);
  out.trace_prefill.assign(static_cast<size_t>(L) * c.trace_pos.size() * static_cast<size_t>(CD), 0.0f);
  out.trace_decode.assign(static_cast<size_t>(L) * c.trace_steps.size() * static_cast<size_t>(CD), 0.0f);
  int64_t step = -1;  // -1 = prefill
  model::ForwardTrace tr;
  tr.logit_positions = c.logit_pos;
  tr.on_logits = [&](int64_t pos, std::span<const float> l) {
    for (size_t i = 0; i < c.logit_pos.size(); ++i)
      if (c.logit_pos[i] == pos) std::copy(l.begin(), l.end(), out.prefill_sel.begin() + static_cast<int64_t>(i) * V);
  };
  tr.on_hidden = [&](int64_t pos, std::span<const float> h) {
    if (pos < N) std::copy(h.begin(), h.end(), hidden.begin() + pos * CD);
    else std::copy(h.begin(), h.end(), hidden.begin() + (N - 1) * CD);  // decode: reuse last row slot
  };
  tr.on_block = [&](int layer, int64_t pos, std::span<const float> x) {
    const std::vector<int64_t>& list = step < 0 ? c.trace_pos : c.trace_steps;
    const int64_t key = step < 0 ? pos : step;
    std::vector<float>& dst = step < 0 ? out.trace_prefill : out.trace_decode;
    for (size_t i = 0; i < list.size(); ++i)
      if (list[i] == key)
        std::copy(x.begin(), x.end(), dst.begin() + (static_cast<int64_t>(layer) * static_cast<int64_t>(list.size()) + static_cast<int64_t>(i)) * CD);
  };
  const int64_t T0 = static_cast<int64_t>(c.decode.size()) - 1;
  out.decode_margin.assign(static_cast<size_t>(std::max<int64_t>(T0, 0)), std::numeric_limits<double>::infinity());
  out.mtp_margin = out.decode_margin;
  auto note_margin = [&](std::vector<double>& where, double m) {
    if (step >= 0 && step < static_cast<int64_t>(where.size()))
      where[static_cast<size_t>(step)] = std::min(where[static_cast<size_t>(step)], m);
  };
  tr.on_moe = [&](int, int64_t, std::span<const float> scores, std::span<const int32_t> sel) {
    note_margin(out.decode_margin, topk_margin(scores, static_cast<int64_t>(sel.size())));
  };
  tr.on_indexer = [&](int layer, int64_t pos, std::span<const float> scores, std::span<const int32_t> topk) {
    note_margin(out.decode_margin, topk_margin(scores, static_cast<int64_t>(topk.size())));
    if (step < 0) {
      if (std::find(c.probe_pos.begin(), c.probe_pos.end(), pos) == c.probe_pos.end()) return;
      out.idx_prefill[layer].emplace_back(topk.begin(), topk.end());
      out.idx_prefill_scores[layer].emplace_back(scores.begin(), scores.end());
    } else {
      out.idx_decode[layer].emplace_back(topk.begin(), topk.end());
      out.idx_decode_scores[layer].emplace_back(scores.begin(), scores.end());
    }
  };
  if (chunk > 0) {
    for (int64_t c0 = 0; c0 < N; c0 += chunk) {
      const int64_t c1 = std::min(N, c0 + chunk);
      V4RT_RETURN_IF_ERROR(m.forward(std::span<const int32_t>(c.prompt).subspan(static_cast<size_t>(c0), static_cast<size_t>(c1 - c0)),
                                     *state, logits, {}, &tr));
    }
  } else {
    V4RT_RETURN_IF_ERROR(m.forward(c.prompt, *state, logits, {}, &tr));
  }
  out.prefill_last = logits;
  const int64_t T = static_cast<int64_t>(c.decode.size()) - 1;
  if (m.has_mtp()) {
    std::vector<int32_t> next(c.prompt.begin() + 1, c.prompt.end());
    next.push_back(c.decode[0]);
    out.mtp_sel.assign(c.mtp_pos.size() * static_cast<size_t>(V), 0.0f);
    model::ForwardTrace mt;
    mt.logit_positions = c.mtp_pos;
    mt.on_logits = [&](int64_t pos, std::span<const float> l) {
      for (size_t i = 0; i < c.mtp_pos.size(); ++i)
        if (c.mtp_pos[i] == pos) std::copy(l.begin(), l.end(), out.mtp_sel.begin() + static_cast<int64_t>(i) * V);
    };
    V4RT_RETURN_IF_ERROR(m.forward_mtp_hidden(hidden, next, *state, logits, &mt));
    out.mtp_last = logits;
  }
  for (int64_t j = 0; j < T; ++j) {
    step = j;
    V4RT_RETURN_IF_ERROR(m.forward(std::span<const int32_t>(&c.decode[static_cast<size_t>(j)], 1), *state, logits, {}, &tr));
    out.decode.insert(out.decode.end(), logits.begin(), logits.end());
    if (m.has_mtp()) {
      std::span<const float> h(hidden.data() + (N - 1) * CD, static_cast<size_t>(CD));
      model::ForwardTrace mt;
      mt.on_moe = [&](int, int64_t, std::span<const float> scores, std::span<const int32_t> sel) {
        note_margin(out.mtp_margin, topk_margin(scores, static_cast<int64_t>(sel.size())));
      };
      V4RT_RETURN_IF_ERROR(m.forward_mtp_hidden(h, std::span<const int32_t>(&c.decode[static_cast<size_t>(j + 1)], 1),
                                                *state, logits, &mt));
      out.mtp_decode.insert(out.mtp_decode.end(), logits.begin(), logits.end());
    }
  }
  return Status::Ok();
}

double topk_margin(std::span<const float> scores, int64_t k) {
  if (k <= 0 || k >= static_cast<int64_t>(scores.size())) return std::numeric_limits<double>::infinity();
  std::vector<float> v(scores.begin(), scores.end());
  std::nth_element(v.begin(), v.begin() + k, v.end(), std::greater<float>());
  const float next = v[static_cast<size_t>(k)];
  const float last = *std::min_element(v.begin(), v.begin() + k);
  const double scale = std::max({std::fabs(static_cast<double>(last)), std::fabs(static_cast<double>(next)), 1e-30});
  return (static_cast<double>(last) - static_cast<double>(next)) / scale;
}

}  // namespace v4rt::testing
