#include "tokens/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <string>

namespace ferrograph {
namespace {

// One match data block per thread, shared by every pattern: only the overall
// match (pair 0) is read.
struct ThreadMatchData {
  pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
  ~ThreadMatchData() { pcre2_match_data_free(md); }
};

pcre2_match_data* MatchData() {
  thread_local ThreadMatchData data;
  return data.md;
}

size_t Utf8CharLength(unsigned char c) {
  if (c < 0xC0) return 1;
  if (c < 0xE0) return 2;
  if (c < 0xF0) return 3;
  return 4;
}

}  // namespace

Result<std::unique_ptr<PreTokenizer>> PreTokenizer::Create(std::string_view pattern) {
  int error = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP, &error, &error_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(error, buf, sizeof(buf));
    return Status::InvalidArgument("split pattern at offset " + std::to_string(error_offset) +
                                   ": " + reinterpret_cast<const char*>(buf));
  }
  std::unique_ptr<PreTokenizer> p(new PreTokenizer());
  p->code_ = code;
  p->jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  return p;
}

PreTokenizer::~PreTokenizer() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

bool PreTokenizer::Next(std::string_view text, size_t pos, size_t* begin, size_t* end) const {
  if (pos >= text.size()) return false;
  auto* code = static_cast<const pcre2_code*>(code_);
  pcre2_match_data* md = MatchData();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  int rc;
  if (jit_) {
    rc = pcre2_jit_match(code, subject, text.size(), pos, 0, md, nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      rc = pcre2_match(code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md,
                       nullptr);
    }
  } else {
    rc = pcre2_match(code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
  }
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) {
    // Never seen with tiktoken's patterns; keep the text, one character.
    *begin = pos;
    *end = std::min(text.size(), pos + Utf8CharLength(static_cast<unsigned char>(text[pos])));
    return true;
  }
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
  *begin = ov[0];
  *end = ov[1];
  if (*end == *begin) {
    // An empty match: its character becomes the piece, so that the caller
    // moves on and no text is dropped.
    if (*begin >= text.size()) return false;
    *end = std::min(text.size(), *begin + Utf8CharLength(static_cast<unsigned char>(text[*begin])));
  }
  return true;
}

}  // namespace ferrograph
