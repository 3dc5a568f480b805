// todo{items}: the model's own task list for this session, replaced whole on
// each call and shown back.
#include <mutex>

#include "tools/builtin_tools.h"

namespace v4rt::tools {

namespace {

class TodoTool : public Tool {
 public:
  TodoTool() {
    spec_.name = "todo";
    spec_.kind = ToolKind::kRead;  // changes no file
    spec_.description =
        "Keep a short task list for multi-step work. Send the whole list each time; each item has "
        "content and status (pending, in_progress or done). Returns the list.";
    spec_.parameters = {
        {"type", "object"},
        {"properties",
         {{"items",
           {{"type", "array"},
            {"items",
             {{"type", "object"},
              {"properties",
               {{"content", {{"type", "string"}}},
                {"status", {{"type", "string"}, {"enum", {"pending", "in_progress", "done"}}}}}},
              {"required", {"content", "status"}}}}}}}},
        {"required", {"items"}}};
  }
  const ToolSpec& spec() const override { return spec_; }

  Result<ToolOutput> invoke(const nlohmann::json& args, ToolContext&) override {
    if (!args.is_object() || !args.contains("items") || !args["items"].is_array())
      return Status::InvalidArgument("todo: items must be an array of {content, status}");
    std::vector<std::pair<std::string, std::string>> items;
    for (const auto& it : args["items"]) {
      if (!it.is_object() || !it.contains("content") || !it["content"].is_string())
        return Status::InvalidArgument("todo: every item needs a string content");
      std::string status = it.value("status", std::string("pending"));
      if (status != "pending" && status != "in_progress" && status != "done")
        return Status::InvalidArgument("todo: status '" + status + "' is not pending, in_progress or done");
      items.emplace_back(it["content"].get<std::string>(), status);
    }
    std::lock_guard<std::mutex> lock(mu_);
    items_ = std::move(items);
    std::string out;
    size_t done = 0;
    for (const auto& [c, s] : items_) {
      out += (s == "done" ? "[x] " : s == "in_progress" ? "[>] " : "[ ] ") + c + "\n";
      done += s == "done";
    }
    out += std::to_string(done) + "/" + std::to_string(items_.size()) + " done\n";
    return ToolOutput{out};
  }

 private:
  ToolSpec spec_;
  std::mutex mu_;  // guards items_
  std::vector<std::pair<std::string, std::string>> items_;
};

}  // namespace

std::unique_ptr<Tool> make_todo_tool() { return std::make_unique<TodoTool>(); }

}  // namespace v4rt::tools
