// End-to-end tests of `ferrograph ask` against a local chat completions
// server: streaming, retries, HTTP errors, timeouts, cut-off streams, no
// server at all.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cli_runner.h"
#include "embed/testing/http_test_server.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ferrograph::HttpRequest;
using ferrograph::HttpResponse;
using ferrograph::HttpTestServer;
using ferrograph_test::RunResult;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Delta(const std::string& text) {
  json j = {{"choices", {{{"index", 0}, {"delta", {{"content", text}}}}}}};
  return "data: " + j.dump() + "\n\n";
}

HttpResponse Stream(const std::vector<std::string>& events, int delay_ms = 0) {
  HttpResponse r;
  r.headers = {{"Content-Type", "text/event-stream"}};
  for (const std::string& e : events) r.chunks.push_back({e, delay_ms});
  return r;
}

class CliAskTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::path(testing::TempDir()) / ("cli_ask_" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    Write("xdg/.keep", "");
    Write("ws/Cargo.toml", "[package]\nname = \"shapes\"\nversion = \"0.1.0\"\n");
    Write("ws/src/lib.rs",
          "/// Something with an area.\npub trait Shape {\n    fn area(&self) -> f64;\n}\n"
          "/// A round shape.\npub struct Circle { pub radius: f64 }\n"
          "impl Shape for Circle {\n    fn area(&self) -> f64 { circle_area(self.radius) }\n}\n"
          "/// The area of a circle of radius r.\n"
          "pub fn circle_area(r: f64) -> f64 { 3.14159 * r * r }\n");
    RunResult r = ferrograph_test::RunFerrograph("index '" + (*dir_ / "ws").string() + "' " + Db() +
                                                 " --quiet");
    ASSERT_EQ(r.code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static void Write(const std::string& rel, const std::string& text) {
    fs::path p = *dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
  static std::string Db() { return "--db '" + (*dir_ / "db" / "graph.db").string() + "'"; }

  // Runs `ask` against `base_url` with short limits.
  static RunResult Ask(const std::string& base_url, const std::string& extra = "",
                       int timeout_seconds = 1, int retries = 2) {
    std::string env = "XDG_CONFIG_HOME='" + (*dir_ / "xdg").string() + "' " +
                      "FERROGRAPH_LLM_BASE_URL=" + base_url +
                      "/v1 FERROGRAPH_LLM_MODEL=test-model " +
                      "FERROGRAPH_LLM_TIMEOUT_SECONDS=" + std::to_string(timeout_seconds) +
                      " FERROGRAPH_LLM_MAX_RETRIES=" + std::to_string(retries) +
                      " FERROGRAPH_LLM_API_KEY_ENV=FG_ASK_TEST_KEY FG_ASK_TEST_KEY=sk-test ";
    return ferrograph_test::RunFerrograph(
        "ask 'how is the area of a circle computed' --budget 1000 " + Db() + " " + extra,
        {"", env});
  }

  static fs::path* dir_;
};

fs::path* CliAskTest::dir_ = nullptr;

TEST_F(CliAskTest, StreamsTheAnswerThenTheSources) {
  std::mutex mu;
  HttpRequest seen;
  auto server = HttpTestServer::Start([&](const HttpRequest& req) {
    std::lock_guard<std::mutex> lock(mu);
    seen = req;
    return Stream({": keep-alive\n\n", Delta("The area is "), Delta("computed by "),
                   Delta("`circle_area`."), "data: [DONE]\n\n"},
                  20);
  });
  ASSERT_TRUE(server.ok());
  RunResult r = Ask((*server)->base_url());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::StartsWith("The area is computed by `circle_area`.\n"));
  EXPECT_THAT(r.out, HasSubstr("\nsources:\n"));
  EXPECT_THAT(r.out, HasSubstr("  shapes::circle_area (src/lib.rs:"));
  EXPECT_THAT(r.err, HasSubstr("context:"));

  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen.path, "/v1/chat/completions");
  EXPECT_EQ(seen.headers["authorization"], "Bearer sk-test");
  json body = json::parse(seen.body);
  EXPECT_EQ(body["model"], "test-model");
  EXPECT_EQ(body["stream"], true);
  ASSERT_EQ(body["messages"].size(), 2u);
  EXPECT_EQ(body["messages"][0]["role"], "system");
  const std::string user = body["messages"][1]["content"];
  EXPECT_THAT(user, HasSubstr("# Context: how is the area of a circle computed"));
  EXPECT_THAT(user, HasSubstr("3.14159 * r * r"));  // the code itself
  EXPECT_THAT(user, HasSubstr("## Account"));
  EXPECT_THAT(user, HasSubstr("Question: how is the area of a circle computed"));
}

TEST_F(CliAskTest, ServerErrorIsRetried) {
  std::atomic<int> calls{0};
  std::string model;
  auto server = HttpTestServer::Start([&](const HttpRequest& req) {
    if (calls.fetch_add(1) == 0) {
      HttpResponse r;
      r.status = 500;
      r.body = R"({"error":{"message":"warming up"}})";
      return r;
    }
    model = json::parse(req.body)["model"];
    return Stream({Delta("fine"), "data: [DONE]\n\n"});
  });
  ASSERT_TRUE(server.ok());
  RunResult r = Ask((*server)->base_url(), "--model override-model");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::StartsWith("fine\n"));
  EXPECT_EQ((*server)->request_count(), 2);
  EXPECT_EQ(model, "override-model");
}

TEST_F(CliAskTest, HttpErrorShowsTheServersMessage) {
  auto server = HttpTestServer::Start([&](const HttpRequest&) {
    HttpResponse r;
    r.status = 400;
    r.headers = {{"Content-Type", "application/json"}};
    r.body = R"({"error":{"message":"model 'test-model' not found, try pulling it first"}})";
    return r;
  });
  ASSERT_TRUE(server.ok());
  RunResult r = Ask((*server)->base_url());
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("HTTP 400: model 'test-model' not found, try pulling it first"));
  EXPECT_THAT(r.out, Not(HasSubstr("sources:")));
  EXPECT_EQ((*server)->request_count(), 1);
}

TEST_F(CliAskTest, SlowServerTimesOut) {
  auto server = HttpTestServer::Start([&](const HttpRequest&) {
    HttpResponse r = Stream({Delta("too late"), "data: [DONE]\n\n"});
    r.delay_ms = 6000;
    return r;
  });
  ASSERT_TRUE(server.ok());
  auto start = std::chrono::steady_clock::now();
  RunResult r = Ask((*server)->base_url());
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("timed out: no answer for 1 s"));
  EXPECT_LT(took, std::chrono::milliseconds(5000));
  (*server)->Stop();
}

TEST_F(CliAskTest, StreamEndingBeforeDonePrintsWhatArrivedThenTheError) {
  auto server = HttpTestServer::Start([&](const HttpRequest&) {
    return Stream({Delta("The area "), Delta("is")});
  });
  ASSERT_TRUE(server.ok());
  RunResult r = Ask((*server)->base_url());
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "The area is\n");
  EXPECT_THAT(r.err, HasSubstr("the stream ended before [DONE]"));
  EXPECT_EQ((*server)->request_count(), 1);  // no re-send after partial output
}

TEST_F(CliAskTest, ConnectionDroppedMidStream) {
  std::unique_ptr<HttpTestServer> server;
  {
    auto s = HttpTestServer::Start([&](const HttpRequest&) {
      HttpResponse r = Stream({Delta("partial answer")});
      r.chunks.push_back({Delta(" never sent"), 10000});
      return r;
    });
    ASSERT_TRUE(s.ok());
    server = std::move(s).value();
  }
  std::thread dropper([&] {
    while (server->request_count() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    server->Stop();  // closes the connection within the stream
  });
  RunResult r = Ask(server->base_url(), "", /*timeout_seconds=*/10);
  dropper.join();
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "partial answer\n");
  EXPECT_THAT(r.err, HasSubstr("the stream was cut off"));
}

TEST_F(CliAskTest, NoServerIsAConnectionErrorAfterRetries) {
  int port;
  {
    auto server = HttpTestServer::Start([](const HttpRequest&) { return HttpResponse{}; });
    ASSERT_TRUE(server.ok());
    port = (*server)->port();
  }
  RunResult r = Ask("http://127.0.0.1:" + std::to_string(port), "", 1, /*retries=*/1);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("after 2 attempts"));
  EXPECT_THAT(r.err, HasSubstr("127.0.0.1:" + std::to_string(port)));
  EXPECT_TRUE(r.out.empty()) << r.out;
}

}  // namespace
