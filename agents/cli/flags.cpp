#include "agents/cli/flags.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace v4rt::cli {

namespace {
FlagSet::Flag make_flag(std::string name, std::string help, std::string metavar, std::string env,
                        std::string default_text) {
  FlagSet::Flag f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.metavar = std::move(metavar);
  f.env = std::move(env);
  f.default_text = std::move(default_text);
  return f;
}
}  // namespace

FlagSet::FlagSet(std::string usage, std::string description, std::string example)
    : usage_(std::move(usage)), description_(std::move(description)), example_(std::move(example)) {}

void FlagSet::add_string(std::string name, std::string* out, std::string help, std::string metavar,
                         std::string env) {
  Flag f = make_flag(name, help, metavar, env, out->empty() ? "" : *out);
  f.set = [out](const std::string& v) { *out = v; return Status::Ok(); };
  flags_.push_back(std::move(f));
}

void FlagSet::add_int(std::string name, long long* out, std::string help, std::string env) {
  Flag f = make_flag(name, help, "N", env, std::to_string(*out));
  f.set = [out, name](const std::string& v) {
    char* end = nullptr;
    errno = 0;
    long long x = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno != 0)
      return Status::InvalidArgument("--" + name + " expects an integer, got '" + v + "'");
    *out = x;
    return Status::Ok();
  };
  flags_.push_back(std::move(f));
}

void FlagSet::add_int(std::string name, int* out, std::string help, std::string env) {
  Flag f = make_flag(name, help, "N", env, std::to_string(*out));
  f.set = [out, name](const std::string& v) {
    char* end = nullptr;
    errno = 0;
    long x = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno != 0 || x < INT32_MIN || x > INT32_MAX)
      return Status::InvalidArgument("--" + name + " expects an integer, got '" + v + "'");
    *out = static_cast<int>(x);
    return Status::Ok();
  };
  flags_.push_back(std::move(f));
}

void FlagSet::add_double(std::string name, double* out, std::string help, std::string env) {
  std::ostringstream d;
  d << *out;
  Flag f = make_flag(name, help, "X", env, d.str());
  f.set = [out, name](const std::string& v) {
    char* end = nullptr;
    double x = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0')
      return Status::InvalidArgument("--" + name + " expects a number, got '" + v + "'");
    *out = x;
    return Status::Ok();
  };
  flags_.push_back(std::move(f));
}

void FlagSet::add_bool(std::string name, bool* out, std::string help, std::string env) {
  Flag f = make_flag(name, help, "", env, *out ? "on" : "");
  f.is_bool = true;
  f.set = [out, name](const std::string& v) {
    if (v == "1" || v == "true" || v == "on" || v == "yes") *out = true;
    else if (v == "0" || v == "false" || v == "off" || v == "no") *out = false;
    else return Status::InvalidArgument("--" + name + " expects true/false, got '" + v + "'");
    return Status::Ok();
  };
  flags_.push_back(std::move(f));
}

void FlagSet::add_list(std::string name, std::vector<std::string>* out, std::string help,
                       std::string metavar) {
  if (help.find("repeatable") == std::string::npos) help += " (repeatable)";
  Flag f = make_flag(name, help, metavar, "", "");
  f.set = [out](const std::string& v) { out->push_back(v); return Status::Ok(); };
  flags_.push_back(std::move(f));
}

void FlagSet::at_least(double min) {
  Flag& f = flags_.back();
  auto inner = f.set;
  std::ostringstream m;
  m << min;
  f.set = [inner, min, name = f.name, min_text = m.str()](const std::string& v) {
    V4RT_RETURN_IF_ERROR(inner(v));
    char* end = nullptr;
    double x = std::strtod(v.c_str(), &end);
    if (x < min) return Status::InvalidArgument("--" + name + " must be at least " + min_text + " (got " + v + ")");
    return Status::Ok();
  };
  f.help += " (at least " + m.str() + ")";
}

bool FlagSet::is_flag_spelling(const std::string& arg) const {
  if (arg == "-h" || arg == "--help" || arg == "--") return true;
  if (arg.rfind("--", 0) != 0) return false;
  std::string name = arg.substr(2, arg.find('=') == std::string::npos ? std::string::npos : arg.find('=') - 2);
  for (const auto& f : flags_)
    if (f.name == name || (f.is_bool && "no-" + f.name == name)) return true;
  return false;
}

FlagSet::Flag* FlagSet::find(const std::string& name) {
  for (auto& f : flags_)
    if (f.name == name) return &f;
  return nullptr;
}

bool FlagSet::was_set(const std::string& name) const {
  for (const auto& f : flags_)
    if (f.name == name) return f.seen;
  return false;
}

Status FlagSet::parse(int argc, char** argv) {
  bool only_positional = false;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (only_positional || arg.size() < 2 || arg[0] != '-' || arg == "-") {
      positional_.push_back(arg);
      continue;
    }
    if (arg == "--") { only_positional = true; continue; }
    if (arg == "-h" || arg == "--help") { help_requested_ = true; return Status::Ok(); }
    if (arg.rfind("--", 0) != 0)
      return Status::InvalidArgument("unknown flag '" + arg + "' (flags are spelled --name)");
    std::string name = arg.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    Flag* f = find(name);
    if (!f && name.rfind("no-", 0) == 0) {
      Flag* b = find(name.substr(3));
      if (b && b->is_bool && !has_value) {
        b->seen = true;
        V4RT_RETURN_IF_ERROR(b->set("false"));
        continue;
      }
    }
    if (!f) return Status::InvalidArgument("unknown flag '--" + name + "'");
    f->seen = true;
    if (f->is_bool) {
      V4RT_RETURN_IF_ERROR(f->set(has_value ? value : "true"));
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) return Status::InvalidArgument("flag '--" + name + "' needs a value");
      // `--resume -p x`: the next word is another flag, not this one's value.
      if (is_flag_spelling(argv[i + 1]))
        return Status::InvalidArgument("flag '--" + name + "' needs a value, but it is followed by the flag '" +
                                       std::string(argv[i + 1]) + "'; write --" + name + "=VALUE if that is meant");
      value = argv[++i];
    }
    V4RT_RETURN_IF_ERROR(f->set(value));
  }
  for (auto& f : flags_) {
    if (f.seen || f.env.empty()) continue;
    if (const char* v = std::getenv(f.env.c_str()); v && *v) {
      f.seen = true;
      V4RT_RETURN_IF_ERROR(f.set(v).with_context("environment variable " + f.env));
    }
  }
  return Status::Ok();
}

std::string FlagSet::help() const {
  std::ostringstream o;
  o << "usage: " << usage_ << "\n\n" << description_ << "\n";
  if (!flags_.empty()) o << "\nflags:\n";
  for (const auto& f : flags_) {
    std::string left = "  --" + f.name + (f.is_bool ? "" : " " + f.metavar);
    o << left;
    if (left.size() < 28) o << std::string(28 - left.size(), ' ');
    else o << "\n" << std::string(28, ' ');
    o << f.help;
    // A help text that explains its own default keeps it (no second, conflicting one).
    if (!f.default_text.empty() && f.help.find("default") == std::string::npos)
      o << " (default: " << f.default_text << ")";
    if (!f.env.empty()) o << " [env " << f.env << "]";
    o << "\n";
  }
  o << "  -h, --help                show this help\n";
  if (!example_.empty()) o << "\nexample:\n  " << example_ << "\n";
  return o.str();
}

int exit_code(const Status& s) {
  if (s.ok()) return 0;
  if (s.is_cancelled()) return 130;
  if (s.is_invalid_argument()) return 2;
  return 1;
}

int report(const Status& s, const std::string& usage_hint) {
  if (s.ok()) return 0;
  std::fprintf(stderr, "v4rt: %s\n", s.to_string().c_str());
  if (s.is_invalid_argument() && !usage_hint.empty())
    std::fprintf(stderr, "hint: %s\n", usage_hint.c_str());
  return exit_code(s);
}

}  // namespace v4rt::cli
