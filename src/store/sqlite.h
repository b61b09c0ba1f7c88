// Thin RAII layer over the SQLite C API: Database (sqlite3*) and Statement
// (sqlite3_stmt*), with errors turned into Status values that name the
// database file and the failing SQL.
//
// Thread safety: a Database and its Statements belong to one thread at a
// time (SQLite's "multi-thread" mode); open one Database per thread.
#ifndef FERROGRAPH_STORE_SQLITE_H_
#define FERROGRAPH_STORE_SQLITE_H_

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ferrograph/ids.h"
#include "ferrograph/status.h"

namespace ferrograph {

// A connection's prepared statements not in use, by SQL text, for
// Database::Prepare to hand out again (reset, bindings cleared) instead of
// compiling the SQL anew: a `watch` run prepares the same few dozen
// statements every time. Bounded; internal to sqlite.cc.
class StatementCache;

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3_stmt* stmt, std::string db_path,
            std::shared_ptr<StatementCache> cache = nullptr)
      : stmt_(stmt, Deleter{std::move(cache)}), db_path_(std::move(db_path)) {}

  bool valid() const { return stmt_ != nullptr; }

  // Bind by 1-based index. Text and blobs are copied (SQLITE_TRANSIENT).
  Statement& Bind(int i, int64_t v);
  Statement& Bind(int i, std::string_view v);
  Statement& BindBlob(int i, const void* data, size_t n);
  template <size_t N, typename Tag>
  Statement& Bind(int i, const FixedBytes<N, Tag>& b) {
    return BindBlob(i, b.data(), N);
  }
  Statement& BindNull(int i);
  // Bind without a copy (SQLITE_STATIC), for the hot write paths: the bytes
  // must stay valid and unchanged until the statement is reset (Run resets;
  // a reset also clears the bindings, so no pointer outlives it).
  Statement& BindView(int i, std::string_view v);
  Statement& BindBlobView(int i, const void* data, size_t n);
  template <size_t N, typename Tag>
  Statement& BindView(int i, const FixedBytes<N, Tag>& b) {
    return BindBlobView(i, b.data(), N);
  }
  // Passes `p` to SQL functions that ask sqlite3_value_pointer for `type`
  // (a static string); the caller keeps `p` alive while the statement runs.
  Statement& BindPointer(int i, void* p, const char* type);

  // Steps once: true when a row is ready, false when done; error otherwise.
  Result<bool> Step();
  // Steps to completion, ignoring rows.
  Status Run();
  // Resets and clears bindings so the statement can be reused.
  void Reset();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_.get(), col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_.get(), col) == SQLITE_NULL; }
  std::string Text(int col) const;
  std::string_view TextView(int col) const;
  double Double(int col) const { return sqlite3_column_double(stmt_.get(), col); }
  // The column's bytes as a blob (valid until the next Step or Reset).
  std::string_view BlobView(int col) const;
  template <typename T>
  T Bytes(int col) const {
    T out;
    const void* p = sqlite3_column_blob(stmt_.get(), col);
    if (p && sqlite3_column_bytes(stmt_.get(), col) == static_cast<int>(T::kSize))
      out = T::FromBytes(p);
    return out;
  }

 private:
  // Gives the statement back to its connection's cache (when it came from
  // one and the connection is open), else finalizes it.
  struct Deleter {
    std::shared_ptr<StatementCache> cache;
    void operator()(sqlite3_stmt* s) const;
  };
  std::unique_ptr<sqlite3_stmt, Deleter> stmt_;
  std::string db_path_;
};

class Database {
 public:
  // Opens `path`. read_only: never writes or creates; otherwise creates it
  // when missing. Fails with IOError when it cannot be opened.
  static Result<std::unique_ptr<Database>> Open(const std::string& path, bool read_only);

  ~Database();

  // Runs one or more statements without results.
  Status Exec(std::string_view sql);
  // Compiles one statement, or hands out the same SQL's statement compiled
  // earlier and since given back (a Statement gives itself back when it is
  // destroyed; it is then reset and its bindings cleared).
  Result<Statement> Prepare(std::string_view sql);
  int64_t LastInsertRowId() const { return sqlite3_last_insert_rowid(db_.get()); }
  int Changes() const { return sqlite3_changes(db_.get()); }
  const std::string& path() const { return path_; }
  sqlite3* raw() const { return db_.get(); }

  // Runs `body` with the connection's query_only setting lifted, for
  // writes that never touch the database file (temporary tables): a
  // reader's connection refuses those too. The setting is put back after.
  Status WithTempWrites(const std::function<Status()>& body);

  // A Status for the connection's last error: "PATH: MESSAGE (while: WHAT)".
  Status LastError(std::string_view what) const;

 private:
  struct Deleter {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  Database(sqlite3* db, std::string path);
  std::unique_ptr<sqlite3, Deleter> db_;
  std::string path_;
  std::shared_ptr<StatementCache> statements_;
};

// A read transaction for a scope: the statements run in it read one
// snapshot of the database, whatever other connections commit meanwhile
// (in WAL mode, the snapshot of its first read). Nothing when the
// connection is in a transaction already (the outer one is the snapshot).
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Database& db);
  ~ReadSnapshot();
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;
  // Whether BEGIN failed (then the statements run without one snapshot).
  const Status& status() const { return status_; }

 private:
  Database& db_;
  bool own_ = false;
  Status status_;
};

// Maps an SQLite result code to a Status (SQLITE_CORRUPT/NOTADB → Corruption,
// I/O and permissions → IOError, ...).
Status SqliteStatus(int rc, std::string_view message);

}  // namespace ferrograph

#endif  // FERROGRAPH_STORE_SQLITE_H_
