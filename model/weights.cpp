#include "model/weights.h"

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>

#include "model/mapped_file.h"
#include "model/safetensors_header.h"
#include "base/file_util.h"

namespace v4rt::model {

namespace fs = std::filesystem;
using nlohmann::json;

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

namespace {

uint64_t fnv1a64(std::span<const uint8_t> bytes) {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 1099511628211ull;
  }
  return h;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// A shard name from an index must stay inside the checkpoint directory.
bool safe_shard_name(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name.find('\\') == std::string::npos &&
         name != "." && name != ".." && name.find('\0') == std::string::npos;
}

// Adds every tensor of one parsed file; `base` is the file's first byte.
Status add_tensors(const SafetensorsHeader& header, const uint8_t* base, const std::string& file_label,
                   std::map<std::string, TensorView, std::less<>>* tensors,
                   std::map<std::string, std::string>* origin) {
  for (const auto& e : header.tensors) {
    auto [it, inserted] = tensors->try_emplace(e.name);
    if (!inserted)
      return Status::Corruption(file_label + ": tensor '" + e.name + "' also appears in " + (*origin)[e.name] +
                                "; a checkpoint must hold each tensor once (remove the stray shard)");
    (*origin)[e.name] = file_label;
    TensorView& v = it->second;
    v.name = it->first;
    v.dtype = e.dtype;
    v.shape = e.shape;
    v.data = base + header.data_offset + e.begin;
    v.nbytes = static_cast<size_t>(e.end - e.begin);
  }
  return Status::Ok();
}

}  // namespace

// Hash of the tensor bytes, sampled: 256 windows of 4 KiB spread evenly over the
// data region plus its first and last 64 KiB. Two checkpoints with the same
// shapes but different values (e.g. random weights of two seeds, a fine-tune)
// then get different identities, so a session store never restores state made
// by other weights; hashing every byte of a 160 GB checkpoint at each start
// would cost minutes, the samples cost ~1.2 MB of reads per shard.
static std::string content_sample_hash(std::span<const uint8_t> file, size_t data_offset) {
  if (data_offset >= file.size()) return "c0;";
  std::span<const uint8_t> data = file.subspan(data_offset);
  constexpr size_t kWindow = 4096, kEdge = 65536, kWindows = 256;
  uint64_t h = fnv1a64(data.subspan(0, std::min(kEdge, data.size())));
  if (data.size() > kEdge) {
    size_t tail = std::min(kEdge, data.size() - kEdge);
    h ^= fnv1a64(data.subspan(data.size() - tail)) * 0x9E3779B97F4A7C15ull;
  }
  if (data.size() > 2 * kEdge + kWindow) {
    size_t span = data.size() - kWindow;
    for (size_t i = 0; i < kWindows; ++i) {
      size_t off = span / kWindows * i;
      h = (h ^ fnv1a64(data.subspan(off, kWindow))) * 0x100000001B3ull;
    }
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "c%016" PRIx64 ";", h);
  return buf;
}

Weights::Weights() = default;
Weights::~Weights() = default;

void Weights::align_tensors() {
  for (auto& [name, t] : tensors_) {
    const size_t align = std::min<size_t>(dtype_size(t.dtype), 8);
    if (align <= 1 || t.nbytes == 0 || reinterpret_cast<uintptr_t>(t.data) % align == 0) continue;
    std::vector<uint64_t>& copy = aligned_copies_.emplace_back((t.nbytes + 7) / 8);
    std::memcpy(copy.data(), t.data, t.nbytes);
    t.data = reinterpret_cast<const uint8_t*>(copy.data());
  }
}

bool Weights::in_mapping(const void* p) const {
  const auto* b = static_cast<const uint8_t*>(p);
  for (const auto& f : files_)
    if (b >= f->data() && b < f->data() + f->size()) return true;
  return false;
}

Result<std::unique_ptr<Weights>> Weights::from_bytes(std::string bytes, std::string name) {
  std::unique_ptr<Weights> w(new Weights());
  w->owned_bytes_ = std::move(bytes);
  auto span = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(w->owned_bytes_.data()), w->owned_bytes_.size());
  Result<SafetensorsHeader> header = parse_safetensors_header(span, name);
  if (!header) return header.status();
  std::map<std::string, std::string> origin;
  V4RT_RETURN_IF_ERROR(add_tensors(*header, span.data(), name, &w->tensors_, &origin));
  w->total_bytes_ = span.size();
  char buf[64];
  std::snprintf(buf, sizeof buf, ":%zu:%016" PRIx64 ";", span.size(),
                fnv1a64(span.subspan(0, static_cast<size_t>(header->data_offset))));
  w->identity_ = name + buf;
  w->align_tensors();
  return w;
}

Result<std::unique_ptr<Weights>> Weights::open(const fs::path& dir) {
  std::error_code ec;
  std::vector<fs::path> files;
  std::map<std::string, std::string> index_map;  // tensor -> shard file name (when an index exists)
  const fs::path index_path = dir / "model.safetensors.index.json";
  if (fs::is_regular_file(dir, ec)) {
    files.push_back(dir);
  } else if (!fs::is_directory(dir, ec)) {
    return Status::NotFound(dir.string() + ": no such checkpoint directory; pass the folder holding config.json and *.safetensors");
  } else if (fs::exists(index_path, ec)) {
    Result<std::string> text = read_file(index_path);
    if (!text) return text.status();
    json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object())
      return Status::Corruption(index_path.string() + ": not a valid JSON object; re-download the checkpoint's index");
    auto wm = j.find("weight_map");
    if (wm == j.end() || !wm->is_object())
      return Status::Corruption(index_path.string() + ": key 'weight_map' is missing or not an object; re-download the index");
    std::set<std::string> shards;
    for (const auto& [tensor, shard] : wm->items()) {
      if (!shard.is_string() || !safe_shard_name(shard.get<std::string>()))
        return Status::Corruption(index_path.string() + ": weight_map entry for '" + tensor +
                                  "' is not a plain file name inside the checkpoint directory");
      index_map[tensor] = shard.get<std::string>();
      shards.insert(shard.get<std::string>());
    }
    for (const auto& s : shards) files.push_back(dir / s);
  } else {
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
      if (it->path().extension() == ".safetensors") files.push_back(it->path());
    if (ec) return Status::IoError(dir.string() + ": cannot list directory (" + ec.message() + ")");
    std::sort(files.begin(), files.end());
    if (files.empty())
      return Status::NotFound(dir.string() + ": no *.safetensors files and no model.safetensors.index.json; the weights are absent");
  }

  std::unique_ptr<Weights> w(new Weights());
  std::map<std::string, std::string> origin;
  for (const auto& path : files) {
    Result<std::unique_ptr<MappedFile>> mf = MappedFile::open(path);
    if (!mf) {
      if (!index_map.empty() && !fs::exists(path, ec))
        return Status::NotFound(path.string() + ": shard named by " + index_path.filename().string() +
                                " is missing; download every shard listed in the index");
      return mf.status();
    }
    const std::string label = path.string();
    Result<SafetensorsHeader> header = parse_safetensors_header((*mf)->bytes(), label);
    if (!header) return header.status();
    V4RT_RETURN_IF_ERROR(add_tensors(*header, (*mf)->data(), label, &w->tensors_, &origin));
    w->total_bytes_ += (*mf)->size();
    char buf[64];
    std::snprintf(buf, sizeof buf, ":%zu:%016" PRIx64 ";", (*mf)->size(),
                  fnv1a64((*mf)->bytes().subspan(0, static_cast<size_t>(header->data_offset))));
    w->identity_ += path.filename().string() + buf;
    w->identity_ += content_sample_hash((*mf)->bytes(), static_cast<size_t>(header->data_offset));
    w->files_.push_back(std::move(*mf));
  }
  w->align_tensors();
  // The index and the shards must agree.
  for (const auto& [tensor, shard] : index_map) {
    auto it = origin.find(tensor);
    if (it == origin.end())
      return Status::Corruption(index_path.string() + ": lists tensor '" + tensor + "' in " + shard +
                                ", which does not contain it; re-download that shard");
    if (fs::path(it->second).filename().string() != shard)
      return Status::Corruption(index_path.string() + ": lists tensor '" + tensor + "' in " + shard + " but it is in " +
                                it->second + "; re-download the index");
  }
  return w;
}

const TensorView* Weights::find(std::string_view name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

Result<const TensorView*> Weights::get(std::string_view name, DType dtype, std::vector<int64_t> shape) const {
  const TensorView* t = find(name);
  if (t == nullptr)
    return Status::NotFound("checkpoint lacks tensor '" + std::string(name) + "' (expected " +
                            std::string(dtype_name(dtype)) + " " + shape_text(shape) +
                            "); the checkpoint is incomplete or for another model");
  if (t->dtype != dtype || t->shape != shape)
    return Status::InvalidArgument("tensor '" + std::string(name) + "' is " + std::string(dtype_name(t->dtype)) + " " +
                                   shape_text(t->shape) + " but the config needs " + std::string(dtype_name(dtype)) +
                                   " " + shape_text(shape) + "; check that config.json matches the weights");
  return t;
}

}  // namespace v4rt::model
