// JobTable: the background processes one agent session started with
// shell{background: true}, by small integer id. Destroying the table stops
// every job. Thread-safe (one mutex).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "base/status.h"
#include "tools/subprocess.h"

namespace v4rt::tools {

class JobTable {
 public:
  explicit JobTable(int max_jobs = 8) : max_jobs_(max_jobs) {}
  ~JobTable();
  JobTable(const JobTable&) = delete;
  JobTable& operator=(const JobTable&) = delete;

  // ResourceExhausted when max_jobs are still running.
  Result<int> add(std::unique_ptr<BackgroundProcess> process, std::string command);
  // "job 3 (make test): running|exited with code N" + output tail.
  Result<std::string> status(int id, size_t max_output_bytes);
  Result<std::string> stop(int id, size_t max_output_bytes);
  std::string summary();  // one line per job
  void stop_all();

 private:
  struct Job {
    std::unique_ptr<BackgroundProcess> process;
    std::string command;
  };
  int max_jobs_;
  std::mutex mu_;  // guards jobs_, next_id_
  std::map<int, Job> jobs_;
  int next_id_ = 1;
};

}  // namespace v4rt::tools
