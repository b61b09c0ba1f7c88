// Tests of the SSE parser and of the streaming chat client against the
// local HTTP test server.
#include "context/chat_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "embed/openai_embedder.h"
#include "embed/testing/http_test_server.h"

namespace ferrograph {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<SseEvent> ParseAll(const std::vector<std::string>& pieces) {
  SseParser parser;
  std::vector<SseEvent> events;
  for (const std::string& p : pieces)
    parser.Feed(p, [&](const SseEvent& e) { events.push_back(e); });
  return events;
}

std::vector<std::string> Datas(const std::vector<SseEvent>& events) {
  std::vector<std::string> out;
  for (const SseEvent& e : events) out.push_back(e.data);
  return out;
}

TEST(SseParserTest, ParsesEventsSeparatedByBlankLines) {
  auto events = ParseAll({"data: one\n\ndata: two\n\ndata: [DONE]\n\n"});
  EXPECT_THAT(Datas(events), ElementsAre("one", "two", "[DONE]"));
}

TEST(SseParserTest, EventsSplitAnywhereAcrossChunks) {
  const std::string stream =
      "data: {\"a\":1}\r\n\r\n: keep-alive\r\n\r\ndata: {\"b\":2}\r\n\r\ndata: [DONE]\r\n\r\n";
  // Every split point, and byte by byte.
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    auto events = ParseAll({stream.substr(0, cut), stream.substr(cut)});
    EXPECT_THAT(Datas(events), ElementsAre("{\"a\":1}", "{\"b\":2}", "[DONE]")) << cut;
  }
  std::vector<std::string> bytes;
  for (char c : stream) bytes.push_back(std::string(1, c));
  EXPECT_THAT(Datas(ParseAll(bytes)), ElementsAre("{\"a\":1}", "{\"b\":2}", "[DONE]"));
}

TEST(SseParserTest, CrLfAndLoneCrEndLines) {
  EXPECT_THAT(Datas(ParseAll({"data: a\r\n\r\ndata: b\r\rdata: c\n\n"})),
              ElementsAre("a", "b", "c"));
  // A CR at a chunk's end and its LF at the next one's start are one line end.
  EXPECT_THAT(Datas(ParseAll({"data: a\r", "\n\r", "\ndata: b\r", "\r"})), ElementsAre("a", "b"));
}

TEST(SseParserTest, MultiLineDataIsJoinedByNewlines) {
  auto events = ParseAll({"event: delta\nid: 7\ndata: first\ndata:second\ndata:  third\n\n"});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "first\nsecond\n third");
  EXPECT_EQ(events[0].event, "delta");
  EXPECT_EQ(events[0].id, "7");
}

TEST(SseParserTest, CommentsAndUnknownFieldsAreIgnored) {
  auto events = ParseAll({": comment\nretry: 100\nfoo: bar\ndata\n\n:\n\nevent: x\n\n"});
  // "data" with no colon is a data line with an empty value; an event with
  // no data line is not reported.
  EXPECT_THAT(Datas(events), ElementsAre(""));
}

TEST(SseParserTest, UnfinishedEventIsPendingNotReported) {
  SseParser parser;
  int n = 0;
  parser.Feed("data: {\"partial\":", [&](const SseEvent&) { ++n; });
  EXPECT_EQ(n, 0);
  EXPECT_TRUE(parser.InEvent());
  parser.Feed("true}\n", [&](const SseEvent&) { ++n; });
  EXPECT_TRUE(parser.InEvent());
  parser.Feed("\n", [&](const SseEvent&) { ++n; });
  EXPECT_EQ(n, 1);
  EXPECT_FALSE(parser.InEvent());
}

TEST(SseParserTest, LeadingBomIsSkippedEvenWhenSplit) {
  EXPECT_THAT(Datas(ParseAll({"\xEF", "\xBB",
                              "\xBF"
                              "data: x\n\n"})),
              ElementsAre("x"));
  EXPECT_THAT(Datas(ParseAll({"data: y\n\n"})), ElementsAre("y"));
}

TEST(SseParserTest, GarbageIsLinesWithoutEvents) {
  auto events = ParseAll({"<html>\n<body>oops</body>\n</html>\n\n"});
  EXPECT_TRUE(events.empty());
}

TEST(ServerErrorMessageTest, FindsTheMessage) {
  EXPECT_EQ(ServerErrorMessage(R"({"error":{"message":"model not found","type":"x"}})"),
            "model not found");
  EXPECT_EQ(ServerErrorMessage(R"({"error":"bad key"})"), "bad key");
  EXPECT_EQ(ServerErrorMessage(R"({"detail":"nope"})"), "nope");
  EXPECT_EQ(ServerErrorMessage("plain\n  text"), "plain text");
  EXPECT_EQ(ServerErrorMessage(""), "(no message)");
}

// ---- the client against a local server ----

std::string Delta(const std::string& text) {
  nlohmann::json j = {{"choices", {{{"index", 0}, {"delta", {{"content", text}}}}}}};
  return "data: " + j.dump() + "\n\n";
}

HttpResponse Stream(const std::vector<std::string>& events, int delay_ms = 0) {
  HttpResponse r;
  r.headers = {{"Content-Type", "text/event-stream"}};
  for (const std::string& e : events) r.chunks.push_back({e, delay_ms});
  return r;
}

ChatOptions Options(const std::string& base_url) {
  ChatOptions o;
  o.base_url = base_url + "/v1";
  o.model = "test-model";
  o.timeout_ms = 1000;
  o.max_retries = 2;
  o.initial_backoff_ms = 10;
  o.max_backoff_ms = 50;
  return o;
}

struct ChatRun {
  Result<ChatReport> report = Status::Internal("not run");
  std::string streamed;
};

ChatRun Complete(const ChatOptions& options) {
  auto client = NewHttpChatClient(options);
  EXPECT_TRUE(client.ok());
  ChatRun run;
  run.report = (*client)->Complete({{"user", "hello"}},
                                   [&](std::string_view piece) { run.streamed.append(piece); });
  return run;
}

TEST(ChatClientTest, StreamsTheAnswer) {
  std::string body;
  std::string auth;
  auto server = HttpTestServer::Start([&](const HttpRequest& req) {
    body = req.body;
    auto it = req.headers.find("authorization");
    if (it != req.headers.end()) auth = it->second;
    return Stream({Delta("Hel"), Delta("lo"), ": ping\n\n", Delta(" world"), "data: [DONE]\n\n"});
  });
  ASSERT_TRUE(server.ok());
  ChatOptions o = Options((*server)->base_url());
  o.api_key = "sk-test";
  ChatRun run = Complete(o);
  ASSERT_TRUE(run.report.ok()) << run.report.status().ToString();
  EXPECT_EQ(run.streamed, "Hello world");
  EXPECT_EQ(run.report->text, "Hello world");
  EXPECT_EQ(run.report->attempts, 1);
  auto j = nlohmann::json::parse(body);
  EXPECT_EQ(j["model"], "test-model");
  EXPECT_EQ(j["stream"], true);
  EXPECT_EQ(j["messages"][0]["content"], "hello");
  EXPECT_EQ(auth, "Bearer sk-test");
}

TEST(ChatClientTest, RetriesServerErrorsBeforeAnyContent) {
  std::atomic<int> calls{0};
  auto server = HttpTestServer::Start([&](const HttpRequest&) {
    if (calls.fetch_add(1) < 2) {
      HttpResponse r;
      r.status = calls.load() == 1 ? 500 : 429;
      r.body = R"({"error":{"message":"busy"}})";
      return r;
    }
    return Stream({Delta("ok"), "data: [DONE]\n\n"});
  });
  ASSERT_TRUE(server.ok());
  ChatRun run = Complete(Options((*server)->base_url()));
  ASSERT_TRUE(run.report.ok()) << run.report.status().ToString();
  EXPECT_EQ(run.streamed, "ok");
  EXPECT_EQ(run.report->attempts, 3);
}

TEST(ChatClientTest, ClientErrorShowsTheServersMessage) {
  auto server = HttpTestServer::Start([&](const HttpRequest&) {
    HttpResponse r;
    r.status = 400;
    r.body = R"({"error":{"message":"model `test-model` not found"}})";
    return r;
  });
  ASSERT_TRUE(server.ok());
  ChatRun run = Complete(Options((*server)->base_url()));
  ASSERT_FALSE(run.report.ok());
  EXPECT_EQ(run.report.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(run.report.status().message(), HasSubstr("HTTP 400: model `test-model` not found"));
  EXPECT_EQ((*server)->request_count(), 1);
}

TEST(ChatClientTest, TimesOutWhenNothingArrives) {
  auto server = HttpTestServer::Start([&](const HttpRequest&) {
    HttpResponse r = Stream({Delta("late"), "data: [DONE]\n\n"});
    r.delay_ms = 5000;
    return r;
  });
  ASSERT_TRUE(server.ok());
  ChatOptions o = Options((*server)->base_url());
  o.timeout_ms = 300;
  auto start = std::chrono::steady_clock::now();
  ChatRun run = Complete(o);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(run.report.ok());
  EXPECT_THAT(run.report.status().message(), HasSubstr("timed out"));
  EXPECT_LT(took, std::chrono::milliseconds(3000));
  EXPECT_EQ((*server)->request_count(), 1);  // not retried
}

TEST(ChatClientTest, StreamEndingBeforeDoneIsAnErrorAfterThePartialAnswer) {
  auto server = HttpTestServer::Start([&](const HttpRequest&) {
    return Stream({Delta("partial "), Delta("answer")});
  });
  ASSERT_TRUE(server.ok());
  ChatRun run = Complete(Options((*server)->base_url()));
  ASSERT_FALSE(run.report.ok());
  EXPECT_EQ(run.streamed, "partial answer");
  EXPECT_THAT(run.report.status().message(), HasSubstr("ended before [DONE]"));
  EXPECT_EQ((*server)->request_count(), 1);  // never re-sent after output
}

TEST(ChatClientTest, MalformedStreamIsAnError) {
  auto server = HttpTestServer::Start([&](const HttpRequest&) {
    return Stream({Delta("a"), "data: {not json\n\n"});
  });
  ASSERT_TRUE(server.ok());
  ChatRun run = Complete(Options((*server)->base_url()));
  ASSERT_FALSE(run.report.ok());
  EXPECT_EQ(run.streamed, "a");
  EXPECT_EQ(run.report.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(run.report.status().message(), HasSubstr("malformed stream"));
}

TEST(ChatClientTest, ErrorObjectInTheStreamIsAnError) {
  auto server = HttpTestServer::Start([&](const HttpRequest&) {
    return Stream({"data: {\"error\":{\"message\":\"context length exceeded\"}}\n\n"});
  });
  ASSERT_TRUE(server.ok());
  ChatRun run = Complete(Options((*server)->base_url()));
  ASSERT_FALSE(run.report.ok());
  EXPECT_THAT(run.report.status().message(), HasSubstr("context length exceeded"));
}

TEST(ChatClientTest, AcceptsANonStreamedAnswer) {
  auto server = HttpTestServer::Start([&](const HttpRequest&) {
    HttpResponse r;
    r.headers = {{"Content-Type", "application/json"}};
    r.body =
        R"({"choices":[{"message":{"role":"assistant","content":"whole"},"finish_reason":"stop"}]})";
    return r;
  });
  ASSERT_TRUE(server.ok());
  ChatRun run = Complete(Options((*server)->base_url()));
  ASSERT_TRUE(run.report.ok()) << run.report.status().ToString();
  EXPECT_EQ(run.streamed, "whole");
  EXPECT_EQ(run.report->finish_reason, "stop");
}

TEST(ChatClientTest, ConnectionRefusedIsRetriedThenReported) {
  int port;
  {
    auto server = HttpTestServer::Start([](const HttpRequest&) { return HttpResponse{}; });
    ASSERT_TRUE(server.ok());
    port = (*server)->port();
  }  // stopped: nothing listens there now
  ChatRun run = Complete(Options("http://127.0.0.1:" + std::to_string(port)));
  ASSERT_FALSE(run.report.ok());
  EXPECT_EQ(run.report.status().code(), StatusCode::kIOError);
  EXPECT_THAT(run.report.status().message(), HasSubstr("after 3 attempts"));
}

}  // namespace
}  // namespace ferrograph
