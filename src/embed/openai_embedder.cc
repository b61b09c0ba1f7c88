#include "embed/openai_embedder.h"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string_view>
#include <thread>
#include <vector>

namespace ferrograph {
namespace {

using Json = nlohmann::json;

// A response body larger than this is an error, not an allocation.
constexpr size_t kMaxResponseBytes = size_t{512} << 20;
// How much of a server's error text goes into a Status.
constexpr size_t kMaxErrorText = 500;

bool IsBlank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos;
}

std::string Truncated(std::string_view s) {
  if (s.size() <= kMaxErrorText) return std::string(s);
  return std::string(s.substr(0, kMaxErrorText)) + "...";
}

// Whitespace runs as one space, at most kMaxErrorText bytes.
std::string Collapsed(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  if (out.size() > kMaxErrorText) out = out.substr(0, kMaxErrorText) + "...";
  return out;
}

// State shared by the workers of one Embed call.
struct CallState {
  std::mutex mu;
  std::condition_variable cv;  // wakes backoff sleeps on cancel
  Status first_error;          // guarded by mu
  std::atomic<bool> cancelled{false};

  void Fail(Status s) {
    std::lock_guard<std::mutex> lock(mu);
    if (first_error.ok()) first_error = std::move(s);
    cancelled.store(true);
    cv.notify_all();
  }
  // Sleeps `ms` unless cancelled first; false when cancelled.
  bool SleepFor(int ms) {
    std::unique_lock<std::mutex> lock(mu);
    return !cv.wait_for(lock, std::chrono::milliseconds(ms), [&] { return cancelled.load(); });
  }
};

// One libcurl easy handle (one connection, kept alive across requests).
class CurlHandle {
 public:
  CurlHandle() : h_(curl_easy_init()) {}
  ~CurlHandle() {
    if (h_ != nullptr) curl_easy_cleanup(h_);
  }
  CurlHandle(const CurlHandle&) = delete;
  CurlHandle& operator=(const CurlHandle&) = delete;
  CURL* get() const { return h_; }

 private:
  CURL* h_;
};

class HeaderList {
 public:
  HeaderList() = default;
  ~HeaderList() { curl_slist_free_all(list_); }
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  void Append(const std::string& h) { list_ = curl_slist_append(list_, h.c_str()); }
  curl_slist* get() const { return list_; }

 private:
  curl_slist* list_ = nullptr;
};

struct HttpAnswer {
  CURLcode curl = CURLE_OK;
  std::string curl_error;
  long status = 0;
  std::string body;
  int retry_after_ms = -1;  // from a Retry-After header in seconds
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* a = static_cast<HttpAnswer*>(user);
  size_t len = size * n;
  if (a->body.size() + len > kMaxResponseBytes) {
    a->too_large = true;
    return 0;  // aborts the transfer
  }
  a->body.append(data, len);
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* a = static_cast<HttpAnswer*>(user);
  std::string_view line(data, size * n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (size_t i = 0; i < kName.size() && match; ++i) {
      char c = line[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
      match = c == kName[i];
    }
    if (match) {
      std::string value(line.substr(kName.size()));
      char* end = nullptr;
      double seconds = std::strtod(value.c_str(), &end);
      // Only the delay-seconds form; an HTTP date falls back to our backoff.
      if (end != value.c_str() && seconds >= 0 && seconds < 1e6) {
        a->retry_after_ms = static_cast<int>(seconds * 1000);
      }
    }
  }
  return size * n;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<CallState*>(user)->cancelled.load() ? 1 : 0;
}

class OpenAIEmbedder : public Embedder {
 public:
  explicit OpenAIEmbedder(const EmbedderSpec& spec)
      : spec_(spec),
        url_(spec.base_url + "/embeddings"),
        model_id_("openai:" + spec.model + "@" + spec.base_url) {}

  const std::string& model_id() const override { return model_id_; }

  int dim() const override {
    if (dim_ == 0) {
      // The lazy probe (see the header); its error, if any, shows again on the
      // next Embed.
      (void)const_cast<OpenAIEmbedder*>(this)->Embed({"dim probe"});
    }
    return dim_;
  }

  Result<std::vector<float>> Embed(const std::vector<std::string>& texts) override {
    std::vector<size_t> sent;  // indexes of the texts that are sent
    for (size_t i = 0; i < texts.size(); ++i) {
      if (!IsBlank(texts[i])) sent.push_back(i);
    }
    if (texts.empty()) return std::vector<float>();
    if (sent.empty()) {
      if (dim() == 0) return Status::IOError(model_id_ + ": cannot learn the dimension");
      return std::vector<float>(texts.size() * static_cast<size_t>(dim_), 0.0f);
    }
    const size_t batch = static_cast<size_t>(spec_.batch_size);
    const size_t n_batches = (sent.size() + batch - 1) / batch;
    std::vector<std::vector<float>> results(n_batches);
    std::vector<int> dims(n_batches, 0);
    CallState state;
    std::atomic<size_t> next{0};
    auto work = [&] {
      CurlHandle handle;
      if (handle.get() == nullptr) {
        state.Fail(Status::Internal("curl_easy_init failed"));
        return;
      }
      std::mt19937 rng(std::random_device{}());
      while (!state.cancelled.load()) {
        size_t b = next.fetch_add(1);
        if (b >= n_batches) return;
        Json input = Json::array();
        for (size_t k = b * batch; k < std::min(sent.size(), (b + 1) * batch); ++k) {
          input.push_back(texts[sent[k]]);
        }
        Result<std::vector<float>> r = PostWithRetries(handle.get(), input, &state, &rng, &dims[b]);
        if (!r.ok()) {
          state.Fail(r.status());
          return;
        }
        results[b] = std::move(r).value();
      }
    };
    const size_t n_workers = std::min(n_batches, static_cast<size_t>(spec_.max_concurrency));
    std::vector<std::thread> workers;
    for (size_t w = 1; w < n_workers; ++w) workers.emplace_back(work);
    work();
    for (std::thread& t : workers) t.join();
    if (!state.first_error.ok()) return state.first_error;

    const int d = dims[0];
    for (int other : dims) {
      if (other != d) {
        return Status::Corruption(model_id_ + ": the server answered with vectors of " +
                                  std::to_string(d) + " and " + std::to_string(other) +
                                  " dimensions");
      }
    }
    if (dim_ != 0 && dim_ != d) {
      return Status::Corruption(model_id_ + ": the dimension changed from " + std::to_string(dim_) +
                                " to " + std::to_string(d));
    }
    dim_ = d;
    std::vector<float> out(texts.size() * static_cast<size_t>(d), 0.0f);
    for (size_t k = 0; k < sent.size(); ++k) {
      const float* src = results[k / batch].data() + (k % batch) * d;
      std::copy(src, src + d, out.data() + sent[k] * d);
    }
    return out;
  }

 private:
  // One batch: the request and its retries. Returns the batch's rows in input
  // order, normalized, and their dimension in *dim.
  Result<std::vector<float>> PostWithRetries(CURL* h, const Json& input, CallState* state,
                                             std::mt19937* rng, int* dim) {
    Json request = {{"model", spec_.model}, {"input", input}};
    // Invalid UTF-8 in a text becomes U+FFFD rather than an exception.
    const std::string body = request.dump(-1, ' ', false, Json::error_handler_t::replace);
    const size_t n_texts = input.size();
    std::string last_error;
    for (int attempt = 0;; ++attempt) {
      if (state->cancelled.load()) return Status::Internal("cancelled");
      HttpAnswer a = Post(h, body, state);
      int delay_ms = -1;  // < 0: no retry
      if (a.curl == CURLE_ABORTED_BY_CALLBACK && state->cancelled.load()) {
        return Status::Internal("cancelled");
      } else if (a.too_large) {
        return Status::Corruption(Where() + "the answer is larger than " +
                                  std::to_string(kMaxResponseBytes >> 20) + " MiB");
      } else if (a.curl != CURLE_OK) {
        last_error = a.curl == CURLE_OPERATION_TIMEDOUT
                         ? "timed out after " + std::to_string(spec_.timeout_ms) + " ms"
                         : a.curl_error;
        if (!IsRetryable(a.curl)) return Status::IOError(Where() + last_error);
        delay_ms = Backoff(attempt, rng);
      } else if (a.status >= 200 && a.status < 300) {
        return ParseAnswer(a.body, n_texts, dim);
      } else if (a.status == 429 || a.status >= 500) {
        last_error = "HTTP " + std::to_string(a.status) + ": " + ServerErrorMessage(a.body);
        delay_ms = a.retry_after_ms >= 0 ? std::min(a.retry_after_ms, spec_.max_backoff_ms)
                                         : Backoff(attempt, rng);
      } else {
        return Status::InvalidArgument(Where() + "HTTP " + std::to_string(a.status) + ": " +
                                       ServerErrorMessage(a.body));
      }
      if (attempt >= spec_.max_retries) {
        return Status::IOError(Where() + last_error + " (after " + std::to_string(attempt + 1) +
                               " attempts)");
      }
      if (!state->SleepFor(delay_ms)) return Status::Internal("cancelled");
    }
  }

  std::string Where() const { return "embeddings at " + url_ + ": "; }

  static bool IsRetryable(CURLcode c) {
    switch (c) {
      case CURLE_COULDNT_RESOLVE_PROXY:
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_CONNECT:
      case CURLE_OPERATION_TIMEDOUT:
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

  int Backoff(int attempt, std::mt19937* rng) const {
    double ms =
        static_cast<double>(spec_.initial_backoff_ms) * std::pow(2.0, std::min(attempt, 30));
    ms = std::min(ms, static_cast<double>(spec_.max_backoff_ms));
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    return static_cast<int>(ms * jitter(*rng));
  }

  HttpAnswer Post(CURL* h, const std::string& body, CallState* state) const {
    HttpAnswer a;
    char error[CURL_ERROR_SIZE] = {0};
    HeaderList headers;
    headers.Append("Content-Type: application/json");
    headers.Append("Accept: application/json");
    headers.Append("Expect:");  // no 100-continue round trip
    if (!spec_.api_key.empty()) headers.Append("Authorization: Bearer " + spec_.api_key);
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(spec_.timeout_ms));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(spec_.timeout_ms));
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &a);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, state);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
    a.curl = curl_easy_perform(h);
    if (a.curl != CURLE_OK) {
      a.curl_error = error[0] != '\0' ? error : curl_easy_strerror(a.curl);
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a.status);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
    return a;
  }

  // {"data": [{"index": i, "embedding": [...]}, ...]} -> rows in index order.
  Result<std::vector<float>> ParseAnswer(const std::string& body, size_t n_texts, int* dim) const {
    Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
    auto bad = [&](const std::string& why) {
      return Status::Corruption(Where() + "malformed answer: " + why);
    };
    if (j.is_discarded()) return bad("not JSON: " + Truncated(body));
    if (!j.is_object()) return bad("not a JSON object");
    auto data = j.find("data");
    if (data == j.end() || !data->is_array()) return bad("no \"data\" array");
    if (data->size() != n_texts) {
      return bad(std::to_string(data->size()) + " vectors for " + std::to_string(n_texts) +
                 " texts");
    }
    std::vector<const Json*> rows(n_texts, nullptr);
    for (size_t k = 0; k < data->size(); ++k) {
      const Json& item = (*data)[k];
      if (!item.is_object()) return bad("a \"data\" item is not an object");
      size_t index = k;  // servers that leave the index out answer in order
      auto idx = item.find("index");
      if (idx != item.end()) {
        if (!idx->is_number_integer() || idx->get<int64_t>() < 0 ||
            idx->get<int64_t>() >= static_cast<int64_t>(n_texts)) {
          return bad("bad \"index\"");
        }
        index = static_cast<size_t>(idx->get<int64_t>());
      }
      if (rows[index] != nullptr) return bad("index " + std::to_string(index) + " twice");
      auto emb = item.find("embedding");
      if (emb == item.end() || !emb->is_array() || emb->empty()) {
        return bad("an item without an \"embedding\" array");
      }
      rows[index] = &*emb;
    }
    const size_t d = rows[0]->size();
    std::vector<float> out(n_texts * d);
    for (size_t i = 0; i < n_texts; ++i) {
      if (rows[i]->size() != d) {
        return bad("vectors of " + std::to_string(d) + " and " + std::to_string(rows[i]->size()) +
                   " dimensions");
      }
      float* row = out.data() + i * d;
      for (size_t k = 0; k < d; ++k) {
        const Json& x = (*rows[i])[k];
        if (!x.is_number()) return bad("a vector holds a non-number");
        row[k] = x.get<float>();
      }
      L2Normalize(row, static_cast<int>(d));
    }
    *dim = static_cast<int>(d);
    return out;
  }

  EmbedderSpec spec_;
  std::string url_;
  std::string model_id_;
  mutable int dim_ = 0;  // 0 until a server answered
};

}  // namespace

Status InitCurlOnce() {
  static std::once_flag once;
  static CURLcode rc = CURLE_OK;
  std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (rc != CURLE_OK) {
    return Status::Internal(std::string("curl_global_init failed: ") + curl_easy_strerror(rc));
  }
  return Status::OK();
}

std::string ServerErrorMessage(std::string_view body) {
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    auto e = j.find("error");
    if (e != j.end()) {
      if (e->is_string()) return Collapsed(e->get<std::string>());
      if (e->is_object()) {
        auto m = e->find("message");
        if (m != e->end() && m->is_string()) return Collapsed(m->get<std::string>());
      }
    }
    for (const char* key : {"message", "detail"}) {
      auto m = j.find(key);
      if (m != j.end() && m->is_string()) return Collapsed(m->get<std::string>());
    }
  }
  std::string text = Collapsed(body);
  return text.empty() ? "(no message)" : text;
}

Result<std::unique_ptr<Embedder>> MakeOpenAIEmbedder(const EmbedderSpec& spec) {
  if (spec.base_url.empty()) return Status::InvalidArgument("openai embedder: empty base URL");
  if (spec.model.empty()) return Status::InvalidArgument("openai embedder: empty model name");
  if (spec.batch_size < 1 || spec.max_concurrency < 1 || spec.timeout_ms < 1 ||
      spec.max_retries < 0 || spec.initial_backoff_ms < 0 || spec.max_backoff_ms < 0) {
    return Status::InvalidArgument(
        "openai embedder: batch_size, max_concurrency and timeout_ms must be positive, retries "
        "and backoffs not negative");
  }
  FG_RETURN_IF_ERROR(InitCurlOnce());
  return std::unique_ptr<Embedder>(std::make_unique<OpenAIEmbedder>(spec));
}

}  // namespace ferrograph
