#include "embed/testing/http_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

namespace ferrograph {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

const char* Reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Buffered reads from one connection.
class Reader {
 public:
  explicit Reader(int fd) : fd_(fd) {}
  // Up to and without "\r\n"; false on EOF or error.
  bool ReadLine(std::string* line) {
    while (true) {
      size_t eol = buf_.find("\r\n");
      if (eol != std::string::npos) {
        *line = buf_.substr(0, eol);
        buf_.erase(0, eol + 2);
        return true;
      }
      if (buf_.size() > (1 << 20) || !Fill()) return false;
    }
  }
  bool ReadExactly(size_t n, std::string* out) {
    while (buf_.size() < n) {
      if (!Fill()) return false;
    }
    out->append(buf_, 0, n);
    buf_.erase(0, n);
    return true;
  }

 private:
  bool Fill() {
    char tmp[16384];
    while (true) {
      ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buf_.append(tmp, static_cast<size_t>(n));
      return true;
    }
  }
  int fd_;
  std::string buf_;
};

// Reads one request; false when the connection ended or sent garbage.
bool ReadRequest(int fd, Reader* r, HttpRequest* req) {
  std::string line;
  do {
    if (!r->ReadLine(&line)) return false;
  } while (line.empty());  // tolerate stray CRLFs between requests
  size_t sp1 = line.find(' ');
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos) return false;
  req->method = line.substr(0, sp1);
  req->path = line.substr(sp1 + 1, sp2 - sp1 - 1);
  while (true) {
    if (!r->ReadLine(&line)) return false;
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string::npos) return false;
    req->headers[Lower(line.substr(0, colon))] = Trim(line.substr(colon + 1));
  }
  auto header = [&](const char* name) -> std::string {
    auto it = req->headers.find(name);
    return it == req->headers.end() ? std::string() : Lower(it->second);
  };
  if (header("expect") == "100-continue" && !SendAll(fd, "HTTP/1.1 100 Continue\r\n\r\n")) {
    return false;
  }
  if (header("transfer-encoding").find("chunked") != std::string::npos) {
    while (true) {
      if (!r->ReadLine(&line)) return false;
      size_t size = std::strtoul(line.c_str(), nullptr, 16);
      if (size == 0) {
        do {  // trailers up to the empty line
          if (!r->ReadLine(&line)) return false;
        } while (!line.empty());
        return true;
      }
      if (!r->ReadExactly(size, &req->body) || !r->ReadLine(&line)) return false;
    }
  }
  std::string length = header("content-length");
  if (!length.empty()) return r->ReadExactly(std::strtoul(length.c_str(), nullptr, 10), &req->body);
  return true;
}

}  // namespace

Result<std::unique_ptr<HttpTestServer>> HttpTestServer::Start(HttpHandler handler) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IOError(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 128) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int e = errno;
    ::close(fd);
    return Status::IOError(std::string("http test server: ") + std::strerror(e));
  }
  return std::unique_ptr<HttpTestServer>(
      new HttpTestServer(std::move(handler), fd, ntohs(addr.sin_port)));
}

HttpTestServer::HttpTestServer(HttpHandler handler, int listen_fd, int port)
    : handler_(std::move(handler)), listen_fd_(listen_fd), port_(port) {
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

HttpTestServer::~HttpTestServer() { Stop(); }

std::string HttpTestServer::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void HttpTestServer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    stopping_.store(true);
    cv_.notify_all();
  }
  ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
  accept_thread_.join();
  ::close(listen_fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);  // wakes recv()
    threads.swap(connection_threads_);
  }
  for (std::thread& t : threads) t.join();
}

void HttpTestServer::AcceptLoop() {
  while (!stopping_.load()) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // shut down
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_.load()) {
      ::close(fd);
      return;
    }
    open_fds_.push_back(fd);
    connection_threads_.emplace_back([this, fd] { ServeConnection(fd); });
  }
}

bool HttpTestServer::Sleep(int ms) {
  if (ms <= 0) return !stopping_.load();
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping_.load(); });
}

void HttpTestServer::ServeConnection(int fd) {
  Reader reader(fd);
  while (!stopping_.load()) {
    HttpRequest req;
    if (!ReadRequest(fd, &reader, &req)) break;
    request_count_.fetch_add(1);
    HttpResponse resp;
    try {
      resp = handler_(req);
    } catch (const std::exception& e) {
      resp = HttpResponse{};
      resp.status = 500;
      resp.body = std::string("handler threw: ") + e.what();
    }
    if (!Sleep(resp.delay_ms) || resp.close_without_response) break;
    std::string head =
        "HTTP/1.1 " + std::to_string(resp.status) + " " + Reason(resp.status) + "\r\n";
    for (const auto& [name, value] : resp.headers) head += name + ": " + value + "\r\n";
    auto it = req.headers.find("connection");
    bool close_after = it != req.headers.end() && Lower(it->second) == "close";
    if (close_after) head += "Connection: close\r\n";
    bool ok;
    if (resp.chunks.empty()) {
      head += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n\r\n";
      ok = SendAll(fd, head + resp.body);
    } else {
      head += "Transfer-Encoding: chunked\r\n\r\n";
      ok = SendAll(fd, head);
      for (const HttpChunk& c : resp.chunks) {
        if (!ok || !Sleep(c.delay_ms)) {
          ok = false;
          break;
        }
        if (c.data.empty()) continue;  // an empty chunk would end the body
        char size[32];
        std::snprintf(size, sizeof(size), "%zx\r\n", c.data.size());
        ok = SendAll(fd, std::string(size) + c.data + "\r\n");
      }
      ok = ok && SendAll(fd, "0\r\n\r\n");
    }
    if (!ok || close_after) break;
  }
  std::lock_guard<std::mutex> lock(mu_);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  ::close(fd);
}

}  // namespace ferrograph
