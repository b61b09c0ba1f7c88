// End-to-end tests of `ferrograph mcp`: the binary runs as a child process
// with piped stdin and stdout on a crate indexed in a temporary directory;
// the test speaks MCP to it line by line, the way a coding agent does, and
// re-indexes an edited file from a separate `ferrograph index` run while
// the server runs.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "child_process.h"
#include "cli_runner.h"

namespace ferrograph_test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ::testing::Contains;
using ::testing::HasSubstr;

constexpr auto kTimeout = std::chrono::seconds(60);

// `ferrograph mcp ...` in the background, driven as an MCP client would.
class McpChild : public ChildProcess {
 public:
  McpChild(const std::vector<std::string>& args, const std::string& err_path)
      : ChildProcess(args, err_path) {}

  bool Send(const json& message) { return Write(message.dump() + "\n"); }
  std::optional<std::string> Line(std::chrono::seconds timeout = kTimeout) {
    return ChildProcess::Line(timeout);
  }
  int Wait(std::chrono::seconds timeout = kTimeout) { return ChildProcess::Wait(timeout); }

  // The next message that is not a notification (notifications are kept
  // for Notification()); every line must be one JSON-RPC object.
  json Response(std::chrono::seconds timeout = kTimeout) {
    for (;;) {
      std::optional<std::string> line = Line(timeout);
      EXPECT_TRUE(line.has_value()) << "no response within " << timeout.count() << " s";
      if (!line) return json::object();
      json j = json::parse(*line, nullptr, false);
      EXPECT_TRUE(j.is_object()) << *line;
      if (!j.is_object()) return json::object();
      EXPECT_EQ(j.value("jsonrpc", ""), "2.0") << *line;
      if (j.contains("method") && !j.contains("id")) {
        notifications_.push_back(j);
        continue;
      }
      return j;
    }
  }

  // Sends a request and returns its response, which must carry its id.
  json Request(const std::string& method, json params) {
    int id = next_id_++;
    Send({{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}});
    json r = Response();
    EXPECT_EQ(r.value("id", json()), id) << r;
    return r;
  }
  json CallTool(const std::string& name, json args) {
    json r = Request("tools/call", {{"name", name}, {"arguments", std::move(args)}});
    EXPECT_TRUE(r.contains("result")) << r;
    return r.contains("result") ? r["result"] : json::object();
  }

  // The next notification named `method` (earlier others are dropped).
  std::optional<json> Notification(const std::string& method,
                                   std::chrono::seconds timeout = kTimeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      while (!notifications_.empty()) {
        json n = notifications_.front();
        notifications_.pop_front();
        if (n["method"] == method) return n;
      }
      auto left = std::chrono::duration_cast<std::chrono::seconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      std::optional<std::string> line = Line(left);
      if (!line) return std::nullopt;
      json j = json::parse(*line, nullptr, false);
      EXPECT_TRUE(j.is_object() && j.contains("method") && !j.contains("id")) << *line;
      if (j.is_object()) notifications_.push_back(j);
    }
  }

 private:
  std::deque<json> notifications_;
  int next_id_ = 1;
};

constexpr const char* kLib = R"(pub mod shapes;

/// Parses the input into tokens.
pub fn parse(input: &str) -> Vec<String> {
    lex(input)
}

fn lex(input: &str) -> Vec<String> {
    input.split(' ').map(|s| s.to_string()).collect()
}

pub fn run() -> usize {
    parse("a b").len()
}
)";

constexpr const char* kShapes = R"(/// Something with an area.
pub trait Shape {
    fn area(&self) -> f64;
}

pub struct Circle {
    pub r: f64,
}

impl Shape for Circle {
    fn area(&self) -> f64 {
        3.14 * self.r * self.r
    }
}

pub struct Square;

impl Shape for Square {
    fn area(&self) -> f64 {
        1.0
    }
}
)";

class CliMcpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) /
           ("cli_mcp_" + std::to_string(getpid()) + "_" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    ws_ = dir_ / "ws";
    db_ = (dir_ / "graph.db").string();
    err_ = (dir_ / "mcp.err").string();
    ::setenv("XDG_CONFIG_HOME", (dir_ / "config").c_str(), 1);
    Write("Cargo.toml", "[package]\nname = \"demo\"\nversion = \"0.1.0\"\n");
    Write("src/lib.rs", kLib);
    Write("src/shapes.rs", kShapes);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories((ws_ / rel).parent_path());
    std::ofstream(ws_ / rel, std::ios::binary | std::ios::trunc) << text;
  }
  void Index() {
    RunResult r = RunFerrograph("index " + ws_.string() + " --db " + db_ + " --quiet --jobs 1");
    ASSERT_EQ(r.code, 0) << r.err;
  }
  std::string Stderr() const {
    std::ifstream in(err_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  fs::path dir_, ws_;
  std::string db_, err_;
};

TEST_F(CliMcpTest, ServesEveryToolAndAnnouncesANewVersion) {
  Index();
  McpChild mcp({"mcp", "--db", db_}, err_);

  // Lifecycle.
  json init =
      mcp.Request("initialize", {{"protocolVersion", "2025-06-18"},
                                 {"capabilities", json::object()},
                                 {"clientInfo", {{"name", "cli_mcp_test"}, {"version", "1"}}}});
  ASSERT_TRUE(init.contains("result")) << init;
  EXPECT_EQ(init["result"]["protocolVersion"], "2025-06-18");
  EXPECT_TRUE(init["result"]["capabilities"].contains("tools"));
  EXPECT_EQ(init["result"]["serverInfo"]["name"], "ferrograph");
  mcp.Send({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});

  json list = mcp.Request("tools/list", json::object());
  std::set<std::string> names;
  for (const json& t : list["result"]["tools"]) {
    names.insert(t["name"]);
    EXPECT_EQ(t["inputSchema"]["type"], "object");
  }
  EXPECT_EQ(names, (std::set<std::string>{"search_code", "get_node", "callers", "callees",
                                          "implementations", "context_for", "index_status"}));

  // Each tool.
  json search = mcp.CallTool("search_code", {{"query", "parse input tokens"}, {"k", 3}});
  EXPECT_FALSE(search["isError"].get<bool>()) << search;
  std::set<std::string> hits;
  for (const json& h : search["structuredContent"]["results"]) hits.insert(h["path"]);
  EXPECT_THAT(hits, Contains("demo::parse"));

  json node = mcp.CallTool("get_node", {{"path", "demo::run"}});
  EXPECT_FALSE(node["isError"].get<bool>()) << node;
  EXPECT_THAT(node["structuredContent"]["source"].get<std::string>(), HasSubstr("parse(\"a b\")"));

  json ambiguous = mcp.CallTool("get_node", {{"path", "area"}});
  EXPECT_TRUE(ambiguous["isError"].get<bool>());
  EXPECT_EQ(ambiguous["structuredContent"]["error"], "ambiguous");

  json callers = mcp.CallTool("callers", {{"path", "demo::lex"}, {"depth", 2}});
  std::set<std::string> caller_paths;
  for (const json& e : callers["structuredContent"]["results"]) caller_paths.insert(e["path"]);
  EXPECT_EQ(caller_paths, (std::set<std::string>{"demo::parse", "demo::run"}));

  json callees = mcp.CallTool("callees", {{"path", "demo::parse"}});
  ASSERT_FALSE(callees["structuredContent"]["results"].empty()) << callees;
  EXPECT_EQ(callees["structuredContent"]["results"][0]["path"], "demo::lex");
  EXPECT_EQ(callees["structuredContent"]["results"][0]["call_sites"][0]["line"], 5);

  json impls = mcp.CallTool("implementations", {{"path", "demo::shapes::Shape"}});
  EXPECT_EQ(impls["structuredContent"]["count"], 2) << impls;

  json context =
      mcp.CallTool("context_for", {{"question", "how are tokens lexed?"}, {"budget", 1500}});
  EXPECT_FALSE(context["isError"].get<bool>()) << context;
  EXPECT_LE(context["structuredContent"]["total_tokens"].get<int>(), 1500);

  json status = mcp.CallTool("index_status", json::object());
  EXPECT_EQ(status["structuredContent"]["versions"], 1) << status;
  EXPECT_EQ(status["structuredContent"]["crates"], 1);

  // Invalid arguments are a protocol error naming the field.
  json bad = mcp.Request("tools/call",
                         {{"name", "callers"}, {"arguments", {{"path", "x"}, {"depth", 99}}}});
  EXPECT_EQ(bad["error"]["code"], -32602);
  EXPECT_THAT(bad["error"]["message"].get<std::string>(), HasSubstr("`depth`"));

  // Malformed input: answered, and the server goes on.
  mcp.Write("{oops\n");
  json parse_error = mcp.Response();
  EXPECT_EQ(parse_error["error"]["code"], -32700);
  EXPECT_TRUE(parse_error["id"].is_null());
  mcp.Write(std::string("\x01\x02\xff garbage \x80\n"));
  EXPECT_EQ(mcp.Response()["error"]["code"], -32700);
  mcp.Write("[{\"jsonrpc\":\"2.0\",\"id\":50,\"method\":\"ping\"}]\n");
  EXPECT_EQ(mcp.Response()["error"]["code"], -32600);
  mcp.Write("{\"jsonrpc\":\"2.0\",\"id\":51,\"method\":\"nope\"}\n");
  EXPECT_EQ(mcp.Response()["error"]["code"], -32601);
  // A 2 MiB line: one error, nothing buffered, the next message answered.
  mcp.Write("{\"jsonrpc\":\"2.0\",\"id\":52,\"method\":\"ping\",\"params\":{\"pad\":\"" +
            std::string(2 << 20, 'x') + "\"}}\n");
  json oversized = mcp.Response();
  EXPECT_EQ(oversized["error"]["code"], -32600);
  EXPECT_THAT(oversized["error"]["message"].get<std::string>(), HasSubstr("larger than"));
  EXPECT_TRUE(mcp.Request("ping", json::object()).contains("result"));

  // An edit indexed by another process: the server announces the version.
  std::string edited = kLib;
  edited.replace(edited.find("parse(\"a b\").len()"), 18, "parse(\"a b c\").len()");
  Write("src/lib.rs", edited);
  Index();
  std::optional<json> changed = mcp.Notification("notifications/ferrograph/index_changed");
  ASSERT_TRUE(changed.has_value()) << "no index_changed notification; stderr: " << Stderr();
  const json& event = (*changed)["params"];
  EXPECT_EQ(event["ordinal"], 2);
  EXPECT_EQ(event["from_ordinal"], 1);
  EXPECT_EQ(event["changed"], json::array({"demo::run"}));
  EXPECT_TRUE(event["added"].empty());
  EXPECT_TRUE(event["removed"].empty());
  EXPECT_TRUE(event["version"].is_string());
  // And answers from the new version.
  json after = mcp.CallTool("get_node", {{"path", "demo::run"}});
  EXPECT_THAT(after["structuredContent"]["source"].get<std::string>(), HasSubstr("a b c"));
  EXPECT_EQ(mcp.CallTool("index_status", json::object())["structuredContent"]["versions"], 2);

  // End of input: a clean exit.
  mcp.CloseStdin();
  EXPECT_EQ(mcp.Wait(), 0) << Stderr();
  EXPECT_FALSE(mcp.Line(std::chrono::seconds(1)).has_value()) << "nothing after EOF";
}

TEST_F(CliMcpTest, RandomBytesNeverBreakTheServer) {
  Index();
  McpChild mcp({"mcp", "--db", db_}, err_);
  std::mt19937 rng(7);
  std::string noise;
  for (int i = 0; i < 200000; ++i) noise += static_cast<char>(rng() % 256);
  mcp.Write(noise + "\n");
  // Every line that comes back is a JSON-RPC error; then a request works.
  mcp.Write("{\"jsonrpc\":\"2.0\",\"id\":\"end\",\"method\":\"ping\"}\n");
  for (;;) {
    json r = mcp.Response();
    ASSERT_TRUE(r.contains("id")) << r;
    if (r["id"] == "end") {
      EXPECT_TRUE(r.contains("result"));
      break;
    }
    EXPECT_TRUE(r.contains("error")) << r;
  }
  // Requests before initialize are refused.
  mcp.Write("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\"}\n");
  EXPECT_EQ(mcp.Response()["error"]["code"], -32002);
  // A last line without a newline is read at EOF.
  mcp.Write("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\"}");
  mcp.CloseStdin();
  EXPECT_EQ(mcp.Response()["id"], 4);
  EXPECT_EQ(mcp.Wait(), 0) << Stderr();
}

TEST_F(CliMcpTest, EndOfInputAtOnceExitsZero) {
  Index();
  McpChild mcp({"mcp", "--db", db_}, err_);
  mcp.CloseStdin();
  EXPECT_EQ(mcp.Wait(), 0) << Stderr();
  EXPECT_FALSE(mcp.Line(std::chrono::seconds(1)).has_value());
}

TEST_F(CliMcpTest, MissingDatabaseAndBadArgumentsFail) {
  RunResult missing = RunFerrograph("mcp --db " + (dir_ / "none.db").string() + " </dev/null");
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("none.db"));
  EXPECT_TRUE(missing.out.empty()) << "stdout is the protocol's";
  EXPECT_EQ(RunFerrograph("mcp extra </dev/null").code, 2);
  EXPECT_EQ(RunFerrograph("mcp --json </dev/null").code, 2);
  RunResult help = RunFerrograph("mcp --help");
  EXPECT_EQ(help.code, 0);
  EXPECT_THAT(help.out, HasSubstr("index_changed"));
}

}  // namespace
}  // namespace ferrograph_test
