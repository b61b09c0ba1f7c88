// Tests of the Engine's graph queries over a database written directly
// through the Store, with known CALLS / USES_TYPE edges.
#include "ferrograph/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "hash/blake3_hasher.h"
#include "store/store.h"

namespace ferrograph {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

// The graph (crate demo, file src/lib.rs; one external node):
//
//   main -CALLS-> run (lines 3, 4, exact), main -CALLS-> parse (5, import)
//   run -CALLS-> parse (12, method)
//   parse -CALLS-> lex (21, exact), parse -CALLS-> std::mem::swap (22, exact)
//   lex -CALLS-> parse (31, name_only of 2), lex -CALLS-> lex (32, exact)
//   helper -CALLS-> lex (40, name_only of 2)
//   USES_TYPE -> Point: run (param, return: line 10), Line::a and Line::b
//   (field), helper (no role)
//   demo CONTAINS main, run, parse, lex, helper, Point, Line, m;
//   Line CONTAINS a, b; m CONTAINS m::weird ("quo\"te\\d" in its path).
//   std::mem::swap and other::island are externals without containers.
class EngineQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) /
           ("engine_test_" + std::to_string(getpid()) + "_" +
            std::string(testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "graph.db").string();
    WriteGraph();
    Engine::Options o;
    o.db_path = db_;
    o.read_only = true;
    auto e = Engine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
  }

  Node Add(const std::string& path, NodeKind kind, uint32_t line, const std::string& parent,
           std::vector<Node>* into, const std::string& file = "src/lib.rs") {
    Node n;
    n.kind = kind;
    n.path = path;
    size_t colon = path.rfind("::");
    n.name = colon == std::string::npos ? path : path.substr(colon + 2);
    n.crate_name = kind == NodeKind::kExternal ? path.substr(0, path.find("::")) : "demo";
    n.file = file;
    n.id = MakeNodeId("demo", path, kind, 0);
    n.span = {line * 10, line * 10 + 5, line, line};
    n.content_hash = HashBytes(path);
    if (!parent.empty()) n.parent = ids_.at(parent);
    ids_[path] = n.id;
    into->push_back(n);
    return n;
  }

  void Call(const std::string& from, const std::string& to, uint32_t line, const std::string& props,
            std::vector<Edge>* into) {
    into->push_back({EdgeKind::kCalls, ids_.at(from), ids_.at(to), "src/lib.rs", line, props});
  }

  void WriteGraph() {
    Store::Options so;
    auto store = Store::Open(db_, so);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    FileUpdate lib;
    lib.file.crate_key = "demo";
    lib.file.path = "src/lib.rs";
    lib.file.module_path = "demo";
    lib.file.like_mod_rs = true;
    lib.file.mods_json = "[]";
    std::vector<Node>& n = lib.nodes;
    Add("demo", NodeKind::kCrate, 1, "", &n);
    Add("demo::main", NodeKind::kFunction, 2, "demo", &n);
    Add("demo::run", NodeKind::kFunction, 10, "demo", &n);
    Add("demo::parse", NodeKind::kFunction, 20, "demo", &n);
    Add("demo::lex", NodeKind::kFunction, 30, "demo", &n);
    Add("demo::helper", NodeKind::kFunction, 39, "demo", &n);
    Add("demo::Point", NodeKind::kStruct, 50, "demo", &n);
    Add("demo::Line", NodeKind::kStruct, 60, "demo", &n);
    Add("demo::Line::a", NodeKind::kField, 61, "demo::Line", &n);
    Add("demo::Line::b", NodeKind::kField, 62, "demo::Line", &n);
    Add("demo::m", NodeKind::kModule, 70, "demo", &n);
    Add("demo::m::quo\"te\\d", NodeKind::kFunction, 71, "demo::m", &n);
    lib.text = std::string(2000, ' ');
    lib.file.hash = HashBytes(lib.text);
    lib.file.size = lib.text.size();

    FileUpdate ext;
    ext.file.crate_key = "demo";
    ext.file.path = kExternalNodesFile;
    ext.file.module_path = "demo";
    ext.file.mods_json = "[]";
    Add("std::mem::swap", NodeKind::kExternal, 0, "", &ext.nodes, kExternalNodesFile);
    Add("other::island", NodeKind::kExternal, 0, "", &ext.nodes, kExternalNodesFile);
    ext.text = "std::mem::swap\nother::island\n";
    ext.file.hash = HashBytes(ext.text);
    ext.file.size = ext.text.size();

    std::vector<Edge>& e = lib.edges;
    Call("demo::main", "demo::run", 3, R"({"resolved":"exact"})", &e);
    Call("demo::main", "demo::run", 4, R"({"resolved":"exact"})", &e);
    Call("demo::main", "demo::parse", 5, R"({"resolved":"import"})", &e);
    Call("demo::run", "demo::parse", 12, R"({"resolved":"method"})", &e);
    Call("demo::parse", "demo::lex", 21, R"({"resolved":"exact"})", &e);
    Call("demo::parse", "std::mem::swap", 22, R"({"resolved":"exact"})", &e);
    Call("demo::lex", "demo::parse", 31, R"({"resolved":"name_only","candidates":2})", &e);
    Call("demo::lex", "demo::lex", 32, R"({"resolved":"exact"})", &e);
    Call("demo::helper", "demo::lex", 40, R"({"resolved":"name_only","candidates":2})", &e);
    auto uses = [&](const std::string& from, uint32_t line, const std::string& props) {
      e.push_back(
          {EdgeKind::kUsesType, ids_.at(from), ids_.at("demo::Point"), "src/lib.rs", line, props});
    };
    uses("demo::run", 10, R"({"role":"param"})");
    uses("demo::run", 10, R"({"role":"return"})");
    uses("demo::Line::a", 61, R"({"role":"field"})");
    uses("demo::Line::b", 62, R"({"role":"field"})");
    uses("demo::helper", 39, "");

    auto txn = (*store)->BeginWrite();
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    ASSERT_TRUE((*txn)->ApplyFile(lib).ok());
    ASSERT_TRUE((*txn)->ApplyFile(ext).ok());
    auto v = (*txn)->Commit("{}");
    ASSERT_TRUE(v.ok()) << v.status().ToString();
  }

  NodeId Id(const std::string& path) const { return ids_.at(path); }

  CallTree Calls(const std::string& root, CallDirection dir, int depth, size_t max_nodes = 1000) {
    CallTreeOptions o;
    o.depth = depth;
    o.max_nodes = max_nodes;
    auto t = engine_->Calls({Id(root)}, dir, o);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : CallTree();
  }

  PathResult Path(const std::string& from, const std::string& to, bool directed,
                  std::vector<EdgeKind> kinds = {}) {
    PathOptions o;
    o.directed = directed;
    o.kinds = std::move(kinds);
    auto p = engine_->ShortestPath({Id(from)}, {Id(to)}, o);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : PathResult();
  }

  fs::path dir_;
  std::string db_;
  std::map<std::string, NodeId> ids_;
  std::unique_ptr<Engine> engine_;
};

// "depth path [sites] flags" per entry, for whole-tree comparisons.
std::vector<std::string> Lines(const CallTree& t) {
  std::vector<std::string> out;
  for (const CallTreeEntry& e : t.entries) {
    std::string line = std::to_string(e.depth) + " " + e.node.path + " [";
    for (size_t i = 0; i < e.sites.size(); ++i)
      line += (i ? "," : "") + std::to_string(e.sites[i].line) + ":" + e.sites[i].resolved;
    line += "]";
    if (e.cycle)
      line += " cycle";
    else if (e.repeated)
      line += " repeated";
    out.push_back(line);
  }
  return out;
}

TEST_F(EngineQueryTest, DirectCalleesWithCallSitesGroupedPerCallee) {
  CallTree t = Calls("demo::main", CallDirection::kCallees, 1);
  ASSERT_EQ(t.roots.size(), 1u);
  EXPECT_EQ(t.roots[0].path, "demo::main");
  EXPECT_THAT(Lines(t), ElementsAre("1 demo::run [3:exact,4:exact]", "1 demo::parse [5:import]"));
  EXPECT_EQ(t.entries[0].sites[0].file, "src/lib.rs");
  EXPECT_EQ(t.entries[0].parent, -1);
  EXPECT_EQ(t.distinct_nodes, 2u);
  EXPECT_FALSE(t.truncated);
}

TEST_F(EngineQueryTest, TransitiveCalleesExpandEachNodeOnceAndMarkCycles) {
  CallTree t = Calls("demo::main", CallDirection::kCallees, 3);
  EXPECT_THAT(Lines(t), ElementsAre("1 demo::run [3:exact,4:exact]",       //
                                    "2 demo::parse [12:method] repeated",  //
                                    "1 demo::parse [5:import]",            //
                                    "2 demo::lex [21:exact]",              //
                                    "3 demo::parse [31:name_only] cycle",  //
                                    "3 demo::lex [32:exact] cycle",        //
                                    "2 std::mem::swap [22:exact]"));
  EXPECT_EQ(t.entries[4].sites[0].candidates, 2);
  // Parents point at the entry above in the tree.
  EXPECT_EQ(t.entries[1].parent, 0);
  EXPECT_EQ(t.entries[3].parent, 2);
  EXPECT_EQ(t.entries[4].parent, 3);
  EXPECT_EQ(t.entries[6].parent, 2);
  EXPECT_EQ(t.distinct_nodes, 4u);
}

TEST_F(EngineQueryTest, CallersFollowEdgesBackwards) {
  EXPECT_THAT(Lines(Calls("demo::lex", CallDirection::kCallers, 1)),
              ElementsAre("1 demo::parse [21:exact]", "1 demo::lex [32:exact] cycle",
                          "1 demo::helper [40:name_only]"));
  EXPECT_THAT(Lines(Calls("demo::parse", CallDirection::kCallers, 2)),
              ElementsAre("1 demo::main [5:import]",                  //
                          "1 demo::run [12:method]",                  //
                          "2 demo::main [3:exact,4:exact] repeated",  //
                          "1 demo::lex [31:name_only]",               //
                          "2 demo::parse [21:exact] cycle",           //
                          "2 demo::lex [32:exact] cycle",             //
                          "2 demo::helper [40:name_only]"));
  EXPECT_TRUE(Calls("demo::main", CallDirection::kCallers, 5).entries.empty());
  EXPECT_THAT(Lines(Calls("std::mem::swap", CallDirection::kCallers, 1)),
              ElementsAre("1 demo::parse [22:exact]"));
}

// Several roots (every crate's external node of one path, say) act as one.
TEST_F(EngineQueryTest, SeveralRootsAreOneNode) {
  auto t = engine_->Calls({Id("demo::run"), Id("demo::lex")}, CallDirection::kCallees,
                          CallTreeOptions());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->roots.size(), 2u);
  EXPECT_THAT(Lines(*t), ElementsAre("1 demo::parse [12:method,31:name_only]",
                                     "1 demo::lex [32:exact] cycle"));
  auto uses = engine_->TypeUses({Id("demo::Point"), Id("demo::Point")});
  ASSERT_TRUE(uses.ok());
  EXPECT_EQ(uses->size(), 4u);  // a repeated id counts once
}

TEST_F(EngineQueryTest, CallTreeStopsAtTheNodeLimit) {
  CallTree t = Calls("demo::parse", CallDirection::kCallers, 2, /*max_nodes=*/2);
  EXPECT_TRUE(t.truncated);
  EXPECT_EQ(t.distinct_nodes, 2u);
  // main and run come first (by call-site line); lex is left out.
  std::set<std::string> paths;
  for (const CallTreeEntry& e : t.entries) paths.insert(e.node.path);
  EXPECT_EQ(paths, (std::set<std::string>{"demo::main", "demo::run"}));
  EXPECT_FALSE(Calls("demo::parse", CallDirection::kCallers, 2, 4).truncated);
}

TEST_F(EngineQueryTest, CallsRejectsBadInput) {
  CallTreeOptions o;
  EXPECT_EQ(engine_->Calls({}, CallDirection::kCallers, o).status().code(),
            StatusCode::kInvalidArgument);
  o.depth = 0;
  EXPECT_EQ(engine_->Calls({Id("demo::lex")}, CallDirection::kCallers, o).status().code(),
            StatusCode::kInvalidArgument);
  o.depth = 1;
  NodeId unknown = MakeNodeId("demo", "demo::nothing", NodeKind::kFunction, 0);
  EXPECT_EQ(engine_->Calls({unknown}, CallDirection::kCallers, o).status().code(),
            StatusCode::kNotFound);
}

TEST_F(EngineQueryTest, TypeUsesListEachUserWithRoles) {
  auto uses = engine_->TypeUses({Id("demo::Point")});
  ASSERT_TRUE(uses.ok()) << uses.status().ToString();
  std::vector<std::string> rows;
  for (const TypeUse& u : *uses) {
    std::string row = u.user.path + ":";
    for (const TypeUseSite& s : u.sites) row += " " + std::to_string(s.line) + "/" + s.role;
    rows.push_back(row);
  }
  EXPECT_THAT(rows, ElementsAre("demo::Line::a: 61/field", "demo::Line::b: 62/field",
                                "demo::helper: 39/", "demo::run: 10/param 10/return"));
  auto none = engine_->TypeUses({Id("demo::Line")});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// Each step's edge joins the previous node to the step's node, in the
// direction the step claims.
void ExpectConnected(const PathResult& p) {
  NodeId at = p.start.id;
  for (const PathStep& s : p.steps) {
    if (s.forward) {
      EXPECT_EQ(s.edge.src, at);
      EXPECT_EQ(s.edge.dst, s.node.id);
    } else {
      EXPECT_EQ(s.edge.dst, at);
      EXPECT_EQ(s.edge.src, s.node.id);
    }
    at = s.node.id;
  }
}

std::vector<std::string> Hops(const PathResult& p) {
  std::vector<std::string> out = {p.start.path};
  for (const PathStep& s : p.steps)
    out.push_back(std::string(s.forward ? "-" : "<-") + std::string(KindName(s.edge.kind)) +
                  (s.forward ? "-> " : "- ") + s.node.path);
  return out;
}

TEST_F(EngineQueryTest, DirectedShortestPathTakesTheFewestHops) {
  PathResult p = Path("demo::main", "demo::lex", true);
  ASSERT_TRUE(p.found);
  EXPECT_TRUE(p.directed);
  EXPECT_THAT(Hops(p), ElementsAre("demo::main", "-CALLS-> demo::parse", "-CALLS-> demo::lex"));
  EXPECT_EQ(p.steps[0].edge.line, 5u);
  ExpectConnected(p);

  PathResult contains = Path("demo", "demo::Line::b", true);
  ASSERT_TRUE(contains.found);
  EXPECT_THAT(Hops(contains),
              ElementsAre("demo", "-CONTAINS-> demo::Line", "-CONTAINS-> demo::Line::b"));

  PathResult same = Path("demo::lex", "demo::lex", true);
  ASSERT_TRUE(same.found);
  EXPECT_TRUE(same.steps.empty());
  EXPECT_EQ(same.start.path, "demo::lex");
}

TEST_F(EngineQueryTest, NoDirectedPathFallsBackToUndirected) {
  PathResult directed = Path("demo::lex", "demo::main", true);
  EXPECT_FALSE(directed.found);
  EXPECT_FALSE(directed.bound_hit);
  PathResult undirected = Path("demo::lex", "demo::main", false);
  ASSERT_TRUE(undirected.found);
  EXPECT_FALSE(undirected.directed);
  EXPECT_EQ(undirected.steps.size(), 2u);
  EXPECT_EQ(undirected.steps.back().node.path, "demo::main");
  EXPECT_FALSE(undirected.steps.back().forward);  // nothing leads to main but from demo
  ExpectConnected(undirected);

  // Only CALLS: lex calls parse, which main calls.
  PathResult calls = Path("demo::lex", "demo::main", false, {EdgeKind::kCalls});
  ASSERT_TRUE(calls.found);
  EXPECT_THAT(Hops(calls), ElementsAre("demo::lex", "-CALLS-> demo::parse", "<-CALLS- demo::main"));
  ExpectConnected(calls);
}

TEST_F(EngineQueryTest, DisconnectedNodesHaveNoPath) {
  EXPECT_FALSE(Path("demo::main", "other::island", true).found);
  PathResult undirected = Path("demo::main", "other::island", false);
  EXPECT_FALSE(undirected.found);
  EXPECT_FALSE(undirected.bound_hit);
  EXPECT_FALSE(Path("demo::main", "demo::lex", true, {EdgeKind::kContains}).found);

  PathOptions tiny;
  tiny.directed = false;
  tiny.max_visited = 3;
  auto bounded = engine_->ShortestPath({Id("demo::lex")}, {Id("other::island")}, tiny);
  ASSERT_TRUE(bounded.ok());
  EXPECT_FALSE(bounded->found);
  EXPECT_TRUE(bounded->bound_hit);
}

TEST_F(EngineQueryTest, NeighbourhoodHoldsNodesWithinDepthAndTheEdgesAmongThem) {
  SubgraphOptions o;
  o.kinds = {EdgeKind::kCalls};
  auto g = engine_->Neighbourhood({Id("demo::parse")}, o);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  std::vector<std::string> nodes, edges;
  std::map<NodeId, std::string> path;
  for (const SubgraphNode& n : g->nodes) {
    nodes.push_back(std::to_string(n.depth) + " " + n.node.path);
    path[n.node.id] = n.node.path;
  }
  for (const SubgraphEdge& e : g->edges)
    edges.push_back(path.at(e.src) + " " + std::string(KindName(e.kind)) + " " + path.at(e.dst) +
                    " x" + std::to_string(e.count));
  EXPECT_THAT(nodes, ElementsAre("0 demo::parse", "1 demo::lex", "1 demo::main", "1 demo::run",
                                 "1 std::mem::swap"));
  EXPECT_THAT(edges, UnorderedElementsAre(
                         "demo::parse CALLS demo::lex x1", "demo::parse CALLS std::mem::swap x1",
                         "demo::lex CALLS demo::parse x1", "demo::lex CALLS demo::lex x1",
                         "demo::main CALLS demo::run x2", "demo::main CALLS demo::parse x1",
                         "demo::run CALLS demo::parse x1"));
  EXPECT_FALSE(g->truncated);

  // All kinds: the crate comes in through CONTAINS, with its edges to the
  // functions already in; helper (depth 2) does not.
  auto all = engine_->Neighbourhood({Id("demo::parse")}, SubgraphOptions());
  ASSERT_TRUE(all.ok());
  std::set<std::string> all_paths;
  for (const SubgraphNode& n : all->nodes) all_paths.insert(n.node.path);
  EXPECT_TRUE(all_paths.count("demo"));
  EXPECT_FALSE(all_paths.count("demo::helper"));
  int contains = 0;
  for (const SubgraphEdge& e : all->edges) contains += e.kind == EdgeKind::kContains;
  EXPECT_EQ(contains, 4);  // demo -> parse, main, run, lex

  o.max_nodes = 3;
  auto small = engine_->Neighbourhood({Id("demo::parse")}, o);
  ASSERT_TRUE(small.ok());
  EXPECT_TRUE(small->truncated);
  EXPECT_EQ(small->nodes.size(), 3u);
  std::set<NodeId> in;
  for (const SubgraphNode& n : small->nodes) in.insert(n.node.id);
  for (const SubgraphEdge& e : small->edges) {
    EXPECT_TRUE(in.count(e.src));
    EXPECT_TRUE(in.count(e.dst));
  }
}

// A small checker of the DOT that SubgraphToDot writes: every statement is
// a node or an edge statement with quoted ids and attributes, and every edge
// references declared nodes.
struct DotCheck {
  std::set<std::string> nodes;
  std::vector<std::pair<std::string, std::string>> edges;
  std::map<std::string, std::string> labels;  // node id -> label (unescaped)
  std::vector<std::string> errors;
};

// Reads a DOT double-quoted string at `s[i]`; advances `i` past it.
std::optional<std::string> ReadQuoted(const std::string& s, size_t& i) {
  if (i >= s.size() || s[i] != '"') return std::nullopt;
  std::string out;
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      char c = s[++i];
      out += c == 'n' ? '\n' : c;
    } else if (s[i] == '"') {
      ++i;
      return out;
    } else {
      out += s[i];
    }
  }
  return std::nullopt;
}

DotCheck CheckDot(const std::string& dot) {
  DotCheck c;
  std::istringstream in(dot);
  std::string line;
  bool open = false, closed = false;
  std::regex header(R"(^digraph [A-Za-z_][A-Za-z_0-9]* \{$)");
  std::regex defaults(R"(^  (graph|node|edge) \[.*\];$)");
  while (std::getline(in, line)) {
    if (line.rfind("//", 0) == 0) continue;
    if (!open) {
      if (!std::regex_match(line, header)) c.errors.push_back("bad header: " + line);
      open = true;
      continue;
    }
    if (line == "}") {
      closed = true;
      continue;
    }
    if (closed) c.errors.push_back("after the closing brace: " + line);
    if (std::regex_match(line, defaults)) continue;
    size_t i = 2;
    auto a = ReadQuoted(line, i);
    if (!a) {
      c.errors.push_back("unquoted id: " + line);
      continue;
    }
    bool edge = line.compare(i, 4, " -> ") == 0;
    std::optional<std::string> b;
    if (edge) {
      i += 4;
      b = ReadQuoted(line, i);
      if (!b) {
        c.errors.push_back("unquoted edge target: " + line);
        continue;
      }
    }
    if (line.compare(i, 8, " [label=") != 0) {
      c.errors.push_back("no label: " + line);
      continue;
    }
    i += 8;
    auto label = ReadQuoted(line, i);
    if (!label || line.size() < 2 || line.substr(line.size() - 2) != "];") {
      c.errors.push_back("bad attributes: " + line);
      continue;
    }
    if (edge) {
      c.edges.push_back({*a, *b});
    } else {
      c.nodes.insert(*a);
      c.labels[*a] = *label;
    }
  }
  if (!closed) c.errors.push_back("no closing brace");
  for (const auto& [a, b] : c.edges)
    if (!c.nodes.count(a) || !c.nodes.count(b)) c.errors.push_back("undeclared end: " + a + b);
  return c;
}

TEST_F(EngineQueryTest, DotIsValidWithQuotedIdsAndEscapedLabels) {
  SubgraphOptions o;
  o.depth = 2;
  auto g = engine_->Neighbourhood({Id("demo::m")}, o);
  ASSERT_TRUE(g.ok());
  std::string dot = SubgraphToDot(*g);
  DotCheck c = CheckDot(dot);
  EXPECT_THAT(c.errors, ElementsAre()) << dot;
  EXPECT_EQ(c.nodes.size(), g->nodes.size());
  EXPECT_EQ(c.edges.size(), g->edges.size());
  std::string weird = Id("demo::m::quo\"te\\d").str();
  ASSERT_TRUE(c.labels.count(weird)) << dot;
  EXPECT_EQ(c.labels[weird], "demo::m::quo\"te\\d\nfunction");
  EXPECT_THAT(dot, HasSubstr(R"(label="demo::m::quo\"te\\d\nfunction")"));
  EXPECT_THAT(dot, HasSubstr("\"" + Id("demo::m").str() +
                             "\" [label=\"demo::m\\nmodule\", "
                             "style=bold];"));

  // Several call sites between two nodes are one edge with a count; a
  // truncated subgraph says so.
  SubgraphOptions calls;
  calls.kinds = {EdgeKind::kCalls};
  calls.max_nodes = 2;
  auto t = engine_->Neighbourhood({Id("demo::main")}, calls);
  ASSERT_TRUE(t.ok());
  std::string tdot = SubgraphToDot(*t);
  EXPECT_THAT(CheckDot(tdot).errors, ElementsAre()) << tdot;
  EXPECT_THAT(tdot, HasSubstr("[label=\"CALLS x2\"]"));
  EXPECT_THAT(tdot, HasSubstr("// truncated"));

  // When Graphviz is installed, it must accept the output too.
  if (std::system("command -v dot >/dev/null 2>&1") == 0) {
    for (const std::string* text : {&dot, &tdot}) {
      fs::path file = dir_ / "g.dot";
      std::ofstream(file) << *text;
      std::string cmd = "dot -Tcanon '" + file.string() + "' >/dev/null 2>&1";
      int status = std::system(cmd.c_str());
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << *text;
    }
  }
}

}  // namespace
}  // namespace ferrograph
