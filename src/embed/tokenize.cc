#include "embed/tokenize.h"

namespace ferrograph {
namespace tokenize_internal {

size_t SplitRanges(const char* run, size_t n, size_t* begins, size_t* ends, size_t max_parts) {
  size_t count = 0;
  size_t start = 0;
  bool open = false;  // a sub-token is being read, starting at `start`
  auto close = [&](size_t at) {
    if (!open) return;
    open = false;
    if (count == max_parts) {  // merge into the last one
      ends[count - 1] = at;
      return;
    }
    begins[count] = start;
    ends[count] = at;
    ++count;
  };
  CharClass prev = kSep;
  for (size_t i = 0; i < n; ++i) {
    CharClass c = ClassOf(run[i]);
    switch (c) {
      case kUnderscore:
      case kSep:  // not in identifiers; separates if given anyway
        close(i);
        break;
      case kLower:
        if (open && prev == kDigit) close(i);
        break;
      case kUpper:
        if (open && (prev == kLower || prev == kDigit)) {
          close(i);
        } else if (open && prev == kUpper && i + 1 < n && ClassOf(run[i + 1]) == kLower) {
          close(i);  // "HTTPServer": 'S' starts "server"
        }
        break;
      case kDigit: break;
    }
    if (c != kUnderscore && c != kSep && !open) {
      open = true;
      start = i;
    }
    prev = c;
  }
  close(n);
  return count;
}

}  // namespace tokenize_internal

std::vector<std::string> SplitIdentifier(std::string_view ident) {
  std::vector<std::string> out;
  for (size_t off = 0; off < ident.size(); off += tokenize_internal::kMaxRun) {
    std::string_view piece = ident.substr(off, tokenize_internal::kMaxRun);
    size_t begins[tokenize_internal::kMaxParts], ends[tokenize_internal::kMaxParts];
    size_t k = tokenize_internal::SplitRanges(piece.data(), piece.size(), begins, ends,
                                              tokenize_internal::kMaxParts);
    for (size_t i = 0; i < k; ++i) {
      std::string& s = out.emplace_back(piece.substr(begins[i], ends[i] - begins[i]));
      for (char& ch : s) {
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch + ('a' - 'A'));
      }
    }
  }
  return out;
}

std::vector<std::string> CodeWords(std::string_view text) {
  std::vector<std::string> out;
  ForEachIdentifier(text, [&](std::string_view whole, const std::string_view* parts, size_t n) {
    out.emplace_back(whole);
    if (n > 1 || parts[0] != whole) {
      for (size_t i = 0; i < n; ++i) out.emplace_back(parts[i]);
    }
  });
  return out;
}

}  // namespace ferrograph
