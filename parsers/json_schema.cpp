#include "parsers/json_schema.h"

#include <cmath>
#include <string_view>

#include "base/utf8.h"

namespace v4rt::parsers {
namespace {

using Json = nlohmann::ordered_json;

// Compact JSON for messages, never throwing on bad UTF-8, cut at 120 bytes.
std::string show(const Json& v) {
  std::string s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > 120) s = s.substr(0, 117) + "...";
  return s;
}

// Concatenation by append (GCC 12 -O3 warns falsely on "literal" + std::string&&).
std::string cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

std::string escape_pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out.push_back(c);
  }
  return out;
}

std::string type_of(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "integer";
    case Json::value_t::number_float: return "number";
    case Json::value_t::string: return "string";
    case Json::value_t::array: return "array";
    case Json::value_t::object: return "object";
    default: return "unknown";
  }
}

bool has_type(const Json& v, std::string_view t) {
  if (t == "null") return v.is_null();
  if (t == "boolean") return v.is_boolean();
  if (t == "string") return v.is_string();
  if (t == "array") return v.is_array();
  if (t == "object") return v.is_object();
  if (t == "number") return v.is_number();
  if (t == "integer") {
    if (v.is_number_integer()) return true;
    if (!v.is_number_float()) return false;
    const double d = v.get<double>();
    return std::isfinite(d) && std::floor(d) == d;
  }
  return false;  // unknown type names match nothing
}

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (char c : s)
    if (!utf8::is_continuation(static_cast<unsigned char>(c))) ++n;
  return n;
}

bool number_of(const Json& j, double* out) {
  if (!j.is_number()) return false;
  *out = j.get<double>();
  return true;
}

void validate(const Json& v, const Json& schema, const std::string& ptr, std::vector<SchemaError>& errs) {
  if (schema.is_boolean()) {
    if (!schema.get<bool>()) errs.push_back({ptr, "no value is allowed here"});
    return;
  }
  if (!schema.is_object()) return;
  auto add = [&](std::string msg) { errs.push_back({ptr, std::move(msg)}); };

  if (auto it = schema.find("type"); it != schema.end()) {
    std::vector<std::string> types;
    if (it->is_string()) types.push_back(it->get<std::string>());
    else if (it->is_array())
      for (const Json& t : *it)
        if (t.is_string()) types.push_back(t.get<std::string>());
    bool any = types.empty();
    for (const std::string& t : types) any = any || has_type(v, t);
    if (!any) {
      std::string want;
      for (size_t i = 0; i < types.size(); ++i) want += (i ? " or " : "") + types[i];
      std::string msg = "must be " + want + ", got " + type_of(v) + " " + show(v);
      if (v.is_string() && types.size() == 1 && types[0] != "string")
        msg += " (write non-string values with string=\"false\")";
      add(std::move(msg));
      return;  // the remaining keywords would only repeat the type error
    }
  }
  if (auto it = schema.find("enum"); it != schema.end() && it->is_array()) {
    bool found = false;
    for (const Json& e : *it) found = found || e == v;
    if (!found) add("must be one of " + show(*it) + ", got " + show(v));
  }
  if (auto it = schema.find("const"); it != schema.end() && *it != v)
    add("must be " + show(*it) + ", got " + show(v));

  if (v.is_object()) {
    const Json* props = nullptr;
    if (auto it = schema.find("properties"); it != schema.end() && it->is_object()) props = &*it;
    if (auto it = schema.find("required"); it != schema.end() && it->is_array()) {
      for (const Json& r : *it)
        if (r.is_string() && !v.contains(r.get<std::string>()))
          add("missing required property " + show(r));
    }
    const auto additional = schema.find("additionalProperties");
    for (auto kv = v.begin(); kv != v.end(); ++kv) {
      const std::string child = ptr + "/" + escape_pointer_token(kv.key());
      if (props && props->contains(kv.key())) {
        validate(kv.value(), (*props)[kv.key()], child, errs);
      } else if (additional != schema.end()) {
        if (additional->is_boolean() && !additional->get<bool>()) {
          std::string known;
          if (props)
            for (auto p = props->begin(); p != props->end(); ++p) known += (known.empty() ? "" : ", ") + p.key();
          errs.push_back({child, "unknown property (allowed: " + (known.empty() ? std::string("none") : known) + ")"});
        } else {
          validate(kv.value(), *additional, child, errs);
        }
      }
    }
  }
  if (v.is_array()) {
    if (auto it = schema.find("items"); it != schema.end() && (it->is_object() || it->is_boolean())) {
      for (size_t i = 0; i < v.size(); ++i) validate(v[i], *it, ptr + "/" + std::to_string(i), errs);
    }
    if (auto it = schema.find("minItems"); it != schema.end() && it->is_number() && v.size() < it->get<double>())
      add("must have at least " + show(*it) + " items, got " + std::to_string(v.size()));
    if (auto it = schema.find("maxItems"); it != schema.end() && it->is_number() && v.size() > it->get<double>())
      add("must have at most " + show(*it) + " items, got " + std::to_string(v.size()));
  }
  if (v.is_string()) {
    const size_t n = code_points(v.get_ref<const std::string&>());
    if (auto it = schema.find("minLength"); it != schema.end() && it->is_number() && n < it->get<double>())
      add("must be at least " + show(*it) + " characters long, got " + std::to_string(n));
    if (auto it = schema.find("maxLength"); it != schema.end() && it->is_number() && n > it->get<double>())
      add("must be at most " + show(*it) + " characters long, got " + std::to_string(n));
  }
  double x = 0, bound = 0;
  if (number_of(v, &x)) {
    if (auto it = schema.find("minimum"); it != schema.end() && number_of(*it, &bound) && x < bound)
      add("must be >= " + show(*it) + ", got " + show(v));
    if (auto it = schema.find("maximum"); it != schema.end() && number_of(*it, &bound) && x > bound)
      add("must be <= " + show(*it) + ", got " + show(v));
    if (auto it = schema.find("exclusiveMinimum"); it != schema.end() && number_of(*it, &bound) && x <= bound)
      add("must be > " + show(*it) + ", got " + show(v));
    if (auto it = schema.find("exclusiveMaximum"); it != schema.end() && number_of(*it, &bound) && x >= bound)
      add("must be < " + show(*it) + ", got " + show(v));
  }

  auto matches = [&](const Json& sub) {
    std::vector<SchemaError> tmp;
    validate(v, sub, ptr, tmp);
    return tmp.empty();
  };
  if (auto it = schema.find("anyOf"); it != schema.end() && it->is_array()) {
    bool any = false;
    for (const Json& sub : *it) any = any || matches(sub);
    if (!any) add("does not match any of the allowed schemas (anyOf), got " + show(v));
  }
  if (auto it = schema.find("oneOf"); it != schema.end() && it->is_array()) {
    int n = 0;
    for (const Json& sub : *it) n += matches(sub) ? 1 : 0;
    if (n != 1) add("must match exactly one of the allowed schemas (oneOf), matches " + std::to_string(n));
  }
  if (auto it = schema.find("allOf"); it != schema.end() && it->is_array()) {
    for (const Json& sub : *it) validate(v, sub, ptr, errs);
  }
  if (auto it = schema.find("not"); it != schema.end() && matches(*it)) add("matches a schema it must not (not)");
}

const Json* find_parameters(const Json& tools, const std::string& name, std::string* declared) {
  if (!tools.is_array()) return nullptr;
  const Json* found = nullptr;
  for (const Json& t : tools) {
    const Json* fn = &t;
    if (t.is_object() && t.contains("function") && t["function"].is_object()) fn = &t["function"];
    if (!fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string()) continue;
    const std::string& n = (*fn)["name"].get_ref<const std::string&>();
    *declared += (declared->empty() ? "" : ", ") + n;
    if (n == name && !found) {
      static const Json kAnything = Json::object();  // immutable: a tool without parameters
      found = fn->contains("parameters") ? &(*fn)["parameters"] : &kAnything;
    }
  }
  return found;
}

}  // namespace

std::vector<SchemaError> validate_json(const nlohmann::ordered_json& value, const nlohmann::ordered_json& schema) {
  std::vector<SchemaError> errs;
  validate(value, schema, "", errs);
  return errs;
}

std::string ToolCallCheck::render() const {
  if (errors.empty()) return "";
  std::string out = "Tool call '" + tool + "' was not run: its arguments do not match the tool's schema.\n";
  for (const SchemaError& e : errors) out += "- " + (e.pointer.empty() ? std::string("(arguments)") : e.pointer) + ": " + e.message + "\n";
  out += "Fix the arguments and call the tool again.";
  return out;
}

ToolCallCheck check_tool_call(const ToolCall& call, const nlohmann::ordered_json& tools) {
  ToolCallCheck c;
  c.tool = call.name;
  TypedArguments typed = typed_arguments(call);
  c.arguments = std::move(typed.object);
  for (const ToolParam& p : call.params) {
    if (p.is_string) continue;
    Json v = Json::parse(p.value, nullptr, /*allow_exceptions=*/false);
    if (v.is_discarded())
      c.errors.push_back({cat({"/", escape_pointer_token(p.name)}),
                          cat({"string=\"false\" but the value is not valid JSON: ",
                               std::string_view(p.value).substr(0, 80), p.value.size() > 80 ? "..." : "",
                               " (write it as JSON, or use string=\"true\" for a plain string)"})});
  }
  std::string declared;
  const Json* params = find_parameters(tools, call.name, &declared);
  if (!params) {
    c.errors.push_back({"", cat({"no tool named '", call.name, "' is declared (declared: ",
                                 declared.empty() ? std::string_view("none") : std::string_view(declared), ")"})});
    return c;
  }
  if (!c.errors.empty()) return c;  // schema errors about undecodable values would only repeat them
  for (SchemaError& e : validate_json(c.arguments, *params)) c.errors.push_back(std::move(e));
  return c;
}

}  // namespace v4rt::parsers
