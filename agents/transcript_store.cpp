#include "agents/transcript_store.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <random>

#include "base/file_util.h"

namespace v4rt::agents {

namespace fs = std::filesystem;

namespace {

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  return true;
}

}  // namespace

std::string TranscriptStore::new_id() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  std::random_device rd;
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%04x", static_cast<unsigned>(rd() & 0xffff));
  return std::string(buf) + "-" + suffix;
}

Status TranscriptStore::save(Transcript& t) {
  if (!valid_id(t.id)) return Status::InvalidArgument("session id '" + t.id + "' is not valid");
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return Status::IoError(dir_.string() + ": cannot create the session directory (" + ec.message() + ")");
  t.updated = now_s();
  if (t.created == 0) t.created = t.updated;
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["id"] = t.id;
  j["workspace"] = t.workspace;
  j["created"] = t.created;
  j["updated"] = t.updated;
  j["messages"] = t.messages;
  return write_file_atomic(dir_ / (t.id + ".json"), j.dump(1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

Result<Transcript> TranscriptStore::load(const std::string& id) const {
  if (!valid_id(id)) return Status::InvalidArgument("session id '" + id + "' is not valid; see 'v4rt code --list-sessions'");
  auto text = read_file(dir_ / (id + ".json"));
  if (!text) return Status::NotFound("session '" + id + "' not found in " + dir_.string() + "; list them with /sessions");
  auto j = nlohmann::ordered_json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("messages") || !j["messages"].is_array())
    return Status::Corruption((dir_ / (id + ".json")).string() + ": not a v4rt session file; delete it or pick another session");
  Transcript t;
  t.id = id;
  t.workspace = j.value("workspace", "");
  t.created = j.value("created", int64_t{0});
  t.updated = j.value("updated", int64_t{0});
  t.messages = j["messages"];
  return t;
}

Result<std::vector<Transcript>> TranscriptStore::list() const {
  std::vector<Transcript> out;
  std::error_code ec;
  if (!fs::exists(dir_, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (e.path().extension() != ".json") continue;
    auto t = load(e.path().stem().string());
    if (t) out.push_back(std::move(*t));
  }
  std::sort(out.begin(), out.end(), [](const Transcript& a, const Transcript& b) {
    return a.updated != b.updated ? a.updated > b.updated : a.id > b.id;
  });
  return out;
}

Result<Transcript> TranscriptStore::latest(const std::string& workspace) const {
  auto all = list();
  if (!all) return all.status();
  for (auto& t : *all)
    if (t.workspace == workspace) return std::move(t);
  return Status::NotFound("no earlier session for workspace " + workspace + "; start one without --continue");
}

}  // namespace v4rt::agents
