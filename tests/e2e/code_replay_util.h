// Helpers for the `v4rt code` end-to-end tests: DSML turns for replay files,
// temporary git repositories, running the real binary.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace v4rt::testing::code {

inline const std::string kEos = "<\uFF5Cend\u2581of\u2581sentence\uFF5C>";

struct Param {
  std::string name, value;
  bool is_string = true;
};
struct Call {
  std::string name;
  std::vector<Param> params;
};

// One model turn in thinking mode: reasoning</think>content[\n\n<DSML block>]EOS.
inline std::string turn(const std::string& reasoning, const std::string& content, const std::vector<Call>& calls = {}) {
  const std::string d = "\uFF5C" "DSML" "\uFF5C";
  std::string out = reasoning + "</think>" + content;
  if (!calls.empty()) {
    out += "\n\n<" + d + "tool_calls>\n";
    for (const auto& c : calls) {
      out += "<" + d + "invoke name=\"" + c.name + "\">\n";
      for (const auto& p : c.params)
        out += "<" + d + "parameter name=\"" + p.name + "\" string=\"" + (p.is_string ? "true" : "false") + "\">" +
               p.value + "</" + d + "parameter>\n";
      out += "</" + d + "invoke>\n";
    }
    out += "</" + d + "tool_calls>";
  }
  return out + kEos;
}

inline void write_replay(const std::filesystem::path& file, const std::vector<std::string>& outputs) {
  std::ofstream f(file, std::ios::binary);
  for (const auto& o : outputs) f << nlohmann::json({{"output", o}}).dump() << "\n";
}

inline void put(const std::filesystem::path& p, const std::string& content) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}

inline std::string get(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A git repository with one commit.
inline void make_git_repo(const std::filesystem::path& dir, const std::vector<std::pair<std::string, std::string>>& files) {
  std::filesystem::create_directories(dir);
  for (const auto& [rel, content] : files) put(dir / rel, content);
  auto r = run_command("cd " + shell_quote(dir.string()) +
                       " && git init -q && git add -A && git -c user.email=t@t -c user.name=t commit -q -m init");
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

// Runs `v4rt code` headless with a replay file in a workspace; state under state_dir.
inline CommandResult run_code(const std::filesystem::path& workspace, const std::filesystem::path& replay,
                              const std::filesystem::path& state_dir, const std::string& extra_flags,
                              const std::string& task = "do the task") {
  std::string cmd = shell_quote(v4rt_binary().string()) + " code -p " + shell_quote(task) +
                    " --backend " + shell_quote("replay:" + replay.string()) + " --workspace " +
                    shell_quote(workspace.string()) + " --state-dir " + shell_quote(state_dir.string()) + " " +
                    extra_flags;
  return run_command(cmd);
}

// Parses stream-json output into events.
inline std::vector<nlohmann::json> events(const std::string& out) {
  std::vector<nlohmann::json> ev;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) ev.push_back(j);
  }
  return ev;
}

inline std::vector<nlohmann::json> of_type(const std::vector<nlohmann::json>& ev, const std::string& type) {
  std::vector<nlohmann::json> out;
  for (const auto& e : ev)
    if (e.value("type", "") == type) out.push_back(e);
  return out;
}

}  // namespace v4rt::testing::code
