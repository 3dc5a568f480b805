#include "agents/cli/approval_prompt.h"

#include "base/terminal_text.h"

namespace v4rt::cli {

namespace {

// One line: newlines and tabs escaped too, so nothing can push the real text out of view.
std::string line_safe(const std::string& text) {
  TerminalSafeOptions o;
  o.keep_newlines = false;
  o.keep_tabs = false;
  return terminal_safe(text, o);
}

}  // namespace

std::string approval_prompt(const tools::PermissionRequest& req, const std::string& reason) {
  std::string out = "\nv4rt: the model wants to use the tool " + line_safe(req.tool) + "\n";
  if (req.kind == tools::ToolKind::kExecute && !req.subject.empty()) {
    out += "  command: " + line_safe(req.subject) + "\n";
    out += "  " + line_safe(tools::describe_command_for_approval(req.subject)) + "\n";
    if (req.cwd != ".") out += "  in: " + line_safe(req.cwd) + "\n";
  } else if (!req.paths.empty()) {
    out += "  files:";
    for (const auto& p : req.paths) out += " " + line_safe(p);
    out += "\n";
  } else if (!req.subject.empty()) {
    out += "  on: " + line_safe(req.subject) + "\n";
  }
  out += "  (" + line_safe(reason) + ")\n";
  out += "  [y]es once, [n]o, [a]lways: " +
         std::string(req.kind == tools::ToolKind::kExecute && !req.subject.empty() ? "this command" : "this tool") +
         " for the rest of the session, [t]ell the model why not\n  allow? [y]es / [n]o: ";
  return out;
}

}  // namespace v4rt::cli
