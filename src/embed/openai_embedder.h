// OpenAI-compatible embeddings over libcurl: Ollama, llama.cpp's server,
// text-embeddings-inference, vLLM, OpenAI itself.
//
// Embed() sends POST {base_url}/embeddings with {"model": M, "input": [...]}
// in batches of spec.batch_size texts, at most spec.max_concurrency requests in
// flight (one worker thread and one connection each, for the call's duration),
// and reads {"data": [{"index": i, "embedding": [...]}, ...]} in index order
// whatever order the server answers in. Each vector is L2-normalized.
//
// Failures: a connection error, a timeout (spec.timeout_ms per request), HTTP
// 429 or 5xx is retried up to spec.max_retries times, after
// initial_backoff_ms * 2^attempt with jitter (half to all of it), or after the
// server's Retry-After seconds; both capped at max_backoff_ms. Any other
// status fails at once with InvalidArgument naming the status and the
// server's error message (a bad key, an unknown model). A malformed answer
// (not JSON, missing vectors, a dimension that differs from the others) is
// Corruption; retries exhausted is IOError. When one batch fails the others
// are abandoned and the call fails as a whole.
//
// Empty or whitespace-only texts are not sent (servers reject them); they get
// the zero vector.
//
// dim(): the server says the dimension only by answering. Until the first
// successful Embed, dim() embeds the probe text "dim probe" (one request, with
// the usual retries) and remembers the answer; if that fails dim() returns 0
// and tries again on its next call.
//
// Thread safety: as Embedder, one thread at a time per instance.
#ifndef FERROGRAPH_EMBED_OPENAI_EMBEDDER_H_
#define FERROGRAPH_EMBED_OPENAI_EMBEDDER_H_

#include <memory>
#include <string>

#include "embed/embedder.h"

namespace ferrograph {

// Model id "openai:" + spec.model + "@" + spec.base_url. InvalidArgument when
// base_url or model is empty, or batch_size, max_concurrency or timeout_ms is
// not positive; Internal when libcurl cannot be initialized.
Result<std::unique_ptr<Embedder>> MakeOpenAIEmbedder(const EmbedderSpec& spec);

// The human-readable message of an OpenAI-compatible server's error body:
// error.message (OpenAI), error as a string (Ollama), message or detail of a
// JSON object, else the text itself; whitespace collapsed, at most 500
// bytes, "(no message)" for an empty body.
std::string ServerErrorMessage(std::string_view body);

// libcurl's global initialization, once per process (thread-safe); every
// libcurl client calls it before its first handle.
Status InitCurlOnce();

}  // namespace ferrograph

#endif  // FERROGRAPH_EMBED_OPENAI_EMBEDDER_H_
