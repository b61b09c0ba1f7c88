// Tool arguments against their input schema (json_schema.h).
#include "mcp/json_schema.h"

#include <fmt/core.h>

#include <cmath>
#include <cstdint>

namespace ferrograph::mcp {

namespace {

using json = nlohmann::json;

std::optional<int64_t> IntegerValue(const json& v) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {  // JSON Schema counts 5.0 as an integer
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15)
      return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

// Counts code points of UTF-8 text (the parser has validated it).
size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string RangeText(const json& prop) {
  bool has_min = prop.contains("minimum"), has_max = prop.contains("maximum");
  if (has_min && has_max)
    return fmt::format(" from {} to {}", prop["minimum"].get<int64_t>(),
                       prop["maximum"].get<int64_t>());
  if (has_min) return fmt::format(" of at least {}", prop["minimum"].get<int64_t>());
  if (has_max) return fmt::format(" of at most {}", prop["maximum"].get<int64_t>());
  return "";
}

std::optional<SchemaViolation> CheckProperty(const std::string& name, const json& prop,
                                             const json& value) {
  auto fail = [&](std::string message) { return SchemaViolation{name, std::move(message)}; };
  const std::string type = prop.value("type", "");
  if (type == "string") {
    if (!value.is_string()) return fail(fmt::format("`{}` must be a string", name));
    const std::string& s = value.get_ref<const std::string&>();
    size_t length = CodePoints(s);
    if (prop.contains("minLength") && length < prop["minLength"].get<size_t>())
      return fail(prop["minLength"].get<size_t>() == 1
                      ? fmt::format("`{}` must not be empty", name)
                      : fmt::format("`{}` must be at least {} characters long", name,
                                    prop["minLength"].get<size_t>()));
    if (prop.contains("maxLength") && length > prop["maxLength"].get<size_t>())
      return fail(fmt::format("`{}` must be at most {} characters long", name,
                              prop["maxLength"].get<size_t>()));
    if (prop.contains("enum")) {
      bool found = false;
      for (const json& allowed : prop["enum"]) found |= allowed == value;
      if (!found) {
        std::string list;
        for (const json& allowed : prop["enum"])
          list += (list.empty() ? "" : ", ") + allowed.get<std::string>();
        return fail(fmt::format("`{}` must be one of: {}", name, list));
      }
    }
    return std::nullopt;
  }
  if (type == "integer") {
    std::optional<int64_t> v = IntegerValue(value);
    if (!v || (prop.contains("minimum") && *v < prop["minimum"].get<int64_t>()) ||
        (prop.contains("maximum") && *v > prop["maximum"].get<int64_t>()))
      return fail(fmt::format("`{}` must be an integer{}", name, RangeText(prop)));
    return std::nullopt;
  }
  if (type == "boolean") {
    if (!value.is_boolean()) return fail(fmt::format("`{}` must be true or false", name));
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::optional<SchemaViolation> CheckArguments(const json& schema, const json& args) {
  if (!args.is_object()) return SchemaViolation{"", "`arguments` must be an object"};
  const json empty = json::object();
  const json& props = schema.contains("properties") ? schema["properties"] : empty;
  bool closed = schema.contains("additionalProperties") && schema["additionalProperties"] == false;
  if (closed) {
    for (const auto& [key, value] : args.items()) {
      if (props.contains(key)) continue;
      std::string expected;
      for (const auto& [name, prop] : props.items())
        expected += (expected.empty() ? "" : ", ") + name;
      return SchemaViolation{key, fmt::format("unknown argument `{}` (expected {})", key,
                                              expected.empty() ? std::string("none") : expected)};
    }
  }
  if (schema.contains("required"))
    for (const json& name : schema["required"])
      if (!args.contains(name.get<std::string>()))
        return SchemaViolation{
            name.get<std::string>(),
            fmt::format("missing required argument `{}`", name.get<std::string>())};
  for (const auto& [key, value] : args.items()) {
    if (!props.contains(key)) continue;
    if (auto v = CheckProperty(key, props[key], value)) return v;
  }
  return std::nullopt;
}

}  // namespace ferrograph::mcp
