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
// 1 + ln(term frequency). The sum v is scaled by 1 / sqrt(|v|^2 + 10), not
// 1 / |v|: a text with much evidence (many features) gets a vector of length
// near 1, a short one a shorter vector. In 384 dimensions, one feature of a
// query falling into the same dimension as one of a two-word item (1 chance
// in 768 per pair) used to make a cosine of 0.3-0.45, as high as real
// matches; scaled, such an item's inner product with the query is about
// halved, a long item's barely changes. Vector MRR@10 0.121 -> 0.150 on the
// retrieval benchmark, 0.106 -> 0.128 on its held-out crates (hybrid 0.223
// -> 0.232, 0.171 -> 0.180); bench/RESULTS.md. So these vectors are not
// unit vectors (a query's length does not change any ranking); the vector
// indexes rank by inner product.
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

// The model id: "hash-v2-384" for the default options; any other option
// is named in it ("hash-v2-256-nostem-seed7"), so different options never
// share an id. (v1: the same features, L2-normalized.)
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
