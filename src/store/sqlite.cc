#include "store/sqlite.h"

#include <mutex>
#include <unordered_map>

namespace ferrograph {

class StatementCache {
 public:
  ~StatementCache() { Close(); }

  // An idle statement compiled from exactly `sql`, or nullptr.
  sqlite3_stmt* Take(std::string_view sql) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = idle_.find(std::string(sql));
    if (it == idle_.end()) return nullptr;
    sqlite3_stmt* s = it->second;
    idle_.erase(it);
    return s;
  }

  // Keeps `s` for its SQL text; finalizes it when closed or full.
  void Give(sqlite3_stmt* s) {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    {
      std::lock_guard<std::mutex> lock(mu_);
      const char* sql = sqlite3_sql(s);
      if (!closed_ && sql != nullptr && idle_.size() < kMaxIdle) {
        idle_.emplace(sql, s);
        return;
      }
    }
    sqlite3_finalize(s);
  }

  // Finalizes the idle statements (before the connection closes); those
  // given back later are finalized at once.
  void Close() {
    std::unordered_multimap<std::string, sqlite3_stmt*> idle;
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
      idle.swap(idle_);
    }
    for (auto& [sql, s] : idle) sqlite3_finalize(s);
  }

 private:
  static constexpr size_t kMaxIdle = 256;
  std::mutex mu_;
  std::unordered_multimap<std::string, sqlite3_stmt*> idle_;
  bool closed_ = false;
};

void Statement::Deleter::operator()(sqlite3_stmt* s) const {
  if (cache)
    cache->Give(s);
  else
    sqlite3_finalize(s);
}

Database::Database(sqlite3* db, std::string path)
    : db_(db), path_(std::move(path)), statements_(std::make_shared<StatementCache>()) {}

Database::~Database() { statements_->Close(); }

ReadSnapshot::ReadSnapshot(Database& db) : db_(db) {
  if (sqlite3_get_autocommit(db.raw()) == 0) return;  // inside a transaction already
  status_ = db.Exec("BEGIN");
  own_ = status_.ok();
}

ReadSnapshot::~ReadSnapshot() {
  // A read transaction has nothing to keep: ending it loses no work, and it
  // must end, or the connection would read this snapshot from then on.
  if (!own_ || sqlite3_get_autocommit(db_.raw()) != 0) return;
  if (!db_.Exec("COMMIT").ok()) (void)db_.Exec("ROLLBACK");
}

Status SqliteStatus(int rc, std::string_view message) {
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE: return Status::OK();
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return Status::Corruption(message);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_FULL: return Status::IOError(message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Busy(std::string(message) +
                          "; another process is writing to the database (a `ferrograph index` or "
                          "`watch`?): try again when it has finished");
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE: return Status::InvalidArgument(message);
    default: return Status::Internal(message);
  }
}

Statement& Statement::Bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_.get(), i, v);
  return *this;
}
Statement& Statement::Bind(int i, std::string_view v) {
  sqlite3_bind_text(stmt_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindBlob(int i, const void* data, size_t n) {
  sqlite3_bind_blob(stmt_.get(), i, data, static_cast<int>(n), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindView(int i, std::string_view v) {
  sqlite3_bind_text(stmt_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  return *this;
}
Statement& Statement::BindBlobView(int i, const void* data, size_t n) {
  sqlite3_bind_blob(stmt_.get(), i, data, static_cast<int>(n), SQLITE_STATIC);
  return *this;
}
Statement& Statement::BindPointer(int i, void* p, const char* type) {
  sqlite3_bind_pointer(stmt_.get(), i, p, type, nullptr);
  return *this;
}

Statement& Statement::BindNull(int i) {
  sqlite3_bind_null(stmt_.get(), i);
  return *this;
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3* db = sqlite3_db_handle(stmt_.get());
  std::string msg = db_path_ + ": " + sqlite3_errmsg(db);
  const char* sql = sqlite3_sql(stmt_.get());
  if (sql) {
    std::string s(sql);
    if (s.size() > 80) s = s.substr(0, 80) + "...";
    msg += " (while running: " + s + ")";
  }
  return SqliteStatus(rc, msg);
}

Status Statement::Run() {
  for (;;) {
    Result<bool> r = Step();
    if (!r.ok()) {
      Reset();
      return r.status();
    }
    if (!*r) break;
  }
  Reset();
  return Status::OK();
}

void Statement::Reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

std::string Statement::Text(int col) const { return std::string(TextView(col)); }

std::string_view Statement::TextView(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_.get(), col);
  if (!p) return {};
  return std::string_view(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_.get(), col));
}

std::string_view Statement::BlobView(int col) const {
  const void* p = sqlite3_column_blob(stmt_.get(), col);
  if (!p) return {};
  return std::string_view(static_cast<const char*>(p), sqlite3_column_bytes(stmt_.get(), col));
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, bool read_only) {
  // Connections are never shared between threads (see sqlite.h), so the
  // global memory-statistics mutex is pure overhead; configure once, before
  // SQLite initializes.
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
  sqlite3* raw = nullptr;
  // A reader opens read-write (never creating) with query_only set: SQLite
  // can then roll back a hot journal left by a writer that was killed, which
  // a SQLITE_OPEN_READONLY connection cannot do. On a write-protected file
  // SQLite falls back to reading only.
  int flags = read_only ? SQLITE_OPEN_READWRITE : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg =
        path + ": cannot open database: " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    sqlite3_close_v2(raw);
    return SqliteStatus(rc, msg);
  }
  sqlite3_extended_result_codes(raw, 0);
  sqlite3_busy_timeout(raw, 10000);
  if (read_only) sqlite3_exec(raw, "PRAGMA query_only=1", nullptr, nullptr, nullptr);
  return std::unique_ptr<Database>(new Database(raw, path));
}

Status Database::Exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_.get(), s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = path_ + ": " + (err ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
    return SqliteStatus(rc, msg);
  }
  return Status::OK();
}

Status Database::WithTempWrites(const std::function<Status()>& body) {
  FG_ASSIGN_OR_RETURN(Statement probe, Prepare("PRAGMA query_only"));
  FG_ASSIGN_OR_RETURN(bool row, probe.Step());
  const bool query_only = row && probe.Int(0) != 0;
  if (query_only) FG_RETURN_IF_ERROR(Exec("PRAGMA query_only=0"));
  Status s = body();
  if (query_only) {
    Status restored = Exec("PRAGMA query_only=1");
    if (s.ok()) s = restored;
  }
  return s;
}

Result<Statement> Database::Prepare(std::string_view sql) {
  if (sqlite3_stmt* cached = statements_->Take(sql)) return Statement(cached, path_, statements_);
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return LastError(std::string("preparing ") + std::string(sql.substr(0, 80)));
  // Kept for reuse only when its text is the whole of `sql` (the key Take
  // looks up); an empty statement (only a comment) is not kept at all.
  const char* text = stmt ? sqlite3_sql(stmt) : nullptr;
  const bool reusable = text != nullptr && std::string_view(text) == sql;
  return Statement(stmt, path_, reusable ? statements_ : nullptr);
}

Status Database::LastError(std::string_view what) const {
  return SqliteStatus(sqlite3_errcode(db_.get()), path_ + ": " + sqlite3_errmsg(db_.get()) +
                                                      " (while " + std::string(what) + ")");
}

}  // namespace ferrograph
