// Embedders: text -> float vectors, behind one interface. fasttext and openai
// give unit vectors; hash gives vectors of length below 1, shorter for texts
// with little evidence (hash_embedder.h). Searches rank by inner product
// with the query made a unit vector.
//
//   hash      built-in default; offline, deterministic code-aware feature
//             hashing (identifier sub-tokens, character n-grams, doc words),
//             384 dimensions.
//   fasttext  subword vectors trained locally on the indexed workspace's own
//             identifiers and doc comments (Debian's libfasttext); a model file.
//   openai    any OpenAI-compatible /v1/embeddings endpoint over libcurl.
//
// The model id names the model and its digest ("hash-v2-384",
// "fasttext-<16 hex of the model file's BLAKE3>", "openai:<model>@<base url>");
// vectors are stored and searched per model id and never compared across ids.
//
// Thread safety: an Embedder may be called from one thread at a time.
#ifndef FERROGRAPH_EMBED_EMBEDDER_H_
#define FERROGRAPH_EMBED_EMBEDDER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ferrograph/status.h"

namespace ferrograph {

class Embedder {
 public:
  virtual ~Embedder() = default;
  // Stable across processes for the same model; changes when the model does.
  virtual const std::string& model_id() const = 0;
  virtual int dim() const = 0;
  // texts.size() vectors of dim() floats, row-major, each of length at most 1
  // (1 for fasttext and openai; hash's are shorter for texts with little
  // evidence); an empty or token-less text gives the zero vector. Fails as a
  // whole: no partial result.
  virtual Result<std::vector<float>> Embed(const std::vector<std::string>& texts) = 0;
};

// Which embedder to build, as parsed from the command line or the environment:
//   "hash"                  the built-in default
//   "fasttext[:FILE.bin]"   a model trained by `ferrograph model train`
//   "openai[:MODEL]"        FERROGRAPH_OPENAI_BASE_URL (default
//                           http://localhost:11434/v1), key from
//                           FERROGRAPH_OPENAI_API_KEY or OPENAI_API_KEY
struct EmbedderSpec {
  std::string kind = "hash";  // "hash", "fasttext", "openai"
  // The spec as text, normalized ("fasttext:/abs/model.bin"): what the
  // database records so that the same embedder can be built again.
  std::string text = "hash";
  std::string model;  // fasttext: model file path; openai: model name
  // openai only.
  std::string base_url;          // e.g. "http://127.0.0.1:8080/v1"
  std::string api_key;           // sent as "Authorization: Bearer KEY" when not empty
  int batch_size = 64;           // texts per request
  int max_concurrency = 4;       // requests in flight
  int max_retries = 4;           // on connection errors, 429 and 5xx
  int timeout_ms = 30000;        // per request
  int initial_backoff_ms = 200;  // doubled per retry, with jitter
  int max_backoff_ms = 10000;    // caps the backoff and a server's Retry-After
};

// "hash", "fasttext:/p/m.bin", "openai:nomic-embed-text" -> spec, with the
// openai settings filled from the environment (model default
// "nomic-embed-text"; a trailing '/' of the base URL is dropped).
// InvalidArgument on bad text: an unknown kind, "hash:..." or "fasttext:"
// with an empty file name.
Result<EmbedderSpec> ParseEmbedderSpec(std::string_view text);
// The same with the environment read through `getenv` (null when unset), for
// tests.
using EnvLookup = std::function<const char*(const char* name)>;
Result<EmbedderSpec> ParseEmbedderSpec(std::string_view text, const EnvLookup& getenv);

// Builds the embedder `spec` names. Fails with InvalidArgument on a bad spec
// (unknown kind, fasttext without a model file, non-positive batch size or
// concurrency), and as LoadFastTextModel does on a bad model file. An openai
// embedder makes no request here (see OpenAIEmbedder for when it does).
Result<std::unique_ptr<Embedder>> MakeEmbedder(const EmbedderSpec& spec);

// Scales the row `v[0..dim)` to unit L2 norm; a zero row stays zero.
void L2Normalize(float* v, int dim);

}  // namespace ferrograph

#endif  // FERROGRAPH_EMBED_EMBEDDER_H_
