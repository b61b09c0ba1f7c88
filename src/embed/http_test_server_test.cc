#include "embed/testing/http_test_server.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace ferrograph {
namespace {

// A raw client: sends `request` and reads until the server closes.
std::string RoundTrip(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  std::string answer;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) answer.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return answer;
}

TEST(HttpTestServerTest, PassesTheRequestAndSendsTheAnswer) {
  HttpRequest seen;
  auto server = HttpTestServer::Start([&](const HttpRequest& req) {
    seen = req;
    HttpResponse r;
    r.status = 201;
    r.headers = {{"X-Test", "yes"}};
    r.body = "hello";
    return r;
  });
  ASSERT_TRUE(server.ok());
  std::string answer = RoundTrip((*server)->port(),
                                 "POST /v1/x?q=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
                                 "X-Key: Value\r\nConnection: close\r\n\r\nabc");
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.path, "/v1/x?q=1");
  EXPECT_EQ(seen.headers["x-key"], "Value");
  EXPECT_EQ(seen.body, "abc");
  EXPECT_EQ(answer.rfind("HTTP/1.1 201 ", 0), 0u) << answer;
  EXPECT_NE(answer.find("X-Test: yes\r\n"), std::string::npos);
  EXPECT_NE(answer.find("Content-Length: 5\r\n"), std::string::npos);
  EXPECT_EQ(answer.substr(answer.size() - 5), "hello");
  EXPECT_EQ((*server)->request_count(), 1);
}

TEST(HttpTestServerTest, ChunkedRequestBodyAndChunkedAnswer) {
  auto server = HttpTestServer::Start([&](const HttpRequest& req) {
    HttpResponse r;
    r.chunks = {{"data: " + req.body + "\n\n", 0}, {"data: [DONE]\n\n", 20}};
    return r;
  });
  ASSERT_TRUE(server.ok());
  auto start = std::chrono::steady_clock::now();
  std::string answer = RoundTrip((*server)->port(),
                                 "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                                 "Connection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(20));
  EXPECT_NE(answer.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_NE(answer.find("d\r\ndata: abcde\n\n\r\ne\r\ndata: [DONE]\n\n\r\n0\r\n\r\n"),
            std::string::npos)
      << answer;
}

TEST(HttpTestServerTest, CloseWithoutResponse) {
  auto server = HttpTestServer::Start([](const HttpRequest&) {
    HttpResponse r;
    r.close_without_response = true;
    return r;
  });
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(RoundTrip((*server)->port(), "GET / HTTP/1.1\r\n\r\n"), "");
}

TEST(HttpTestServerTest, KeepsConnectionsAliveForCurl) {
  auto server = HttpTestServer::Start([](const HttpRequest&) {
    HttpResponse r;
    r.body = "ok";
    return r;
  });
  ASSERT_TRUE(server.ok());
  CURL* h = curl_easy_init();
  std::string url = (*server)->base_url() + "/";
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(
      h, CURLOPT_WRITEFUNCTION, +[](char*, size_t s, size_t n, void*) { return s * n; });
  for (int i = 0; i < 3; ++i) ASSERT_EQ(curl_easy_perform(h), CURLE_OK);
  long connects = -1;
  curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
  EXPECT_EQ(connects, 0);  // the last request reused the connection
  curl_easy_cleanup(h);
  EXPECT_EQ((*server)->request_count(), 3);
}

TEST(HttpTestServerTest, StopCutsDelaysShort) {
  auto server = HttpTestServer::Start([](const HttpRequest&) {
    HttpResponse r;
    r.delay_ms = 60000;
    return r;
  });
  ASSERT_TRUE(server.ok());
  int port = (*server)->port();
  std::thread client([port] { RoundTrip(port, "GET / HTTP/1.1\r\n\r\n"); });
  while ((*server)->request_count() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto start = std::chrono::steady_clock::now();
  (*server)->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  client.join();
}

}  // namespace
}  // namespace ferrograph
