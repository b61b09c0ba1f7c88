// fastText embedder: subword word vectors trained locally on the workspace's
// own identifiers and doc comments with Debian's libfasttext (0.9.2); nothing
// is downloaded.
//
// A text embeds as the L2-normalized mean of the L2-normalized vectors of its
// CodeWords (tokenize.h), fastText's own sentence-vector recipe for
// unsupervised models; a word outside the vocabulary gets the vector of its
// character n-grams. The model id is "fasttext-" + the first 16 hex digits of
// the BLAKE3 of the model file's bytes, so retraining changes the id.
//
// libfasttext throws on bad input, and can loop or allocate without bound on
// a truncated file. Everything here validates first (the whole file layout is
// checked before libfasttext sees a byte) and catches what is left; no
// exception leaves this module.
//
// Thread safety: TrainFastText and LoadFastTextModel may run concurrently on
// different paths; the embedder is used as any Embedder (one thread at a
// time).
#ifndef FERROGRAPH_EMBED_FASTTEXT_EMBEDDER_H_
#define FERROGRAPH_EMBED_FASTTEXT_EMBEDDER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "embed/embedder.h"
#include "ferrograph/provenance.h"
#include "ferrograph/status.h"

namespace ferrograph {

struct FastTextTrainOptions {
  bool skipgram = true;  // false: cbow
  int dim = 100;
  int epoch = 5;
  int min_count = 2;  // rarer words get no vector of their own (their n-grams still do)
  int minn = 3;       // character n-gram lengths
  int maxn = 6;
  int window = 5;
  int negatives = 5;
  double learning_rate = 0.05;
  // Hash buckets of the character n-grams. The model file holds
  // (vocabulary + bucket) x dim floats: 200000 x 100 is 80 MB (fastText's own
  // default of 2M would be 800 MB).
  int bucket = 200000;
  // 1 makes training reproducible: the same documents and seed give a
  // byte-identical model file. More threads train faster but update shared
  // weights without locks (Hogwild), so files differ from run to run.
  int threads = 1;
  int seed = 0;
};

// One training line: the CodeWords of `document` joined by single spaces.
std::string FastTextTrainingLine(std::string_view document);

// Trains a model on `documents` (one text each, e.g. an item's signature, docs
// and body) and writes it to `out_path` (a temporary file in the same
// directory renamed into place; the training text is a temporary file there
// too, removed afterwards). Fails with InvalidArgument on bad options or when
// the documents give no word seen min_count times, IOError when the directory
// is not writable, Internal when libfasttext fails.
Status TrainFastText(const std::vector<std::string>& documents, const FastTextTrainOptions& options,
                     const std::string& out_path);

// The one place a model file is read: verifies its provenance against
// `trust` (provenance.h: a manifest beside it signed by a trusted key, unless
// unsigned models are allowed), checks it (exists, readable, fastText magic
// and version, the whole layout consistent and not truncated), digests it and
// loads it, all from one read of the bytes. NotFound when missing, IOError
// when unreadable, InvalidArgument when unsigned or signed by an unknown key,
// Corruption when tampered, damaged or not a fastText model, Unsupported for
// quantized (.ftz) models; each message names the file and the reason.
Result<std::unique_ptr<Embedder>> LoadFastTextModel(const std::string& path,
                                                    const ModelTrust& trust);
// The same with the process's trust (CurrentModelTrust).
Result<std::unique_ptr<Embedder>> LoadFastTextModel(const std::string& path);

}  // namespace ferrograph

#endif  // FERROGRAPH_EMBED_FASTTEXT_EMBEDDER_H_
