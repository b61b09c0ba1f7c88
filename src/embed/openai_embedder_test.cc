#include "embed/openai_embedder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "embed/testing/http_test_server.h"

namespace ferrograph {
namespace {

using Json = nlohmann::json;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

// The fake model: "t17" -> [17, 1, 2, 0] (before normalization), so a row
// tells which text it belongs to.
std::vector<float> FakeVector(const std::string& text) {
  float n = text.size() > 1 && text[0] == 't' ? std::stof(text.substr(1)) : 99.0f;
  return {n, 1.0f, 2.0f, 0.0f};
}

// Answers an embeddings request, listing the data in reverse order.
HttpResponse Answer(const HttpRequest& req) {
  Json in = Json::parse(req.body);
  Json data = Json::array();
  const Json& input = in["input"];
  for (size_t i = input.size(); i-- > 0;) {
    data.push_back({{"object", "embedding"},
                    {"index", i},
                    {"embedding", FakeVector(input[i].get<std::string>())}});
  }
  HttpResponse r;
  r.headers = {{"Content-Type", "application/json"}};
  r.body = Json{{"object", "list"}, {"data", data}, {"model", in["model"]}}.dump();
  return r;
}

HttpResponse Status(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

class OpenAIEmbedderTest : public ::testing::Test {
 protected:
  void StartServer(HttpHandler handler) {
    auto s = HttpTestServer::Start(std::move(handler));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    spec_.kind = "openai";
    spec_.model = "test-model";
    spec_.base_url = server_->base_url() + "/v1";
    spec_.initial_backoff_ms = 1;
    spec_.max_retries = 3;
    spec_.timeout_ms = 5000;
  }
  std::unique_ptr<Embedder> Make() {
    auto e = MakeOpenAIEmbedder(spec_);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? std::move(e).value() : nullptr;
  }
  static std::vector<std::string> Texts(int n) {
    std::vector<std::string> t;
    for (int i = 0; i < n; ++i) t.push_back("t" + std::to_string(i));
    return t;
  }
  // Checks that row i of `v` is FakeVector(texts[i]) normalized.
  static void ExpectRows(const std::vector<float>& v, const std::vector<std::string>& texts) {
    ASSERT_EQ(v.size(), texts.size() * 4);
    for (size_t i = 0; i < texts.size(); ++i) {
      std::vector<float> want = FakeVector(texts[i]);
      EXPECT_NEAR(v[i * 4] / v[i * 4 + 1], want[0], 1e-3) << "row " << i;
      double norm = 0;
      for (int k = 0; k < 4; ++k) norm += v[i * 4 + k] * v[i * 4 + k];
      EXPECT_NEAR(norm, 1.0, 1e-5);
    }
  }

  std::unique_ptr<HttpTestServer> server_;
  EmbedderSpec spec_;
};

TEST_F(OpenAIEmbedderTest, BatchesAndKeepsInputOrder) {
  std::mutex mu;
  std::vector<HttpRequest> seen;
  StartServer([&](const HttpRequest& req) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(req);
    return Answer(req);
  });
  spec_.batch_size = 3;
  spec_.api_key = "sk-test";
  auto e = Make();
  EXPECT_EQ(e->model_id(), "openai:test-model@" + server_->base_url() + "/v1");
  std::vector<std::string> texts = Texts(10);
  auto r = e->Embed(texts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectRows(*r, texts);
  EXPECT_EQ(e->dim(), 4);
  ASSERT_EQ(seen.size(), 4u);  // 3 + 3 + 3 + 1, and no dim probe
  size_t total = 0;
  for (const HttpRequest& req : seen) {
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.path, "/v1/embeddings");
    EXPECT_EQ(req.headers.at("authorization"), "Bearer sk-test");
    EXPECT_EQ(req.headers.at("content-type"), "application/json");
    Json body = Json::parse(req.body);
    EXPECT_EQ(body["model"], "test-model");
    EXPECT_LE(body["input"].size(), 3u);
    total += body["input"].size();
  }
  EXPECT_EQ(total, 10u);
}

TEST_F(OpenAIEmbedderTest, NoKeyNoAuthorizationHeader) {
  bool had_auth = true;
  StartServer([&](const HttpRequest& req) {
    had_auth = req.headers.count("authorization") > 0;
    return Answer(req);
  });
  ASSERT_TRUE(Make()->Embed({"t1"}).ok());
  EXPECT_FALSE(had_auth);
}

TEST_F(OpenAIEmbedderTest, BlankTextsAreNotSentAndGetZeroRows) {
  std::vector<std::string> sent;
  StartServer([&](const HttpRequest& req) {
    Json body = Json::parse(req.body);
    for (const Json& t : body["input"]) sent.push_back(t);
    return Answer(req);
  });
  auto e = Make();
  auto r = e->Embed({"t5", "", " \n\t", "t7"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(sent, ::testing::ElementsAre("t5", "t7"));
  ASSERT_EQ(r->size(), 16u);
  for (int k = 4; k < 12; ++k) EXPECT_EQ((*r)[k], 0.0f);
  EXPECT_NEAR((*r)[12] / (*r)[13], 7.0f, 1e-3);
  auto empty = e->Embed({});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST_F(OpenAIEmbedderTest, DimensionIsProbedLazilyOnce) {
  std::vector<std::string> sent;
  StartServer([&](const HttpRequest& req) {
    Json body = Json::parse(req.body);
    for (const Json& t : body["input"]) sent.push_back(t);
    return Answer(req);
  });
  auto e = Make();
  EXPECT_TRUE(sent.empty());  // nothing sent at construction
  EXPECT_EQ(e->dim(), 4);
  EXPECT_EQ(e->dim(), 4);
  EXPECT_THAT(sent, ::testing::ElementsAre("dim probe"));
}

TEST_F(OpenAIEmbedderTest, RetriesServerErrorsAndDroppedConnections) {
  std::atomic<int> calls{0};
  StartServer([&](const HttpRequest& req) {
    int n = calls++;
    if (n == 0) return Status(500, "{\"error\":\"overloaded\"}");
    if (n == 1) {
      HttpResponse r;
      r.close_without_response = true;
      return r;
    }
    if (n == 2) return Status(503, "unavailable");
    return Answer(req);
  });
  auto r = Make()->Embed({"t3"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectRows(*r, {"t3"});
  EXPECT_EQ(calls.load(), 4);
}

TEST_F(OpenAIEmbedderTest, HonorsRetryAfter) {
  std::atomic<int> calls{0};
  StartServer([&](const HttpRequest& req) {
    if (calls++ == 0) {
      HttpResponse r = Status(429, "{\"error\":{\"message\":\"slow down\"}}");
      r.headers = {{"Retry-After", "1"}};
      return r;
    }
    return Answer(req);
  });
  auto start = Clock::now();
  auto r = Make()->Embed({"t1"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(950));
  EXPECT_EQ(calls.load(), 2);
}

TEST_F(OpenAIEmbedderTest, RetryAfterIsCapped) {
  std::atomic<int> calls{0};
  StartServer([&](const HttpRequest& req) {
    if (calls++ == 0) {
      HttpResponse r = Status(429, "");
      r.headers = {{"retry-after", "3600"}};
      return r;
    }
    return Answer(req);
  });
  spec_.max_backoff_ms = 50;
  auto start = Clock::now();
  ASSERT_TRUE(Make()->Embed({"t1"}).ok());
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
}

TEST_F(OpenAIEmbedderTest, ClientErrorsAreNotRetried) {
  std::atomic<int> calls{0};
  StartServer([&](const HttpRequest&) {
    ++calls;
    return Status(400, "{\"error\":{\"message\":\"model \\\"test-model\\\" not found\"}}");
  });
  auto r = Make()->Embed({"t1"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("HTTP 400"));
  EXPECT_THAT(r.status().message(), HasSubstr("model \"test-model\" not found"));
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(OpenAIEmbedderTest, RetriesRunOutOnPersistentServerErrors) {
  std::atomic<int> calls{0};
  StartServer([&](const HttpRequest&) {
    ++calls;
    return Status(502, "bad gateway");
  });
  spec_.max_retries = 2;
  auto r = Make()->Embed({"t1"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIOError);
  EXPECT_THAT(r.status().message(), HasSubstr("HTTP 502: bad gateway (after 3 attempts)"));
  EXPECT_EQ(calls.load(), 3);
}

TEST_F(OpenAIEmbedderTest, SlowAnswersTimeOut) {
  std::atomic<int> calls{0};
  StartServer([&](const HttpRequest& req) {
    ++calls;
    HttpResponse r = Answer(req);
    r.delay_ms = 3000;
    return r;
  });
  spec_.timeout_ms = 200;
  spec_.max_retries = 1;
  auto start = Clock::now();
  auto r = Make()->Embed({"t1"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIOError);
  EXPECT_THAT(r.status().message(), HasSubstr("timed out after 200 ms (after 2 attempts)"));
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(2500));
  EXPECT_EQ(calls.load(), 2);
}

TEST_F(OpenAIEmbedderTest, MalformedAnswersAreClearErrors) {
  std::string body;
  StartServer([&](const HttpRequest&) { return Status(200, body); });
  auto e = Make();
  struct Bad {
    std::string body;
    std::string says;
  } cases[] = {
      {"this is not json", "not JSON: this is not json"},
      {"[1,2]", "not a JSON object"},
      {"{\"object\":\"list\"}", "no \"data\" array"},
      {"{\"data\":[]}", "0 vectors for 1 texts"},
      {"{\"data\":[{\"index\":0}]}", "without an \"embedding\""},
      {"{\"data\":[{\"index\":5,\"embedding\":[1]}]}", "bad \"index\""},
      {"{\"data\":[{\"index\":0,\"embedding\":[1,\"x\"]}]}", "non-number"},
  };
  for (const Bad& c : cases) {
    body = c.body;
    auto r = e->Embed({"t1"});
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << c.body;
    EXPECT_THAT(r.status().message(), HasSubstr("malformed answer")) << c.body;
    EXPECT_THAT(r.status().message(), HasSubstr(c.says)) << c.body;
  }
  body = "{\"data\":[{\"index\":1,\"embedding\":[1,2]},{\"index\":0,\"embedding\":[1,2,3]}]}";
  auto r = e->Embed({"t1", "t2"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("dimensions"));
}

TEST_F(OpenAIEmbedderTest, DimensionMustStaySame) {
  std::atomic<int> calls{0};
  StartServer([&](const HttpRequest& req) {
    if (calls++ == 0) return Answer(req);
    return Status(200, "{\"data\":[{\"index\":0,\"embedding\":[1,2]}]}");
  });
  auto e = Make();
  ASSERT_TRUE(e->Embed({"t1"}).ok());
  auto r = e->Embed({"t1"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(r.status().message(), HasSubstr("dimension changed from 4 to 2"));
}

TEST_F(OpenAIEmbedderTest, ConnectionRefusedFailsAfterRetries) {
  StartServer([](const HttpRequest& req) { return Answer(req); });
  server_->Stop();  // the port is closed now
  spec_.max_retries = 2;
  auto start = Clock::now();
  auto r = Make()->Embed({"t1"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIOError);
  EXPECT_THAT(r.status().message(), HasSubstr("after 3 attempts"));
  EXPECT_THAT(r.status().message(), HasSubstr(spec_.base_url));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
}

TEST_F(OpenAIEmbedderTest, ConcurrencyIsBounded) {
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  std::atomic<int> calls{0};
  StartServer([&](const HttpRequest& req) {
    int now = ++in_flight;
    int seen = max_in_flight.load();
    while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
    }
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    --in_flight;
    return Answer(req);
  });
  spec_.batch_size = 2;
  spec_.max_concurrency = 3;
  std::vector<std::string> texts = Texts(24);
  auto r = Make()->Embed(texts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectRows(*r, texts);
  EXPECT_EQ(calls.load(), 12);
  EXPECT_LE(max_in_flight.load(), 3);
  EXPECT_GE(max_in_flight.load(), 2);
}

TEST_F(OpenAIEmbedderTest, OneFailedBatchFailsTheCall) {
  std::atomic<int> calls{0};
  StartServer([&](const HttpRequest& req) {
    ++calls;
    if (Json::parse(req.body)["input"][0] == "t4") return Status(401, "{\"error\":\"bad key\"}");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return Answer(req);
  });
  spec_.batch_size = 1;
  spec_.max_concurrency = 2;
  auto r = Make()->Embed(Texts(50));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("HTTP 401: bad key"));
  EXPECT_LT(calls.load(), 50);  // the rest was abandoned
}

TEST(OpenAIEmbedderSpecTest, RejectsBadSpecs) {
  EmbedderSpec spec;
  spec.kind = "openai";
  spec.model = "m";
  EXPECT_EQ(MakeOpenAIEmbedder(spec).status().code(), StatusCode::kInvalidArgument);
  spec.base_url = "http://127.0.0.1:1/v1";
  spec.batch_size = 0;
  EXPECT_EQ(MakeOpenAIEmbedder(spec).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ferrograph
