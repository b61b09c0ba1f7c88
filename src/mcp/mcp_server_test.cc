// Tests of the MCP server's protocol and tools without a process: messages
// in as lines, responses out, over a small crate indexed into a temporary
// database. Also the bounded line reader and the index monitor.
#include "mcp/mcp_server.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mcp/index_monitor.h"
#include "mcp/line_reader.h"
#include "mcp/tools.h"

namespace ferrograph::mcp {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ::testing::Contains;
using ::testing::HasSubstr;

constexpr const char* kLib = R"(//! A demo crate.
pub mod shapes;

/// Parses the input into tokens.
pub fn parse(input: &str) -> Vec<String> {
    lex(input)
}

fn lex(input: &str) -> Vec<String> {
    input.split(' ').map(|s| s.to_string()).collect()
}

pub fn run() {
    let _ = parse("a b");
}
)";

constexpr const char* kShapes = R"(/// Something with an area.
pub trait Shape {
    fn area(&self) -> f64;
}

#[derive(Debug, Clone)]
pub struct Circle {
    pub r: f64,
}

impl Shape for Circle {
    fn area(&self) -> f64 {
        3.14 * self.r * self.r
    }
}

impl Circle {
    pub fn new(r: f64) -> Self {
        Circle { r }
    }
}

pub struct Square;

impl Shape for Square {
    fn area(&self) -> f64 {
        1.0
    }
}
)";

void WriteFile(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

// A workspace with the demo crate, indexed into dir/graph.db.
struct Workspace {
  explicit Workspace(const std::string& name) {
    dir = fs::path(testing::TempDir()) / ("mcp_" + name + "_" + std::to_string(getpid()));
    fs::remove_all(dir);
    root = dir / "ws";
    db = (dir / "graph.db").string();
    WriteFile(root / "Cargo.toml", "[package]\nname = \"demo\"\nversion = \"0.1.0\"\n");
    WriteFile(root / "src/lib.rs", kLib);
    WriteFile(root / "src/shapes.rs", kShapes);
  }
  ~Workspace() { fs::remove_all(dir); }
  Status Index() {
    Engine::Options o;
    o.db_path = db;
    FG_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::Open(o));
    IndexOptions io;
    io.jobs = 1;
    return engine->Index(root.string(), io).status();
  }
  fs::path dir, root;
  std::string db;
};

class McpServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ws_ = new Workspace("server");
    Status s = ws_->Index();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  static void TearDownTestSuite() {
    delete ws_;
    ws_ = nullptr;
  }
  void SetUp() override {
    Engine::Options o;
    o.db_path = ws_->db;
    o.read_only = true;
    auto engine = Engine::Open(o);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
    server_ = std::make_unique<McpServer>(engine_.get(), McpServer::Options{ws_->db});
  }

  // Sends one line; the parsed response (null when none came).
  json Send(const std::string& line) {
    std::optional<std::string> out = server_->HandleLine(line);
    if (!out) return nullptr;
    EXPECT_EQ(out->find('\n'), std::string::npos) << "a response must be one line";
    json j = json::parse(*out, nullptr, false);
    EXPECT_TRUE(j.is_object()) << *out;
    EXPECT_EQ(j.value("jsonrpc", ""), "2.0") << *out;
    return j;
  }
  json Send(const json& message) { return Send(message.dump()); }

  json Request(const std::string& method, json params = json::object(), json id = 1) {
    json m = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
    if (!params.is_null()) m["params"] = std::move(params);
    return Send(m);
  }

  void Initialize() {
    json r = Request("initialize", {{"protocolVersion", "2025-06-18"},
                                    {"capabilities", json::object()},
                                    {"clientInfo", {{"name", "test"}, {"version", "1"}}}});
    ASSERT_TRUE(r.contains("result")) << r;
    EXPECT_TRUE(Send(json{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}).is_null());
  }

  // tools/call; the whole response.
  json CallRaw(const std::string& tool, json args) {
    return Request("tools/call", {{"name", tool}, {"arguments", std::move(args)}});
  }
  // tools/call; the result, which must be one.
  json Call(const std::string& tool, json args) {
    json r = CallRaw(tool, std::move(args));
    EXPECT_TRUE(r.contains("result")) << r;
    if (!r.contains("result")) return json::object();
    const json& result = r["result"];
    EXPECT_TRUE(result["content"].is_array()) << result;
    EXPECT_EQ(result["content"][0]["type"], "text") << result;
    EXPECT_TRUE(result["content"][0]["text"].is_string()) << result;
    return result;
  }

  static int Code(const json& response) {
    if (!response.contains("error")) return 0;
    return response["error"]["code"].get<int>();
  }

  static Workspace* ws_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<McpServer> server_;
};

Workspace* McpServerTest::ws_ = nullptr;

// ---- JSON-RPC errors ----

TEST_F(McpServerTest, MalformedJsonIsAParseErrorWithNullId) {
  for (const char* line : {"{", "not json", "{\"jsonrpc\":\"2.0\",\"id\":1,", "\xff\xfe", "[1,]",
                           "{\"a\":\"\xc3\x28\"}"}) {
    json r = Send(std::string(line));
    EXPECT_EQ(Code(r), kParseError) << line;
    EXPECT_TRUE(r["id"].is_null()) << line;
  }
}

TEST_F(McpServerTest, InvalidRequestsAreRejected) {
  Initialize();
  // Not an object.
  for (const char* line : {"42", "\"ping\"", "null", "true"}) {
    json r = Send(std::string(line));
    EXPECT_EQ(Code(r), kInvalidRequest) << line;
    EXPECT_TRUE(r["id"].is_null());
  }
  // No method; no or a wrong jsonrpc; a method that is not a string.
  json r = Send(json{{"jsonrpc", "2.0"}, {"id", 7}});
  EXPECT_EQ(Code(r), kInvalidRequest);
  EXPECT_EQ(r["id"], 7);
  EXPECT_EQ(Code(Send(json{{"id", 1}, {"method", "ping"}})), kInvalidRequest);
  EXPECT_EQ(Code(Send(json{{"jsonrpc", "1.0"}, {"id", 1}, {"method", "ping"}})), kInvalidRequest);
  EXPECT_EQ(Code(Send(json{{"jsonrpc", 2}, {"id", 1}, {"method", "ping"}})), kInvalidRequest);
  EXPECT_EQ(Code(Send(json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", 5}})), kInvalidRequest);
  // Ids other than strings and integers.
  for (const json& id : {json(1.5), json(true), json(nullptr), json::object(), json::array()}) {
    json bad = Send(json{{"jsonrpc", "2.0"}, {"id", id}, {"method", "ping"}});
    EXPECT_EQ(Code(bad), kInvalidRequest) << id;
    EXPECT_TRUE(bad["id"].is_null());
    EXPECT_THAT(bad["error"]["message"].get<std::string>(), HasSubstr("id"));
  }
  // String and integer ids come back as they were.
  EXPECT_EQ(Request("ping", json::object(), "abc")["id"], "abc");
  EXPECT_EQ(Request("ping", json::object(), -3)["id"], -3);
  // params must be an object.
  EXPECT_EQ(
      Code(Send(json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/list"}, {"params", 3}})),
      kInvalidParams);
}

TEST_F(McpServerTest, BatchesAreRejected) {
  Initialize();
  for (const char* line : {"[]", "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]"}) {
    json r = Send(std::string(line));
    EXPECT_EQ(Code(r), kInvalidRequest) << line;
    EXPECT_THAT(r["error"]["message"].get<std::string>(), HasSubstr("batch"));
  }
}

TEST_F(McpServerTest, UnknownMethodIsMethodNotFound) {
  Initialize();
  json r = Request("resources/list");
  EXPECT_EQ(Code(r), kMethodNotFound);
  EXPECT_THAT(r["error"]["message"].get<std::string>(), HasSubstr("resources/list"));
}

TEST_F(McpServerTest, RequestsBeforeInitializeFail) {
  EXPECT_EQ(Code(Request("tools/list")), kNotInitialized);
  EXPECT_EQ(Code(CallRaw("index_status", json::object())), kNotInitialized);
  EXPECT_TRUE(Request("ping").contains("result"));  // ping is always answered
  EXPECT_FALSE(server_->ready());
  // notifications/initialized before initialize does not make it ready.
  EXPECT_TRUE(Send(json{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}).is_null());
  EXPECT_FALSE(server_->ready());
  Initialize();
  EXPECT_TRUE(server_->ready());
  EXPECT_TRUE(Request("tools/list").contains("result"));
}

TEST_F(McpServerTest, InitializeNegotiatesTheProtocolVersion) {
  json r = Request("initialize", {{"protocolVersion", "2025-03-26"}, {"capabilities", {}}});
  ASSERT_TRUE(r.contains("result")) << r;
  EXPECT_EQ(r["result"]["protocolVersion"], "2025-03-26");
  EXPECT_EQ(r["result"]["capabilities"]["tools"]["listChanged"], false);
  EXPECT_EQ(r["result"]["serverInfo"]["name"], "ferrograph");
  EXPECT_TRUE(r["result"]["instructions"].is_string());
  // Once only.
  EXPECT_EQ(Code(Request("initialize", {{"protocolVersion", "2025-06-18"}})), kInvalidRequest);

  McpServer other(engine_.get(), {ws_->db});
  json unknown = json::parse(*other.HandleLine(
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"1999-01-01"}})"));
  EXPECT_EQ(unknown["result"]["protocolVersion"], "2025-06-18");
  McpServer third(engine_.get(), {ws_->db});
  json missing =
      json::parse(*third.HandleLine(R"({"jsonrpc":"2.0","id":1,"method":"initialize"})"));
  EXPECT_EQ(missing["error"]["code"], kInvalidParams);
}

TEST_F(McpServerTest, NotificationsAndResponsesGetNoAnswer) {
  Initialize();
  EXPECT_TRUE(Send(json{{"jsonrpc", "2.0"},
                        {"method", "notifications/cancelled"},
                        {"params", {{"requestId", 1}}}})
                  .is_null());
  EXPECT_TRUE(Send(json{{"jsonrpc", "2.0"}, {"method", "no/such/notification"}}).is_null());
  // A notification naming a request method (no id) is still not answered.
  EXPECT_TRUE(Send(json{{"jsonrpc", "2.0"}, {"method", "tools/call"}}).is_null());
  // A response to a request (the server sends none) is ignored.
  EXPECT_TRUE(Send(json{{"jsonrpc", "2.0"}, {"id", 4}, {"result", json::object()}}).is_null());
}

TEST_F(McpServerTest, OversizedMessageResponseIsAnInvalidRequest) {
  json r = json::parse(McpServer::OversizedMessageResponse());
  EXPECT_EQ(r["error"]["code"], kInvalidRequest);
  EXPECT_TRUE(r["id"].is_null());
}

// ---- tools/list ----

TEST_F(McpServerTest, ToolsListPublishesEveryToolWithItsSchema) {
  Initialize();
  json r = Request("tools/list");
  ASSERT_TRUE(r.contains("result")) << r;
  std::vector<std::string> names;
  for (const json& t : r["result"]["tools"]) {
    names.push_back(t["name"]);
    EXPECT_TRUE(t["description"].is_string());
    const json& schema = t["inputSchema"];
    EXPECT_EQ(schema["type"], "object") << t["name"];
    EXPECT_EQ(schema["additionalProperties"], false) << t["name"];
    EXPECT_TRUE(schema["properties"].is_object()) << t["name"];
  }
  EXPECT_EQ(names, (std::vector<std::string>{"search_code", "get_node", "callers", "callees",
                                             "implementations", "context_for", "index_status"}));
  auto schema = [&](const std::string& name) {
    for (const json& t : r["result"]["tools"])
      if (t["name"] == name) return t["inputSchema"];
    return json();
  };
  json search = schema("search_code");
  EXPECT_EQ(search["required"], json::array({"query"}));
  EXPECT_EQ(search["properties"]["k"]["minimum"], 1);
  EXPECT_EQ(search["properties"]["k"]["maximum"], 100);
  EXPECT_THAT(search["properties"]["kind"]["enum"], Contains("function"));
  EXPECT_THAT(search["properties"]["kind"]["enum"], Contains("trait"));
  EXPECT_EQ(schema("callers")["properties"]["depth"]["maximum"], 10);
  EXPECT_EQ(schema("callees")["required"], json::array({"path"}));
  EXPECT_EQ(schema("context_for")["properties"]["budget"]["maximum"], 200000);
  EXPECT_EQ(schema("context_for")["required"], json::array({"question"}));
  EXPECT_FALSE(schema("index_status").contains("required"));
  EXPECT_TRUE(schema("index_status")["properties"].empty());
}

// ---- argument validation ----

TEST_F(McpServerTest, ToolArgumentsAreValidatedNamingTheField) {
  Initialize();
  struct Case {
    std::string tool;
    json args;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"search_code", json::object(), "query"},
      {"search_code", {{"query", 5}}, "query"},
      {"search_code", {{"query", ""}}, "query"},
      {"search_code", {{"query", std::string(5000, 'x')}}, "query"},
      {"search_code", {{"query", "x"}, {"k", 0}}, "k"},
      {"search_code", {{"query", "x"}, {"k", 101}}, "k"},
      {"search_code", {{"query", "x"}, {"k", "5"}}, "k"},
      {"search_code", {{"query", "x"}, {"k", 2.5}}, "k"},
      {"search_code", {{"query", "x"}, {"k", -1}}, "k"},
      {"search_code", {{"query", "x"}, {"kind", "bogus"}}, "kind"},
      {"search_code", {{"query", "x"}, {"kind", 3}}, "kind"},
      {"search_code", {{"query", "x"}, {"tests", "sometimes"}}, "tests"},
      {"context_for", {{"question", "q"}, {"tests", true}}, "tests"},
      {"search_code", {{"query", "x"}, {"extra", 1}}, "extra"},
      {"get_node", json::object(), "path"},
      {"get_node", {{"path", 1}}, "path"},
      {"get_node", {{"path", "x"}, {"kind", "nope"}}, "kind"},
      {"get_node", {{"path", "x"}, {"depth", 2}}, "depth"},
      {"callers", json::object(), "path"},
      {"callers", {{"path", "x"}, {"depth", 0}}, "depth"},
      {"callers", {{"path", "x"}, {"depth", 11}}, "depth"},
      {"callees", {{"path", "x"}, {"depth", "2"}}, "depth"},
      {"callees", {{"path", "x"}, {"depth", nullptr}}, "depth"},
      {"implementations", {{"path", "x"}, {"extra", true}}, "extra"},
      {"implementations", {{"path", json::array()}}, "path"},
      {"context_for", json::object(), "question"},
      {"context_for", {{"question", "q"}, {"budget", 0}}, "budget"},
      {"context_for", {{"question", "q"}, {"budget", 200001}}, "budget"},
      {"context_for", {{"question", "q"}, {"budget", 1e300}}, "budget"},
      {"index_status", {{"verbose", true}}, "verbose"},
      {"search_code", json::array({1}), "arguments"},
      {"index_status", "x", "arguments"},
  };
  for (const Case& c : cases) {
    json r = CallRaw(c.tool, c.args);
    EXPECT_EQ(Code(r), kInvalidParams) << c.tool << " " << c.args.dump() << ": " << r;
    if (!r.contains("error")) continue;
    EXPECT_EQ(r["error"]["data"]["field"], c.field) << c.tool << " " << c.args.dump();
    EXPECT_EQ(r["error"]["data"]["tool"], c.tool);
    EXPECT_THAT(r["error"]["message"].get<std::string>(), HasSubstr("`" + c.field + "`"))
        << c.tool << " " << c.args.dump();
  }
  // The edges of the ranges pass; 5.0 counts as an integer.
  EXPECT_FALSE(Call("search_code", {{"query", "parse"}, {"k", 100}})["isError"].get<bool>());
  EXPECT_FALSE(Call("search_code", {{"query", "parse"}, {"k", 5.0}})["isError"].get<bool>());
  EXPECT_FALSE(Call("callers", {{"path", "demo::lex"}, {"depth", 10}})["isError"].get<bool>());
  // Arguments may be left out when nothing is required.
  EXPECT_FALSE(Request("tools/call", {{"name", "index_status"}})["result"]["isError"].get<bool>());
}

TEST_F(McpServerTest, UnknownToolAndMissingNameAreInvalidParams) {
  Initialize();
  json r = CallRaw("rm_rf", json::object());
  EXPECT_EQ(Code(r), kInvalidParams);
  EXPECT_THAT(r["error"]["message"].get<std::string>(), HasSubstr("rm_rf"));
  EXPECT_EQ(Code(Request("tools/call", json::object())), kInvalidParams);
  EXPECT_EQ(Code(Request("tools/call", {{"name", 3}})), kInvalidParams);
}

// ---- the tools ----

// RunStdio's warm-up is joined there: before the first tool call and only
// then, never for the protocol's own requests.
TEST_F(McpServerTest, BeforeFirstToolRunsOnceBeforeTheFirstToolCall) {
  int calls = 0;
  McpServer::Options o{ws_->db};
  o.before_first_tool = [&] { ++calls; };
  server_ = std::make_unique<McpServer>(engine_.get(), o);
  Initialize();
  EXPECT_TRUE(Request("tools/list").contains("result"));
  EXPECT_EQ(Code(CallRaw("no_such_tool", json::object())), kInvalidParams);
  EXPECT_EQ(calls, 0);
  Call("index_status", json::object());
  EXPECT_EQ(calls, 1);
  Call("search_code", {{"query", "parse the input"}});
  EXPECT_EQ(calls, 1);
}

TEST_F(McpServerTest, SearchCodeFindsTheFunction) {
  Initialize();
  json r = Call("search_code", {{"query", "parse the input into tokens"}, {"k", 5}});
  ASSERT_FALSE(r["isError"].get<bool>()) << r;
  const json& results = r["structuredContent"]["results"];
  ASSERT_FALSE(results.empty());
  EXPECT_LE(results.size(), 5u);
  std::set<std::string> paths;
  for (const json& hit : results) {
    paths.insert(hit["path"]);
    for (const char* key : {"path", "kind", "file", "line", "signature", "score", "why"})
      EXPECT_TRUE(hit.contains(key)) << key;
  }
  EXPECT_THAT(paths, Contains("demo::parse"));
  EXPECT_EQ(json::parse(r["content"][0]["text"].get<std::string>()), r["structuredContent"]);

  json structs = Call("search_code", {{"query", "circle shape"}, {"kind", "struct"}});
  ASSERT_FALSE(structs["structuredContent"]["results"].empty());
  for (const json& hit : structs["structuredContent"]["results"]) EXPECT_EQ(hit["kind"], "struct");
}

TEST_F(McpServerTest, GetNodeGivesSourceContainerChildrenAndEdges) {
  Initialize();
  json r = Call("get_node", {{"path", "demo::parse"}});
  ASSERT_FALSE(r["isError"].get<bool>()) << r;
  const json& n = r["structuredContent"];
  EXPECT_EQ(n["kind"], "function");
  EXPECT_EQ(n["path"], "demo::parse");
  EXPECT_EQ(n["file"], "src/lib.rs");
  EXPECT_EQ(n["line"], 4);  // the span starts at the doc comment
  EXPECT_EQ(n["docs"], "Parses the input into tokens.");
  EXPECT_THAT(n["signature"].get<std::string>(), HasSubstr("fn parse(input: &str)"));
  EXPECT_THAT(n["source"].get<std::string>(), HasSubstr("lex(input)"));
  EXPECT_EQ(n["container"]["path"], "demo");
  EXPECT_EQ(n["edges"]["out"]["CALLS"]["count"], 1);
  EXPECT_EQ(n["edges"]["out"]["CALLS"]["nodes"][0]["path"], "demo::lex");
  EXPECT_EQ(n["edges"]["in"]["CALLS"]["nodes"][0]["path"], "demo::run");

  json circle = Call("get_node", {{"path", "Circle"}, {"kind", "struct"}});
  ASSERT_FALSE(circle["isError"].get<bool>()) << circle;
  EXPECT_THAT(circle["structuredContent"]["children"], Contains("demo::shapes::Circle::r"));
  EXPECT_EQ(circle["structuredContent"]["children_count"], 1);
}

TEST_F(McpServerTest, GetNodeReportsAmbiguityAndAbsenceAsToolErrors) {
  Initialize();
  json r = Call("get_node", {{"path", "area"}});
  EXPECT_TRUE(r["isError"].get<bool>());
  EXPECT_EQ(r["structuredContent"]["error"], "ambiguous");
  EXPECT_GE(r["structuredContent"]["candidates"].size(), 3u);
  EXPECT_THAT(r["content"][0]["text"].get<std::string>(), HasSubstr("ambiguous"));
  // Each candidate's path (or id) names exactly one node.
  for (const json& c : r["structuredContent"]["candidates"]) {
    json one = Call("get_node", {{"path", c["id"]}});
    EXPECT_FALSE(one["isError"].get<bool>()) << c;
  }
  json none = Call("get_node", {{"path", "no_such_thing_anywhere"}});
  EXPECT_TRUE(none["isError"].get<bool>());
  EXPECT_EQ(none["structuredContent"]["error"], "not_found");
}

TEST_F(McpServerTest, CallersAndCalleesGiveTheCallTreeWithSites) {
  Initialize();
  json r = Call("callers", {{"path", "demo::lex"}});
  ASSERT_FALSE(r["isError"].get<bool>()) << r;
  const json& tree = r["structuredContent"];
  EXPECT_EQ(tree["direction"], "callers");
  EXPECT_EQ(tree["root"]["path"], "demo::lex");
  ASSERT_EQ(tree["results"].size(), 1u);
  EXPECT_EQ(tree["results"][0]["path"], "demo::parse");
  EXPECT_EQ(tree["results"][0]["call_sites"][0]["file"], "src/lib.rs");
  EXPECT_EQ(tree["results"][0]["call_sites"][0]["line"], 6);

  json deep = Call("callers", {{"path", "lex"}, {"depth", 2}});
  std::set<std::string> paths;
  for (const json& e : deep["structuredContent"]["results"]) paths.insert(e["path"]);
  EXPECT_EQ(paths, (std::set<std::string>{"demo::parse", "demo::run"}));

  json callees = Call("callees", {{"path", "demo::run"}});
  ASSERT_FALSE(callees["isError"].get<bool>()) << callees;
  EXPECT_EQ(callees["structuredContent"]["results"][0]["path"], "demo::parse");
  EXPECT_EQ(callees["structuredContent"]["results"][0]["via"], "demo::run");

  EXPECT_TRUE(Call("callers", {{"path", "nothing_here"}})["isError"].get<bool>());
}

TEST_F(McpServerTest, ImplementationsOfATraitAndOfAType) {
  Initialize();
  json r = Call("implementations", {{"path", "Shape"}});
  ASSERT_FALSE(r["isError"].get<bool>()) << r;
  std::set<std::string> selves;
  for (const json& i : r["structuredContent"]["implementations"]) {
    selves.insert(i["self"]);
    EXPECT_EQ(i["trait"], "demo::shapes::Shape");
    EXPECT_EQ(i["derive"], false);
  }
  EXPECT_EQ(selves, (std::set<std::string>{"demo::shapes::Circle", "demo::shapes::Square"}));

  json circle = Call("implementations", {{"path", "demo::shapes::Circle"}});
  ASSERT_FALSE(circle["isError"].get<bool>()) << circle;
  std::set<std::string> traits;
  bool inherent = false;
  for (const json& i : circle["structuredContent"]["implementations"]) {
    if (i["trait"].is_null())
      inherent = true;
    else
      traits.insert(i["trait"]);
  }
  EXPECT_TRUE(inherent);
  EXPECT_THAT(traits, Contains("demo::shapes::Shape"));

  EXPECT_TRUE(Call("implementations", {{"path", "demo::parse"}})["isError"].get<bool>());
}

TEST_F(McpServerTest, IndexStatusCountsTheGraph) {
  Initialize();
  json r = Call("index_status", json::object());
  ASSERT_FALSE(r["isError"].get<bool>()) << r;
  const json& s = r["structuredContent"];
  EXPECT_EQ(s["crates"], 1);
  EXPECT_EQ(s["files"], 2);
  EXPECT_GT(s["nodes"].get<int>(), 10);
  EXPECT_EQ(s["versions"], 1);
  EXPECT_EQ(s["latest"]["ordinal"], 1);
  EXPECT_TRUE(s["latest"]["version"].is_string());
  EXPECT_GT(s["nodes_by_kind"]["function"].get<int>(), 0);
  EXPECT_GT(s["edges_by_kind"]["CALLS"].get<int>(), 0);
  EXPECT_EQ(fs::path(s["database"].get<std::string>()), fs::absolute(ws_->db).lexically_normal());
  EXPECT_EQ(fs::weakly_canonical(s["root"].get<std::string>()), fs::weakly_canonical(ws_->root));
}

TEST_F(McpServerTest, ContextForAnswersWithTheDocument) {
  Initialize();
  json r =
      Call("context_for", {{"question", "how is the input parsed into tokens?"}, {"budget", 2000}});
  ASSERT_FALSE(r["isError"].get<bool>()) << r;
  const json& c = r["structuredContent"];
  EXPECT_EQ(c["budget"], 2000);
  EXPECT_LE(c["total_tokens"].get<int>(), 2000);
  EXPECT_TRUE(c["parts"].is_array());
  EXPECT_THAT(r["content"][0]["text"].get<std::string>(), HasSubstr("how is the input parsed"));
  // Too small a budget is the tool's failure, not the protocol's.
  json tiny = Call("context_for", {{"question", "parse"}, {"budget", 1}});
  EXPECT_TRUE(tiny["isError"].get<bool>());
}

TEST_F(McpServerTest, ContextForDefaultsToTheConfiguredBudget) {
  server_ =
      std::make_unique<McpServer>(engine_.get(), McpServer::Options{ws_->db, 600, "cl100k_base"});
  Initialize();
  json r = Call("context_for", {{"question", "how is the input parsed?"}});
  ASSERT_FALSE(r["isError"].get<bool>()) << r;
  EXPECT_EQ(r["structuredContent"]["budget"], 600);
  EXPECT_EQ(r["structuredContent"]["tokenizer"], "cl100k_base");
}

// ---- robustness ----

TEST_F(McpServerTest, RandomAndTruncatedInputNeverBreaksTheServer) {
  Initialize();
  const std::vector<std::string> valid = {
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_code","arguments":{"query":"parse","k":3}}})",
      R"({"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"get_node","arguments":{"path":"demo::run"}}})",
      R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"callers","arguments":{"path":"lex","depth":3}}})",
      R"({"jsonrpc":"2.0","id":3,"method":"tools/list"})",
      R"({"jsonrpc":"2.0","method":"notifications/initialized"})",
  };
  std::mt19937 rng(12345);
  auto check = [&](const std::string& line) {
    std::optional<std::string> out = server_->HandleLine(line);
    if (!out) return;
    json j = json::parse(*out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_TRUE(j.contains("result") != j.contains("error")) << *out;
    EXPECT_TRUE(j.contains("id"));
  };
  for (const std::string& v : valid)
    for (size_t cut = 0; cut <= v.size(); ++cut) check(v.substr(0, cut));
  for (int i = 0; i < 3000; ++i) {
    std::string line;
    if (i % 3 == 0) {  // random bytes
      size_t n = rng() % 200;
      for (size_t k = 0; k < n; ++k) line += static_cast<char>(rng() % 256);
    } else {  // a valid message with bytes flipped, dropped or repeated
      line = valid[rng() % valid.size()];
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits && !line.empty(); ++e) {
        size_t at = rng() % line.size();
        switch (rng() % 3) {
          case 0: line[at] = static_cast<char>(rng() % 256); break;
          case 1: line.erase(at, 1 + rng() % 8); break;
          default: line.insert(at, line.substr(at, rng() % 16)); break;
        }
      }
    }
    check(line);
  }
  // Deep nesting, huge numbers, long strings.
  check(std::string(100000, '['));
  check(std::string(100000, '[') + std::string(100000, ']'));
  check(R"({"jsonrpc":"2.0","id":1e999,"method":"ping"})");
  check(R"({"jsonrpc":"2.0","id":99999999999999999999999,"method":"ping"})");
  check(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_code","arguments":{"query":"x","k":1e999}}})");
  EXPECT_TRUE(Request("ping").contains("result"));
  EXPECT_FALSE(Call("index_status", json::object())["isError"].get<bool>());
}

// ---- the line reader ----

TEST(LineReaderTest, SplitsLinesAndDropsOversizedOnesInBoundedMemory) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::thread writer([fd = fds[1]] {
    std::string data = "one\ntwo\r\n" + std::string(3000, 'x') + "\nthree\n" +
                       std::string(10000, 'y') + "\n\nlast";
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = write(fd, data.data() + done, std::min<size_t>(1000, data.size() - done));
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    close(fd);
  });
  LineReader reader(fds[0], 2048);
  std::string line;
  std::vector<std::string> got;
  for (;;) {
    LineReader::Event e = reader.Next(&line);
    if (e == LineReader::Event::kEnd) break;
    got.push_back(e == LineReader::Event::kOversized ? "<oversized>" : line);
  }
  writer.join();
  close(fds[0]);
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two", "<oversized>", "three", "<oversized>", "",
                                           "last"}));
}

TEST(LineReaderTest, OversizedLineInOneChunkIsReported) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::string data = std::string(100, 'z') + "\nok\n";
  ASSERT_EQ(write(fds[1], data.data(), data.size()), static_cast<ssize_t>(data.size()));
  close(fds[1]);
  LineReader reader(fds[0], 50);
  std::string line;
  EXPECT_EQ(reader.Next(&line), LineReader::Event::kOversized);
  EXPECT_EQ(reader.Next(&line), LineReader::Event::kLine);
  EXPECT_EQ(line, "ok");
  EXPECT_EQ(reader.Next(&line), LineReader::Event::kEnd);
  close(fds[0]);
}

// ---- change events ----

TEST(ChangeEventTest, ListsAreCappedWithTheirCounts) {
  GraphDiff diff;
  for (int i = 0; i < 250; ++i) {
    Node n;
    n.path = "demo::f" + std::to_string(i);
    diff.added.push_back(n);
  }
  Node changed;
  changed.path = "demo::g";
  diff.changed.push_back({changed, changed});
  VersionInfo to;
  to.ordinal = 3;
  to.time_ms = 1700000000123;
  VersionInfo from;
  from.ordinal = 2;
  json e = ChangeEvent(to, from, diff, 200);
  EXPECT_EQ(e["ordinal"], 3);
  EXPECT_EQ(e["from_ordinal"], 2);
  EXPECT_EQ(e["time"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(e["added"].size(), 200u);
  EXPECT_EQ(e["counts"]["added"], 250);
  EXPECT_EQ(e["changed"], json::array({"demo::g"}));
  EXPECT_TRUE(e["removed"].empty());
  EXPECT_TRUE(e["truncated"].get<bool>());
  EXPECT_TRUE(ChangeEvent(to, std::nullopt, GraphDiff(), 200)["from"].is_null());
}

TEST(IndexMonitorTest, ReportsANewVersionOnceTheListenerTakesIt) {
  Workspace ws("monitor");
  ASSERT_TRUE(ws.Index().ok());
  std::mutex mu;
  std::vector<json> events;
  std::atomic<bool> accepting{false};
  std::atomic<int> offers{0};
  IndexMonitor::Options o;
  o.db_path = ws.db;
  o.interval = std::chrono::milliseconds(20);
  auto monitor = IndexMonitor::Start(o, [&](const json& e) {
    ++offers;
    if (!accepting) return false;
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(e);
    return true;
  });
  ASSERT_TRUE(monitor.ok()) << monitor.status().ToString();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(offers, 0) << "no new version yet";

  std::string edited = kLib;
  edited.replace(edited.find("let _ = parse(\"a b\");"), 20, "let _ = parse(\"c d\");");
  WriteFile(ws.root / "src/lib.rs", edited);
  ASSERT_TRUE(ws.Index().ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (offers == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GT(offers, 0);
  accepting = true;  // the client is ready now: the same change comes again
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!events.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  (*monitor)->Stop();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["ordinal"], 2);
  EXPECT_EQ(events[0]["from_ordinal"], 1);
  EXPECT_EQ(events[0]["changed"], json::array({"demo::run"}));
  EXPECT_TRUE(events[0]["added"].empty());
}

}  // namespace
}  // namespace ferrograph::mcp
