#include "tools/job_table.h"

#include <algorithm>

#include "tools/tool.h"

namespace v4rt::tools {

JobTable::~JobTable() { stop_all(); }

Result<int> JobTable::add(std::unique_ptr<BackgroundProcess> process, std::string command) {
  std::lock_guard<std::mutex> lock(mu_);
  int running = 0;
  for (auto& [id, j] : jobs_) running += j.process->running() ? 1 : 0;
  if (running >= max_jobs_) {
    process->stop();
    return Status::ResourceExhausted("shell: " + std::to_string(running) +
                                     " background jobs are still running; stop one with job{id, action: \"stop\"}");
  }
  int id = next_id_++;
  jobs_[id] = Job{std::move(process), std::move(command)};
  return id;
}

namespace {

std::string describe(int id, const std::string& command, BackgroundProcess& p, size_t max_bytes) {
  std::string out = "job " + std::to_string(id) + " (" + command + "): ";
  auto code = p.exit_code();
  out += code ? "exited with code " + std::to_string(*code) : "running";
  size_t dropped = p.dropped_bytes();
  if (dropped > 0) {
    // The job wrote more than we keep: say so, show its first bytes, then its latest.
    std::string head = p.output_head(std::min<size_t>(max_bytes / 4, 2048));
    std::string tail = p.output_tail(max_bytes - std::min(max_bytes, head.size()));
    out += "\noutput: " + std::to_string(p.total_bytes()) + " bytes so far; " + std::to_string(dropped) +
           " bytes in the middle were dropped (a background job keeps its first and last bytes only)\n";
    out += "first " + std::to_string(head.size()) + " bytes:\n" + head + "\n[...]\nlast " +
           std::to_string(tail.size()) + " bytes:\n" + tail;
    return out;
  }
  std::string tail = p.output_tail(max_bytes);
  out += tail.empty() ? "\n(no output yet)\n" : "\noutput (last " + std::to_string(tail.size()) + " bytes):\n" + tail;
  return out;
}

}  // namespace

Result<std::string> JobTable::status(int id, size_t max_output_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end())
    return Status::NotFound("job " + std::to_string(id) + " does not exist; known jobs: " +
                            (jobs_.empty() ? std::string("none") : std::to_string(jobs_.begin()->first) + "..."));
  return describe(id, it->second.command, *it->second.process, max_output_bytes);
}

Result<std::string> JobTable::stop(int id, size_t max_output_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return Status::NotFound("job " + std::to_string(id) + " does not exist");
  it->second.process->stop();
  return "stopped " + describe(id, it->second.command, *it->second.process, max_output_bytes);
}

std::string JobTable::summary() {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (auto& [id, j] : jobs_) {
    auto code = j.process->exit_code();
    out += "job " + std::to_string(id) + " (" + j.command + "): " +
           (code ? "exited " + std::to_string(*code) : std::string("running")) + "\n";
  }
  return out;
}

void JobTable::stop_all() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, j] : jobs_) j.process->stop();
}

}  // namespace v4rt::tools
