// What the command implementations of the ferrograph CLI share: parsed
// arguments, exit codes, error and usage reporting, opening the database,
// and the JSON and text forms of nodes and versions.
#ifndef FERROGRAPH_CLI_CLI_H_
#define FERROGRAPH_CLI_CLI_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferrograph/engine.h"

namespace ferrograph::cli {

using json = nlohmann::json;

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

struct Args {
  std::string command;
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;  // --key VALUE
  std::map<std::string, bool> flags;          // --flag
};

// Prints `message` and where to find usage; returns kExitUsage.
int Usage(const std::string& message, const std::string& command);
// Prints the error; returns kExitError.
int Fail(const Status& s);

// The database for commands other than index: --db, else the nearest
// .ferrograph/graph.db from the current directory upwards.
Result<std::string> FindDatabase(const Args& args);
// Opens the database read-only, answering as of --as-of when given.
Result<std::unique_ptr<Engine>> OpenForReading(const Args& args);

std::optional<uint64_t> ParseCount(const std::string& s);
// Parses --NAME N within [lo, hi]; `fallback` when absent.
std::optional<uint64_t> CountOption(const Args& args, const std::string& name, uint64_t fallback,
                                    uint64_t lo, uint64_t hi);
std::string HumanBytes(double b);

json VersionJson(const VersionInfo& v);
json DeltaJson(const WriteStats& d);
json NodeJson(const Node& n);
json BriefNodeJson(const Node& n);
json IdsJson(const std::vector<Node>& nodes);
std::vector<NodeId> Ids(const std::vector<Node>& nodes);
// "  (src/lib.rs:12)" for a node with a place in the source; "" for an
// external node.
std::string Where(const Node& n);
// An item's source text as `show --source` and `history --source` print it:
// the text starts at the item (its first line has lost the indentation
// before it), so the lines after the first lose the indentation they all
// share; ends with a newline.
std::string SourceForDisplay(std::string_view source);

// Lists the candidates of an ambiguous `query` and returns exit 1: as JSON
// on stdout with --json, else one per line on stdout with the message and
// `hint` on stderr.
int ListCandidates(const std::string& query, const std::vector<Node>& candidates, bool json_out,
                   const std::string& hint);

// The node set a query starts from: the nodes `query` names (as for `show`),
// narrowed to the kinds `preferred` accepts when any match accepts them;
// every crate's external node of one path counts as one candidate. When
// nothing matches, or several candidates do, prints why and returns the exit
// code in `*exit`.
std::optional<std::vector<Node>> ResolveName(Engine& engine, const std::string& query,
                                             const std::function<bool(NodeKind)>& preferred,
                                             bool json_out, int* exit);

}  // namespace ferrograph::cli

#endif  // FERROGRAPH_CLI_CLI_H_
