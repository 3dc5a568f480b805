// libFuzzer target: the safetensors header parser and Weights::from_bytes on
// arbitrary bytes. Any accepted header must describe ranges inside the input;
// touching the first and last byte of every tensor lets ASan prove it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "model/safetensors_header.h"
#include "model/weights.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace v4rt::model;
  auto header = parse_safetensors_header({data, size}, "fuzz.safetensors");
  if (header.ok()) {
    volatile uint8_t sink = 0;
    for (const auto& t : header->tensors) {
      if (t.end > header->data_bytes || t.begin > t.end) __builtin_trap();
      if (t.end > t.begin) sink = sink + data[header->data_offset + t.begin] + data[header->data_offset + t.end - 1];
    }
    (void)sink;
  }
  auto weights = Weights::from_bytes(std::string(reinterpret_cast<const char*>(data), size), "fuzz.safetensors");
  if (weights.ok()) {
    volatile uint8_t sink = 0;
    for (const auto& [name, t] : (*weights)->tensors())
      if (t.nbytes > 0) sink = sink + t.data[0] + t.data[t.nbytes - 1];
    (void)sink;
  }
  return 0;
}
