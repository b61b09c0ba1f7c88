// The store's search tables: the lexical (FTS5) index over node rows, the
// embedding models and their vectors, and garbage collection of vectors.
#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <unordered_set>

#include "store/lexical_rank.h"
#include "store/node_rows.h"
#include "store/sqlite.h"
#include "store/store.h"

namespace ferrograph {

namespace {

constexpr NodeKind kSearchableKinds[] = {
    NodeKind::kModule,    NodeKind::kFunction, NodeKind::kMethod, NodeKind::kStruct,
    NodeKind::kEnum,      NodeKind::kVariant,  NodeKind::kUnion,  NodeKind::kField,
    NodeKind::kTrait,     NodeKind::kImpl,     NodeKind::kConst,  NodeKind::kStatic,
    NodeKind::kTypeAlias, NodeKind::kMacro,
};

// Kinds that get vectors: the searchable ones but modules and impl blocks,
// whose text is the sum of their members' (a whole file, a whole impl): such
// a vector matches every question a little. They are found lexically and
// through their members (the graph boost).
constexpr NodeKind kVectorKinds[] = {
    NodeKind::kFunction, NodeKind::kMethod, NodeKind::kStruct,    NodeKind::kEnum,
    NodeKind::kVariant,  NodeKind::kUnion,  NodeKind::kField,     NodeKind::kTrait,
    NodeKind::kConst,    NodeKind::kStatic, NodeKind::kTypeAlias, NodeKind::kMacro,
};

// Node columns of a row aliased `n`, in the order ReadNode reads them.
constexpr std::string_view kAliasedNodeColumns =
    "n.id, n.kind, n.name, n.path, n.crate, (SELECT path FROM file_keys WHERE file_keys.id = "
    "n.file_key), n.start_byte, n.end_byte, n.start_line, n.end_line, n.visibility, "
    "n.signature, n.docs, n.attrs, n.content_hash, n.parent, n.file_key";

std::string KindListSql(const std::vector<NodeKind>& kinds) {
  std::string sql = "(";
  bool first = true;
  auto add = [&](NodeKind k) {
    if (!first) sql += ", ";
    first = false;
    sql += "'";
    sql += KindName(k);
    sql += "'";
  };
  if (kinds.empty()) {
    for (NodeKind k : kSearchableKinds) add(k);
  } else {
    for (NodeKind k : kinds) add(k);
  }
  sql += ")";
  return sql;
}

// Filter parameters are bound at fixed indexes, above any query's own.
constexpr int kAsOfParam = 90;
constexpr int kCrateParam = 91;
constexpr int kPrefixParam = 92;

// The WHERE conditions (joined by AND) that admit node rows `n` under
// `filter`. Node sets go through a temporary table (FillFilterNodes).
std::string FilterSql(const NodeFilter& filter) {
  std::string sql = filter.as_of
                        ? "n.valid_from <= ?90 AND (n.valid_to IS NULL OR n.valid_to > ?90)"
                        : "n.valid_to IS NULL";
  sql += " AND n.kind IN " + KindListSql(filter.kinds);
  if (!filter.crate_name.empty()) sql += " AND n.crate = ?91";
  if (!filter.path_prefix.empty())
    sql += " AND (n.path = ?92 OR substr(n.path, 1, length(?92) + 2) = ?92 || '::')";
  if (filter.nodes) sql += " AND n.id IN (SELECT id FROM temp.fg_filter_nodes)";
  return sql;
}

void BindFilter(Statement& st, const NodeFilter& filter) {
  if (filter.as_of) st.Bind(kAsOfParam, *filter.as_of);
  if (!filter.crate_name.empty()) st.Bind(kCrateParam, filter.crate_name);
  if (!filter.path_prefix.empty()) st.Bind(kPrefixParam, filter.path_prefix);
}

// The meta key of a model's vector count.
std::string VectorCountKey(int64_t model) { return "vector_count:" + std::to_string(model); }

Result<int64_t> ScalarInt(Database& db, std::string_view sql) {
  FG_ASSIGN_OR_RETURN(Statement st, db.Prepare(sql));
  FG_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row || st.IsNull(0)) return int64_t{0};
  return st.Int(0);
}

// Fills the temporary table `table` (one blob column `id`) with `ids`.
Status FillIdTable(Database& db, const char* table, const std::vector<NodeId>& ids) {
  return db.WithTempWrites([&]() -> Status {
    FG_RETURN_IF_ERROR(db.Exec(std::string("CREATE TEMP TABLE IF NOT EXISTS ") + table +
                               "(id BLOB PRIMARY KEY) WITHOUT ROWID; DELETE FROM temp." + table +
                               ";"));
    FG_ASSIGN_OR_RETURN(Statement ins, db.Prepare(std::string("INSERT OR IGNORE INTO temp.") +
                                                  table + "(id) VALUES(?1)"));
    for (const NodeId& id : ids) {
      ins.Bind(1, id);
      FG_RETURN_IF_ERROR(ins.Run());
    }
    return Status::OK();
  });
}

Status FillFilterNodes(Database& db, const NodeFilter& filter) {
  if (!filter.nodes) return Status::OK();
  return FillIdTable(db, "fg_filter_nodes", *filter.nodes);
}

// Vectors are stored as little-endian IEEE float32.
std::string EncodeVector(const float* v, int dim) {
  std::string out(static_cast<size_t>(dim) * sizeof(float), '\0');
  std::memcpy(out.data(), v, out.size());
  if constexpr (std::endian::native == std::endian::big) {
    for (size_t i = 0; i < out.size(); i += 4) {
      std::swap(out[i], out[i + 3]);
      std::swap(out[i + 1], out[i + 2]);
    }
  }
  return out;
}

void DecodeVector(const void* blob, int dim, std::vector<float>* out) {
  out->resize(static_cast<size_t>(dim));
  std::memcpy(out->data(), blob, static_cast<size_t>(dim) * sizeof(float));
  if constexpr (std::endian::native == std::endian::big) {
    for (float& f : *out) {
      uint32_t u;
      std::memcpy(&u, &f, 4);
      u = __builtin_bswap32(u);
      std::memcpy(&f, &u, 4);
    }
  }
}

// `text` cut to at most `max` bytes without splitting a UTF-8 sequence.
std::string_view CutUtf8(std::string_view text, size_t max) {
  if (text.size() <= max) return text;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n);
}

// Runs `body` in a write transaction of its own.
Status InTransaction(Database& db, const std::function<Status()>& body) {
  FG_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  Status s = body();
  if (s.ok()) s = db.Exec("COMMIT");
  if (!s.ok()) db.Exec("ROLLBACK");
  return s;
}

}  // namespace

bool IsSearchableKind(NodeKind kind) {
  return std::find(std::begin(kSearchableKinds), std::end(kSearchableKinds), kind) !=
         std::end(kSearchableKinds);
}

Result<int64_t> Store::CatchUpLexical(
    const std::function<std::string(std::string_view, std::string_view)>& split_identifiers) {
  Database& db = *db_;
  int64_t added = 0;
  Status s = InTransaction(db, [&]() -> Status {
    FG_ASSIGN_OR_RETURN(
        int64_t done,
        ScalarInt(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'lexical_rowid'"));
    FG_ASSIGN_OR_RETURN(int64_t last, ScalarInt(db, "SELECT max(rowid) FROM nodes"));
    if (last <= done) return Status::OK();
    FG_ASSIGN_OR_RETURN(Statement rows,
                        db.Prepare("SELECT rowid, kind, name, path, signature, docs FROM nodes "
                                   "WHERE rowid > ?1 AND rowid <= ?2 AND kind IN " +
                                   KindListSql({}) + " ORDER BY rowid"));
    FG_ASSIGN_OR_RETURN(Statement ins,
                        db.Prepare("INSERT INTO lexical(rowid, name, path, signature, docs, "
                                   "idents) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
    rows.Bind(1, done).Bind(2, last);
    for (;;) {
      FG_ASSIGN_OR_RETURN(bool row, rows.Step());
      if (!row) break;
      std::string_view name = rows.TextView(2), signature = rows.TextView(4);
      ins.Bind(1, rows.Int(0))
          .Bind(2, name)
          .Bind(3, rows.TextView(3))
          .Bind(4, signature)
          .Bind(5, rows.TextView(5))
          .Bind(6, split_identifiers(name, signature));
      FG_RETURN_IF_ERROR(ins.Run());
      ++added;
    }
    FG_ASSIGN_OR_RETURN(Statement mark,
                        db.Prepare("INSERT INTO meta(key, value) VALUES('lexical_rowid', ?1) "
                                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
    mark.Bind(1, std::to_string(last));
    return mark.Run();
  });
  if (!s.ok()) return s.WithContext("updating the lexical index");
  return added;
}

namespace {

// The lexical index's state: its epoch (a new one after gc emptied it)
// and the last node row it holds.
struct LexicalIndexState {
  int64_t epoch = 0;
  int64_t filled = 0;
};

Result<LexicalIndexState> ReadLexicalIndexState(Database& db) {
  FG_ASSIGN_OR_RETURN(Statement st,
                      db.Prepare("SELECT key, CAST(value AS INTEGER) FROM meta WHERE key IN "
                                 "('lexical_epoch', 'lexical_rowid')"));
  LexicalIndexState state;
  for (;;) {
    FG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    (st.TextView(0) == "lexical_epoch" ? state.epoch : state.filled) = st.Int(1);
  }
  return state;
}

}  // namespace

Status Store::WarmLexicalSearch() {
  if (!lexical_ranker_) {
    FG_ASSIGN_OR_RETURN(lexical_ranker_, LexicalRanker::Create(*db_));
  }
  if (!lexical_lengths_) lexical_lengths_ = std::make_unique<LexicalLengths>();
  FG_ASSIGN_OR_RETURN(LexicalIndexState state, ReadLexicalIndexState(*db_));
  FG_RETURN_IF_ERROR(ScanLexicalLengths(*db_, lexical_lengths_.get()));
  lexical_lengths_->epoch = state.epoch;
  return Status::OK();
}

Result<std::vector<ScoredNode>> Store::LexicalSearch(const std::vector<std::string>& words,
                                                     const NodeFilter& filter, int limit,
                                                     int64_t essential_rows) {
  Database& db = *db_;
  if (!lexical_ranker_) {
    FG_ASSIGN_OR_RETURN(lexical_ranker_, LexicalRanker::Create(db));
  }
  // One snapshot for the whole search: the index state the row lengths and
  // word counts are kept under, those counts, a scan of the lengths and the
  // matches all agree, whatever a writer commits meanwhile.
  ReadSnapshot snapshot(db);
  FG_RETURN_IF_ERROR(snapshot.status());
  FG_ASSIGN_OR_RETURN(LexicalIndexState state, ReadLexicalIndexState(db));
  if (!lexical_lengths_) lexical_lengths_ = std::make_unique<LexicalLengths>();
  LexicalLengths& lengths = *lexical_lengths_;
  if (state.epoch != lengths.epoch) {
    lengths.Clear();
    lengths.epoch = state.epoch;
  }
  FG_ASSIGN_OR_RETURN(std::vector<LexicalTerm> terms,
                      lexical_ranker_->Terms(
                          words, std::to_string(state.epoch) + ":" + std::to_string(state.filled)));
  // A term no row holds adds nothing to any score.
  std::erase_if(terms, [](const LexicalTerm& t) { return t.docs == 0; });
  std::vector<ScoredNode> out;
  if (terms.empty() || limit <= 0) return out;
  FG_RETURN_IF_ERROR(FillFilterNodes(db, filter));

  // The essential terms (rarest first) pick the rows; the others are scored
  // on those rows only. Start with the rare terms that hold about
  // `essential_rows` rows between them, at least one.
  size_t essential = 1;
  for (int64_t rows = terms[0].docs;
       essential < terms.size() && rows + terms[essential].docs <= essential_rows; ++essential)
    rows += terms[essential].docs;

  // Each round ranks its best `inner` rows before the join with the node
  // rows; when the filter (or history) leaves fewer than `limit` of those,
  // it runs again with a bound 8 times larger, then over every row.
  const int64_t first_inner = 2 * static_cast<int64_t>(limit);
  auto any_of = [&](size_t from, size_t to) {
    std::string phrases;
    for (size_t i = from; i < to; ++i)
      phrases += (i > from ? " OR " : "") + QuotedPhrase(terms[i].word);
    return phrases;
  };
  auto better = [](const ScoredNode& a, const ScoredNode& b) {
    return a.score != b.score ? a.score > b.score : a.node.path < b.node.path;
  };
  size_t scored = 0;        // terms that picked the rows of earlier rounds
  int64_t index_rows = -1;  // rows in the index, once a round scored one
  for (;;) {
    // This round's rows hold one of the terms that became essential since
    // the last round and none of the earlier ones (those rows are scored
    // already). Phrases: the new essential terms, the others, the new
    // essential ones again (so that the second group matches whenever the
    // first does), the earlier ones; fg_bm25 scores the first two groups,
    // which are all the terms such a row can hold.
    const std::string picks = any_of(scored, essential);
    std::string match = picks;
    if (essential < terms.size())
      match = "(" + picks + ") AND (" + any_of(essential, terms.size()) + " OR " + picks + ")";
    if (scored > 0) match = "(" + match + ") NOT (" + any_of(0, scored) + ")";
    // The rows this round scores hold one of its picks: when reading their
    // lengths one by one would cost more than a scan, scan first.
    int64_t picked_rows = 0;
    for (size_t i = scored; i < essential; ++i) picked_rows += terms[i].docs;
    if (lengths.ScanBefore(picked_rows, state.filled))
      FG_RETURN_IF_ERROR(ScanLexicalLengths(db, &lengths));
    Bm25Params params;
    for (size_t i = scored; i < terms.size(); ++i) params.docs.push_back(terms[i].docs);
    params.lengths = &lengths;

    std::vector<ScoredNode> round;
    SpanFixer spans(db, overlays_, filter.as_of);
    for (int64_t inner = first_inner;; inner *= 8) {
      const bool bounded = inner <= 8 * first_inner;
      FG_ASSIGN_OR_RETURN(
          Statement st,
          db.Prepare(std::string("SELECT ") + std::string(kAliasedNodeColumns) +
                     ", l.score, l.ranked FROM (SELECT rowid, score, count(*) OVER () AS ranked "
                     "FROM (SELECT rowid, fg_bm25(lexical, ?3) AS score FROM lexical WHERE "
                     "lexical MATCH ?1 ORDER BY score DESC" +
                     (bounded ? " LIMIT ?4" : "") +
                     ")) l CROSS JOIN nodes n ON n.rowid = l.rowid WHERE " + FilterSql(filter) +
                     " ORDER BY l.score DESC, n.path LIMIT ?2"));
      st.Bind(1, match).Bind(2, static_cast<int64_t>(limit));
      st.BindPointer(3, &params, kBm25ParamsType);
      if (bounded) st.Bind(4, inner);
      BindFilter(st, filter);
      round.clear();
      int64_t ranked_rows = -1;  // rows FTS5 ranked (known when one was admitted)
      for (;;) {
        Result<bool> row = st.Step();
        if (!row.ok()) {
          // A query FTS5 cannot parse is the caller's input, not a damaged store.
          if (row.status().message().find("fts5") != std::string::npos)
            return Status::InvalidArgument("lexical query `" + match +
                                           "`: " + row.status().message());
          return row.status();
        }
        if (!*row) break;
        ScoredNode s;
        s.node = ReadNode(st, 0);
        FG_RETURN_IF_ERROR(spans.Fix(st.Int(kNodeFileKeyColumn), &s.node));
        s.score = st.Double(kNodeColumnCount);
        ranked_rows = st.Int(kNodeColumnCount + 1);
        round.push_back(std::move(s));
      }
      // Enough, or FTS5 had fewer matches than the bound: nothing more to find.
      if (!bounded || static_cast<int>(round.size()) >= limit ||
          (ranked_rows >= 0 && ranked_rows < inner))
        break;
    }
    if (params.ready) index_rows = params.rows;
    // The rounds' rows are disjoint: the best of their bests.
    out.insert(out.end(), std::make_move_iterator(round.begin()),
               std::make_move_iterator(round.end()));
    std::sort(out.begin(), out.end(), better);
    if (static_cast<int>(out.size()) > limit) out.resize(static_cast<size_t>(limit));
    if (essential == terms.size()) break;
    // A row holding none of the essential terms scores at most the sum of
    // the other terms' bounds: below the limit-th score, it cannot enter.
    // Otherwise the rarest of the others become essential until it can't.
    // Without a limit-th score (too few rows), every term is essential.
    scored = essential;
    const double kth = static_cast<int>(out.size()) >= limit ? out.back().score : 0;
    if (index_rows < 0 || kth <= 0) {
      essential = terms.size();
      continue;
    }
    double bound = 0;
    for (size_t i = essential; i < terms.size(); ++i)
      bound += Bm25UpperBound(index_rows, terms[i].docs);
    if (bound < kth) break;
    while (essential < terms.size() && bound >= kth)
      bound -= Bm25UpperBound(index_rows, terms[essential++].docs);
  }
  return out;
}

Result<ModelRecord> Store::EnsureModel(const std::string& model_id, int dim,
                                       const std::string& spec) {
  if (dim <= 0) return Status::InvalidArgument("model " + model_id + ": dimension must be > 0");
  FG_ASSIGN_OR_RETURN(std::optional<ModelRecord> found, FindModel(model_id));
  if (found) {
    if (found->dim != dim)
      return Status::Corruption(path_ + ": model " + model_id + " is stored with dimension " +
                                std::to_string(found->dim) + ", the embedder gives " +
                                std::to_string(dim));
    return *found;
  }
  FG_ASSIGN_OR_RETURN(Statement st, db_->Prepare("INSERT INTO models(model_id, dim, spec, "
                                                 "created_ms) VALUES(?1, ?2, ?3, ?4)"));
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  st.Bind(1, model_id).Bind(2, int64_t{dim}).Bind(3, spec).Bind(4, now_ms);
  FG_RETURN_IF_ERROR(st.Run());
  return ModelRecord{db_->LastInsertRowId(), model_id, dim, spec};
}

Result<std::vector<ModelRecord>> Store::Models() {
  FG_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare("SELECT id, model_id, dim, spec FROM models ORDER BY id"));
  std::vector<ModelRecord> out;
  for (;;) {
    FG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(ModelRecord{st.Int(0), st.Text(1), static_cast<int>(st.Int(2)), st.Text(3)});
  }
  return out;
}

Result<std::optional<ModelRecord>> Store::FindModel(const std::string& model_id) {
  FG_ASSIGN_OR_RETURN(Statement st, db_->Prepare("SELECT id, model_id, dim, spec FROM models "
                                                 "WHERE model_id = ?1"));
  st.Bind(1, model_id);
  FG_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<ModelRecord>();
  return std::optional<ModelRecord>(
      ModelRecord{st.Int(0), st.Text(1), static_cast<int>(st.Int(2)), st.Text(3)});
}

Result<std::vector<EmbedJob>> Store::PendingEmbeddings(int64_t model, size_t max_text_bytes,
                                                       int64_t after_rowid, int64_t* last_rowid) {
  Database& db = *db_;
  if (last_rowid) {
    FG_ASSIGN_OR_RETURN(*last_rowid, ScalarInt(db, "SELECT max(rowid) FROM nodes"));
  }
  FG_ASSIGN_OR_RETURN(
      Statement st,
      db.Prepare(
          "SELECT n.content_hash, n.docs, f.hash, n.start_byte, n.end_byte, n.id, n.file_key "
          "FROM nodes n "
          "JOIN files f ON f.file_key = n.file_key AND f.valid_to IS NULL "
          "WHERE n.rowid > ?2 AND n.valid_to IS NULL AND n.kind IN " +
          KindListSql(std::vector<NodeKind>(std::begin(kVectorKinds), std::end(kVectorKinds))) +
          " AND NOT EXISTS(SELECT 1 FROM vectors v WHERE v.model = ?1 AND "
          "v.content_hash = n.content_hash)"));
  st.Bind(1, model).Bind(2, after_rowid);
  struct Pending {
    ContentHash content;
    std::string docs;
    ContentHash file;
    int64_t begin, end;
  };
  std::vector<Pending> pending;
  std::unordered_set<ContentHash, FixedBytesHash> seen;
  // A row an edit above it moved is elsewhere in the current text than its
  // bytes say: its file's overlay places it (span_overlay.h).
  SpanFixer spans(db, overlays_, std::nullopt);
  for (;;) {
    FG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    ContentHash h = st.Bytes<ContentHash>(0);
    if (!seen.insert(h).second) continue;
    int64_t begin = st.Int(3), end = st.Int(4);
    FG_RETURN_IF_ERROR(spans.FixBytes(st.Int(6), st.Bytes<NodeId>(5), &begin, &end));
    pending.push_back(Pending{h, st.Text(1), st.Bytes<ContentHash>(2), begin, end});
  }
  // One read of each file's text.
  std::sort(pending.begin(), pending.end(), [](const Pending& a, const Pending& b) {
    return a.file < b.file || (a.file == b.file && a.begin < b.begin);
  });
  FG_ASSIGN_OR_RETURN(Statement text_of, db.Prepare("SELECT text FROM contents WHERE hash = ?1"));
  std::vector<EmbedJob> out;
  out.reserve(pending.size());
  std::string file_text;
  ContentHash loaded;
  bool have = false;
  for (const Pending& p : pending) {
    if (!have || !(loaded == p.file)) {
      text_of.Bind(1, p.file);
      FG_ASSIGN_OR_RETURN(bool row, text_of.Step());
      file_text = row ? text_of.Text(0) : std::string();
      text_of.Reset();
      loaded = p.file;
      have = true;
    }
    EmbedJob job;
    job.content_hash = p.content;
    std::string text = p.docs;
    if (!text.empty()) text.push_back('\n');
    if (p.begin >= 0 && p.end >= p.begin && static_cast<size_t>(p.end) <= file_text.size())
      text.append(file_text, static_cast<size_t>(p.begin), static_cast<size_t>(p.end - p.begin));
    job.text = std::string(CutUtf8(text, max_text_bytes));
    out.push_back(std::move(job));
  }
  // Embedding order follows content hash: deterministic whatever the files.
  std::sort(out.begin(), out.end(),
            [](const EmbedJob& a, const EmbedJob& b) { return a.content_hash < b.content_hash; });
  return out;
}

Status Store::PutVectors(int64_t model, int dim, const std::vector<ContentHash>& hashes,
                         const std::vector<float>& rows) {
  if (rows.size() != hashes.size() * static_cast<size_t>(dim))
    return Status::InvalidArgument("PutVectors: " + std::to_string(rows.size()) + " floats for " +
                                   std::to_string(hashes.size()) + " vectors of dimension " +
                                   std::to_string(dim));
  Database& db = *db_;
  return InTransaction(db, [&]() -> Status {
    FG_ASSIGN_OR_RETURN(Statement ins,
                        db.Prepare("INSERT OR IGNORE INTO vectors(model, content_hash, vec) "
                                   "VALUES(?1, ?2, ?3)"));
    int64_t added = 0;
    for (size_t i = 0; i < hashes.size(); ++i) {
      std::string blob = EncodeVector(rows.data() + i * static_cast<size_t>(dim), dim);
      ins.Bind(1, model).Bind(2, hashes[i]).BindBlob(3, blob.data(), blob.size());
      FG_RETURN_IF_ERROR(ins.Run());
      added += db.Changes();
    }
    // The model's vector count, kept with the vectors (VectorState): added
    // to, or counted once when a database has none yet. (Not an upsert: its
    // VALUES, count(*) included, would be computed every time.)
    FG_ASSIGN_OR_RETURN(Statement add,
                        db.Prepare("UPDATE meta SET value = value + ?2 WHERE key = ?1"));
    add.Bind(1, VectorCountKey(model)).Bind(2, added);
    FG_RETURN_IF_ERROR(add.Run());
    if (db.Changes() > 0) return Status::OK();
    FG_ASSIGN_OR_RETURN(Statement count,
                        db.Prepare("INSERT INTO meta(key, value) VALUES(?1, (SELECT count(*) FROM "
                                   "vectors WHERE model = ?2))"));
    count.Bind(1, VectorCountKey(model)).Bind(2, model);
    return count.Run();
  });
}

Result<VectorSetState> Store::VectorState(int64_t model) {
  // count(*) of a model's vectors walks all of them (10 ms at 100k): the
  // count is kept in meta by PutVectors and CollectGarbage, and the newest
  // id is the first of the model from the top of the rowids.
  VectorSetState s;
  FG_ASSIGN_OR_RETURN(std::optional<std::string> kept, GetMeta(VectorCountKey(model)));
  if (kept) {
    s.count = std::strtoll(kept->c_str(), nullptr, 10);
  } else {  // a database written before the count was kept
    FG_ASSIGN_OR_RETURN(Statement st,
                        db_->Prepare("SELECT count(*) FROM vectors WHERE model = ?1"));
    st.Bind(1, model);
    FG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) s.count = st.Int(0);
  }
  FG_ASSIGN_OR_RETURN(Statement st, db_->Prepare("SELECT id FROM vectors WHERE +model = ?1 ORDER "
                                                 "BY id DESC LIMIT 1"));
  st.Bind(1, model);
  FG_ASSIGN_OR_RETURN(bool row, st.Step());
  if (row) s.max_id = st.Int(0);
  return s;
}

Status Store::ForEachVector(int64_t model, int64_t after_id,
                            const std::function<Status(int64_t, std::span<const float>)>& fn) {
  FG_ASSIGN_OR_RETURN(Statement dim_st, db_->Prepare("SELECT dim FROM models WHERE id = ?1"));
  dim_st.Bind(1, model);
  FG_ASSIGN_OR_RETURN(bool found, dim_st.Step());
  if (!found) return Status::NotFound(path_ + ": no model with key " + std::to_string(model));
  int dim = static_cast<int>(dim_st.Int(0));
  FG_ASSIGN_OR_RETURN(Statement st, db_->Prepare("SELECT id, vec FROM vectors WHERE model = ?1 "
                                                 "AND id > ?2 ORDER BY id"));
  st.Bind(1, model).Bind(2, after_id);
  std::vector<float> v;
  for (;;) {
    FG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    std::string_view blob = st.BlobView(1);
    if (blob.size() != static_cast<size_t>(dim) * sizeof(float))
      return Status::Corruption(path_ + ": vector " + std::to_string(st.Int(0)) + " has " +
                                std::to_string(blob.size()) + " bytes, expected " +
                                std::to_string(dim * sizeof(float)));
    DecodeVector(blob.data(), dim, &v);
    FG_RETURN_IF_ERROR(fn(st.Int(0), v));
  }
  return Status::OK();
}

Result<std::vector<uint64_t>> Store::VectorIdsMatching(int64_t model, const NodeFilter& filter) {
  Database& db = *db_;
  FG_RETURN_IF_ERROR(FillFilterNodes(db, filter));
  FG_ASSIGN_OR_RETURN(Statement st,
                      db.Prepare("SELECT DISTINCT v.id FROM nodes n JOIN vectors v ON v.model = "
                                 "?1 AND v.content_hash = n.content_hash WHERE " +
                                 FilterSql(filter) + " ORDER BY v.id"));
  st.Bind(1, model);
  BindFilter(st, filter);
  std::vector<uint64_t> out;
  for (;;) {
    FG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(static_cast<uint64_t>(st.Int(0)));
  }
  return out;
}

Result<std::vector<std::pair<uint64_t, Node>>> Store::NodesWithVectors(
    int64_t model, const std::vector<uint64_t>& ids, const NodeFilter& filter) {
  Database& db = *db_;
  FG_RETURN_IF_ERROR(FillFilterNodes(db, filter));
  std::string list = "[";
  for (uint64_t id : ids) list += (list.size() > 1 ? "," : "") + std::to_string(id);
  list += "]";
  FG_ASSIGN_OR_RETURN(
      Statement st,
      db.Prepare(std::string("SELECT v.id, ") + std::string(kAliasedNodeColumns) +
                 // CROSS JOIN fixes the loop order: from the few ids out, never
                 // a scan of the model's vectors.
                 " FROM json_each(?1) j CROSS JOIN vectors v ON v.id = j.value CROSS JOIN nodes "
                 "n ON n.content_hash = v.content_hash WHERE v.model = ?2 AND " +
                 FilterSql(filter)));
  st.Bind(1, list).Bind(2, model);
  BindFilter(st, filter);
  std::vector<std::pair<uint64_t, Node>> out;
  SpanFixer spans(db, overlays_, filter.as_of);
  for (;;) {
    FG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.emplace_back(static_cast<uint64_t>(st.Int(0)), ReadNode(st, 1));
    FG_RETURN_IF_ERROR(spans.Fix(st.Int(1 + kNodeFileKeyColumn), &out.back().second));
  }
  return out;
}

Result<std::vector<Node>> Store::NodesMatching(const std::vector<NodeId>& ids,
                                               const NodeFilter& filter) {
  Database& db = *db_;
  FG_RETURN_IF_ERROR(FillFilterNodes(db, filter));
  FG_RETURN_IF_ERROR(FillIdTable(db, "fg_ids", ids));
  FG_ASSIGN_OR_RETURN(Statement st,
                      db.Prepare(std::string("SELECT ") + std::string(kAliasedNodeColumns) +
                                 " FROM temp.fg_ids t CROSS JOIN nodes n ON n.id = t.id WHERE " +
                                 FilterSql(filter)));
  BindFilter(st, filter);
  std::vector<Node> out;
  SpanFixer spans(db, overlays_, filter.as_of);
  for (;;) {
    FG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(ReadNode(st, 0));
    FG_RETURN_IF_ERROR(spans.Fix(st.Int(kNodeFileKeyColumn), &out.back()));
  }
  return out;
}

Result<std::vector<std::pair<NodeId, Node>>> Store::AttributesUpward(const std::vector<NodeId>& ids,
                                                                     std::optional<int64_t> as_of) {
  Database& db = *db_;
  FG_RETURN_IF_ERROR(FillIdTable(db, "fg_ids", ids));
  const std::string valid = as_of ? "n.valid_from <= ?1 AND (n.valid_to IS NULL OR n.valid_to > ?1)"
                                  : "n.valid_to IS NULL";
  // The depth bound stops a cycle of parents, which a sound graph lacks
  // but a damaged database may have.
  FG_ASSIGN_OR_RETURN(
      Statement st,
      db.Prepare("WITH RECURSIVE up(start, id, depth) AS (SELECT id, id, 0 FROM temp.fg_ids "
                 "UNION ALL SELECT up.start, n.parent, up.depth + 1 FROM up JOIN nodes n ON "
                 "n.id = up.id AND " +
                 valid +
                 " WHERE n.parent IS NOT NULL AND up.depth < 256) "
                 "SELECT up.start, n.id, n.kind, n.path, n.attrs FROM up JOIN nodes n ON n.id = "
                 "up.id AND " +
                 valid + " WHERE n.attrs <> '{}' ORDER BY up.depth"));
  if (as_of) st.Bind(1, *as_of);
  std::vector<std::pair<NodeId, Node>> out;
  for (;;) {
    FG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    Node n;
    n.id = st.Bytes<NodeId>(1);
    n.kind = ParseNodeKind(st.TextView(2)).value_or(NodeKind::kExternal);
    n.path = st.Text(3);
    ParseAttrsJson(st.TextView(4), &n);
    out.emplace_back(st.Bytes<NodeId>(0), std::move(n));
  }
  return out;
}

Result<std::vector<Edge>> Store::EdgesTouching(const std::vector<NodeId>& ids,
                                               const std::vector<EdgeKind>& kinds,
                                               std::optional<int64_t> as_of) {
  Database& db = *db_;
  FG_RETURN_IF_ERROR(FillIdTable(db, "fg_ids", ids));
  std::string valid =
      as_of ? "valid_from <= ?1 AND (valid_to IS NULL OR valid_to > ?1)" : "valid_to IS NULL";
  std::string kind_list;
  for (EdgeKind k : kinds) {
    if (k == EdgeKind::kContains) continue;
    kind_list += kind_list.empty() ? "'" : ", '";
    kind_list += KindName(k);
    kind_list += "'";
  }
  std::vector<Edge> out;
  auto read = [&](Statement& st) -> Status {
    if (as_of) st.Bind(1, *as_of);
    for (;;) {
      FG_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      Edge e;
      e.kind = ParseEdgeKind(st.TextView(0)).value_or(EdgeKind::kContains);
      e.src = st.Bytes<NodeId>(1);
      e.dst = st.Bytes<NodeId>(2);
      out.push_back(std::move(e));
    }
    return Status::OK();
  };
  if (!kind_list.empty()) {
    for (const char* end : {"src", "dst"}) {
      FG_ASSIGN_OR_RETURN(Statement st,
                          // `+kind`: one index seek per node, its edges of
                          // other kinds skipped on the index entries, rather
                          // than one seek per (node, kind).
                          db.Prepare(std::string("SELECT kind, src, dst FROM edges WHERE ") + end +
                                     " IN (SELECT id FROM temp.fg_ids) AND +kind IN (" + kind_list +
                                     ") AND " + valid));
      FG_RETURN_IF_ERROR(read(st));
    }
  }
  if (std::find(kinds.begin(), kinds.end(), EdgeKind::kContains) != kinds.end()) {
    FG_ASSIGN_OR_RETURN(Statement st,
                        db.Prepare("SELECT 'CONTAINS', parent, id FROM nodes WHERE id IN "
                                   "(SELECT id FROM temp.fg_ids) AND parent IS NOT NULL AND " +
                                   valid));
    FG_RETURN_IF_ERROR(read(st));
  }
  return out;
}

Result<int64_t> Store::LastVectorId(int64_t model, int64_t known) {
  // Vector ids only grow: a range scan of the rowids above `known`, which is
  // empty (and instant) when nothing was added.
  // `+model`: the (model, content_hash) index must not drive this query;
  // through it, max(id) visits every vector of the model.
  FG_ASSIGN_OR_RETURN(Statement st, db_->Prepare("SELECT max(id) FROM vectors WHERE id > ?2 AND "
                                                 "+model = ?1"));
  st.Bind(1, model).Bind(2, known);
  FG_ASSIGN_OR_RETURN(bool row, st.Step());
  return row && !st.IsNull(0) ? st.Int(0) : known;
}

Result<GcReport> Store::CollectGarbage(const std::vector<std::string>& keep_models) {
  Database& db = *db_;
  GcReport report;
  Status s = InTransaction(db, [&]() -> Status {
    FG_RETURN_IF_ERROR(
        db.Exec("CREATE TEMP TABLE IF NOT EXISTS fg_keep_models(model_id TEXT PRIMARY KEY);"
                "DELETE FROM temp.fg_keep_models;"));
    FG_ASSIGN_OR_RETURN(Statement keep,
                        db.Prepare("INSERT OR IGNORE INTO temp.fg_keep_models VALUES(?1)"));
    for (const std::string& m : keep_models) {
      keep.Bind(1, m);
      FG_RETURN_IF_ERROR(keep.Run());
    }
    FG_RETURN_IF_ERROR(
        db.Exec("DELETE FROM vectors WHERE model IN (SELECT id FROM models WHERE model_id NOT "
                "IN (SELECT model_id FROM temp.fg_keep_models))"));
    report.vectors_removed += db.Changes();
    FG_RETURN_IF_ERROR(db.Exec(
        "DELETE FROM models WHERE model_id NOT IN (SELECT model_id FROM temp.fg_keep_models)"));
    report.models_removed += db.Changes();
    FG_RETURN_IF_ERROR(
        db.Exec("DELETE FROM vectors WHERE NOT EXISTS(SELECT 1 FROM nodes n "
                "WHERE n.content_hash = vectors.content_hash)"));
    report.vectors_removed += db.Changes();
    // The kept counts (VectorState), counted again.
    FG_RETURN_IF_ERROR(
        db.Exec("DELETE FROM meta WHERE key LIKE 'vector_count:%';"
                "INSERT INTO meta(key, value) SELECT 'vector_count:' || id, (SELECT count(*) FROM "
                "vectors v WHERE v.model = models.id) FROM models;"));
    return Status::OK();
  });
  if (!s.ok()) return s.WithContext("collecting garbage");
  return report;
}

Result<std::optional<std::string>> Store::GetMeta(const std::string& key) {
  FG_ASSIGN_OR_RETURN(Statement st, db_->Prepare("SELECT value FROM meta WHERE key = ?1"));
  st.Bind(1, key);
  FG_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(st.Text(0));
}

Status Store::SetMeta(const std::string& key, const std::string& value) {
  FG_ASSIGN_OR_RETURN(Statement st, db_->Prepare("INSERT INTO meta(key, value) VALUES(?1, ?2) ON "
                                                 "CONFLICT(key) DO UPDATE SET value = "
                                                 "excluded.value"));
  st.Bind(1, key).Bind(2, value);
  return st.Run();
}

}  // namespace ferrograph
