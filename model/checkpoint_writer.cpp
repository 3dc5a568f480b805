#include "model/checkpoint_writer.h"

#include "base/thread_pool.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "model/numerics.h"
#include "base/file_util.h"

namespace v4rt::model {

namespace fs = std::filesystem;

namespace {

int64_t numel_of(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shard_name(int i, int n) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "model-%05d-of-%05d.safetensors", i, n);
  return buf;
}

}  // namespace

std::string serialize_safetensors(std::span<const SafetensorsBlob> entries) {
  std::vector<const SafetensorsBlob*> sorted;
  for (const auto& e : entries) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
  // Offsets: each tensor starts 8-byte aligned relative to the data section.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  std::vector<uint64_t> starts;
  for (auto* e : sorted) {
    offset = (offset + 7) & ~uint64_t{7};
    starts.push_back(offset);
    nlohmann::ordered_json t;
    t["dtype"] = std::string(dtype_name(e->dtype));
    t["shape"] = std::vector<int64_t>(e->shape.begin(), e->shape.end());
    t["data_offsets"] = {offset, offset + e->bytes.size()};
    header[std::string(e->name)] = std::move(t);
    offset += e->bytes.size();
  }
  std::string h = header.dump();
  while ((h.size() + 8) % 8 != 0) h.push_back(' ');  // data section starts 8-byte aligned
  std::string out;
  out.reserve(8 + h.size() + offset);
  uint64_t hlen = h.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((hlen >> (8 * i)) & 0xff));
  out += h;
  size_t base = out.size();
  out.resize(base + offset, '\0');
  for (size_t i = 0; i < sorted.size(); ++i)
    std::memcpy(out.data() + base + starts[i], sorted[i]->bytes.data(), sorted[i]->bytes.size());
  return out;
}

CheckpointWriter::CheckpointWriter(fs::path dir, CheckpointWriterOptions options)
    : dir_(std::move(dir)), options_(options) {}

CheckpointWriter::~CheckpointWriter() {
  if (finished_) return;
  std::error_code ec;  // abandoned: remove the partial shards
  for (const auto& s : shards_) fs::remove(s.temp_path, ec);
}

Status CheckpointWriter::add(std::string name, DType dtype, std::vector<int64_t> shape, std::string bytes) {
  if (finished_) return Status::Internal("CheckpointWriter::add after finish()");
  uint64_t want = static_cast<uint64_t>(numel_of(shape)) * dtype_size(dtype);
  if (bytes.size() != want)
    return Status::InvalidArgument("tensor " + name + ": " + std::to_string(bytes.size()) +
                                   " bytes given, shape and dtype need " + std::to_string(want));
  all_names_.push_back(name);
  pending_bytes_ += bytes.size();
  total_bytes_ += bytes.size();
  pending_.push_back({std::move(name), dtype, std::move(shape), std::move(bytes)});
  if (pending_bytes_ >= options_.shard_bytes) return flush_shard();
  return Status::Ok();
}

Status CheckpointWriter::flush_shard() {
  if (pending_.empty()) return Status::Ok();
  std::vector<SafetensorsBlob> entries;
  Shard shard;
  for (const auto& p : pending_) {
    entries.push_back({p.name, p.dtype, p.shape, p.bytes});
    shard.names.push_back(p.name);
  }
  std::string blob = serialize_safetensors(entries);
  shard.temp_path = dir_ / (".shard-" + std::to_string(shards_.size() + 1) + ".tmp");
  V4RT_RETURN_IF_ERROR(write_file_atomic(shard.temp_path, blob));
  shards_.push_back(std::move(shard));
  pending_.clear();
  pending_bytes_ = 0;
  return Status::Ok();
}

Status CheckpointWriter::finish() {
  if (finished_) return Status::Ok();
  std::set<std::string> unique(all_names_.begin(), all_names_.end());
  if (unique.size() != all_names_.size())
    return Status::InvalidArgument(dir_.string() + ": a tensor name was added twice");
  V4RT_RETURN_IF_ERROR(flush_shard());
  if (shards_.empty()) return Status::InvalidArgument(dir_.string() + ": no tensors to write");
  int n = static_cast<int>(shards_.size());
  nlohmann::ordered_json map = nlohmann::ordered_json::object();
  std::vector<std::pair<std::string, std::string>> entries;
  for (int i = 0; i < n; ++i) {
    std::string final_name = shard_name(i + 1, n);
    std::error_code ec;
    fs::rename(shards_[static_cast<size_t>(i)].temp_path, dir_ / final_name, ec);
    if (ec)
      return Status::IoError((dir_ / final_name).string() + ": cannot rename shard: " + ec.message() +
                             "; check the directory is writable");
    for (const auto& name : shards_[static_cast<size_t>(i)].names) entries.emplace_back(name, final_name);
  }
  std::sort(entries.begin(), entries.end());
  for (auto& [name, file] : entries) map[name] = file;
  nlohmann::ordered_json index;
  index["metadata"] = {{"total_size", total_bytes_}};
  index["weight_map"] = std::move(map);
  finished_ = true;
  return write_file_atomic(dir_ / "model.safetensors.index.json", index.dump(2) + "\n");
}

QuantizedFp8 quantize_fp8_blocks(std::span<const float> w, int64_t rows, int64_t cols, int block, ThreadPool* pool) {
  QuantizedFp8 q;
  q.scale_rows = (rows + block - 1) / block;
  q.scale_cols = (cols + block - 1) / block;
  q.weight.resize(static_cast<size_t>(rows * cols));
  q.scale.resize(static_cast<size_t>(q.scale_rows * q.scale_cols));
  auto block_rows = [&](size_t br0, size_t br1) {
    for (int64_t br = static_cast<int64_t>(br0); br < static_cast<int64_t>(br1); ++br) {
      for (int64_t bc = 0; bc < q.scale_cols; ++bc) {
        int64_t r0 = br * block, r1 = std::min(rows, r0 + block);
        int64_t c0 = bc * block, c1 = std::min(cols, c0 + block);
        float amax = 0;
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t c = c0; c < c1; ++c) amax = std::fmax(amax, std::fabs(w[static_cast<size_t>(r * cols + c)]));
        float s = fp8_block_scale(amax);
        q.scale[static_cast<size_t>(br * q.scale_cols + bc)] = static_cast<char>(pow2_to_e8m0(s));
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t c = c0; c < c1; ++c) {
            float x = std::clamp(w[static_cast<size_t>(r * cols + c)] / s, -448.0f, 448.0f);
            q.weight[static_cast<size_t>(r * cols + c)] = static_cast<char>(f32_to_e4m3(x));
          }
      }
    }
  };
  if (pool != nullptr) pool->parallel_for(static_cast<size_t>(q.scale_rows), block_rows);
  else block_rows(0, static_cast<size_t>(q.scale_rows));
  return q;
}

std::vector<float> dequantize_fp8_blocks(const QuantizedFp8& q, int64_t rows, int64_t cols, int block) {
  std::vector<float> out(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      float s = e8m0_to_f32(static_cast<uint8_t>(q.scale[static_cast<size_t>((r / block) * q.scale_cols + c / block)]));
      out[static_cast<size_t>(r * cols + c)] = e4m3_to_f32(static_cast<uint8_t>(q.weight[static_cast<size_t>(r * cols + c)])) * s;
    }
  return out;
}

QuantizedFp4 quantize_fp4_rows(std::span<const float> w, int64_t rows, int64_t cols, ThreadPool* pool) {
  QuantizedFp4 q;
  q.weight.resize(static_cast<size_t>(rows * cols / 2));
  q.scale.resize(static_cast<size_t>(rows * cols / 32));
  auto row_range = [&](size_t r0, size_t r1) {
    for (int64_t r = static_cast<int64_t>(r0); r < static_cast<int64_t>(r1); ++r) {
      for (int64_t b = 0; b < cols / 32; ++b) {
        const float* x = w.data() + r * cols + b * 32;
        float amax = 0;
        for (int i = 0; i < 32; ++i) amax = std::fmax(amax, std::fabs(x[i]));
        float s = fp4_block_scale(amax);
        q.scale[static_cast<size_t>(r * (cols / 32) + b)] = static_cast<char>(pow2_to_e8m0(s));
        for (int i = 0; i < 32; i += 2) {
          uint8_t lo = f32_to_e2m1(std::clamp(x[i] / s, -6.0f, 6.0f));
          uint8_t hi = f32_to_e2m1(std::clamp(x[i + 1] / s, -6.0f, 6.0f));
          q.weight[static_cast<size_t>((r * cols + b * 32 + i) / 2)] = static_cast<char>(lo | (hi << 4));
        }
      }
    }
  };
  if (pool != nullptr) pool->parallel_for(static_cast<size_t>(rows), row_range);
  else row_range(0, static_cast<size_t>(rows));
  return q;
}

std::vector<float> dequantize_fp4_rows(const QuantizedFp4& q, int64_t rows, int64_t cols) {
  std::vector<float> out(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      uint8_t byte = static_cast<uint8_t>(q.weight[static_cast<size_t>((r * cols + c) / 2)]);
      uint8_t code = (c % 2 == 0) ? (byte & 0xf) : (byte >> 4);
      float s = e8m0_to_f32(static_cast<uint8_t>(q.scale[static_cast<size_t>(r * (cols / 32) + c / 32)]));
      out[static_cast<size_t>(r * cols + c)] = e2m1_to_f32(code) * s;
    }
  return out;
}

std::string to_bf16_bytes(std::span<const float> v) {
  std::string out(v.size() * 2, '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    uint16_t b = f32_to_bf16_bits(v[i]);
    std::memcpy(out.data() + 2 * i, &b, 2);
  }
  return out;
}

std::string to_f32_bytes(std::span<const float> v) {
  std::string out(v.size() * 4, '\0');
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

}  // namespace v4rt::model
