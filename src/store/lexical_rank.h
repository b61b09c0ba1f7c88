// Exact BM25 over the lexical index (FTS5) without scoring every match.
//
// FTS5's own `ORDER BY rank` evaluates bm25() on every row that holds any
// of the query's words, and bm25() first walks the whole posting list of
// each word to count its documents. A natural-language question shares a
// frequent word ("returns", "value", "new") with a fifth of the corpus, so
// most of a search went into rows that could never reach the top.
//
// Store::LexicalSearch instead ranks with MaxScore (Turtle and Flood,
// 1995): a word held by d of N rows adds at most idf(d) * (k1 + 1) to any
// row's score, so once the k-th best score among the rows holding one of
// the rare ("essential") words exceeds the summed bounds of the frequent
// ones, no row holding only frequent words can enter the top k. The rare
// words pick the rows (MATCH), the frequent ones are still scored on those
// rows, and the answer equals bm25()'s own top k.
//
// LexicalRanker is the per-connection machinery: FTS5's tokenizer (to map
// query words to index terms), its vocabulary (document counts without a
// posting-list walk) and the SQL rank function fg_bm25.
#ifndef FERROGRAPH_STORE_LEXICAL_RANK_H_
#define FERROGRAPH_STORE_LEXICAL_RANK_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ferrograph/status.h"
#include "store/sqlite.h"

struct fts5_api;
struct fts5_tokenizer;
struct Fts5Tokenizer;

namespace ferrograph {

// FTS5's bm25() constants, and the column weights of the lexical table's
// columns (name, path, signature, docs, idents): a hit in the name counts
// most, then split identifiers, the signature, the path, the docs.
inline constexpr double kBm25K1 = 1.2;
inline constexpr double kBm25B = 0.75;
inline constexpr double kLexicalColumnWeights[] = {10.0, 2.0, 3.0, 1.0, 4.0};

// A query word as the index knows it.
struct LexicalTerm {
  std::string word;  // the query's word (an FTS5 phrase when quoted)
  int64_t docs = 0;  // rows holding it
};

// idf as bm25() computes it over `rows` rows, `docs` of which hold the
// term: log((rows - docs + 0.5) / (docs + 0.5)), at least 1e-6.
double Bm25Idf(int64_t rows, int64_t docs);
// The most a term can add to any row's score: idf * (k1 + 1).
double Bm25UpperBound(int64_t rows, int64_t docs);

// Token counts of lexical rows by rowid, kept between searches: FTS5 reads
// each row's count with an SQL statement of its own, which is most of the
// cost of scoring a row the first time (about 9 us from a cold page cache,
// against 110-160 ns a row for one scan of FTS5's docsize records; measured
// on 335k rows). Rows are read one by one as searches score them until the
// reads, counting those a search is about to make, would cost about as much
// as one scan of the whole table: then every count is read in that scan.
struct LexicalLengths {
  // A scan costs about as much as reading this fraction of the rows one by
  // one (1/64), and at least this many (small indexes).
  static constexpr int64_t kScanCostDivisor = 64;
  static constexpr int64_t kMinReadsBeforeScan = 1024;
  std::vector<uint32_t> by_rowid;  // count + 1; 0 when not known
  int64_t misses = 0;              // rows read one by one since the last scan
  bool scanned = false;            // every row's count was read by a scan
  // A scan decodes FTS5's docsize records itself: the first rows scored
  // after it are checked against FTS5, and on a disagreement the scanned
  // counts are dropped and never scanned again.
  int verify = 0;
  bool scans_agree = true;
  int64_t epoch = -1;  // meta 'lexical_epoch' the counts were read under
  void Clear() {
    by_rowid.clear();
    misses = 0;
    verify = 0;
    scanned = false;
  }
  // Whether to scan before scoring up to `rows` more rows of an index of
  // about `index_rows` rows. Before the first scan every row scored is read
  // unless known; after one, only rows added since are, which `misses`
  // counts.
  bool ScanBefore(int64_t rows, int64_t index_rows) const {
    if (!scans_agree) return false;
    const int64_t threshold = std::max(kMinReadsBeforeScan, index_rows / kScanCostDivisor);
    return misses + (scanned ? 0 : rows) >= threshold;
  }
};

// Reads every row's token count from the lexical index's docsize table (one
// scan) into `lengths`.
Status ScanLexicalLengths(Database& db, LexicalLengths* lengths);

// What fg_bm25(lexical, ?) reads, bound as a pointer of type
// kBm25ParamsType: it scores the statement's first `docs.size()` phrases
// (later phrases only shape which rows match) and fills the rest on its
// first call.
struct Bm25Params {
  std::vector<int64_t> docs;          // per scored phrase: rows holding it
  LexicalLengths* lengths = nullptr;  // kept token counts, or none
  bool ready = false;
  int64_t rows = 0;  // rows in the index
  double avgdl = 0;  // mean tokens per row
  std::vector<double> idf;
};
inline constexpr char kBm25ParamsType[] = "ferrograph_bm25_params";

class LexicalRanker {
 public:
  // Registers fg_bm25 on `db` and sets up the tokenizer and the vocabulary
  // (a temporary fts5vocab table). `db` must outlive the ranker.
  static Result<std::unique_ptr<LexicalRanker>> Create(Database& db);
  ~LexicalRanker();
  LexicalRanker(const LexicalRanker&) = delete;
  LexicalRanker& operator=(const LexicalRanker&) = delete;

  // The distinct terms of `words` (words that the index's tokenizer turns
  // into the same tokens count once, the first kept; words without tokens
  // drop), each with the number of rows holding it, rarest first.
  // `index_state` names the state of the lexical index (its rows): counts
  // are kept between calls with the same state, since FTS5 counts them by
  // walking the term's whole posting list.
  Result<std::vector<LexicalTerm>> Terms(const std::vector<std::string>& words,
                                         const std::string& index_state);

 private:
  explicit LexicalRanker(Database& db) : db_(db) {}
  Result<std::vector<std::string>> Tokenize(const std::string& word);

  Database& db_;
  fts5_api* api_ = nullptr;
  std::unique_ptr<fts5_tokenizer> tokenizer_api_;
  Fts5Tokenizer* tokenizer_ = nullptr;
  Statement vocab_;   // rows holding one term
  Statement phrase_;  // rows holding a phrase of several tokens
  std::string counted_state_;
  std::unordered_map<std::string, int64_t> docs_;  // by tokens, under counted_state_
};

// `word` as an FTS5 phrase: in double quotes, inner quotes doubled.
std::string QuotedPhrase(const std::string& word);

}  // namespace ferrograph

#endif  // FERROGRAPH_STORE_LEXICAL_RANK_H_
