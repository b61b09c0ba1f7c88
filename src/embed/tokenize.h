// Code-aware tokens, shared by the hash embedder, fastText training text and
// the lexical (FTS5) index.
//
// Only ASCII has case and digits here: a byte >= 0x80 (any part of a UTF-8
// sequence) counts as a lower-case letter, so non-ASCII words survive whole
// and are never split inside a sequence. No allocation beyond the results;
// no locale. Thread-safe (pure functions).
#ifndef FERROGRAPH_EMBED_TOKENIZE_H_
#define FERROGRAPH_EMBED_TOKENIZE_H_

#include <string>
#include <string_view>
#include <vector>

namespace ferrograph {

// Lower-cased sub-tokens of one identifier, split on '_', case changes and
// letter/digit boundaries: "HashMapIter" -> {"hash","map","iter"},
// "parse_u32" -> {"parse","u32"}, "HTTPServer" -> {"http","server"},
// "is_ascii_digit" -> {"is","ascii","digit"}.
// Precisely: a lower->upper change starts a sub-token ("hashMap"); in an
// upper-case run the last capital starts a sub-token when a lower-case letter
// follows ("HTTPServer"); digits stay with the letters before them ("u32",
// "utf8", "sha256") and a letter after a digit starts a sub-token
// ("u8x16" -> {"u8","x16"}, "sha256sum" -> {"sha256","sum"}). Empty
// sub-tokens (from "__" or edges) are dropped.
std::vector<std::string> SplitIdentifier(std::string_view ident);

// Words of code or prose text in order: each identifier-like run
// ([A-Za-z_][A-Za-z0-9_]*) lower-cased whole, followed by its sub-tokens
// when it has more than one; other characters separate. Non-ASCII letters
// are kept inside words.
// Refinements: a run that begins with a digit (a number: "42", "0xff",
// "1u32") is skipped whole; a run of underscores only ("_") gives nothing; a
// run whose single sub-token differs from it ("_private") is followed by
// that sub-token ("private").
std::vector<std::string> CodeWords(std::string_view text);

// The allocation-free form of CodeWords, for hot loops: for each
// identifier-like run calls visit(whole, parts, n_parts) where `whole` is the
// lower-cased run and parts[0..n_parts) its sub-tokens (views into `whole`).
// CodeWords(text) is `whole`, then the parts when n_parts > 1 or when the only
// part differs from `whole`. Views are valid during the call only. Runs with
// no sub-token (all underscores) and numbers are not visited.
template <typename Visit>
void ForEachIdentifier(std::string_view text, Visit&& visit);

// ---------------------------------------------------------------------------
// Implementation details below.

namespace tokenize_internal {

enum CharClass : unsigned char { kSep = 0, kLower, kUpper, kDigit, kUnderscore };

struct CharClassTable {
  unsigned char c[256];
  constexpr CharClassTable() : c() {
    for (int i = 0; i < 256; ++i) {
      c[i] = kSep;
      if (i >= 'a' && i <= 'z') c[i] = kLower;
      if (i >= 'A' && i <= 'Z') c[i] = kUpper;
      if (i >= '0' && i <= '9') c[i] = kDigit;
      if (i == '_') c[i] = kUnderscore;
      if (i >= 0x80) c[i] = kLower;
    }
  }
};
inline constexpr CharClassTable kClasses{};

inline CharClass ClassOf(char ch) {
  return static_cast<CharClass>(kClasses.c[static_cast<unsigned char>(ch)]);
}

// Splits run[0..n) (an identifier) into sub-token [begin, end) ranges; returns
// their count, at most `max_parts` (the rest are merged into the last one).
size_t SplitRanges(const char* run, size_t n, size_t* begins, size_t* ends, size_t max_parts);

// Longest identifier handled whole; longer runs are cut into pieces of this
// size (minified or generated code), keeping the cost linear.
inline constexpr size_t kMaxRun = 256;
inline constexpr size_t kMaxParts = kMaxRun;

}  // namespace tokenize_internal

template <typename Visit>
void ForEachIdentifier(std::string_view text, Visit&& visit) {
  using namespace tokenize_internal;
  char lower[kMaxRun];
  size_t begins[kMaxParts], ends[kMaxParts];
  std::string_view parts[kMaxParts];
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p < end) {
    CharClass c = ClassOf(*p);
    if (c == kSep) {
      ++p;
      continue;
    }
    const char* start = p;
    while (p < end && ClassOf(*p) != kSep) ++p;
    if (c == kDigit) continue;  // a number literal
    for (const char* piece = start; piece < p; piece += kMaxRun) {
      size_t n =
          static_cast<size_t>(p - piece) < kMaxRun ? static_cast<size_t>(p - piece) : kMaxRun;
      size_t k = SplitRanges(piece, n, begins, ends, kMaxParts);
      if (k == 0) continue;
      for (size_t i = 0; i < n; ++i) {
        char ch = piece[i];
        lower[i] = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch + ('a' - 'A')) : ch;
      }
      for (size_t i = 0; i < k; ++i)
        parts[i] = std::string_view(lower + begins[i], ends[i] - begins[i]);
      visit(std::string_view(lower, n), static_cast<const std::string_view*>(parts), k);
    }
  }
}

}  // namespace ferrograph

#endif  // FERROGRAPH_EMBED_TOKENIZE_H_
