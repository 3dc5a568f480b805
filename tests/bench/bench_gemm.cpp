// The Linear GEMM (model/gemm.cpp via linear()) on the shapes of the `small`
// preset's prefill (512-token chunks), in GFLOP/s, next to the machine's fp32
// FMA peak measured the same way (register-only FMAs, same thread count).
//   ./build/tests/bench_gemm [--benchmark_filter=Fp8]
// Args: {M, K, N, threads}. Peak: {threads}.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "model/config.h"
#include "model/layers.h"
#include "model/numerics.h"
#include "base/thread_pool.h"

namespace {

using v4rt::ThreadPool;
using v4rt::model::Config;
using v4rt::model::Ctx;
using v4rt::model::kernels::QMatrix;
using v4rt::model::kernels::WKind;

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
// 16 independent FMA chains in named registers: throughput-bound, no memory traffic.
__attribute__((target("avx512f"))) float fma_loop_avx512(int64_t iters) {
  __m512 a0 = _mm512_set1_ps(0.f), a1 = _mm512_set1_ps(1.f), a2 = _mm512_set1_ps(2.f), a3 = _mm512_set1_ps(3.f);
  __m512 a4 = _mm512_set1_ps(4.f), a5 = _mm512_set1_ps(5.f), a6 = _mm512_set1_ps(6.f), a7 = _mm512_set1_ps(7.f);
  __m512 a8 = _mm512_set1_ps(8.f), a9 = _mm512_set1_ps(9.f), a10 = _mm512_set1_ps(10.f), a11 = _mm512_set1_ps(11.f);
  __m512 a12 = _mm512_set1_ps(12.f), a13 = _mm512_set1_ps(13.f), a14 = _mm512_set1_ps(14.f), a15 = _mm512_set1_ps(15.f);
  const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  for (int64_t t = 0; t < iters; ++t) {
    a0 = _mm512_fmadd_ps(a0, m, c); a1 = _mm512_fmadd_ps(a1, m, c); a2 = _mm512_fmadd_ps(a2, m, c);
    a3 = _mm512_fmadd_ps(a3, m, c); a4 = _mm512_fmadd_ps(a4, m, c); a5 = _mm512_fmadd_ps(a5, m, c);
    a6 = _mm512_fmadd_ps(a6, m, c); a7 = _mm512_fmadd_ps(a7, m, c); a8 = _mm512_fmadd_ps(a8, m, c);
    a9 = _mm512_fmadd_ps(a9, m, c); a10 = _mm512_fmadd_ps(a10, m, c); a11 = _mm512_fmadd_ps(a11, m, c);
    a12 = _mm512_fmadd_ps(a12, m, c); a13 = _mm512_fmadd_ps(a13, m, c); a14 = _mm512_fmadd_ps(a14, m, c);
    a15 = _mm512_fmadd_ps(a15, m, c);
  }
  __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                           _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
  s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)),
                                     _mm512_add_ps(_mm512_add_ps(a12, a13), _mm512_add_ps(a14, a15))));
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);
  return lanes[0];
}
#endif

void BM_FmaPeak(benchmark::State& state) {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f")) {
    state.SkipWithError("no AVX-512");
    return;
  }
  const int threads = static_cast<int>(state.range(0));
  ThreadPool pool(threads);
  constexpr int64_t kIters = 2'000'000;
  float sink = 0;
  for (auto _ : state) {
    pool.parallel_for(static_cast<size_t>(threads), [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) benchmark::DoNotOptimize(fma_loop_avx512(kIters));
    });
  }
  benchmark::DoNotOptimize(sink);
  state.counters["GFLOP/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * threads * kIters * 16 * 32 / 1e9,
                                                 benchmark::Counter::kIsRate);
#else
  state.SkipWithError("x86-64 only");
#endif
}
BENCHMARK(BM_FmaPeak)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

struct Matrix {
  std::vector<uint8_t> data, scale;
  QMatrix q;
};

Matrix make(WKind kind, int64_t rows, int64_t cols) {
  std::mt19937 rng(1);
  Matrix m;
  const int64_t bytes = kind == WKind::kF32 ? 4 : kind == WKind::kBF16 ? 2 : kind == WKind::kFP8 ? 1 : 0;
  if (kind == WKind::kFP4) {
    m.data.resize(static_cast<size_t>(rows * cols / 2));
    m.scale.assign(static_cast<size_t>(rows * cols / 32), 124);
    m.q = {kind, rows, cols, m.data.data(), m.scale.data(), cols / 32};
  } else {
    m.data.resize(static_cast<size_t>(rows * cols * bytes));
    if (kind == WKind::kFP8) {
      m.scale.assign(static_cast<size_t>(((rows + 127) / 128) * ((cols + 127) / 128)), 120);
      m.q = {kind, rows, cols, m.data.data(), m.scale.data(), (cols + 127) / 128};
    } else {
      m.q = {kind, rows, cols, m.data.data(), nullptr, 0};
    }
  }
  for (auto& b : m.data) b = static_cast<uint8_t>(rng() % 0x70);  // finite FP8 codes, small bf16/f32 values
  return m;
}

void run_gemm(benchmark::State& state, WKind kind, bool act_quant) {
  const int64_t M = state.range(0), K = state.range(1), N = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  Config cfg;
  ThreadPool pool(threads);
  Matrix w = make(kind, N, K);
  std::vector<float> x(static_cast<size_t>(M * K)), y(static_cast<size_t>(M * N));
  std::mt19937 rng(2);
  std::normal_distribution<float> g;
  for (float& v : x) v = g(rng);
  const Ctx ctx{cfg, v4rt::model::kernels::best_kernels(), &pool, act_quant, nullptr};
  for (auto _ : state) {
    v4rt::model::linear(ctx, w.q, x.data(), M, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 2.0 * M * K * N / 1e9, benchmark::Counter::kIsRate);
}

void BM_GemmFp8ActQuant(benchmark::State& s) { run_gemm(s, WKind::kFP8, true); }
void BM_GemmFp4ActQuant(benchmark::State& s) { run_gemm(s, WKind::kFP4, true); }
void BM_GemmBf16(benchmark::State& s) { run_gemm(s, WKind::kBF16, false); }
void BM_GemmF32(benchmark::State& s) { run_gemm(s, WKind::kF32, false); }

// small preset, 512-token chunk: wq_b [4096 x 256], wkv [512 x 512], wo_a group [256 x 2048], wo_b [512 x 512].
#define SMALL_SHAPES(b)                                                                                  \
  b->Args({512, 256, 4096, 1})->Args({512, 256, 4096, 2})->Args({512, 512, 512, 2})->Args({512, 2048, 256, 2}) \
      ->UseRealTime()->Unit(benchmark::kMillisecond)
SMALL_SHAPES(BENCHMARK(BM_GemmFp8ActQuant));
// Routed expert [256 x 512] over the ~64 tokens a chunk sends it, and the full chunk.
BENCHMARK(BM_GemmFp4ActQuant)->Args({64, 512, 256, 2})->Args({512, 512, 256, 2})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GemmBf16)->Args({512, 512, 4096, 2})->UseRealTime()->Unit(benchmark::kMillisecond);
// The indexer's score GEMM: 64 queries x 8 heads against 8192 FP4-decoded keys of 128.
BENCHMARK(BM_GemmF32)->Args({512, 128, 8192, 2})->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
