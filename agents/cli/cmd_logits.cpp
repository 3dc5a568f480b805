// `v4rt logits`: the model's raw next-token logits for a token sequence, as
// .npy, for parity checks against the reference (golden/v4-tiny). Works on a
// checkpoint directory without tokenizer files.
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agents/cli/commands.h"
#include "agents/cli/flags.h"
#include "model/model.h"
#include "model/npy.h"
#include "model/state.h"
#include "base/file_util.h"
#include "base/thread_pool.h"

namespace v4rt::cli {
namespace {

Status read_ids(const std::string& path, const nlohmann::json& j, const char* key, std::vector<int32_t>& out) {
  if (!j.contains(key)) return Status::Ok();
  if (!j[key].is_array())
    return Status::InvalidArgument(path + ": \"" + key + "\" must be an array of token ids");
  for (const auto& v : j[key]) {
    if (!v.is_number_integer())
      return Status::InvalidArgument(path + ": \"" + key + "\" holds a non-integer; write token ids as integers");
    out.push_back(v.get<int32_t>());
  }
  return Status::Ok();
}

Status run(const std::string& model_dir, const std::string& tokens_path, const std::string& out_path,
           const std::string& mtp_out, long long prefill, long long chunk, bool no_act_quant, int threads) {
  auto text = read_file(tokens_path);
  if (!text.ok()) return text.status();
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Status::InvalidArgument(tokens_path + ": not a JSON object; expected {\"prompt\": [ids...], \"decode\": [ids...]}");
  std::vector<int32_t> prompt, decode;
  V4RT_RETURN_IF_ERROR(read_ids(tokens_path, j, "prompt", prompt));
  V4RT_RETURN_IF_ERROR(read_ids(tokens_path, j, "decode", decode));
  if (prompt.empty()) return Status::InvalidArgument(tokens_path + ": \"prompt\" is missing or empty; give at least one id");
  if (prefill > 0) {
    // --prefill N: only the first N prompt ids are prefilled; the rest are fed one by one like decode ids.
    if (prefill > static_cast<long long>(prompt.size()))
      return Status::InvalidArgument("--prefill " + std::to_string(prefill) + " exceeds the prompt length " +
                                     std::to_string(prompt.size()));
    decode.insert(decode.begin(), prompt.begin() + prefill, prompt.end());
    prompt.resize(static_cast<size_t>(prefill));
  }
  ThreadPool pool(threads);
  model::ModelOptions opt;
  opt.activation_quant = !no_act_quant;
  if (chunk > 0) opt.prefill_chunk_tokens = static_cast<int>(chunk);
  auto m = model::Model::load(model_dir, opt, &pool);
  if (!m.ok()) return m.status();
  const int64_t V = (*m)->config().vocab_size;
  const bool want_mtp = !mtp_out.empty();
  if (want_mtp && !(*m)->has_mtp()) return Status::Unsupported(model_dir + " has no MTP block (mtp.0.*); drop --mtp-out");
  auto st = (*m)->new_state();
  std::vector<float> rows, mtp_rows, logits(static_cast<size_t>(V));
  V4RT_RETURN_IF_ERROR((*m)->forward(prompt, *st, logits, [](std::string_view, uint64_t done, uint64_t total) {
    std::fprintf(stderr, "\rprefill %llu/%llu", static_cast<unsigned long long>(done), static_cast<unsigned long long>(total));
    if (done == total) std::fputc('\n', stderr);
    return true;
  }));
  rows.insert(rows.end(), logits.begin(), logits.end());
  auto mtp_step = [&](int32_t next) -> Status {
    if (!want_mtp) return Status::Ok();
    V4RT_RETURN_IF_ERROR((*m)->forward_mtp(next, *st, logits));
    mtp_rows.insert(mtp_rows.end(), logits.begin(), logits.end());
    return Status::Ok();
  };
  for (size_t i = 0; i < decode.size(); ++i) {
    V4RT_RETURN_IF_ERROR(mtp_step(decode[i]));  // MTP row i: drafted after position i-1 with the known next id
    V4RT_RETURN_IF_ERROR((*m)->forward(std::span<const int32_t>(&decode[i], 1), *st, logits));
    rows.insert(rows.end(), logits.begin(), logits.end());
  }
  const std::vector<int64_t> shape = {static_cast<int64_t>(rows.size()) / V, V};
  V4RT_RETURN_IF_ERROR(write_file_atomic(out_path, model::npy_encode_f32(shape, rows.data())));
  if (want_mtp) {
    const std::vector<int64_t> ms = {static_cast<int64_t>(mtp_rows.size()) / V, V};
    V4RT_RETURN_IF_ERROR(write_file_atomic(mtp_out, model::npy_encode_f32(ms, mtp_rows.data())));
  }
  std::fprintf(stderr, "wrote %s [%lld, %lld] (kernels %s)\n", out_path.c_str(), static_cast<long long>(shape[0]),
               static_cast<long long>(V), (*m)->kernels_name());
  return Status::Ok();
}

}  // namespace

int cmd_logits(int argc, char** argv) {
  std::string model_dir, tokens, out, mtp_out;
  long long prefill = 0, chunk = 0;
  int threads = 0;
  bool no_act_quant = false;
  FlagSet flags("v4rt logits --model DIR --tokens FILE.json --out FILE.npy [flags]",
                "Prefill the prompt ids of FILE.json ({\"prompt\": [...], \"decode\": [...]}), then feed each decode "
                "id one at a time, and write the float32 next-token logits as .npy of shape [1 + len(decode), vocab]: "
                "row 0 follows the prompt, row i follows decode id i. For parity checks; needs no tokenizer.",
                "v4rt logits --model tiny/bf16 --tokens ids.json --out logits.npy --chunk 128");
  flags.add_string("model", &model_dir, "checkpoint directory (config.json + safetensors)", "DIR");
  flags.add_string("tokens", &tokens, "JSON file {\"prompt\": [ids], \"decode\": [ids]}", "FILE");
  flags.add_string("out", &out, "output .npy of float32 logits", "FILE");
  flags.add_string("mtp-out", &mtp_out,
                   "also write MTP draft logits: row i is drafted before decode id i is fed (it predicts the id after it)",
                   "FILE");
  flags.add_int("prefill", &prefill, "prefill only the first N prompt ids; feed the rest one by one (0: all)");
  flags.add_int("chunk", &chunk, "prefill in chunks of C tokens (0: the engine default)");
  flags.add_int("threads", &threads, "worker threads (0: one per hardware thread)");
  flags.add_bool("no-act-quant", &no_act_quant,
                 "do not simulate FP8 activation quantisation (fp8 checkpoints then match the bf16 goldens)");
  if (Status s = flags.parse(argc, argv); !s.ok()) return report(s, "v4rt logits --help");
  if (flags.help_requested()) {
    std::fputs(flags.help().c_str(), stdout);
    return 0;
  }
  if (model_dir.empty() || tokens.empty() || out.empty())
    return report(Status::InvalidArgument("--model, --tokens and --out are required"), "v4rt logits --help");
  if (prefill < 0 || chunk < 0)
    return report(Status::InvalidArgument("--prefill and --chunk must be >= 0"), "v4rt logits --help");
  return report(run(model_dir, tokens, out, mtp_out, prefill, chunk, no_act_quant, threads));
}

}  // namespace v4rt::cli
