// PreTokenizer: splits text into the pieces that BPE then merges, with the
// split regex of a tiktoken encoding, run by PCRE2 (UTF and UCP mode, JIT
// compiled when the library supports it).
//
// Pieces are the successive leftmost matches of the pattern, each search
// starting where the previous match ended, as tiktoken's find_iter does;
// text between matches (none, for tiktoken's patterns, which match at every
// position) is skipped. An empty match (impossible with those patterns)
// yields the character at its position as a piece.
//
// Input must be valid UTF-8: it is not checked again here (BpeTokenizer
// repairs invalid input before splitting). If PCRE2 ever fails on a match
// (JIT stack exhausted: retried without JIT; anything else), the character at
// the failing position becomes a piece of its own, so no text is dropped.
//
// Thread safety: immutable after Create; Next may be called from any number
// of threads at once (match data is per thread).
#ifndef FERROGRAPH_TOKENS_PRETOKENIZER_H_
#define FERROGRAPH_TOKENS_PRETOKENIZER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "ferrograph/status.h"

namespace ferrograph {

class PreTokenizer {
 public:
  // InvalidArgument when PCRE2 rejects `pattern` (with its message and offset).
  static Result<std::unique_ptr<PreTokenizer>> Create(std::string_view pattern);
  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  // The next piece of `text` that starts at or after `pos`, as [*begin, *end);
  // false when there is none.
  bool Next(std::string_view text, size_t pos, size_t* begin, size_t* end) const;

  // Calls visit(std::string_view piece) for every piece of `text`, in order.
  template <typename Visit>
  void ForEachPiece(std::string_view text, Visit&& visit) const {
    size_t pos = 0, begin = 0, end = 0;
    while (pos < text.size() && Next(text, pos, &begin, &end)) {
      visit(text.substr(begin, end - begin));
      pos = end;
    }
  }

  // Whether the pattern runs JIT-compiled.
  bool jit() const { return jit_; }

 private:
  PreTokenizer() = default;

  void* code_ = nullptr;  // pcre2_code_8*
  bool jit_ = false;
};

}  // namespace ferrograph

#endif  // FERROGRAPH_TOKENS_PRETOKENIZER_H_
