#include "store/checkpointer.h"

#include <sqlite3.h>

#include "store/sqlite.h"

namespace ferrograph {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Open(const std::string& path) {
  // Never creates the database; query_only does not stop checkpoints, which
  // copy committed pages rather than change data.
  FG_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(path, /*read_only=*/true));
  // A first read opens the WAL (a connection that has not read anything
  // does not know the database is in WAL mode).
  FG_RETURN_IF_ERROR(db->Exec("SELECT count(*) FROM sqlite_master"));
  return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(std::move(db)));
}

WalCheckpointer::WalCheckpointer(std::unique_ptr<Database> db) : db_(std::move(db)) {
  thread_ = std::thread([this] { Loop(); });
}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void WalCheckpointer::Request() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    requested_ = true;
  }
  cv_.notify_all();
}

void WalCheckpointer::WaitIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !requested_ && !running_; });
}

WalCheckpointer::Counts WalCheckpointer::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

void WalCheckpointer::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return requested_ || stop_; });
    if (!requested_) return;  // stopping, nothing asked for
    requested_ = false;
    running_ = true;
    lock.unlock();
    int log = -1, copied = -1;
    int rc =
        sqlite3_wal_checkpoint_v2(db_->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    lock.lock();
    running_ = false;
    ++counts_.checkpoints;
    if (rc != SQLITE_OK) ++counts_.failures;  // the next request tries again
    counts_.log_frames = log;
    counts_.copied_frames = copied;
    cv_.notify_all();
  }
}

}  // namespace ferrograph
