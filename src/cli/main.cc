// ferrograph: the command-line interface over include/ferrograph/engine.h.
//
// Exit codes: 0 ok, 1 error, 2 usage.
#include <unistd.h>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/cli_config.h"
#include "cli/context_commands.h"
#include "cli/history_commands.h"
#include "cli/mcp_command.h"
#include "cli/model_commands.h"
#include "cli/watch_command.h"
#include "common/memory.h"
#include "ferrograph/engine.h"

namespace ferrograph {
namespace {

using namespace cli;  // NOLINT(google-build-using-namespace): the CLI's own helpers
namespace fs = std::filesystem;

constexpr const char* kMainHelp = R"(ferrograph: a code-intelligence engine for Rust workspaces.

Usage: ferrograph [--db FILE] COMMAND [ARGS]

Commands:
  index PATH        index a Cargo workspace, package or directory of .rs files
  stats             counts of the current graph: crates, files, nodes, edges
  show NAME         a node (canonical path, path suffix, name or id): its
                    source, container and children
  export            every current node and edge as JSON Lines
  impls NAME        a trait's implementations, or a type's impls (with traits)
  callers NAME      who calls a function (--depth N: transitively), with call sites
  callees NAME      what a function calls (--depth N), with call sites
  uses TYPE         the functions, fields, aliases and impls that use a type
  path A B          a shortest path of edges from A to B (else either way)
  graph NAME        the neighbourhood of a node as Graphviz DOT (--depth N)
  search QUERY      find the code about QUERY: lexical, vector and graph ranking
  context QUESTION  the code a question needs, within a token budget (--budget N)
  ask QUESTION      that context sent to a chat model; the answer streamed
  gc                drop vectors no configured model or stored code needs
                    (--keep N: and all but the newest N versions)
  watch PATH        index PATH, then keep the index current as files change:
                    one version per batch of changes, each printed (--json:
                    one change event per line)
  log               the versions, oldest first, with what each changed
  history PATH      a node's states across versions (--source: each one's code)
  diff V1 [V2]      what changed from version V1 to V2 (default: the latest)
  model train       train a fastText embedding model on the indexed code
  model keygen      a signing key pair for models, trusted in the user config
  model sign FILE   write FILE.manifest.json, signed with the user's key
  model verify FILE exit 0 only if FILE matches a manifest by a trusted key
  mcp               serve the graph to a coding agent: an MCP server on stdio
  help [COMMAND]    this text, or a command's

Global options:
  --db FILE         the database (default: PATH/.ferrograph/graph.db for index;
                    otherwise .ferrograph/graph.db in this directory or above)
  --as-of V         (queries, search, stats, export) answer as of version V:
                    a version UUID, its number (12 or #12), `latest`, or a
                    time (2026-11-26, 2026-11-26T08:00:00Z, @UNIX_SECONDS):
                    the last version committed at or before it
  -h, --help        help
  --version         print the version

Exit codes: 0 ok, 1 error, 2 usage.
)";

const std::map<std::string, std::string>& CommandHelp() {
  static const auto* help = new std::map<std::string, std::string>{
      {"context", kContextHelp},
      {"ask", kAskHelp},
      {"index", R"(Usage: ferrograph index PATH [--db FILE] [--jobs N] [--max-file-bytes N]
                       [--no-examples] [--no-resolve] [--json] [--quiet]

Indexes the Rust code at PATH (a Cargo workspace, a package, a directory of
packages, or a directory of .rs files) into the database as one new version.
Files whose bytes and module position are unchanged are not parsed again, and
nothing is written when nothing changed.

  --db FILE             database file (default PATH/.ferrograph/graph.db)
  --jobs N              parser threads (default: all cores)
  --max-file-bytes N    skip files larger than N bytes (default 16777216)
  --no-examples         do not index examples/ targets
  --no-resolve          items and containment only: no name resolution, so no
                        IMPLEMENTS, CALLS, USES_TYPE, IMPORTS, ... edges
  --embedder SPECS      comma-separated embedders for search, remembered by
                        the database: hash (built in, the default),
                        fasttext[:FILE.bin] (see `model train`; default FILE
                        is fasttext.bin beside the database), openai[:MODEL]
                        (FERROGRAPH_OPENAI_BASE_URL, OPENAI_API_KEY), or none
  --no-search           skip the search indexes (lexical and vectors)
  --json                print the report as JSON
  --quiet               no progress line and no warnings list
)"},
      {"search", R"(Usage: ferrograph search QUERY [-k N] [--mode lexical|vector|hybrid]
                        [--kind K1,K2] [--crate NAME] [--path PREFIX]
                        [--implements TRAIT] [--tests demote|include|exclude]
                        [--embedder SPEC] [--db FILE] [--json]

Finds the code about QUERY. lexical: BM25 over names, paths, signatures, docs
and identifiers split on snake_case and CamelCase. vector: nearest items by
embedding (the database's first embedder unless --embedder). hybrid (the
default): reciprocal-rank fusion of both, plus a boost for items linked by
calls, type uses and impls to the top hits (personalized PageRank). Each
result says why it was chosen.

  -k N               results (default 10)
  --kind K1,K2       only these kinds (function, method, struct, enum, trait,
                     impl, const, static, type_alias, macro, module, field,
                     variant, union)
  --crate NAME       only items of this crate
  --path PREFIX      only this path and what is below it (regex::bytes)
  --implements TRAIT only implementors of TRAIT, its impls and their items
  --tests demote|include|exclude
                     test code (under #[cfg(test)], #[test] and #[bench]
                     functions): hybrid search halves its score unless QUERY
                     is about tests (demote, the default), ranks it like the
                     rest (include), or leaves it out in every mode (exclude)
  --json             {"query","mode","model","vector_strategy","seconds",
                      "results":[{"path","kind","file","line","signature",
                      "score","why"}]}, and "warning" when a hybrid
                     search ran without its vector half (the configured
                     model has no vectors here yet: index again)
)"},
      {"gc", R"(Usage: ferrograph gc [--keep N] [--db FILE] [--json]

Drops the vectors of models that no configured embedder makes (see `index
--embedder`) and of content that no stored version of any node has, and the
vector index files of dropped models.

  --keep N   first drop all but the newest N versions: the rows only older
             versions could see and the file texts no kept version has.
             Answers as of the kept versions do not change.
)"},
      {"watch", R"(Usage: ferrograph watch PATH [--db FILE] [--debounce MS] [--json]
                       [--embedder SPEC[,SPEC]] [--jobs N] [--no-search] ...

Indexes PATH (as `index` does, with the same options), then watches it with
inotify: every directory, new ones included; renames, deletions and editors'
write-to-temp-then-rename saves; .gitignore'd paths, target/, hidden
directories and the database's directory are skipped. Changes are debounced
(--debounce MS after the last change, 50 by default; at most 500 ms or 4x
the debounce after the first) and coalesced per path in a bounded set (past
4096 paths a batch becomes a rescan of the whole tree). Each batch that
changes the graph is one version, printed with what it added, removed and
changed. SIGINT or SIGTERM stops it (exit 0).

  --json   one change event per line, per version (the first is the
           catch-up index):
           {"version","ordinal","time","time_ms","from","added","removed",
            "changed","moved","files_parsed","files_read","files_relinked",
            "seconds"} (node paths; files_relinked: edited files resolved
            again alone, their crate's other files untouched).
           Lines without "version": {"warning"} (a file that did not
           parse cleanly, say) and {"error","retry_in_s"} (a run that
           failed on an I/O error, such as a database locked by another
           writer, and is tried again in that many seconds, or at the
           next change).
)"},
      {"mcp", R"(Usage: ferrograph mcp [--db FILE]

Serves the code graph to a coding agent: a Model Context Protocol server
(JSON-RPC 2.0, one message per line on stdin and stdout; logs on stderr).
Tools: search_code, get_node, callers, callees, implementations,
context_for, index_status. While it runs, each new version of the database
(from `ferrograph index` or `watch` in another process) is announced with
the notification notifications/ferrograph/index_changed. Tools only read
the database. It exits 0 when stdin ends. See the README, "MCP server".

  --db FILE   the database (default: .ferrograph/graph.db here or above)
)"},
      {"log", R"(Usage: ferrograph log [--db FILE] [--json]

The kept versions, oldest first: number, UUID, time (UTC) and what each
changed. Any of the first three names the version for --as-of and diff.
)"},
      {"history", R"(Usage: ferrograph history PATH [--source] [--db FILE] [--json]

Every kept state of the node PATH names (a canonical path, a path suffix or
an id; a node removed since is found too): the versions each state was valid
over, its content hash and place. --source prints each state's code; --json
gives {"query","nodes":[{"id","path","kind","states":[{"from","to",
"content_hash","node","source"}]}]} ("to" null: current).
)"},
      {"diff", R"(Usage: ferrograph diff V1 [V2] [--edges] [--db FILE] [--json]

What changed from version V1 to V2 (default: the latest): nodes added (+),
removed (-) and changed (~, new content hash; "moved" counts nodes with the
same content in a new place). --edges lists the stored edges added and
removed too. Versions as for --as-of (see `ferrograph log`). --json gives
{"from","to","added","removed","changed","moved","edges_added",
"edges_removed"}.
)"},
      {"model", R"(Usage: ferrograph model train [--db FILE] [-o FILE] [--dim N] [--epochs N]
       ferrograph model keygen [--force]
       ferrograph model sign FILE [--json]
       ferrograph model verify FILE [--json]

train: trains fastText subword vectors on the indexed code's identifiers, docs
and bodies (Debian's libfasttext; nothing is downloaded) and writes the model
(default: fasttext.bin beside the database), signed with your key (one is
created the first time). Use it with
`ferrograph index PATH --embedder fasttext:FILE`.

A local model file is loaded only when FILE.manifest.json beside it is signed
by a key in models.trusted_keys (see the README, "Model provenance"), unless
unsigned models are allowed (models.allow_unsigned,
FERROGRAPH_ALLOW_UNSIGNED_MODELS=1).

keygen: an Ed25519 key pair in $XDG_CONFIG_HOME/ferrograph (default
~/.config/ferrograph): signing_key (mode 0600) and signing_key.pub; the public
key is added to models.trusted_keys in config.toml there. --force replaces an
existing key.
sign: writes FILE.manifest.json {file, size, blake3, model_id}, signed with
your key.
verify: exit 0 when FILE matches its manifest and a trusted key signed it;
else exit 1 and why (unsigned, tampered, unknown key).
)"},
      {"stats", R"(Usage: ferrograph stats [--db FILE] [--json]

Counts of the current graph: crates, files, nodes and edges by kind, versions.
)"},
      {"show", R"(Usage: ferrograph show NAME [--db FILE] [--kind KIND] [--no-source] [--json]

Shows one node: kind, canonical path, location, signature, docs, attributes,
its container, its children and its source. NAME is a canonical path
(regex::Regex), a path suffix (Regex::new), a bare name (new) or a node id.
When several nodes match, lists the candidates and exits 1; narrow with
--kind or a longer path.
)"},
      {"impls", R"(Usage: ferrograph impls NAME [--db FILE] [--json]

For a trait (local or external, e.g. std::fmt::Display), its implementations:
each impl block with its self type, and each type that derives it. For a type,
the impls whose self type it is, with their traits, and its derives. NAME is
matched like `show`'s; when several traits or types match, lists the
candidates and exits 1.
)"},
      {"callers", R"(Usage: ferrograph callers NAME [--depth N] [--max-nodes N] [--db FILE] [--json]

The functions and methods that call NAME (CALLS edges followed backwards),
transitively up to --depth levels, as a tree indented by depth. Each entry
shows where the call is (file:line) and how the callee was resolved: exact
(a path), import (a path through a `use`), method (a method on a receiver of
known type) or name_only (by name alone, "of N" candidates). Each node is
expanded once: `(*)` marks a node whose callers are listed elsewhere in the
tree, `(cycle)` one that is its own caller further up (recursion).

NAME is matched like `show`'s, functions, methods and externals first
(std::mem::swap stands for every crate's external node of that path); when
several match, lists the candidates and exits 1.

  --depth N        levels to follow (default 1)
  --max-nodes N    at most N distinct nodes in the tree (default 1000)
  --json           {"query","direction","depth","root","root_ids",
                   "results":[{"depth","kind","path","id","file","line",
                   "via","via_id","call_sites":[{"file","line","resolved",
                   ["candidates"]}],"repeated","cycle"}],"count","truncated"}
)"},
      {"callees", R"(Usage: ferrograph callees NAME [--depth N] [--max-nodes N] [--db FILE] [--json]

What NAME calls (CALLS edges followed forwards), transitively up to --depth
levels, as a tree indented by depth, each with its call sites (file:line, in
the caller) and how the callee was resolved (exact, import, method,
name_only). Externals (std::mem::swap) are leaves. `(*)`: listed elsewhere in
the tree; `(cycle)`: recursion. Names, options and --json as for `callers`
(with "direction":"callees").
)"},
      {"uses", R"(Usage: ferrograph uses TYPE [--db FILE] [--json]

The nodes with USES_TYPE edges into TYPE (a struct, enum, union, trait, type
alias, generic parameter or external such as std::string::String), grouped by
role: param, return, field, alias, impl_self, impl_trait, bound,
generic_arg, body (a path in a fn body or const initializer: a type, a
struct literal or pattern, `Type::item`; once per body, at its first line),
other. TYPE is matched like `show`'s, types first; when several match, lists
the candidates and exits 1.

  --json    {"query","node","count","uses":[{"kind","path","id","file","line",
            "roles","sites":[{"file","line","role"}]}]}
)"},
      {"path", R"(Usage: ferrograph path A B [--kinds K1,K2] [--directed] [--max-visited N]
                       [--db FILE] [--json]

A shortest path from A to B over the current graph's edges, every kind
(CONTAINS, CALLS, USES_TYPE, IMPLEMENTS, ...) unless --kinds narrows it,
following edges forwards. When there is none, says so and shows the shortest
path with edges followed either way, labelled undirected, each hop walked
backwards marked <-[KIND]-. Each hop shows the edge kind and, when it has
one, its site (file:line). Exits 1 when there is no path at all. A and B are
matched like `show`'s; an ambiguous name lists its candidates and exits 1.

  --kinds K1,K2     edge kinds to follow (e.g. CALLS,CONTAINS)
  --directed        no undirected fallback
  --max-visited N   give up after reaching N nodes (default 200000)
  --json            {"from","to","found","directed","hops","start",
                     "steps":[{"kind","direction","file","line","props","node"}],
                     "visited","bound_hit"}
)"},
      {"graph", R"(Usage: ferrograph graph NAME [--depth N] [--kinds K1,K2] [--max-nodes N]
                        [--db FILE] [--json]

The neighbourhood of NAME, the nodes within --depth hops (edges followed
either way) and every edge among them, as a Graphviz digraph on stdout:
node labels hold the canonical path and kind, edge labels the kind (and
"xN" for N edges between the same two nodes, such as several call sites);
NAME is drawn bold. When --max-nodes stops it, a comment says so. Render
with e.g. `ferrograph graph NAME | dot -Tsvg > g.svg`. NAME is matched like
`show`'s; an ambiguous name lists its candidates and exits 1.

  --depth N        hops from NAME (default 1)
  --kinds K1,K2    edge kinds to follow (e.g. CALLS,IMPLEMENTS)
  --max-nodes N    at most N nodes (default 200)
  --json           {"query","depth","truncated","nodes":[{"id","kind","path",
                   "file","line","depth"}],"edges":[{"kind","src","dst",
                   "src_path","dst_path","count"}]}
)"},
      {"export", R"(Usage: ferrograph export [--db FILE] [-o FILE]

Writes every current node and edge as JSON Lines:
  {"type":"node","id","kind","path","name","crate","file","line","end_line",
   "visibility","content_hash", ["cfg"], ["derive"], ["in_macro"]}
  {"type":"edge","kind","src","dst","src_id","dst_id","file",["line"], props...}
)"},
  };
  return *help;
}

// Options that take a value; everything else starting with "--" is a flag.
bool TakesValue(const std::string& opt) {
  return opt == "--db" || opt == "--jobs" || opt == "--max-file-bytes" || opt == "--kind" ||
         opt == "-o" || opt == "--output" || opt == "--depth" || opt == "--max-nodes" ||
         opt == "--kinds" || opt == "--max-visited" || opt == "-k" || opt == "--mode" ||
         opt == "--crate" || opt == "--path" || opt == "--implements" || opt == "--embedder" ||
         opt == "--dim" || opt == "--epochs" || opt == "--as-of" || opt == "--keep" ||
         opt == "--debounce" || opt == "--budget" || opt == "--model" || opt == "--tests";
}

const std::map<std::string, std::vector<std::string>>& AllowedOptions() {
  static const auto* allowed = new std::map<std::string, std::vector<std::string>>{
      {"index",
       {"--db", "--jobs", "--max-file-bytes", "--no-examples", "--no-resolve", "--json", "--quiet",
        "--embedder", "--no-search"}},
      {"search",
       {"--db", "--as-of", "-k", "--mode", "--kind", "--crate", "--path", "--implements", "--tests",
        "--embedder", "--json"}},
      {"context", {"--db", "--as-of", "--budget", "--model", "-k", "--tests", "--json"}},
      {"ask", {"--db", "--as-of", "--budget", "--model", "-k", "--tests"}},
      {"gc", {"--db", "--keep", "--json"}},
      {"log", {"--db", "--json"}},
      {"mcp", {"--db"}},
      {"watch",
       {"--db", "--jobs", "--max-file-bytes", "--no-examples", "--no-resolve", "--json",
        "--embedder", "--no-search", "--debounce"}},
      {"history", {"--db", "--source", "--json"}},
      {"diff", {"--db", "--edges", "--json"}},
      {"model", {"--db", "-o", "--output", "--dim", "--epochs", "--force", "--json"}},
      {"stats", {"--db", "--as-of", "--json"}},
      {"show", {"--db", "--as-of", "--kind", "--no-source", "--json"}},
      {"export", {"--db", "--as-of", "-o", "--output"}},
      {"impls", {"--db", "--as-of", "--json"}},
      {"callers", {"--db", "--as-of", "--depth", "--max-nodes", "--json"}},
      {"callees", {"--db", "--as-of", "--depth", "--max-nodes", "--json"}},
      {"uses", {"--db", "--as-of", "--json"}},
      {"path", {"--db", "--as-of", "--kinds", "--directed", "--max-visited", "--json"}},
      {"graph", {"--db", "--as-of", "--depth", "--kinds", "--max-nodes", "--json"}},
  };
  return *allowed;
}

struct UsageError {
  std::string message;
};

std::optional<UsageError> ParseArgs(int argc, char** argv, Args* args) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      args->flags["--help"] = true;
    } else if (a == "--version") {
      args->flags["--version"] = true;
    } else if (a.size() > 1 && a[0] == '-' && a != "-") {
      std::string key = a, value;
      size_t eq = a.find('=');
      bool inline_value = a.rfind("--", 0) == 0 && eq != std::string::npos;
      if (inline_value) {
        key = a.substr(0, eq);
        value = a.substr(eq + 1);
      }
      if (TakesValue(key)) {
        if (!inline_value) {
          if (i + 1 >= argc) return UsageError{key + " needs a value"};
          value = argv[++i];
        }
        args->values[key] = value;
      } else {
        if (inline_value) return UsageError{key + " takes no value"};
        args->flags[key] = true;
      }
    } else if (args->command.empty()) {
      args->command = a;
    } else {
      args->positional.push_back(a);
    }
  }
  if (args->command.empty() || args->command == "help") return std::nullopt;
  auto allowed = AllowedOptions().find(args->command);
  if (allowed == AllowedOptions().end())
    return UsageError{"unknown command `" + args->command + "`"};
  auto ok = [&](const std::string& k) {
    return std::find(allowed->second.begin(), allowed->second.end(), k) != allowed->second.end();
  };
  for (const auto& [k, v] : args->values)
    if (!ok(k)) return UsageError{"`" + args->command + "` has no option " + k};
  for (const auto& [k, v] : args->flags)
    if (k != "--help" && k != "--version" && !ok(k))
      return UsageError{"`" + args->command + "` has no option " + k};
  return std::nullopt;
}

// Where `model train` writes and `--embedder fasttext` looks by default.
std::string DefaultModelPath(const std::string& db) {
  std::error_code ec;
  return (fs::absolute(db, ec).parent_path() / "fasttext.bin").lexically_normal().string();
}

void PrintCounts(const char* title, const std::map<std::string, int64_t>& counts) {
  std::vector<std::pair<int64_t, std::string>> sorted;
  for (const auto& [k, v] : counts) sorted.emplace_back(-v, k);
  std::sort(sorted.begin(), sorted.end());
  std::string line;
  for (const auto& [neg, k] : sorted)
    line += fmt::format("{}{} {}", line.empty() ? "" : ", ", k, -neg);
  fmt::print("  {}: {}\n", title, line.empty() ? "none" : line);
}

// "hash,fasttext" -> {"hash", "fasttext:DBDIR/fasttext.bin"}; relative model
// files made absolute (the database remembers the spec). nullopt when empty.
std::optional<std::vector<std::string>> EmbedderSpecs(const std::string& text,
                                                      const std::string& db) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string spec =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (spec.empty()) return std::nullopt;
    if (spec == "fasttext") {
      spec = "fasttext:" + DefaultModelPath(db);
    } else if (spec == "openai") {
      spec = "openai:" + ActiveConfig().openai_embeddings.model;
    } else if (spec.rfind("fasttext:", 0) == 0) {
      std::error_code ec;
      fs::path file = spec.substr(9);
      if (!file.empty()) spec = "fasttext:" + fs::absolute(file, ec).lexically_normal().string();
    }
    out.push_back(spec);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

json EmbeddingsJson(const IndexReport& r) {
  json out = json::array();
  for (const IndexReport::Embedding& e : r.embeddings)
    out.push_back({{"model", e.model_id},
                   {"embedded", e.embedded},
                   {"vectors", e.vectors},
                   {"text_bytes", e.text_bytes},
                   {"embed_seconds", e.embed_seconds},
                   {"vector_index", e.vector_index},
                   {"vector_index_seconds", e.vector_index_seconds}});
  return out;
}

// The IndexOptions of `index` and `watch` from their options and the
// config; sets `*db`. Returns -1, or the exit code of a usage error.
int BuildIndexOptions(const Args& args, const std::string& command, const std::string& root,
                      IndexOptions* out, std::string* db_out) {
  IndexOptions& options = *out;
  options.jobs = ActiveConfig().index.jobs;
  if (auto it = args.values.find("--jobs"); it != args.values.end()) {
    auto n = ParseCount(it->second);
    if (!n || *n > 1024) return Usage("--jobs wants a number from 0 to 1024", command);
    options.jobs = static_cast<int>(*n);
  }
  if (auto it = args.values.find("--max-file-bytes"); it != args.values.end()) {
    auto n = ParseCount(it->second);
    if (!n || *n == 0) return Usage("--max-file-bytes wants a positive number", command);
    options.max_file_bytes = *n;
  }
  options.include_examples = !args.flags.count("--no-examples");
  options.resolve = !args.flags.count("--no-resolve");
  options.search_index = !args.flags.count("--no-search");
  std::string db = args.values.count("--db") ? args.values.at("--db") : DefaultDatabasePath(root);
  *db_out = db;
  if (auto it = args.values.find("--embedder"); it != args.values.end()) {
    auto specs = EmbedderSpecs(it->second, db);
    if (!specs)
      return Usage(
          "--embedder wants SPEC[,SPEC...]: hash, fasttext[:FILE], "
          "openai[:MODEL] or none",
          command);
    options.embedders = *specs;
  } else if (!ActiveConfig().index.embedders.empty()) {
    std::string joined;
    for (const std::string& e : ActiveConfig().index.embedders)
      joined += (joined.empty() ? "" : ",") + e;
    auto specs = EmbedderSpecs(joined, db);
    if (!specs) return Fail(Status::InvalidArgument("config index.embedders: an empty spec"));
    options.embedders = *specs;
  }
  return -1;
}

int CmdIndex(const Args& args) {
  if (args.positional.size() != 1) return Usage("index needs exactly one PATH", "index");
  const std::string& root = args.positional[0];
  std::error_code ec;
  if (!fs::exists(root, ec)) return Fail(Status::NotFound(root + ": no such file or directory"));
  IndexOptions options;
  std::string db;
  if (int rc = BuildIndexOptions(args, "index", root, &options, &db); rc >= 0) return rc;
  bool json_out = args.flags.count("--json");
  bool quiet = args.flags.count("--quiet");
  bool tty = isatty(STDERR_FILENO) && !quiet;
  if (tty) {
    options.on_progress = [](const IndexProgress& p) {
      if (!p.stage.empty()) {
        std::fprintf(stderr, "\r\033[K%s", p.stage.c_str());
        if (p.stage_total > 0)
          std::fprintf(stderr, ": %llu/%llu", static_cast<unsigned long long>(p.stage_done),
                       static_cast<unsigned long long>(p.stage_total));
      } else {
        std::fprintf(stderr, "\r\033[Kindexing %s: %llu/%llu files, %s", p.current.c_str(),
                     static_cast<unsigned long long>(p.files_done),
                     static_cast<unsigned long long>(p.files_total),
                     HumanBytes(static_cast<double>(p.bytes_done)).c_str());
      }
      std::fflush(stderr);
    };
  }

  Engine::Options eo;
  eo.db_path = db;
  auto engine = Engine::Open(eo);
  if (!engine.ok()) return Fail(engine.status());
  auto report = (*engine)->Index(root, options);
  if (tty) std::fprintf(stderr, "\r\033[K");
  if (!report.ok()) return Fail(report.status());
  auto stats = (*engine)->Stats();
  if (!stats.ok()) return Fail(stats.status());
  const IndexReport& r = *report;

  if (json_out) {
    json j = {{"root", r.root},
              {"db", r.db_path},
              {"crates", r.crates},
              {"files_seen", r.files_seen},
              {"files_parsed", r.files_parsed},
              {"files_unchanged", r.files_unchanged},
              {"files_failed", r.files_failed},
              {"bytes_parsed", r.bytes_parsed},
              {"seconds", r.seconds},
              {"resolve_seconds", r.resolve_seconds},
              {"calls",
               {{"sites", r.links.calls},
                {"exact", r.links.calls_exact},
                {"import", r.links.calls_import},
                {"method", r.links.calls_method},
                {"name_only", r.links.calls_name_only},
                {"external", r.links.calls_external},
                {"unresolved", r.links.calls_unresolved}}},
              {"delta", DeltaJson(r.delta)},
              {"search_seconds", r.search_seconds},
              {"lexical_rows", r.lexical_rows},
              {"embeddings", EmbeddingsJson(r)},
              {"version", r.version ? VersionJson(*r.version) : json(nullptr)},
              {"nodes", stats->nodes},
              {"edges", stats->edges},
              {"nodes_by_kind", stats->nodes_by_kind},
              {"edges_by_kind", stats->edges_by_kind},
              {"warnings", r.warnings}};
    std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  fmt::print("indexed {}\n  database: {}\n", r.root, r.db_path);
  if (r.version)
    fmt::print("  version: {} (#{})\n", r.version->uuid.str(), r.version->ordinal);
  else
    fmt::print("  version: no changes; {} stays current\n",
               stats->latest ? stats->latest->uuid.str() : std::string("none"));
  double mbps = r.seconds > 0 ? static_cast<double>(r.bytes_parsed) / 1e6 / r.seconds : 0;
  fmt::print(
      "  crates {}, files {} (parsed {}, unchanged {}, failed {}), {} parsed in {:.2f} s ({:.1f} "
      "MB/s)\n",
      r.crates, r.files_seen, r.files_parsed, r.files_unchanged, r.files_failed,
      HumanBytes(static_cast<double>(r.bytes_parsed)), r.seconds, mbps);
  fmt::print("  delta: +{} -{} ~{} nodes ({} moved), +{} -{} edges ({} moved)\n",
             r.delta.nodes_added, r.delta.nodes_removed, r.delta.nodes_changed, r.delta.nodes_moved,
             r.delta.edges_added, r.delta.edges_removed, r.delta.edges_moved);
  if (r.links.calls > 0)
    fmt::print(
        "  call sites resolved: {} (exact {}, import {}, method {}, name only {}, external {}, "
        "unresolved {}); resolution {:.2f} s\n",
        r.links.calls, r.links.calls_exact, r.links.calls_import, r.links.calls_method,
        r.links.calls_name_only, r.links.calls_external, r.links.calls_unresolved,
        r.resolve_seconds);
  fmt::print("  graph: {} nodes, {} edges\n", stats->nodes, stats->edges);
  if (options.search_index) {
    fmt::print("  search: {} rows added to the lexical index; {:.2f} s\n", r.lexical_rows,
               r.search_seconds);
    for (const IndexReport::Embedding& e : r.embeddings)
      fmt::print("    {}: embedded {} ({}) in {:.2f} s, {} vectors; vector index {} in {:.2f} s\n",
                 e.model_id, e.embedded, HumanBytes(static_cast<double>(e.text_bytes)),
                 e.embed_seconds, e.vectors, e.vector_index, e.vector_index_seconds);
  }
  PrintCounts("nodes", stats->nodes_by_kind);
  PrintCounts("edges", stats->edges_by_kind);
  if (!r.warnings.empty()) {
    fmt::print("  warnings: {}\n", r.warnings.size());
    if (!quiet) {
      size_t shown = 0;
      for (const std::string& w : r.warnings) {
        if (++shown > 20) {
          fmt::print("    ... and {} more (use --json for all)\n", r.warnings.size() - 20);
          break;
        }
        fmt::print("    {}\n", w);
      }
    }
  }
  return kExitOk;
}

int CmdStats(const Args& args) {
  if (!args.positional.empty()) return Usage("stats takes no arguments", "stats");
  auto engine = OpenForReading(args);
  if (!engine.ok()) return Fail(engine.status());
  auto s = (*engine)->Stats();
  if (!s.ok()) return Fail(s.status());
  if (args.flags.count("--json")) {
    json j = {{"crates", s->crates},
              {"files", s->files},
              {"nodes", s->nodes},
              {"edges", s->edges},
              {"versions", s->versions},
              {"contents", s->contents},
              {"nodes_by_kind", s->nodes_by_kind},
              {"edges_by_kind", s->edges_by_kind},
              {"latest", s->latest ? VersionJson(*s->latest) : json(nullptr)}};
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  fmt::print("crates {}, files {}, nodes {}, edges {}, versions {}, stored file texts {}\n",
             s->crates, s->files, s->nodes, s->edges, s->versions, s->contents);
  if (s->latest)
    fmt::print("{} version: {} (#{})\n", (*engine)->pinned_version() ? "as of" : "latest",
               s->latest->uuid.str(), s->latest->ordinal);
  PrintCounts("nodes", s->nodes_by_kind);
  PrintCounts("edges", s->edges_by_kind);
  return kExitOk;
}

// " [exact]", " [name_only of 5]": how a call site was resolved.
std::string ResolvedText(const CallSite& s) {
  if (s.resolved.empty()) return "";
  if (s.candidates > 0) return fmt::format(" [{} of {}]", s.resolved, s.candidates);
  return " [" + s.resolved + "]";
}

int CmdShow(const Args& args) {
  if (args.positional.size() != 1) return Usage("show needs exactly one NAME", "show");
  std::optional<NodeKind> kind;
  if (auto it = args.values.find("--kind"); it != args.values.end()) {
    kind = ParseNodeKind(it->second);
    if (!kind) return Usage("unknown node kind `" + it->second + "`", "show");
  }
  bool json_out = args.flags.count("--json");
  auto engine = OpenForReading(args);
  if (!engine.ok()) return Fail(engine.status());
  auto found = (*engine)->Find(args.positional[0], 200);
  if (!found.ok()) return Fail(found.status());
  std::vector<Node> matches;
  for (Node& n : *found)
    if (!kind || n.kind == *kind) matches.push_back(std::move(n));
  if (matches.empty())
    return Fail(Status::NotFound("no node matches `" + args.positional[0] + "`"));
  if (matches.size() > 1)
    return ListCandidates(args.positional[0], matches, json_out,
                          "narrow it with --kind KIND, a longer path, or an id");
  auto d = (*engine)->Describe(matches[0].id);
  if (!d.ok()) return Fail(d.status());
  bool source = !args.flags.count("--no-source");
  if (json_out) {
    json j = NodeJson(d->node);
    j["container"] = d->container ? json{{"kind", KindName(d->container->kind)},
                                         {"path", d->container->path},
                                         {"id", d->container->id.str()}}
                                  : json(nullptr);
    json children = json::array();
    for (const Node& c : d->children)
      children.push_back({{"kind", KindName(c.kind)},
                          {"name", c.name},
                          {"path", c.path},
                          {"line", c.span.start_line},
                          {"id", c.id.str()}});
    j["children"] = children;
    json edges = json::array();
    for (const auto* links : {&d->out_edges, &d->in_edges})
      for (const NodeDetails::Link& l : *links)
        edges.push_back({{"kind", KindName(l.edge.kind)},
                         {"direction", links == &d->out_edges ? "out" : "in"},
                         {"other_kind", KindName(l.other.kind)},
                         {"other_path", l.other.path},
                         {"other_id", l.other.id.str()}});
    j["edges"] = edges;
    j["public_paths"] = d->public_paths;
    if (source) j["source"] = d->source ? json(*d->source) : json(nullptr);
    std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  const Node& n = d->node;
  fmt::print("{} {}  ({})\n", KindName(n.kind), n.path, VisibilityName(n.visibility));
  fmt::print("  file: {}:{}-{}\n", n.file, n.span.start_line, n.span.end_line);
  if (!n.signature.empty()) fmt::print("  signature: {}\n", n.signature);
  for (const std::string& c : n.cfgs) fmt::print("  cfg: {}\n", c);
  if (!n.derives.empty()) {
    std::string all;
    for (const std::string& x : n.derives) all += (all.empty() ? "" : ", ") + x;
    fmt::print("  derive: {}\n", all);
  }
  for (const std::string& a : n.attrs) fmt::print("  attr: #[{}]\n", a);
  if (!n.in_macro.empty()) fmt::print("  written inside: {}!{{ ... }}\n", n.in_macro);
  fmt::print("  content hash: {}\n  id: {}\n", n.content_hash.str(), n.id.str());
  if (d->container) fmt::print("  in: {} {}\n", KindName(d->container->kind), d->container->path);
  for (const std::string& p : d->public_paths) fmt::print("  public path: {}\n", p);
  if (!n.docs.empty()) {
    fmt::print("  docs:\n");
    size_t start = 0;
    while (start <= n.docs.size()) {
      size_t end = n.docs.find('\n', start);
      if (end == std::string::npos) end = n.docs.size();
      fmt::print("    {}\n", n.docs.substr(start, end - start));
      start = end + 1;
    }
  }
  if (!d->children.empty()) {
    fmt::print("  children ({}):\n", d->children.size());
    for (const Node& c : d->children)
      fmt::print("    {:<13} {}  (line {})\n", KindName(c.kind), c.name, c.span.start_line);
  }
  if (!d->out_edges.empty() || !d->in_edges.empty()) {
    // At most kPerGroup edges of each kind and direction; `callers`,
    // `callees`, `uses`, `impls` and --json give them all.
    constexpr size_t kPerGroup = 12;
    fmt::print("  edges ({}):\n", d->out_edges.size() + d->in_edges.size());
    for (const auto* links : {&d->out_edges, &d->in_edges}) {
      const char* arrow = links == &d->out_edges ? "->" : "<-";
      for (size_t i = 0; i < links->size();) {
        EdgeKind edge_kind = (*links)[i].edge.kind;
        size_t end = i;
        while (end < links->size() && (*links)[end].edge.kind == edge_kind) ++end;
        for (size_t k = i; k < end && k < i + kPerGroup; ++k) {
          const NodeDetails::Link& l = (*links)[k];
          // A call's site and how it was resolved ("name_only of 5": one
          // of the callees its name alone could mean).
          std::string site;
          if (edge_kind == EdgeKind::kCalls && l.edge.line)
            site = fmt::format("  (line {}){}", l.edge.line, ResolvedText(CallSiteOf(l.edge)));
          fmt::print("    {:<13} {} {} {}{}\n", KindName(edge_kind), arrow, KindName(l.other.kind),
                     l.other.path, site);
        }
        if (end - i > kPerGroup)
          fmt::print("    {:<13} {} ... and {} more\n", KindName(edge_kind), arrow,
                     end - i - kPerGroup);
        i = end;
      }
    }
  }
  if (source && d->source) {
    fmt::print("  source:\n");
    std::cout << SourceForDisplay(*d->source);
  }
  return kExitOk;
}

bool IsImplsTarget(NodeKind k) {
  return k == NodeKind::kTrait || k == NodeKind::kStruct || k == NodeKind::kEnum ||
         k == NodeKind::kUnion || k == NodeKind::kTypeAlias || k == NodeKind::kExternal;
}

int CmdImpls(const Args& args) {
  if (args.positional.size() != 1) return Usage("impls needs exactly one NAME", "impls");
  const std::string& query = args.positional[0];
  bool json_out = args.flags.count("--json");
  auto engine = OpenForReading(args);
  if (!engine.ok()) return Fail(engine.status());
  auto found = (*engine)->Find(query, 500);
  if (!found.ok()) return Fail(found.status());
  // Candidates: a node, or every crate's external node of one path.
  std::map<std::pair<std::string, std::string>, std::vector<Node>> candidates;
  for (Node& n : *found) {
    if (!IsImplsTarget(n.kind)) continue;
    std::string k = n.kind == NodeKind::kExternal ? "" : n.id.str();
    candidates[{n.path, k}].push_back(std::move(n));
  }
  if (candidates.empty()) return Fail(Status::NotFound("no trait or type matches `" + query + "`"));
  if (candidates.size() > 1) {
    std::vector<Node> firsts;
    for (const auto& [k, nodes] : candidates) firsts.push_back(nodes[0]);
    return ListCandidates(query, firsts, json_out, "narrow it with a longer path or an id");
  }
  const std::vector<Node>& targets = candidates.begin()->second;
  auto found_rows = (*engine)->Implementations(Ids(targets));
  if (!found_rows.ok()) return Fail(found_rows.status());
  const std::vector<Implementation>& rows = *found_rows;
  const Node& target = targets[0];
  if (json_out) {
    json list = json::array();
    for (const Implementation& r : rows)
      list.push_back({{"impl", r.impl ? json(r.impl->path) : json(nullptr)},
                      {"impl_id", r.impl ? json(r.impl->id.str()) : json(nullptr)},
                      {"self", r.self_type.empty() ? json(nullptr) : json(r.self_type)},
                      {"trait", r.trait.empty() ? json(nullptr) : json(r.trait)},
                      {"derive", !r.impl},
                      {"file", r.file},
                      {"line", r.line}});
    json j = {{"query", query},
              {"node", {{"kind", KindName(target.kind)}, {"path", target.path}}},
              {"implementations", list}};
    std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  fmt::print("{} {}: {} implementation{}\n", KindName(target.kind), target.path, rows.size(),
             rows.size() == 1 ? "" : "s");
  for (const Implementation& r : rows) {
    std::string what = r.impl ? r.impl->name + "  ->  " +
                                    (r.trait.empty() ? std::string("inherent") : r.trait) +
                                    " for " + (r.self_type.empty() ? std::string("?") : r.self_type)
                              : "#[derive] " + r.self_type + "  ->  " + r.trait;
    fmt::print("  {}  ({}:{})\n", what, r.file, r.line);
  }
  return kExitOk;
}

// ---- graph queries: callers, callees, uses, path, graph ----

// Parses --kinds CALLS,IMPLEMENTS (any case); nullopt names the bad kind.
std::optional<std::vector<EdgeKind>> KindsOption(const Args& args, std::string* bad) {
  std::vector<EdgeKind> kinds;
  auto it = args.values.find("--kinds");
  if (it == args.values.end()) return kinds;
  size_t start = 0;
  const std::string& text = it->second;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string name = text.substr(start, end - start);
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto kind = ParseEdgeKind(name);
    if (!kind) {
      *bad = text.substr(start, end - start);
      return std::nullopt;
    }
    if (std::find(kinds.begin(), kinds.end(), *kind) == kinds.end()) kinds.push_back(*kind);
    start = end + 1;
  }
  return kinds;
}

// "at src/a.rs:3 [exact], 4 [exact]; src/b.rs:9 [import]"
std::string SitesText(const std::vector<CallSite>& sites) {
  std::string out;
  const std::string* file = nullptr;
  for (const CallSite& s : sites) {
    if (!file || *file != s.file) {
      out += fmt::format("{}{}:{}", file ? "; " : "at ", s.file, s.line);
      file = &s.file;
    } else {
      out += fmt::format(", {}", s.line);
    }
    out += ResolvedText(s);
  }
  return out;
}

int CmdCalls(const Args& args, CallDirection direction) {
  const std::string command = direction == CallDirection::kCallers ? "callers" : "callees";
  if (args.positional.size() != 1) return Usage(command + " needs exactly one NAME", command);
  const std::string& query = args.positional[0];
  CallTreeOptions options;
  auto depth = CountOption(args, "--depth", 1, 1, 1000);
  if (!depth) return Usage("--depth wants a number from 1 to 1000", command);
  auto max_nodes = CountOption(args, "--max-nodes", 1000, 1, 10000000);
  if (!max_nodes) return Usage("--max-nodes wants a positive number", command);
  options.depth = static_cast<int>(*depth);
  options.max_nodes = *max_nodes;
  bool json_out = args.flags.count("--json");
  auto engine = OpenForReading(args);
  if (!engine.ok()) return Fail(engine.status());
  int exit = kExitOk;
  auto roots = ResolveName(
      **engine, query,
      [](NodeKind k) {
        return k == NodeKind::kFunction || k == NodeKind::kMethod || k == NodeKind::kExternal;
      },
      json_out, &exit);
  if (!roots) return exit;
  auto tree = (*engine)->Calls(Ids(*roots), direction, options);
  if (!tree.ok()) return Fail(tree.status());
  const Node& root = tree->roots[0];

  std::set<std::string> distinct;  // nodes in the tree, a recursive root included
  for (const CallTreeEntry& e : tree->entries) distinct.insert(e.node.id.str());
  if (json_out) {
    json results = json::array();
    for (const CallTreeEntry& e : tree->entries) {
      const Node& via = e.parent < 0 ? root : tree->entries[e.parent].node;
      json sites = json::array();
      for (const CallSite& s : e.sites) {
        json site = {{"file", s.file},
                     {"line", s.line},
                     {"resolved", s.resolved.empty() ? json(nullptr) : json(s.resolved)}};
        if (s.candidates > 0) site["candidates"] = s.candidates;
        sites.push_back(site);
      }
      results.push_back({{"depth", e.depth},
                         {"kind", KindName(e.node.kind)},
                         {"path", e.node.path},
                         {"id", e.node.id.str()},
                         {"file", e.node.file},
                         {"line", e.node.span.start_line},
                         {"via", via.path},
                         {"via_id", via.id.str()},
                         {"call_sites", sites},
                         {"repeated", e.repeated},
                         {"cycle", e.cycle}});
    }
    json j = {{"query", query},
              {"direction", command},
              {"depth", tree->depth},
              {"root", BriefNodeJson(root)},
              {"root_ids", IdsJson(tree->roots)},
              {"results", results},
              {"count", distinct.size()},
              {"truncated", tree->truncated}};
    std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  if (tree->entries.empty()) {
    fmt::print("no {} of {} {}\n", command, KindName(root.kind), root.path);
    return kExitOk;
  }
  fmt::print("{} of {} {}{}{}\n", command, KindName(root.kind), root.path, Where(root),
             tree->depth > 1 ? fmt::format(", depth {}", tree->depth) : "");
  bool marks = false;
  for (const CallTreeEntry& e : tree->entries) {
    std::string mark = e.cycle ? "  (cycle)" : e.repeated ? "  (*)" : "";
    marks |= !mark.empty();
    fmt::print("{}{} {}{}  {}{}\n", std::string(2 * static_cast<size_t>(e.depth), ' '),
               KindName(e.node.kind), e.node.path, Where(e.node), SitesText(e.sites), mark);
  }
  std::string noun = direction == CallDirection::kCallers ? "caller" : "callee";
  fmt::print(
      "{} {}{}{}\n", distinct.size(), noun, distinct.size() == 1 ? "" : "s",
      tree->truncated ? fmt::format(" (truncated at --max-nodes {})", options.max_nodes) : "");
  if (marks) fmt::print("(*) its {} are listed at its other entry; (cycle) recursion\n", command);
  return kExitOk;
}

bool IsTypeLike(NodeKind k) {
  return k == NodeKind::kStruct || k == NodeKind::kEnum || k == NodeKind::kUnion ||
         k == NodeKind::kTrait || k == NodeKind::kTypeAlias || k == NodeKind::kGenericParam ||
         k == NodeKind::kExternal;
}

int CmdUses(const Args& args) {
  if (args.positional.size() != 1) return Usage("uses needs exactly one TYPE", "uses");
  const std::string& query = args.positional[0];
  bool json_out = args.flags.count("--json");
  auto engine = OpenForReading(args);
  if (!engine.ok()) return Fail(engine.status());
  int exit = kExitOk;
  auto types = ResolveName(**engine, query, IsTypeLike, json_out, &exit);
  if (!types) return exit;
  auto uses = (*engine)->TypeUses(Ids(*types));
  if (!uses.ok()) return Fail(uses.status());
  const Node& type = (*types)[0];
  if (json_out) {
    json list = json::array();
    for (const TypeUse& u : *uses) {
      std::set<std::string> roles;
      json sites = json::array();
      for (const TypeUseSite& s : u.sites) {
        roles.insert(s.role.empty() ? "other" : s.role);
        sites.push_back({{"file", s.file},
                         {"line", s.line},
                         {"role", s.role.empty() ? json(nullptr) : json(s.role)}});
      }
      json row = BriefNodeJson(u.user);
      row["roles"] = roles;
      row["sites"] = sites;
      list.push_back(row);
    }
    json j = {
        {"query", query}, {"node", BriefNodeJson(type)}, {"count", uses->size()}, {"uses", list}};
    std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  if (uses->empty()) {
    fmt::print("no uses of {} {}\n", KindName(type.kind), type.path);
    return kExitOk;
  }
  fmt::print("{} {}: used by {} node{}\n", KindName(type.kind), type.path, uses->size(),
             uses->size() == 1 ? "" : "s");
  // Grouped by role, in the order of a declaration; a node once per role.
  static const std::vector<std::string> kRoleOrder = {"param", "return",      "field",
                                                      "alias", "impl_self",   "impl_trait",
                                                      "bound", "generic_arg", "body"};
  auto rank = [](const std::string& role) {
    auto it = std::find(kRoleOrder.begin(), kRoleOrder.end(), role);
    return it == kRoleOrder.end() ? kRoleOrder.size()
                                  : static_cast<size_t>(it - kRoleOrder.begin());
  };
  std::map<std::pair<size_t, std::string>, std::vector<std::string>> groups;
  for (const TypeUse& u : *uses) {
    std::map<std::string, const TypeUseSite*> first_site;
    for (const TypeUseSite& s : u.sites) first_site.emplace(s.role.empty() ? "other" : s.role, &s);
    for (const auto& [role, site] : first_site) {
      std::string where = site->line && !site->file.empty()
                              ? fmt::format("  ({}:{})", site->file, site->line)
                              : Where(u.user);
      size_t r = role == "other" ? kRoleOrder.size() + 1 : rank(role);
      groups[{r, role}].push_back(
          fmt::format("{} {}{}", KindName(u.user.kind), u.user.path, where));
    }
  }
  for (const auto& [key, rows] : groups) {
    fmt::print("  {}:\n", key.second);
    for (const std::string& row : rows) fmt::print("    {}\n", row);
  }
  return kExitOk;
}

std::string StepText(const PathStep& s) {
  std::string site;
  if (s.edge.line) site = fmt::format(" {}:{}", s.edge.file, s.edge.line);
  std::string label = std::string(KindName(s.edge.kind)) + site;
  return fmt::format("{}[{}]{} {} {}{}", s.forward ? "-" : "<-", label, s.forward ? "->" : "-",
                     KindName(s.node.kind), s.node.path, Where(s.node));
}

void PrintPath(const PathResult& p) {
  fmt::print("  {} {}{}\n", KindName(p.start.kind), p.start.path, Where(p.start));
  for (const PathStep& s : p.steps) fmt::print("  {}\n", StepText(s));
}

json PathJson(const PathResult& p) {
  json steps = json::array();
  for (const PathStep& s : p.steps) {
    json props = s.edge.props.empty() ? json(nullptr) : json::parse(s.edge.props, nullptr, false);
    if (props.is_discarded()) props = nullptr;
    steps.push_back({{"kind", KindName(s.edge.kind)},
                     {"direction", s.forward ? "forward" : "backward"},
                     {"file", s.edge.file},
                     {"line", s.edge.line},
                     {"props", props},
                     {"node", BriefNodeJson(s.node)}});
  }
  return {{"start", BriefNodeJson(p.start)}, {"steps", steps}};
}

int CmdPath(const Args& args) {
  if (args.positional.size() != 2) return Usage("path needs two names, A and B", "path");
  std::string bad;
  auto kinds = KindsOption(args, &bad);
  if (!kinds) return Usage("unknown edge kind `" + bad + "`", "path");
  auto max_visited = CountOption(args, "--max-visited", 200000, 1, 1000000000);
  if (!max_visited) return Usage("--max-visited wants a positive number", "path");
  bool json_out = args.flags.count("--json");
  bool directed_only = args.flags.count("--directed");
  auto engine = OpenForReading(args);
  if (!engine.ok()) return Fail(engine.status());
  int exit = kExitOk;
  auto from = ResolveName(**engine, args.positional[0], nullptr, json_out, &exit);
  if (!from) return exit;
  auto to = ResolveName(**engine, args.positional[1], nullptr, json_out, &exit);
  if (!to) return exit;
  PathOptions options;
  options.kinds = *kinds;
  options.max_visited = *max_visited;
  options.directed = true;
  auto directed = (*engine)->ShortestPath(Ids(*from), Ids(*to), options);
  if (!directed.ok()) return Fail(directed.status());
  std::optional<PathResult> undirected;
  if (!directed->found && !directed_only) {
    options.directed = false;
    auto u = (*engine)->ShortestPath(Ids(*from), Ids(*to), options);
    if (!u.ok()) return Fail(u.status());
    undirected = std::move(*u);
  }
  const PathResult& shown = undirected ? *undirected : *directed;
  const Node& a = (*from)[0];
  const Node& b = (*to)[0];
  bool bound_hit = directed->bound_hit || (undirected && undirected->bound_hit);
  if (json_out) {
    json j = {{"from", BriefNodeJson(a)},
              {"to", BriefNodeJson(b)},
              {"found", shown.found},
              {"directed", shown.found ? json(shown.directed) : json(nullptr)},
              {"hops", shown.found ? json(shown.steps.size()) : json(nullptr)}};
    if (shown.found) {
      json p = PathJson(shown);
      j["start"] = p["start"];
      j["steps"] = p["steps"];
    }
    j["visited"] = directed->visited + (undirected ? undirected->visited : 0);
    j["bound_hit"] = bound_hit;
    std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    return shown.found ? kExitOk : kExitError;
  }
  std::string ends =
      fmt::format("from {} {} to {} {}", KindName(a.kind), a.path, KindName(b.kind), b.path);
  auto hops = [](const PathResult& p) {
    return fmt::format("{} hop{}", p.steps.size(), p.steps.size() == 1 ? "" : "s");
  };
  if (directed->found) {
    fmt::print("path {} ({}):\n", ends, hops(*directed));
    PrintPath(*directed);
    return kExitOk;
  }
  fmt::print("no directed path {}{}\n", ends,
             directed->bound_hit
                 ? fmt::format(" within {} nodes (--max-visited)", options.max_visited)
                 : "");
  if (undirected && undirected->found) {
    fmt::print("undirected path (edges followed either way; <-[KIND]- walks one backwards), {}:\n",
               hops(*undirected));
    PrintPath(*undirected);
    return kExitOk;
  }
  if (undirected)
    fmt::print("no undirected path either{}\n",
               undirected->bound_hit
                   ? fmt::format(" within {} nodes (--max-visited)", options.max_visited)
                   : "");
  return kExitError;
}

int CmdGraph(const Args& args) {
  if (args.positional.size() != 1) return Usage("graph needs exactly one NAME", "graph");
  const std::string& query = args.positional[0];
  std::string bad;
  auto kinds = KindsOption(args, &bad);
  if (!kinds) return Usage("unknown edge kind `" + bad + "`", "graph");
  auto depth = CountOption(args, "--depth", 1, 0, 100);
  if (!depth) return Usage("--depth wants a number from 0 to 100", "graph");
  auto max_nodes = CountOption(args, "--max-nodes", 200, 1, 1000000);
  if (!max_nodes) return Usage("--max-nodes wants a positive number", "graph");
  bool json_out = args.flags.count("--json");
  auto engine = OpenForReading(args);
  if (!engine.ok()) return Fail(engine.status());
  int exit = kExitOk;
  auto roots = ResolveName(**engine, query, nullptr, json_out, &exit);
  if (!roots) return exit;
  SubgraphOptions options;
  options.depth = static_cast<int>(*depth);
  options.kinds = *kinds;
  options.max_nodes = *max_nodes;
  auto g = (*engine)->Neighbourhood(Ids(*roots), options);
  if (!g.ok()) return Fail(g.status());
  if (!json_out) {
    std::cout << SubgraphToDot(*g);
    return kExitOk;
  }
  std::map<NodeId, std::string> paths;
  json nodes = json::array();
  for (const SubgraphNode& n : g->nodes) {
    paths[n.node.id] = n.node.path;
    json j = BriefNodeJson(n.node);
    j["depth"] = n.depth;
    nodes.push_back(j);
  }
  json edges = json::array();
  for (const SubgraphEdge& e : g->edges)
    edges.push_back({{"kind", KindName(e.kind)},
                     {"src", e.src.str()},
                     {"dst", e.dst.str()},
                     {"src_path", paths[e.src]},
                     {"dst_path", paths[e.dst]},
                     {"count", e.count}});
  json j = {{"query", query},
            {"depth", g->depth},
            {"truncated", g->truncated},
            {"nodes", nodes},
            {"edges", edges}};
  std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  return kExitOk;
}

std::optional<std::vector<NodeKind>> ParseKindList(const std::string& text) {
  std::vector<NodeKind> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string name =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto kind = ParseNodeKind(name);
    if (!kind) return std::nullopt;
    out.push_back(*kind);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

int CmdSearch(const Args& args) {
  if (args.positional.empty()) return Usage("search needs a QUERY", "search");
  SearchRequest req;
  for (const std::string& word : args.positional)
    req.query += (req.query.empty() ? "" : " ") + word;
  if (auto it = args.values.find("-k"); it != args.values.end()) {
    auto n = ParseCount(it->second);
    if (!n || *n < 1 || *n > 1000) return Usage("-k wants a number from 1 to 1000", "search");
    req.k = static_cast<int>(*n);
  }
  if (auto it = args.values.find("--mode"); it != args.values.end()) {
    auto mode = ParseSearchMode(it->second);
    if (!mode) return Usage("--mode wants lexical, vector or hybrid", "search");
    req.mode = *mode;
  }
  if (auto it = args.values.find("--kind"); it != args.values.end()) {
    auto kinds = ParseKindList(it->second);
    if (!kinds) return Usage("--kind wants node kinds separated by commas", "search");
    req.kinds = *kinds;
  }
  if (auto it = args.values.find("--crate"); it != args.values.end()) req.crate_name = it->second;
  if (auto it = args.values.find("--path"); it != args.values.end()) req.path_prefix = it->second;
  if (auto it = args.values.find("--implements"); it != args.values.end())
    req.implements = it->second;
  if (auto it = args.values.find("--tests"); it != args.values.end()) {
    auto tests = ParseTestCode(it->second);
    if (!tests) return Usage("--tests wants demote, include or exclude", "search");
    req.tests = *tests;
  }
  auto db = FindDatabase(args);
  if (!db.ok()) return Fail(db.status());
  if (auto it = args.values.find("--embedder"); it != args.values.end()) {
    auto specs = EmbedderSpecs(it->second, *db);
    if (!specs || specs->size() != 1 || specs->front() == "none")
      return Usage("--embedder wants one SPEC: hash, fasttext[:FILE] or openai[:MODEL]", "search");
    req.embedder = specs->front();
  }
  auto engine = OpenForReading(args);
  if (!engine.ok()) return Fail(engine.status());
  auto res = (*engine)->Search(req);
  if (!res.ok()) return Fail(res.status());
  auto why_text = [](const SearchHit& h) {
    std::string w;
    for (const std::string& part : h.why) w += (w.empty() ? "" : "; ") + part;
    return w;
  };
  if (args.flags.count("--json")) {
    json results = json::array();
    for (const SearchHit& h : res->results)
      results.push_back({{"path", h.node.path},
                         {"kind", KindName(h.node.kind)},
                         {"file", h.node.file},
                         {"line", h.node.span.start_line},
                         {"signature", h.node.signature},
                         {"score", h.score},
                         {"why", why_text(h)}});
    json j = {{"query", req.query},      {"mode", SearchModeName(req.mode)},
              {"model", res->model_id},  {"vector_strategy", res->vector_strategy},
              {"seconds", res->seconds}, {"results", results}};
    if (!res->warning.empty()) j["warning"] = res->warning;
    std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  if (!res->warning.empty()) fmt::print(stderr, "ferrograph: warning: {}\n", res->warning);
  if (res->results.empty()) {
    fmt::print("no results for \"{}\"\n", req.query);
    return kExitOk;
  }
  int i = 0;
  for (const SearchHit& h : res->results) {
    fmt::print("{:>2}. {}  {}  {}:{}  score {:.4f}\n", ++i, h.node.path, KindName(h.node.kind),
               h.node.file, h.node.span.start_line, h.score);
    if (!h.node.signature.empty()) {
      std::string sig = h.node.signature;
      if (sig.size() > 160) sig = sig.substr(0, 157) + "...";
      fmt::print("    {}\n", sig);
    }
    fmt::print("    why: {}\n", why_text(h));
  }
  fmt::print("({} mode{}{}, {:.1f} ms)\n", SearchModeName(req.mode),
             res->model_id.empty() ? "" : ", model " + res->model_id,
             res->vector_strategy.empty() ? "" : ", " + res->vector_strategy, res->seconds * 1e3);
  return kExitOk;
}

int CmdGc(const Args& args) {
  if (!args.positional.empty()) return Usage("gc takes no arguments", "gc");
  auto db = FindDatabase(args);
  if (!db.ok()) return Fail(db.status());
  Engine::Options eo;
  eo.db_path = *db;
  eo.read_only = false;
  auto engine = Engine::Open(eo);
  if (!engine.ok()) return Fail(engine.status());
  // Old versions first: the vectors only their rows had go with them.
  HistoryGcReport h;
  if (auto it = args.values.find("--keep"); it != args.values.end()) {
    auto keep = ParseCount(it->second);
    if (!keep || *keep < 1) return Usage("--keep wants a number of versions, at least 1", "gc");
    auto dropped = (*engine)->DropOldVersions(static_cast<int64_t>(*keep));
    if (!dropped.ok()) return Fail(dropped.status());
    h = *dropped;
  }
  auto r = (*engine)->CollectGarbage();
  if (!r.ok()) return Fail(r.status());
  if (args.flags.count("--json")) {
    json j = {
        {"versions_removed", h.versions_removed},   {"node_rows_removed", h.node_rows_removed},
        {"edge_rows_removed", h.edge_rows_removed}, {"file_rows_removed", h.file_rows_removed},
        {"contents_removed", h.contents_removed},   {"vectors_removed", r->vectors_removed},
        {"models_removed", r->models_removed},      {"files_removed", r->files_removed}};
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  if (args.values.count("--keep"))
    fmt::print(
        "gc: dropped {} old versions ({} node rows, {} edge rows, {} file rows, {} file texts)\n",
        h.versions_removed, h.node_rows_removed, h.edge_rows_removed, h.file_rows_removed,
        h.contents_removed);
  fmt::print("gc: removed {} vectors, {} models, {} vector index files\n", r->vectors_removed,
             r->models_removed, r->files_removed.size());
  return kExitOk;
}

int CmdModel(const Args& args) {
  if (args.positional.empty() || args.positional[0] != "train") return RunModelCommand(args);
  if (args.positional.size() != 1) return Usage("model train takes no arguments", "model");
  auto db = FindDatabase(args);
  if (!db.ok()) return Fail(db.status());
  std::string out = DefaultModelPath(*db);
  if (args.values.count("-o")) out = args.values.at("-o");
  if (args.values.count("--output")) out = args.values.at("--output");
  ModelTrainOptions options;
  options.out_path = out;
  if (auto it = args.values.find("--dim"); it != args.values.end()) {
    auto n = ParseCount(it->second);
    if (!n || *n < 2 || *n > 1024) return Usage("--dim wants a number from 2 to 1024", "model");
    options.dim = static_cast<int>(*n);
  }
  if (auto it = args.values.find("--epochs"); it != args.values.end()) {
    auto n = ParseCount(it->second);
    if (!n || *n < 1 || *n > 1000) return Usage("--epochs wants a number from 1 to 1000", "model");
    options.epochs = static_cast<int>(*n);
  }
  auto engine = OpenForReading(args);
  if (!engine.ok()) return Fail(engine.status());
  auto items = (*engine)->TrainEmbeddingModel(options);
  if (!items.ok()) return Fail(items.status().WithContext("training " + out));
  std::error_code ec;
  std::string abs = fs::absolute(out, ec).lexically_normal().string();
  fmt::print("trained {} on {} items -> {}\nuse it: ferrograph index PATH --embedder fasttext:{}\n",
             "fastText", *items, abs, abs);
  if (Status s = SignTrainedModel(abs); !s.ok()) return Fail(s);
  return kExitOk;
}

int CmdExport(const Args& args) {
  if (!args.positional.empty()) return Usage("export takes no arguments", "export");
  auto engine = OpenForReading(args);
  if (!engine.ok()) return Fail(engine.status());
  std::string out_path;
  if (args.values.count("-o")) out_path = args.values.at("-o");
  if (args.values.count("--output")) out_path = args.values.at("--output");
  if (out_path.empty() || out_path == "-") {
    Status s = (*engine)->Export(std::cout);
    return s.ok() ? kExitOk : Fail(s);
  }
  std::string tmp = out_path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Fail(Status::IOError(tmp + ": cannot write"));
    Status s = (*engine)->Export(out);
    if (!s.ok()) return Fail(s);
  }
  std::error_code ec;
  fs::rename(tmp, out_path, ec);
  if (ec) return Fail(Status::IOError(out_path + ": " + ec.message()));
  return kExitOk;
}

int Main(int argc, char** argv) {
  Args args;
  if (auto err = ParseArgs(argc, argv, &args)) return Usage(err->message, args.command);
  if (args.flags.count("--version")) {
    std::cout << "ferrograph 0.1.0\n"
              << "allocator: " << AllocatorName() << "\n";
    return kExitOk;
  }
  if (args.command.empty() || args.command == "help") {
    std::string topic = args.positional.empty() ? "" : args.positional[0];
    auto it = CommandHelp().find(topic);
    if (!topic.empty() && it == CommandHelp().end())
      return Usage("no help for unknown command `" + topic + "`", "");
    std::cout << (it == CommandHelp().end() ? kMainHelp : it->second);
    if (args.command.empty() && !args.flags.count("--help")) return kExitUsage;
    return kExitOk;
  }
  if (args.flags.count("--help")) {
    std::cout << CommandHelp().at(args.command);
    return kExitOk;
  }
  if (Status s = LoadCliConfig(ConfigDatabase(args)); !s.ok()) return Fail(s);
  if (args.command == "index") return CmdIndex(args);
  if (args.command == "stats") return CmdStats(args);
  if (args.command == "show") return CmdShow(args);
  if (args.command == "export") return CmdExport(args);
  if (args.command == "impls") return CmdImpls(args);
  if (args.command == "callers") return CmdCalls(args, CallDirection::kCallers);
  if (args.command == "callees") return CmdCalls(args, CallDirection::kCallees);
  if (args.command == "uses") return CmdUses(args);
  if (args.command == "path") return CmdPath(args);
  if (args.command == "graph") return CmdGraph(args);
  if (args.command == "search") return CmdSearch(args);
  if (args.command == "context") return CmdContext(args);
  if (args.command == "ask") return CmdAsk(args);
  if (args.command == "gc") return CmdGc(args);
  if (args.command == "log") return CmdLog(args);
  if (args.command == "mcp") return CmdMcp(args);
  if (args.command == "watch") {
    IndexOptions options;
    std::string db;
    const std::string root = args.positional.empty() ? "." : args.positional[0];
    if (int rc = BuildIndexOptions(args, "watch", root, &options, &db); rc >= 0) return rc;
    return CmdWatch(args, options, db);
  }
  if (args.command == "history") return CmdHistory(args);
  if (args.command == "diff") return CmdDiff(args);
  if (args.command == "model") return CmdModel(args);
  return Usage("unknown command `" + args.command + "`", "");
}

}  // namespace
}  // namespace ferrograph

int main(int argc, char** argv) {
  try {
    return ferrograph::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "ferrograph: internal error: " << e.what() << "\n";
    return 1;
  }
}
