// TranscriptStore: the conversations of `v4rt code`, one JSON file per
// session under a state directory (default ~/.v4rt/code/sessions), so that
// --resume ID, --continue (latest session of this workspace) and /fork work.
// File: {"id","workspace","created","updated","messages":[...]}; written
// atomically. Not thread-safe (one writer per session).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace v4rt::agents {

struct Transcript {
  std::string id;
  std::string workspace;
  int64_t created = 0, updated = 0;  // unix seconds
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
};

class TranscriptStore {
 public:
  explicit TranscriptStore(std::filesystem::path dir) : dir_(std::move(dir)) {}

  static std::string new_id();  // "20261125-171530-3f9a"
  Status save(Transcript& t);   // sets updated (and created when 0)
  Result<Transcript> load(const std::string& id) const;
  // Latest session whose workspace is `workspace`; NotFound if none.
  Result<Transcript> latest(const std::string& workspace) const;
  // Newest first.
  Result<std::vector<Transcript>> list() const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

}  // namespace v4rt::agents
