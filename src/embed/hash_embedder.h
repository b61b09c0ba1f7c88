// HashEmbedder: the built-in, offline embedder. Code-aware feature hashing:
// no model, no training, the same vector for the same text on every platform
// and in every process.
//
// A text's features are the words of CodeWords (tokenize.h):
//   - each identifier sub-token and prose word (the main signal; lightly
//     stemmed, so "parsing", "parses" and "parse" meet),
//   - each multi-part identifier whole ("parse_unicode_class"),
//   - adjacent token pairs ("unicode class" in a query meets the pair inside
//     `parse_unicode_class`),
//   - character 3-grams of each token with boundary markers ("<pa", "par",
//     ..., "se>"), for partial and misspelled matches.
// English function words, Rust keywords and one-letter tokens are dropped.
// Each feature is hashed (a fixed, seeded 64-bit hash written here; never
// std::hash) to one dimension and a sign, weighted by its kind and by
// 1 + ln(term frequency), and the sum is L2-normalized.
//
// Thread safety: as Embedder (one thread at a time per instance); distinct
// instances are independent.
#ifndef FERROGRAPH_EMBED_HASH_EMBEDDER_H_
#define FERROGRAPH_EMBED_HASH_EMBEDDER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "embed/embedder.h"

namespace ferrograph {

struct HashEmbedderOptions {
  int dim = 384;
  // Light suffix stripping (plural -s/-es/-ies, -ing, -ed, final -e) on both
  // documents and queries.
  bool stem = true;
  bool char_ngrams = true;
  bool token_pairs = true;
  // Seeds the feature hash; another seed gives an unrelated vector space.
  uint64_t seed = 0;
};

// The model id: "hash-v1-384" for the default options; any other option
// is named in it ("hash-v1-256-nostem-seed7"), so different options never
// share an id.
std::string HashEmbedderModelId(const HashEmbedderOptions& options);

// Never fails. options.dim must be positive (asserted; clamped to 1).
std::unique_ptr<Embedder> MakeHashEmbedder(const HashEmbedderOptions& options = {});

// The light stemmer on its own (a lower-cased word in, its stem out), for
// tests and for the lexical index to agree with the embedder. Words of 3
// bytes or less, or longer than 64, come back unchanged.
std::string StemWord(std::string_view word);

// The feature hash: 64 bits of `bytes` under `seed`, identical on every
// platform.
uint64_t FeatureHash64(std::string_view bytes, uint64_t seed);

}  // namespace ferrograph

#endif  // FERROGRAPH_EMBED_HASH_EMBEDDER_H_
