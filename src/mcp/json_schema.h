// Checks tool arguments against the JSON Schema a tool publishes in
// tools/list, so what a client reads and what the server enforces are one
// text. Only the subset the tools use is understood: an object with
// "properties", "required" and "additionalProperties": false; properties of
// "type" string (minLength, maxLength, enum), integer (minimum, maximum) or
// boolean. Other keywords are ignored.
#ifndef FERROGRAPH_MCP_JSON_SCHEMA_H_
#define FERROGRAPH_MCP_JSON_SCHEMA_H_

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace ferrograph::mcp {

// Why `args` does not satisfy `schema`, naming the field.
struct SchemaViolation {
  std::string field;    // "" when the arguments as a whole are wrong
  std::string message;  // "`k` must be an integer from 1 to 100"
};

// nullopt when `args` satisfies `schema`; otherwise the first violation, in
// a fixed order: not an object, unknown fields (in key order), missing
// required fields, then each property's type and range (in key order).
std::optional<SchemaViolation> CheckArguments(const nlohmann::json& schema,
                                              const nlohmann::json& args);

}  // namespace ferrograph::mcp

#endif  // FERROGRAPH_MCP_JSON_SCHEMA_H_
