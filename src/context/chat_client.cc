#include "context/chat_client.h"

#include "embed/openai_embedder.h"

#include <curl/curl.h>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <utility>

namespace ferrograph {

// ---- SseParser ----

void SseParser::Feed(std::string_view bytes, const EventFn& on_event) {
  static constexpr std::string_view kBom = "\xEF\xBB\xBF";
  for (char c : bytes) {
    if (!started_) {
      if (c == kBom[bom_matched_]) {
        started_ = ++bom_matched_ == kBom.size();
        continue;
      }
      started_ = true;
      for (size_t k = 0; k < bom_matched_; ++k) Byte(kBom[k], on_event);  // not a BOM after all
    }
    Byte(c, on_event);
  }
}

void SseParser::Byte(char c, const EventFn& on_event) {
  if (after_cr_) {
    after_cr_ = false;
    if (c == '\n') return;  // the LF of a CRLF
  }
  if (c == '\r' || c == '\n') {
    after_cr_ = c == '\r';
    std::string line = std::move(line_);
    line_.clear();
    Line(line, on_event);
  } else {
    line_ += c;
  }
}

void SseParser::Line(std::string_view line, const EventFn& on_event) {
  if (line.empty()) {
    if (has_data_) on_event(event_);
    event_ = SseEvent{};
    has_data_ = false;
    return;
  }
  if (line.front() == ':') return;  // a comment
  size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) event_.data += '\n';
    event_.data += value;
    has_data_ = true;
  } else if (field == "event") {
    event_.event = std::string(value);
  } else if (field == "id") {
    event_.id = std::string(value);
  }  // "retry" and unknown fields are ignored
}

namespace {

using Json = nlohmann::json;

constexpr size_t kMaxBufferedBody = size_t{16} << 20;  // error or non-streamed answers

}  // namespace

// ---- the libcurl client ----

namespace {

using Clock = std::chrono::steady_clock;

// One request and what came of it.
struct Attempt {
  CURL* curl = nullptr;
  const std::function<void(std::string_view)>* on_text = nullptr;
  int timeout_ms = 0;
  Clock::time_point last_byte;
  bool timed_out = false;

  long status = 0;  // known from the first body byte on
  enum class Body { kUnknown, kStream, kJson, kError } body_kind = Body::kUnknown;
  std::string buffered;  // an error body or a non-streamed answer
  SseParser sse;
  bool done = false;  // [DONE] seen
  std::optional<Status> stream_error;
  int retry_after_ms = -1;
  std::string curl_error;

  std::string text;  // content passed on
  std::string finish_reason;

  void Emit(std::string_view piece) {
    if (piece.empty()) return;
    text.append(piece);
    (*on_text)(piece);
  }

  // One completion chunk (streamed) or completion (not streamed).
  void Completion(const Json& j, bool streamed) {
    if (!j.is_object()) {
      stream_error = Status::Corruption("a stream event is not a JSON object");
      return;
    }
    if (auto e = j.find("error"); e != j.end() && !e->is_null()) {
      stream_error = Status::Corruption(
          "the server reported an error in the stream: " +
          ServerErrorMessage(j.dump(-1, ' ', false, Json::error_handler_t::replace)));
      return;
    }
    auto choices = j.find("choices");
    if (choices == j.end() || !choices->is_array()) {
      stream_error = Status::Corruption("a stream event has no \"choices\"");
      return;
    }
    if (choices->empty()) return;  // e.g. a final usage chunk
    const Json& choice = (*choices)[0];
    if (!choice.is_object()) {
      stream_error = Status::Corruption("a stream event's choice is not an object");
      return;
    }
    auto fr = choice.find("finish_reason");
    if (fr != choice.end() && fr->is_string()) finish_reason = fr->get<std::string>();
    auto holder = choice.find(streamed ? "delta" : "message");
    if (holder == choice.end() || !holder->is_object()) return;
    auto content = holder->find("content");
    if (content == holder->end() || content->is_null()) return;
    if (!content->is_string()) {
      stream_error = Status::Corruption("a stream event's content is not a string");
      return;
    }
    Emit(content->get_ref<const std::string&>());
  }

  void Event(const SseEvent& e) {
    if (done || stream_error) return;
    if (e.data == "[DONE]") {
      done = true;
      return;
    }
    Json j = Json::parse(e.data, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      std::string shown = e.data.size() > 80 ? e.data.substr(0, 80) + "..." : e.data;
      stream_error = Status::Corruption("malformed stream: an event is not JSON: " + shown);
      return;
    }
    Completion(j, /*streamed=*/true);
  }
};

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* a = static_cast<Attempt*>(user);
  a->last_byte = Clock::now();
  std::string_view line(data, size * n);
  if (StartsWithNoCase(line, "retry-after:")) {
    std::string value(line.substr(12));
    char* end = nullptr;
    double seconds = std::strtod(value.c_str(), &end);
    if (end != value.c_str() && seconds >= 0 && seconds < 1e6)
      a->retry_after_ms = static_cast<int>(seconds * 1000);
  }
  return size * n;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* a = static_cast<Attempt*>(user);
  const size_t len = size * n;
  a->last_byte = Clock::now();
  if (a->body_kind == Attempt::Body::kUnknown) {
    curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &a->status);
    char* type = nullptr;
    curl_easy_getinfo(a->curl, CURLINFO_CONTENT_TYPE, &type);
    std::string_view content_type = type != nullptr ? type : "";
    if (a->status < 200 || a->status >= 300) {
      a->body_kind = Attempt::Body::kError;
    } else if (StartsWithNoCase(content_type, "application/json")) {
      a->body_kind = Attempt::Body::kJson;
    } else {
      a->body_kind = Attempt::Body::kStream;
    }
  }
  std::string_view bytes(data, len);
  if (a->body_kind != Attempt::Body::kStream) {
    if (a->buffered.size() + len > kMaxBufferedBody) {
      a->stream_error = Status::Corruption("the answer is larger than 16 MiB");
      return 0;
    }
    a->buffered.append(bytes);
    return len;
  }
  a->sse.Feed(bytes, [a](const SseEvent& e) { a->Event(e); });
  return a->stream_error ? 0 : len;  // 0 aborts the transfer
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* a = static_cast<Attempt*>(user);
  auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - a->last_byte);
  if (idle.count() > a->timeout_ms) {
    a->timed_out = true;
    return 1;  // aborts the transfer
  }
  return 0;
}

bool IsConnectionError(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR: return true;
    default: return false;
  }
}

class HttpChatClient : public ChatClient {
 public:
  explicit HttpChatClient(ChatOptions options)
      : options_(std::move(options)), url_(options_.base_url + "/chat/completions") {}

  Result<ChatReport> Complete(const std::vector<ChatMessage>& messages,
                              const std::function<void(std::string_view)>& on_text) override {
    FG_RETURN_IF_ERROR(InitCurlOnce());
    Json msgs = Json::array();
    for (const ChatMessage& m : messages)
      msgs.push_back({{"role", m.role}, {"content", m.content}});
    Json request = {{"model", options_.model}, {"stream", true}, {"messages", msgs}};
    const std::string body = request.dump(-1, ' ', false, Json::error_handler_t::replace);

    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return Status::Internal("curl_easy_init failed");
    std::mt19937 rng(std::random_device{}());
    ChatReport report;
    std::string last_error;
    for (int attempt = 0;; ++attempt) {
      report.attempts = attempt + 1;
      Attempt a;
      a.curl = curl.get();
      a.on_text = &on_text;
      a.timeout_ms = options_.timeout_ms;
      CURLcode rc = Perform(curl.get(), body, &a);
      report.text = a.text;
      report.finish_reason = a.finish_reason;
      const bool emitted = !a.text.empty();
      int delay_ms = -1;  // < 0: no retry
      if (a.stream_error) return a.stream_error->WithContext(Where());
      if (a.timed_out) {
        return Status::IOError(fmt::format("{}timed out: no answer for {} s{}", Where(),
                                           Seconds(options_.timeout_ms),
                                           emitted ? " (the answer was cut off)" : ""));
      }
      if (rc != CURLE_OK) {
        std::string what = a.curl_error.empty() ? curl_easy_strerror(rc) : a.curl_error;
        if (emitted) return Status::IOError(Where() + "the stream was cut off: " + what);
        if (!IsConnectionError(rc)) return Status::IOError(Where() + what);
        last_error = what;
        delay_ms = Backoff(attempt, &rng);
      } else {
        if (a.status == 0) curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &a.status);
        if (a.status >= 200 && a.status < 300) {
          if (a.body_kind == Attempt::Body::kJson) {
            Json j = Json::parse(a.buffered, nullptr, /*allow_exceptions=*/false);
            if (j.is_discarded())
              return Status::Corruption(Where() + "the answer is neither a stream nor JSON");
            a.Completion(j, /*streamed=*/false);
            report.text = a.text;
            report.finish_reason = a.finish_reason;
            if (a.stream_error) return a.stream_error->WithContext(Where());
            return report;
          }
          if (!a.done) {
            return Status::IOError(Where() +
                                   (a.text.empty() && a.body_kind == Attempt::Body::kUnknown
                                        ? "the answer was empty"
                                        : "the stream ended before [DONE]"));
          }
          return report;
        }
        last_error = fmt::format("HTTP {}: {}", a.status, ServerErrorMessage(a.buffered));
        if (a.status != 429 && a.status < 500) return Status::InvalidArgument(Where() + last_error);
        delay_ms = a.retry_after_ms >= 0 ? std::min(a.retry_after_ms, options_.max_backoff_ms)
                                         : Backoff(attempt, &rng);
      }
      if (attempt >= options_.max_retries) {
        return Status::IOError(fmt::format("{}{} (after {} attempt{})", Where(), last_error,
                                           attempt + 1, attempt == 0 ? "" : "s"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    }
  }

 private:
  static std::string Seconds(int ms) {
    if (ms % 1000 == 0) return std::to_string(ms / 1000);
    return fmt::format("{:.1f}", ms / 1000.0);
  }

  std::string Where() const { return "chat completions at " + url_ + ": "; }

  int Backoff(int attempt, std::mt19937* rng) const {
    double ms = options_.initial_backoff_ms * std::pow(2.0, std::min(attempt, 30));
    ms = std::min(ms, static_cast<double>(options_.max_backoff_ms));
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    return static_cast<int>(ms * jitter(*rng));
  }

  CURLcode Perform(CURL* h, const std::string& body, Attempt* a) const {
    char error[CURL_ERROR_SIZE] = {0};
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Accept: text/event-stream");
    std::string auth;
    if (!options_.api_key.empty()) {
      auth = "Authorization: Bearer " + options_.api_key;
      headers = curl_slist_append(headers, auth.c_str());
    }
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout_ms));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, a);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
    a->last_byte = Clock::now();
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) a->curl_error = error[0] != '\0' ? error : curl_easy_strerror(rc);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
    curl_slist_free_all(headers);
    return rc;
  }

  const ChatOptions options_;
  const std::string url_;
};

}  // namespace

Result<std::unique_ptr<ChatClient>> NewHttpChatClient(ChatOptions options) {
  if (options.base_url.empty()) return Status::InvalidArgument("chat: the base URL is empty");
  if (options.model.empty()) return Status::InvalidArgument("chat: the model is empty");
  if (options.timeout_ms <= 0 || options.max_retries < 0 || options.initial_backoff_ms < 0 ||
      options.max_backoff_ms < 0) {
    return Status::InvalidArgument(
        "chat: the timeout must be positive, the retries and backoffs not negative");
  }
  while (options.base_url.size() > 1 && options.base_url.back() == '/') options.base_url.pop_back();
  return std::unique_ptr<ChatClient>(new HttpChatClient(std::move(options)));
}

}  // namespace ferrograph
