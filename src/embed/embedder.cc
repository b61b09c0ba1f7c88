#include "embed/embedder.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "embed/fasttext_embedder.h"
#include "embed/hash_embedder.h"
#include "embed/openai_embedder.h"

namespace ferrograph {
namespace {

constexpr std::string_view kDefaultBaseUrl = "http://localhost:11434/v1";
constexpr std::string_view kDefaultOpenAIModel = "nomic-embed-text";

std::string_view Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

void L2Normalize(float* v, int dim) {
  double sum = 0;
  for (int i = 0; i < dim; ++i) sum += static_cast<double>(v[i]) * v[i];
  if (sum <= 0 || !std::isfinite(sum)) {
    if (!std::isfinite(sum)) std::fill(v, v + dim, 0.0f);  // garbage in: no direction
    return;
  }
  const float inv = static_cast<float>(1.0 / std::sqrt(sum));
  for (int i = 0; i < dim; ++i) v[i] *= inv;
}

Result<EmbedderSpec> ParseEmbedderSpec(std::string_view text) {
  return ParseEmbedderSpec(text, [](const char* name) { return std::getenv(name); });
}

Result<EmbedderSpec> ParseEmbedderSpec(std::string_view text, const EnvLookup& getenv) {
  text = Trim(text);
  std::string_view kind = text;
  std::string_view arg;
  bool has_arg = false;
  if (size_t colon = text.find(':'); colon != std::string_view::npos) {
    kind = text.substr(0, colon);
    arg = text.substr(colon + 1);
    has_arg = true;
  }
  EmbedderSpec spec;
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("embedder \"" + std::string(text) + "\": " + std::string(why) +
                                   " (expected hash, fasttext[:FILE.bin] or openai[:MODEL])");
  };
  if (kind == "hash") {
    if (has_arg) return bad("hash takes no argument");
    spec.kind = "hash";
    spec.text = "hash";
    return spec;
  }
  if (kind == "fasttext") {
    if (has_arg && arg.empty()) return bad("empty model file name");
    spec.kind = "fasttext";
    spec.model = std::string(arg);
    spec.text = has_arg ? "fasttext:" + spec.model : "fasttext";
    return spec;
  }
  if (kind == "openai") {
    if (has_arg && arg.empty()) return bad("empty model name");
    spec.kind = "openai";
    spec.model = has_arg ? std::string(arg) : std::string(kDefaultOpenAIModel);
    spec.text = "openai:" + spec.model;
    auto env = [&](const char* name) -> std::string {
      const char* v = getenv ? getenv(name) : nullptr;
      return v != nullptr ? std::string(v) : std::string();
    };
    spec.base_url = env("FERROGRAPH_OPENAI_BASE_URL");
    if (spec.base_url.empty()) spec.base_url = std::string(kDefaultBaseUrl);
    while (spec.base_url.size() > 1 && spec.base_url.back() == '/') spec.base_url.pop_back();
    spec.api_key = env("FERROGRAPH_OPENAI_API_KEY");
    if (spec.api_key.empty()) spec.api_key = env("OPENAI_API_KEY");
    return spec;
  }
  return bad("unknown kind");
}

Result<std::unique_ptr<Embedder>> MakeEmbedder(const EmbedderSpec& spec) {
  if (spec.kind == "hash") return MakeHashEmbedder();
  if (spec.kind == "fasttext") {
    if (spec.model.empty()) {
      return Status::InvalidArgument(
          "the fasttext embedder needs a model file (fasttext:FILE.bin)");
    }
    return LoadFastTextModel(spec.model);
  }
  if (spec.kind == "openai") return MakeOpenAIEmbedder(spec);
  return Status::InvalidArgument("unknown embedder kind \"" + spec.kind + "\"");
}

}  // namespace ferrograph
