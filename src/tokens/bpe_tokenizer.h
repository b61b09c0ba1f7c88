// BpeTokenizer: exact token counts and ids for OpenAI's tiktoken encodings,
// identical to tiktoken (checked against every golden vector that the npm
// package gpt-tokenizer 4.0.0 ships in data/TestPlans.txt).
//
// Encodings: "o200k_base" (gpt-4o, gpt-4.1, o1/o3/o4), "cl100k_base" (gpt-4,
// gpt-3.5-turbo, text-embedding-3-*), and the older "p50k_base",
// "p50k_edit" and "r50k_base". Their rank tables are embedded into the
// library at build time (nothing is read from disk or the network).
//
// How text becomes tokens, as in tiktoken: the encoding's split regex (PCRE2)
// cuts the text into pieces; a piece that is itself a token is that token;
// any other piece is merged from single bytes, always merging the adjacent
// pair whose merged bytes have the lowest rank (the leftmost on ties).
//
// Input that is not valid UTF-8 is handled like tiktoken handles a Python
// str with lone surrogates: each maximal invalid byte sequence is replaced by
// U+FFFD (as Python's bytes.decode("utf-8", "replace") does, and as a JSON
// request to a model would carry it), and the repaired text is encoded. So
// Encode and Count never fail, and Decode(Encode(x)) == x exactly when x is
// valid UTF-8.
//
// Special tokens ("<|endoftext|>", "<|fim_prefix|>", ...) are plain text to
// Encode and Count: "<|endoftext|>" counts as the 7 ordinary tokens it is
// made of (tiktoken's encode_ordinary). EncodeWithSpecialTokens is the one
// call that turns their text into their ids.
//
// Thread safety: a BpeTokenizer is immutable; every method may be called
// from any number of threads at once. Get builds each encoding once (about
// 20 to 40 ms) and keeps it for the life of the process.
#ifndef FERROGRAPH_TOKENS_BPE_TOKENIZER_H_
#define FERROGRAPH_TOKENS_BPE_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferrograph/status.h"
#include "tokens/pretokenizer.h"
#include "tokens/vocabulary.h"

namespace ferrograph {

class BpeTokenizer {
 public:
  // The tokenizer of `encoding`, built on first use. NotFound for a name that
  // is not one of EncodingNames(); Corruption if the embedded tables are
  // damaged (a build defect). The pointer is valid until the process exits.
  static Result<const BpeTokenizer*> Get(std::string_view encoding);
  // The encodings Get knows.
  static std::span<const std::string_view> EncodingNames();

  const std::string& name() const { return name_; }

  // The token ids of `text` (special tokens as plain text; see above).
  std::vector<uint32_t> Encode(std::string_view text) const;
  // Appends the token ids of `text` to *out.
  void Encode(std::string_view text, std::vector<uint32_t>* out) const;
  // Encode(text).size(), without building the vector.
  size_t Count(std::string_view text) const;
  // Like Encode, but the text of this encoding's special tokens becomes their
  // ids (tiktoken's encode with allowed_special="all").
  std::vector<uint32_t> EncodeWithSpecialTokens(std::string_view text) const;

  // The bytes of `tokens`, concatenated. Ids of special tokens give their
  // text; ids that are no token of this encoding give nothing. The result is
  // not valid UTF-8 when the tokens cut a character (a prefix of an encoding).
  std::string Decode(std::span<const uint32_t> tokens) const;
  // The bytes of one token; empty for an id that is no token.
  std::string_view TokenBytes(uint32_t token) const;

  // The id of the special token spelled `text` ("<|endoftext|>"), if any.
  std::optional<uint32_t> SpecialToken(std::string_view text) const;
  const std::vector<std::pair<std::string, uint32_t>>& special_tokens() const { return specials_; }
  // One more than the highest token id, special tokens included.
  uint32_t n_vocab() const { return n_vocab_; }

  // The number of regex pieces in `text` (pre-tokenization alone), for
  // benchmarks and tests.
  size_t CountPieces(std::string_view text) const;
  const PreTokenizer& pretokenizer() const { return *pretokenizer_; }
  const Vocabulary& vocabulary() const { return *vocab_; }

  // Builds a tokenizer; Get is the way in. `pattern` is the split regex (PCRE2
  // syntax) and `specials` the special tokens with their ids.
  static Result<std::unique_ptr<BpeTokenizer>> Create(
      std::string name, std::unique_ptr<Vocabulary> vocab, std::string_view pattern,
      std::vector<std::pair<std::string, uint32_t>> specials);

 private:
  BpeTokenizer() = default;

  template <typename Emit>
  void EncodeValid(std::string_view text, Emit&& emit) const;
  template <typename Emit>
  void EncodeAny(std::string_view text, Emit&& emit) const;

  std::string name_;
  std::unique_ptr<Vocabulary> vocab_;
  std::unique_ptr<PreTokenizer> pretokenizer_;
  std::vector<std::pair<std::string, uint32_t>> specials_;
  uint32_t n_vocab_ = 0;
};

// `text` with each maximal invalid UTF-8 subsequence replaced by U+FFFD
// (Unicode's "maximal subpart" practice, as Python and browsers decode): the
// text that Encode and Count actually tokenize.
std::string ReplaceInvalidUtf8(std::string_view text);

namespace tokens_internal {

// The merge step for one piece, for tests: `use_heap` picks the
// priority-queue merge used for long pieces instead of the linear scan used
// for short ones (both must give the same tokens). The linear scan takes
// pieces of at most 256 bytes (longer ones give nothing).
std::vector<uint32_t> MergePiece(const Vocabulary& vocab, std::string_view piece, bool use_heap);

}  // namespace tokens_internal

}  // namespace ferrograph

#endif  // FERROGRAPH_TOKENS_BPE_TOKENIZER_H_
