#include "tokens/token_counter.h"

#include <array>
#include <cmath>

namespace ferrograph {
namespace {

// Context windows of the OpenAI models as gpt-tokenizer 4.0.0 lists them
// (src/model/*.ts); local models from their model cards.
constexpr std::array<ModelEntry, 43> kModels = {{
    {"gpt-5", 400000, "o200k_base"},
    {"gpt-5-mini", 400000, "o200k_base"},
    {"gpt-4.1", 1047576, "o200k_base"},
    {"gpt-4.1-mini", 1047576, "o200k_base"},
    {"gpt-4.1-nano", 1047576, "o200k_base"},
    {"gpt-4.5-preview", 128000, "o200k_base"},
    {"gpt-4o", 128000, "o200k_base"},
    {"gpt-4o-mini", 128000, "o200k_base"},
    {"chatgpt-4o-latest", 128000, "o200k_base"},
    {"o1", 200000, "o200k_base"},
    {"o1-mini", 128000, "o200k_base"},
    {"o1-preview", 128000, "o200k_base"},
    {"o3", 200000, "o200k_base"},
    {"o3-mini", 200000, "o200k_base"},
    {"o4-mini", 200000, "o200k_base"},
    {"gpt-4", 8192, "cl100k_base"},
    {"gpt-4-32k", 32768, "cl100k_base"},
    {"gpt-4-turbo", 128000, "cl100k_base"},
    {"gpt-4-turbo-preview", 128000, "cl100k_base"},
    {"gpt-4-1106-preview", 128000, "cl100k_base"},
    {"gpt-4-0125-preview", 128000, "cl100k_base"},
    {"gpt-3.5-turbo", 16385, "cl100k_base"},
    {"gpt-35-turbo", 16385, "cl100k_base"},  // Azure's spelling
    {"text-embedding-3-small", 8191, "cl100k_base"},
    {"text-embedding-3-large", 8191, "cl100k_base"},
    {"text-embedding-ada-002", 8191, "cl100k_base"},
    {"text-davinci-003", 4097, "p50k_base"},
    {"code-davinci-002", 8001, "p50k_base"},
    {"davinci", 2049, "r50k_base"},
    // Local models: no vocabulary here, counts are estimates.
    {"llama3", 8192, ""},
    {"llama3.1", 131072, ""},
    {"llama3.2", 131072, ""},
    {"llama3.3", 131072, ""},
    {"codellama", 16384, ""},
    {"qwen2.5", 32768, ""},
    {"qwen2.5-coder", 32768, ""},
    {"mistral", 32768, ""},
    {"mistral-nemo", 131072, ""},
    {"mixtral", 32768, ""},
    {"deepseek-coder", 16384, ""},
    {"gemma2", 8192, ""},
    {"starcoder2", 16384, ""},
    {"phi3", 4096, ""},
}};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

ModelInfo Info(const ModelEntry& e) {
  return ModelInfo{std::string(e.name), e.context_tokens, std::string(e.encoding)};
}

// Estimate weights per character class (see the header for the calibration):
// least-squares fit against cl100k_base on Rust code, scaled by 1.05.
constexpr double kPerWordChar = 0.30;     // ASCII letter, digit, '_'
constexpr double kPerPunct = 0.46;        // other printable ASCII and controls
constexpr double kPerSpace = 0.09;        // ' ', '\t'
constexpr double kPerNewline = 0.37;      // '\n', '\r'
constexpr double kPerNonAsciiByte = 0.5;  // each byte >= 0x80

struct ClassTable {
  unsigned char c[256];
  constexpr ClassTable() : c() {
    for (int i = 0; i < 256; ++i) {
      const bool word =
          (i >= 'a' && i <= 'z') || (i >= 'A' && i <= 'Z') || (i >= '0' && i <= '9') || i == '_';
      c[i] = i >= 0x80                  ? 4
             : word                     ? 0
             : (i == ' ' || i == '\t')  ? 2
             : (i == '\n' || i == '\r') ? 3
                                        : 1;
    }
  }
};
constexpr ClassTable kClasses{};

}  // namespace

std::span<const ModelEntry> KnownModels() { return kModels; }

Result<ModelInfo> FindModel(std::string_view model) {
  std::string name = Lower(model);
  if (name.starts_with("ft:")) name.erase(0, 3);
  if (const size_t slash = name.rfind('/'); slash != std::string::npos) name.erase(0, slash + 1);
  for (std::string_view enc : BpeTokenizer::EncodingNames()) {
    if (name == enc) return ModelInfo{name, 0, name};
  }
  const ModelEntry* best = nullptr;
  for (const ModelEntry& e : kModels) {
    if (name == e.name) return Info(e);
    if (name.size() > e.name.size() && name.starts_with(e.name)) {
      const char sep = name[e.name.size()];
      if ((sep == '-' || sep == ':' || sep == '@') &&
          (best == nullptr || e.name.size() > best->name.size())) {
        best = &e;
      }
    }
  }
  if (best != nullptr) return Info(*best);
  return Status::NotFound("unknown model '" + std::string(model) + "'");
}

size_t EstimateTokens(std::string_view text) {
  size_t counts[5] = {0, 0, 0, 0, 0};
  for (char ch : text) ++counts[kClasses.c[static_cast<unsigned char>(ch)]];
  const double tokens =
      kPerWordChar * static_cast<double>(counts[0]) + kPerPunct * static_cast<double>(counts[1]) +
      kPerSpace * static_cast<double>(counts[2]) + kPerNewline * static_cast<double>(counts[3]) +
      kPerNonAsciiByte * static_cast<double>(counts[4]);
  return static_cast<size_t>(std::ceil(tokens));
}

Result<TokenCounter> TokenCounter::ForModel(std::string_view model) {
  if (model.empty()) return Status::InvalidArgument("token counter: empty model name");
  Result<ModelInfo> info = FindModel(model);
  if (!info.ok()) return TokenCounter(ModelInfo{std::string(model), 0, ""}, nullptr);
  if (info->encoding.empty()) return TokenCounter(std::move(info).value(), nullptr);
  FG_ASSIGN_OR_RETURN(const BpeTokenizer* tokenizer, BpeTokenizer::Get(info->encoding));
  return TokenCounter(std::move(info).value(), tokenizer);
}

TokenCounter TokenCounter::Estimating() { return TokenCounter(ModelInfo{"", 0, ""}, nullptr); }

}  // namespace ferrograph
