#include "store/lexical_rank.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace ferrograph {

namespace {

constexpr int kColumnCount =
    static_cast<int>(sizeof(kLexicalColumnWeights) / sizeof(kLexicalColumnWeights[0]));

// fg_bm25(lexical, params): the score bm25() would give the row over the
// first params->docs.size() phrases, same formula and constants, positive
// (higher is better). Where bm25() walks every phrase's posting list to
// count its documents, the counts come with the parameters (from the
// vocabulary), and each phrase's hits are read from its own position list
// rather than from the instances of every phrase of the query.
void Bm25Function(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* ctx, int argc,
                  sqlite3_value** argv) {
  auto* p = argc == 1 ? static_cast<Bm25Params*>(sqlite3_value_pointer(argv[0], kBm25ParamsType))
                      : nullptr;
  if (p == nullptr) {
    sqlite3_result_error(ctx, "fg_bm25: wants one argument, the parameters pointer", -1);
    return;
  }
  const int phrases = api->xPhraseCount(fts);
  if (static_cast<int>(p->docs.size()) > phrases) {
    sqlite3_result_error(ctx, "fg_bm25: more scored phrases than the query has", -1);
    return;
  }
  if (!p->ready) {
    sqlite3_int64 rows = 0, tokens = 0;
    int rc = api->xRowCount(fts, &rows);
    if (rc == SQLITE_OK) rc = api->xColumnTotalSize(fts, -1, &tokens);
    if (rc != SQLITE_OK) {
      sqlite3_result_error_code(ctx, rc);
      return;
    }
    p->rows = rows;
    p->avgdl = rows > 0 ? static_cast<double>(tokens) / static_cast<double>(rows) : 0;
    p->idf.clear();
    for (int64_t d : p->docs) p->idf.push_back(Bm25Idf(rows, d));
    p->ready = true;
  }
  int length = 0;
  int rc = SQLITE_OK;
  const sqlite3_int64 rowid = api->xRowid(fts);
  LexicalLengths* kept = p->lengths;
  const bool keepable = kept != nullptr && rowid >= 0 && rowid < (int64_t{1} << 31);
  const uint32_t known =
      keepable && static_cast<size_t>(rowid) < kept->by_rowid.size() ? kept->by_rowid[rowid] : 0;
  if (known != 0 && kept->verify <= 0) {
    length = static_cast<int>(known - 1);
  } else {
    rc = api->xColumnSize(fts, -1, &length);
    if (rc != SQLITE_OK) {
      sqlite3_result_error_code(ctx, rc);
      return;
    }
    if (known != 0) {  // checking a scan
      --kept->verify;
      if (known - 1 != static_cast<uint32_t>(length)) {
        kept->Clear();
        kept->scans_agree = false;
      }
    } else if (keepable && length >= 0) {
      ++kept->misses;
      if (static_cast<size_t>(rowid) >= kept->by_rowid.size())
        kept->by_rowid.resize(
            std::max<size_t>(static_cast<size_t>(rowid) + 1, kept->by_rowid.size() * 2));
      kept->by_rowid[rowid] = static_cast<uint32_t>(length) + 1;
    }
  }
  const double norm =
      kBm25K1 * (1 - kBm25B + kBm25B * static_cast<double>(length) / (p->avgdl > 0 ? p->avgdl : 1));
  double score = 0;
  for (size_t i = 0; i < p->docs.size(); ++i) {
    Fts5PhraseIter it;
    int column = 0, offset = 0;
    double freq = 0;
    rc = api->xPhraseFirst(fts, static_cast<int>(i), &it, &column, &offset);
    if (rc != SQLITE_OK) {
      sqlite3_result_error_code(ctx, rc);
      return;
    }
    for (; column >= 0; api->xPhraseNext(fts, &it, &column, &offset))
      freq += column < kColumnCount ? kLexicalColumnWeights[column] : 1.0;
    if (freq > 0) score += p->idf[i] * (freq * (kBm25K1 + 1.0) / (freq + norm));
  }
  sqlite3_result_double(ctx, score);
}

struct TokenSink {
  std::vector<std::string>* tokens;
};

int CollectToken(void* ctx, int flags, const char* token, int n, int, int) {
  // Synonyms at the same position (FTS5_TOKEN_COLOCATED) are not a token of
  // their own; the built-in tokenizers make none.
  if (flags & FTS5_TOKEN_COLOCATED) return SQLITE_OK;
  static_cast<TokenSink*>(ctx)->tokens->emplace_back(token, static_cast<size_t>(n));
  return SQLITE_OK;
}

}  // namespace

Status ScanLexicalLengths(Database& db, LexicalLengths* lengths) {
  // %_docsize(id INTEGER PRIMARY KEY, sz BLOB): per column, the row's token
  // count as an SQLite varint (big-endian groups of 7 bits, the high bit set
  // on all but the last byte).
  FG_ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT id, sz FROM lexical_docsize"));
  std::vector<uint32_t> out;
  for (;;) {
    FG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    int64_t id = st.Int(0);
    std::string_view sz = st.BlobView(1);
    if (id < 0 || id >= (int64_t{1} << 31)) continue;
    uint64_t total = 0;
    for (size_t i = 0; i < sz.size();) {
      uint64_t v = 0;
      for (int n = 0; i < sz.size() && n < 9; ++n) {
        auto c = static_cast<unsigned char>(sz[i++]);
        v = (v << 7) | (c & 0x7f);
        if (!(c & 0x80)) break;
      }
      total += v;
    }
    if (total >= UINT32_MAX) continue;
    if (static_cast<size_t>(id) >= out.size())
      out.resize(std::max<size_t>(static_cast<size_t>(id) + 1, out.size() * 2));
    out[id] = static_cast<uint32_t>(total) + 1;
  }
  lengths->by_rowid = std::move(out);
  lengths->misses = 0;
  lengths->verify = 64;
  lengths->scanned = true;
  return Status::OK();
}

double Bm25Idf(int64_t rows, int64_t docs) {
  double idf = std::log((static_cast<double>(rows) - static_cast<double>(docs) + 0.5) /
                        (static_cast<double>(docs) + 0.5));
  return idf <= 0.0 ? 1e-6 : idf;
}

double Bm25UpperBound(int64_t rows, int64_t docs) { return Bm25Idf(rows, docs) * (kBm25K1 + 1.0); }

std::string QuotedPhrase(const std::string& word) {
  std::string out = "\"";
  for (char c : word) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

Result<std::unique_ptr<LexicalRanker>> LexicalRanker::Create(Database& db) {
  std::unique_ptr<LexicalRanker> r(new LexicalRanker(db));
  {
    FG_ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT fts5(?1)"));
    st.BindPointer(1, static_cast<void*>(&r->api_), "fts5_api_ptr");
    FG_RETURN_IF_ERROR(st.Run());
  }
  if (r->api_ == nullptr || r->api_->iVersion < 2)
    return Status::Unsupported(db.path() + ": this SQLite has no usable FTS5 API");
  int rc = r->api_->xCreateFunction(r->api_, "fg_bm25", nullptr, &Bm25Function, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(rc, db.path() + ": cannot register fg_bm25");
  // The lexical table's tokenizer: tokenize='porter unicode61'.
  void* user = nullptr;
  r->tokenizer_api_ = std::make_unique<fts5_tokenizer>();
  rc = r->api_->xFindTokenizer(r->api_, "porter", &user, r->tokenizer_api_.get());
  if (rc != SQLITE_OK) return SqliteStatus(rc, db.path() + ": FTS5 has no porter tokenizer");
  const char* args[] = {"unicode61"};
  rc = r->tokenizer_api_->xCreate(user, args, 1, &r->tokenizer_);
  if (rc != SQLITE_OK) return SqliteStatus(rc, db.path() + ": cannot create the porter tokenizer");
  FG_RETURN_IF_ERROR(db.WithTempWrites([&] {
    return db.Exec(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.fg_lexical_vocab USING "
        "fts5vocab(main, lexical, row)");
  }));
  FG_ASSIGN_OR_RETURN(r->vocab_,
                      db.Prepare("SELECT doc FROM temp.fg_lexical_vocab WHERE term = ?1"));
  FG_ASSIGN_OR_RETURN(r->phrase_,
                      db.Prepare("SELECT count(*) FROM lexical WHERE lexical MATCH ?1"));
  return r;
}

LexicalRanker::~LexicalRanker() {
  if (tokenizer_ != nullptr) tokenizer_api_->xDelete(tokenizer_);
}

Result<std::vector<std::string>> LexicalRanker::Tokenize(const std::string& word) {
  std::vector<std::string> tokens;
  TokenSink sink{&tokens};
  int rc = tokenizer_api_->xTokenize(tokenizer_, &sink, FTS5_TOKENIZE_QUERY, word.data(),
                                     static_cast<int>(word.size()), &CollectToken);
  if (rc != SQLITE_OK) return SqliteStatus(rc, db_.path() + ": cannot tokenize `" + word + "`");
  return tokens;
}

Result<std::vector<LexicalTerm>> LexicalRanker::Terms(const std::vector<std::string>& words,
                                                      const std::string& index_state) {
  if (index_state != counted_state_) {
    docs_.clear();
    counted_state_ = index_state;
  }
  std::vector<LexicalTerm> out;
  std::unordered_set<std::string> seen;
  for (const std::string& word : words) {
    FG_ASSIGN_OR_RETURN(std::vector<std::string> tokens, Tokenize(word));
    if (tokens.empty()) continue;
    std::string key;
    for (const std::string& t : tokens) key += t + '\0';
    if (!seen.insert(key).second) continue;
    auto known = docs_.find(key);
    if (known != docs_.end()) {
      out.push_back(LexicalTerm{word, known->second});
      continue;
    }
    Statement& st = tokens.size() == 1 ? vocab_ : phrase_;
    st.Bind(1, tokens.size() == 1 ? tokens[0] : QuotedPhrase(word));
    Result<bool> row = st.Step();
    int64_t docs = row.ok() && *row ? st.Int(0) : 0;
    st.Reset();
    if (!row.ok()) return row.status();
    docs_.emplace(std::move(key), docs);
    out.push_back(LexicalTerm{word, docs});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const LexicalTerm& a, const LexicalTerm& b) { return a.docs < b.docs; });
  return out;
}

}  // namespace ferrograph
