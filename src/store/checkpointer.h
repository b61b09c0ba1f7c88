// WalCheckpointer: copies a database's write-ahead log back into the
// database on a thread of its own, off the writer's path.
//
// SQLite checkpoints the WAL inside the commit that grows it past
// `wal_autocheckpoint` pages: that commit then waits for pages to be copied
// and synced. A long-running writer (`ferrograph watch`) turns automatic
// checkpoints off (Store::SetAutoCheckpoint) and asks this one to
// checkpoint after its commits instead; a PASSIVE checkpoint on another
// connection neither blocks the writer nor readers, and the writer starts
// the log over once it has all been copied.
#ifndef FERROGRAPH_STORE_CHECKPOINTER_H_
#define FERROGRAPH_STORE_CHECKPOINTER_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "ferrograph/status.h"

namespace ferrograph {

class Database;

class WalCheckpointer {
 public:
  // Opens its own connection to the database at `path`.
  static Result<std::unique_ptr<WalCheckpointer>> Open(const std::string& path);
  ~WalCheckpointer();  // finishes a requested checkpoint, then stops
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Asks for a checkpoint soon (requests coalesce).
  void Request();
  // Waits until no checkpoint is requested or running (for tests).
  void WaitIdle();

  struct Counts {
    uint64_t checkpoints = 0;    // run
    uint64_t failures = 0;       // that SQLite refused (busy, I/O)
    int64_t log_frames = -1;     // the WAL's frames at the last one
    int64_t copied_frames = -1;  // of which copied into the database
  };
  Counts counts() const;

 private:
  explicit WalCheckpointer(std::unique_ptr<Database> db);
  void Loop();

  std::unique_ptr<Database> db_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool requested_ = false;
  bool running_ = false;
  bool stop_ = false;
  Counts counts_;
  std::thread thread_;
};

}  // namespace ferrograph

#endif  // FERROGRAPH_STORE_CHECKPOINTER_H_
