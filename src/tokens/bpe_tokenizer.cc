#include "tokens/bpe_tokenizer.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <mutex>

#include "common/utf8.h"
#include "tokens/rank_blob.h"

namespace ferrograph {
namespace {

constexpr uint32_t kNoRank = Vocabulary::kNoRank;

// tiktoken's split patterns, verbatim from tiktoken_ext/openai_public.py.
// ForPcre2 adapts them: `\s` becomes Unicode White_Space spelled out, which is
// what the Rust regex engine behind tiktoken means by it (PCRE2's own \s in
// UCP mode also takes U+180E), and `$` becomes `\z` (PCRE2's `$` would also
// match before a final newline).
constexpr std::string_view kR50kPattern =
    R"('(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s)";
constexpr std::string_view kCl100kPattern =
    R"('(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s)";
constexpr std::string_view kO200kPattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
    R"(|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
    R"(|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

constexpr std::string_view kWhiteSpace =
    R"(\t\n\x{0B}\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";

std::string ForPcre2(std::string_view pattern) {
  const std::string ws(kWhiteSpace);
  constexpr std::string_view kOther = R"([^\s\p{L}\p{N}])";
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const std::string_view rest = pattern.substr(i);
    if (rest.starts_with(kOther)) {
      out += "[^" + ws + R"(\p{L}\p{N}])";
      i += kOther.size() - 1;
    } else if (rest.starts_with(R"(\s)")) {
      out += "[" + ws + "]";
      ++i;
    } else if (rest.starts_with(R"(\S)")) {
      out += "[^" + ws + "]";
      ++i;
    } else if (rest[0] == '\\' && rest.size() > 1) {
      out += rest.substr(0, 2);
      ++i;
    } else if (rest[0] == '$') {
      out += R"(\z)";
    } else {
      out += rest[0];
    }
  }
  return out;
}

struct EncodingSpec {
  std::string_view name;
  std::string_view table;  // in the rank blob
  std::string_view pattern;
  std::vector<std::pair<std::string, uint32_t>> specials;
};

const std::vector<EncodingSpec>& Specs() {
  static const auto* specs = new std::vector<EncodingSpec>{
      {"o200k_base",
       "o200k_base",
       kO200kPattern,
       {{"<|endoftext|>", 199999}, {"<|endofprompt|>", 200018}}},
      {"cl100k_base",
       "cl100k_base",
       kCl100kPattern,
       {{"<|endoftext|>", 100257},
        {"<|fim_prefix|>", 100258},
        {"<|fim_middle|>", 100259},
        {"<|fim_suffix|>", 100260},
        {"<|endofprompt|>", 100276}}},
      {"p50k_base", "p50k_base", kR50kPattern, {{"<|endoftext|>", 50256}}},
      {"p50k_edit",
       "p50k_base",
       kR50kPattern,
       {{"<|endoftext|>", 50256},
        {"<|fim_prefix|>", 50281},
        {"<|fim_middle|>", 50282},
        {"<|fim_suffix|>", 50283}}},
      {"r50k_base", "r50k_base", kR50kPattern, {{"<|endoftext|>", 50256}}},
  };
  return *specs;
}

constexpr std::array<std::string_view, 5> kEncodingNames = {"o200k_base", "cl100k_base",
                                                            "p50k_base", "p50k_edit", "r50k_base"};

// Pieces up to this many bytes merge with a linear scan over a stack array
// (tiktoken's method, quadratic but fast when short); longer ones with a heap.
constexpr size_t kSmallPiece = 256;

struct Part {
  uint32_t start;  // first byte of the part in the piece
  uint32_t pair;   // rank of this part merged with the next, or kNoRank
  uint32_t token;  // rank of this part
};

template <typename Emit>
void MergeSmall(const Vocabulary& v, const uint8_t* p, size_t n, Emit&& emit) {
  Part parts[kSmallPiece + 1];
  size_t m = n;  // parts; parts[m] is a sentinel starting at n
  for (size_t i = 0; i < n; ++i) {
    parts[i] = Part{static_cast<uint32_t>(i), kNoRank, v.ByteRank(p[i])};
  }
  parts[n] = Part{static_cast<uint32_t>(n), kNoRank, kNoRank};
  for (size_t i = 0; i + 1 < n; ++i) parts[i].pair = v.Rank(p + i, 2);
  // Rank of parts i and i + 1 merged; needs i + 2 <= m.
  auto pair_rank = [&](size_t i) {
    return v.Rank(p + parts[i].start, parts[i + 2].start - parts[i].start);
  };
  for (;;) {
    uint32_t best = kNoRank;
    size_t bi = 0;
    for (size_t i = 0; i + 1 < m; ++i) {
      if (parts[i].pair < best) {
        best = parts[i].pair;
        bi = i;
      }
    }
    if (best == kNoRank) break;
    parts[bi].token = best;
    std::memmove(&parts[bi + 1], &parts[bi + 2], (m - bi - 1) * sizeof(Part));
    --m;
    parts[bi].pair = bi + 1 < m ? pair_rank(bi) : kNoRank;
    if (bi > 0) parts[bi - 1].pair = pair_rank(bi - 1);
  }
  for (size_t i = 0; i < m; ++i) emit(parts[i].token);
}

// The same merges with a doubly linked list of parts and a min-heap of
// (pair rank, position): O(n log n) for long pieces. Stale heap entries are
// recognised by a pair rank that has changed since (a part's pair bytes only
// grow, and distinct bytes have distinct ranks).
struct HeapScratch {
  std::vector<uint32_t> start, next, prev, pair, token;
  std::vector<uint64_t> heap;
};

template <typename Emit>
void MergeHeap(const Vocabulary& v, const uint8_t* p, size_t n, Emit&& emit) {
  thread_local HeapScratch s;
  constexpr uint32_t kNone = UINT32_MAX;
  s.start.resize(n);
  s.next.resize(n);
  s.prev.resize(n);
  s.pair.resize(n);
  s.token.resize(n);
  s.heap.clear();
  const auto n32 = static_cast<uint32_t>(n);
  for (uint32_t i = 0; i < n32; ++i) {
    s.start[i] = i;
    s.next[i] = i + 1 < n32 ? i + 1 : kNone;
    s.prev[i] = i > 0 ? i - 1 : kNone;
    s.token[i] = v.ByteRank(p[i]);
    s.pair[i] = i + 1 < n32 ? v.Rank(p + i, 2) : kNoRank;
  }
  auto end_of = [&](uint32_t i) { return s.next[i] == kNone ? n32 : s.start[s.next[i]]; };
  auto push = [&](uint32_t i) {
    if (s.pair[i] == kNoRank) return;
    s.heap.push_back(static_cast<uint64_t>(s.pair[i]) << 32 | i);
    std::push_heap(s.heap.begin(), s.heap.end(), std::greater<>());
  };
  for (uint32_t i = 0; i < n32; ++i) push(i);
  while (!s.heap.empty()) {
    std::pop_heap(s.heap.begin(), s.heap.end(), std::greater<>());
    const uint64_t top = s.heap.back();
    s.heap.pop_back();
    const auto rank = static_cast<uint32_t>(top >> 32);
    const auto i = static_cast<uint32_t>(top & 0xFFFFFFFFu);
    if (s.pair[i] != rank) continue;  // stale (merged away parts have kNoRank)
    const uint32_t j = s.next[i];
    s.token[i] = rank;
    s.pair[j] = kNoRank;
    s.next[i] = s.next[j];
    if (s.next[j] != kNone) s.prev[s.next[j]] = i;
    s.pair[i] =
        s.next[i] != kNone ? v.Rank(p + s.start[i], end_of(s.next[i]) - s.start[i]) : kNoRank;
    push(i);
    if (const uint32_t k = s.prev[i]; k != kNone) {
      s.pair[k] = v.Rank(p + s.start[k], end_of(i) - s.start[k]);
      push(k);
    }
  }
  for (uint32_t i = 0; i != kNone; i = s.next[i]) emit(s.token[i]);
}

template <typename Emit>
void MergeAny(const Vocabulary& v, const uint8_t* p, size_t n, Emit&& emit) {
  if (n <= kSmallPiece) {
    MergeSmall(v, p, n, emit);
  } else {
    MergeHeap(v, p, n, emit);
  }
}

}  // namespace

std::string ReplaceInvalidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    // Unicode 15, table 3-7: the allowed range of the second byte depends on
    // the first; later bytes are 80..BF.
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    }
    size_t k = 1;  // bytes of the (maximal sub)part so far
    if (len > 0) {
      while (k < len && i + k < n) {
        const unsigned char b = p[i + k];
        const unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
        if (b < l || b > h) break;
        ++k;
      }
    }
    if (len > 0 && k == len) {
      out.append(text.data() + i, len);
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD
    }
    i += k;
  }
  return out;
}

Result<std::unique_ptr<BpeTokenizer>> BpeTokenizer::Create(
    std::string name, std::unique_ptr<Vocabulary> vocab, std::string_view pattern,
    std::vector<std::pair<std::string, uint32_t>> specials) {
  FG_ASSIGN_OR_RETURN(auto pre, PreTokenizer::Create(pattern));
  std::unique_ptr<BpeTokenizer> t(new BpeTokenizer());
  t->name_ = std::move(name);
  t->n_vocab_ = vocab->n_ranks();
  for (const auto& [text, id] : specials) t->n_vocab_ = std::max(t->n_vocab_, id + 1);
  t->vocab_ = std::move(vocab);
  t->pretokenizer_ = std::move(pre);
  t->specials_ = std::move(specials);
  return t;
}

std::span<const std::string_view> BpeTokenizer::EncodingNames() { return kEncodingNames; }

Result<const BpeTokenizer*> BpeTokenizer::Get(std::string_view encoding) {
  struct Slot {
    std::once_flag once;
    std::unique_ptr<BpeTokenizer> tokenizer;
    Status status;
  };
  static auto* slots = new std::array<Slot, kEncodingNames.size()>();
  const std::vector<EncodingSpec>& specs = Specs();
  for (size_t i = 0; i < specs.size(); ++i) {
    const EncodingSpec& spec = specs[i];
    if (spec.name != encoding) continue;
    Slot& slot = (*slots)[i];
    std::call_once(slot.once, [&] {
      auto build = [&]() -> Result<std::unique_ptr<BpeTokenizer>> {
        FG_ASSIGN_OR_RETURN(auto table,
                            tokens_blob::FindRankTable(tokens_blob::EmbeddedBlob(), spec.table));
        FG_ASSIGN_OR_RETURN(auto vocab, Vocabulary::Create(table));
        return Create(std::string(spec.name), std::move(vocab), ForPcre2(spec.pattern),
                      spec.specials);
      };
      auto built = build();
      if (built.ok()) {
        slot.tokenizer = std::move(built).value();
      } else {
        slot.status = built.status().WithContext("encoding " + std::string(spec.name));
      }
    });
    if (!slot.status.ok()) return slot.status;
    return static_cast<const BpeTokenizer*>(slot.tokenizer.get());
  }
  std::string known;
  for (std::string_view n : kEncodingNames) known += (known.empty() ? "" : ", ") + std::string(n);
  return Status::NotFound("unknown encoding '" + std::string(encoding) + "' (known: " + known +
                          ")");
}

template <typename Emit>
void BpeTokenizer::EncodeValid(std::string_view text, Emit&& emit) const {
  const Vocabulary& v = *vocab_;
  pretokenizer_->ForEachPiece(text, [&](std::string_view piece) {
    const auto* p = reinterpret_cast<const uint8_t*>(piece.data());
    const size_t n = piece.size();
    if (n == 1) {
      emit(v.ByteRank(p[0]));
      return;
    }
    if (const uint32_t r = v.Rank(p, n); r != kNoRank) {
      emit(r);
      return;
    }
    MergeAny(v, p, n, emit);
  });
}

template <typename Emit>
void BpeTokenizer::EncodeAny(std::string_view text, Emit&& emit) const {
  if (FindInvalidUtf8(text) == std::string_view::npos) {
    EncodeValid(text, emit);
  } else {
    EncodeValid(ReplaceInvalidUtf8(text), emit);
  }
}

std::vector<uint32_t> BpeTokenizer::Encode(std::string_view text) const {
  std::vector<uint32_t> out;
  Encode(text, &out);
  return out;
}

void BpeTokenizer::Encode(std::string_view text, std::vector<uint32_t>* out) const {
  EncodeAny(text, [out](uint32_t t) { out->push_back(t); });
}

size_t BpeTokenizer::Count(std::string_view text) const {
  size_t count = 0;
  EncodeAny(text, [&count](uint32_t) { ++count; });
  return count;
}

size_t BpeTokenizer::CountPieces(std::string_view text) const {
  size_t count = 0;
  auto count_pieces = [&](std::string_view valid) {
    pretokenizer_->ForEachPiece(valid, [&count](std::string_view) { ++count; });
  };
  if (FindInvalidUtf8(text) == std::string_view::npos) {
    count_pieces(text);
  } else {
    count_pieces(ReplaceInvalidUtf8(text));
  }
  return count;
}

std::vector<uint32_t> BpeTokenizer::EncodeWithSpecialTokens(std::string_view text) const {
  std::string repaired;
  if (FindInvalidUtf8(text) != std::string_view::npos) {
    repaired = ReplaceInvalidUtf8(text);
    text = repaired;
  }
  std::vector<uint32_t> out;
  auto push = [&out](uint32_t t) { out.push_back(t); };
  size_t pos = 0;
  while (pos <= text.size()) {
    // The leftmost special token from pos (none is a prefix of another).
    size_t best = std::string_view::npos;
    const std::pair<std::string, uint32_t>* found = nullptr;
    for (const auto& special : specials_) {
      const size_t at = text.find(special.first, pos);
      if (at < best) {
        best = at;
        found = &special;
      }
    }
    // Each segment is split on its own, as tiktoken does: `\z` ends it.
    EncodeValid(text.substr(pos, best == std::string_view::npos ? best : best - pos), push);
    if (found == nullptr) break;
    out.push_back(found->second);
    pos = best + found->first.size();
  }
  return out;
}

std::string_view BpeTokenizer::TokenBytes(uint32_t token) const {
  std::string_view bytes = vocab_->Bytes(token);
  if (!bytes.empty()) return bytes;
  for (const auto& [text, id] : specials_) {
    if (id == token) return text;
  }
  return {};
}

std::string BpeTokenizer::Decode(std::span<const uint32_t> tokens) const {
  std::string out;
  for (uint32_t t : tokens) out += TokenBytes(t);
  return out;
}

std::optional<uint32_t> BpeTokenizer::SpecialToken(std::string_view text) const {
  for (const auto& [special, id] : specials_) {
    if (special == text) return id;
  }
  return std::nullopt;
}

namespace tokens_internal {

std::vector<uint32_t> MergePiece(const Vocabulary& vocab, std::string_view piece, bool use_heap) {
  std::vector<uint32_t> out;
  if (piece.empty()) return out;
  const auto* p = reinterpret_cast<const uint8_t*>(piece.data());
  auto push = [&out](uint32_t t) { out.push_back(t); };
  if (use_heap) {
    MergeHeap(vocab, p, piece.size(), push);
  } else if (piece.size() <= kSmallPiece) {
    MergeSmall(vocab, p, piece.size(), push);
  }
  return out;
}

}  // namespace tokens_internal
}  // namespace ferrograph
