// HttpTestServer: a small HTTP/1.1 server on 127.0.0.1 for tests of HTTP
// clients (the openai embedder now, chat-completions streaming later).
//
// It listens on a kernel-chosen port, serves each connection on its own
// thread (so a test can observe how many requests are in flight), keeps
// connections alive, and answers every request with what the handler returns:
// a status, headers and a body, optionally after a delay, or in chunks with
// delays between them (Transfer-Encoding: chunked, for streamed answers), or
// no answer at all (the connection is closed).
//
// Thread safety: the handler runs on connection threads, several at once; it
// must be thread-safe. Stop() (or the destructor) waits for every connection
// thread; delays are cut short by it.
#ifndef FERROGRAPH_EMBED_TESTING_HTTP_TEST_SERVER_H_
#define FERROGRAPH_EMBED_TESTING_HTTP_TEST_SERVER_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ferrograph/status.h"

namespace ferrograph {

struct HttpRequest {
  std::string method;                          // "POST"
  std::string path;                            // "/v1/embeddings" (with any query)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // de-chunked when sent chunked
};

struct HttpChunk {
  std::string data;
  int delay_ms = 0;  // before this chunk is sent
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Length is added
  std::string body;
  int delay_ms = 0;  // before anything is sent
  // Read the request, then close the connection without a byte of answer.
  bool close_without_response = false;
  // When not empty, the answer is sent with Transfer-Encoding: chunked, one
  // chunk after the other (after their delays), and `body` is ignored.
  std::vector<HttpChunk> chunks;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpTestServer {
 public:
  // Binds 127.0.0.1 on a free port and starts serving. IOError when the
  // socket cannot be set up.
  static Result<std::unique_ptr<HttpTestServer>> Start(HttpHandler handler);
  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:PORT"
  std::string base_url() const;
  // Requests read so far (answered or not).
  int request_count() const { return request_count_.load(); }
  // Stops accepting, closes every connection, waits for all threads.
  // Idempotent.
  void Stop();

 private:
  HttpTestServer(HttpHandler handler, int listen_fd, int port);
  void AcceptLoop();
  void ServeConnection(int fd);
  // Sleeps unless stopped first; false when stopped.
  bool Sleep(int ms);

  const HttpHandler handler_;
  const int listen_fd_;
  const int port_;
  std::atomic<int> request_count_{0};
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int> open_fds_;                    // guarded by mu_
  std::vector<std::thread> connection_threads_;  // guarded by mu_
  bool stopped_ = false;                         // guarded by mu_
};

}  // namespace ferrograph

#endif  // FERROGRAPH_EMBED_TESTING_HTTP_TEST_SERVER_H_
