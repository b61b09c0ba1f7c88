// A client of OpenAI-compatible chat completions servers (OpenAI, Ollama,
// llama.cpp, vLLM, ...) that streams the answer: POST {base_url}/chat/completions
// with "stream": true, the answer read as server-sent events, each
// `data: {json}` carrying choices[0].delta.content, the last `data: [DONE]`.
//
// Failures, and what is retried:
//   - connection errors, HTTP 429 and 5xx are retried with exponential
//     backoff (a Retry-After header in seconds is honoured, within the
//     maximum backoff), up to max_retries times, but only while no content
//     has been passed on: after partial output nothing is ever re-sent;
//   - no byte for timeout_ms (connecting, waiting for the answer, or between
//     two pieces of it) is an IOError saying so, not retried;
//   - another HTTP status is InvalidArgument with the server's message (from
//     its JSON error body when it has one);
//   - a stream that is not SSE of JSON, or carries an error object, is
//     Corruption; a stream that ends before [DONE] is an IOError. Content
//     that arrived before either was passed on already.
// A server that ignores "stream" and answers with one JSON completion is
// accepted too (its content is passed on in one piece).
//
// Thread safety: a ChatClient serves one call at a time; SseParser is a
// value for one stream.
#ifndef FERROGRAPH_CONTEXT_CHAT_CLIENT_H_
#define FERROGRAPH_CONTEXT_CHAT_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ferrograph/status.h"

namespace ferrograph {

// One server-sent event (the WHATWG "text/event-stream" format).
struct SseEvent {
  std::string event;  // the `event:` field; "" means "message"
  std::string data;   // the `data:` lines, joined by '\n'
  std::string id;
};

// Parses a text/event-stream incrementally: bytes may arrive split anywhere
// (within a line, between the CR and LF of a CRLF). Lines end in LF, CRLF or
// CR; a line starting with ':' is a comment; a blank line ends an event; an
// event with no data line is not reported. A leading UTF-8 BOM is skipped.
class SseParser {
 public:
  using EventFn = std::function<void(const SseEvent&)>;
  // Parses `bytes`, calling `on_event` for each event they complete.
  void Feed(std::string_view bytes, const EventFn& on_event);
  // True when bytes of an unfinished event are buffered (a stream that ends
  // now was cut off within an event).
  bool InEvent() const { return !line_.empty() || has_data_ || !event_.event.empty(); }

 private:
  void Byte(char c, const EventFn& on_event);
  void Line(std::string_view line, const EventFn& on_event);

  std::string line_;        // the current line so far
  bool after_cr_ = false;   // the last byte was a CR (a LF next is part of it)
  bool started_ = false;    // past a possible BOM
  size_t bom_matched_ = 0;  // bytes of a BOM seen before started_
  SseEvent event_;          // the event being read
  bool has_data_ = false;   // event_ has had a data line
};

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

struct ChatOptions {
  // The API root, "http://localhost:11434/v1"; requests go to
  // base_url + "/chat/completions".
  std::string base_url;
  std::string model;
  // Sent as "Authorization: Bearer KEY"; "" sends none (local servers).
  std::string api_key;
  // The longest wait for a byte: to connect, for the answer to start, and
  // between two pieces of it.
  int timeout_ms = 120000;
  // Retries after the first attempt.
  int max_retries = 3;
  int initial_backoff_ms = 500;  // doubled per retry, with jitter
  int max_backoff_ms = 8000;
};

struct ChatReport {
  std::string text;           // the whole answer
  int attempts = 0;           // requests sent
  std::string finish_reason;  // the last one the stream named ("stop", "length")
};

// The chat model behind `ask`; an interface so tests can substitute one.
class ChatClient {
 public:
  virtual ~ChatClient() = default;
  // Sends `messages` and passes each piece of the answer's content to
  // `on_text` as it arrives. Errors as described at the top of this file.
  virtual Result<ChatReport> Complete(const std::vector<ChatMessage>& messages,
                                      const std::function<void(std::string_view)>& on_text) = 0;
};

// The libcurl client. InvalidArgument for an empty base URL or model, or a
// negative timeout, retry count or backoff.
Result<std::unique_ptr<ChatClient>> NewHttpChatClient(ChatOptions options);

}  // namespace ferrograph

#endif  // FERROGRAPH_CONTEXT_CHAT_CLIENT_H_
