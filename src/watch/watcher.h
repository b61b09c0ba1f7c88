// Watcher: the changes beneath a directory tree, as debounced batches of
// paths (Linux inotify). The file-watching layer of `ferrograph watch`.
//
// What is watched. Every directory beneath the root except those named
// `target`, hidden ones (`.git`, `.ferrograph` — the database — and any other
// name starting with `.`), those the .gitignore files ignore (the root's, the
// nested ones, and those above the root up to the top of its git repository),
// and those WatchOptions::filter rejects. Symlinked directories are followed;
// a directory (device and inode) reached by two paths is watched once,
// through the first in name order, so symlink loops end. Directories created
// or moved in later are watched as they appear, and the files already inside
// them are reported (they may have been written before the watch existed).
//
// What is reported. Paths of files named `*.rs` or `Cargo.toml` (not hidden,
// not ignored) that were created, written (IN_MODIFY / IN_CLOSE_WRITE),
// deleted, or renamed — both the old and the new name. Editors' saves through
// temporary files (`4913`, `x.rs~`, `.x.rs.swp`, `x.rs.tmp` renamed onto
// `x.rs`) report `x.rs` only. A path in a batch means "look at this path
// again": it may now exist or not. A renamed directory reports every file
// beneath it under both its old and its new name.
//
// Rescan. `WatchBatch::rescan` means "individual paths are unknown: look at
// everything again"; the paths of that batch are then empty. It is set when
//   - the kernel's event queue overflowed (IN_Q_OVERFLOW): the watcher then
//     also re-walks the tree to watch directories it may have missed;
//   - more than WatchOptions::max_pending_paths distinct paths gathered for
//     one batch (memory stays bounded under event storms);
//   - a directory moved out of the tree or onto a name that is not watched,
//     or a symlink to a watched directory removed (files left without one
//     event each);
//   - a .gitignore changed (what is ignored changed; the watch set follows);
//   - a directory could not be watched after start (see warnings), or the
//     root itself was deleted or moved.
//
// Debouncing. Changes gather into one batch until none has arrived for
// `debounce` or the oldest is `max_latency` old; each path appears once per
// batch however often it changed.
//
// Thread safety. The watcher reads events on a thread of its own, so the
// kernel's queue is drained while the caller works on a batch. Next() is
// called from one thread at a time; Stop() and stats() from any thread.
// Stop() is not async-signal-safe: from a signal, wake a thread that calls
// it. Destroying the Watcher stops it and joins its thread.
#ifndef FERROGRAPH_WATCH_WATCHER_H_
#define FERROGRAPH_WATCH_WATCHER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ferrograph/status.h"

namespace ferrograph {

struct WatchOptions {
  // A batch is ready once no change has arrived for this long...
  std::chrono::milliseconds debounce{50};
  // ...or once its first change is this old, so that a steady stream of
  // changes still yields batches.
  std::chrono::milliseconds max_latency{500};
  // Most distinct paths held for one batch; one more turns the batch into a
  // rescan and drops the paths. At least 1.
  size_t max_pending_paths = 4096;
  // Most directories watched at once; 0 leaves only the kernel's limit
  // (/proc/sys/fs/inotify/max_user_watches). Reaching it fails like the
  // kernel's limit does.
  size_t max_watched_dirs = 0;
  // Honour .gitignore files.
  bool use_gitignore = true;
  // Optional: called on the watcher's thread for each directory and each
  // reportable file the built-in rules accept (path relative to the root);
  // false skips it (a skipped directory is not watched). Must not call back
  // into the Watcher.
  std::function<bool(std::string_view path, bool is_dir)> filter;
  // Bytes read from the inotify descriptor at once (each event takes 16 bytes
  // plus its name). At least 64 KiB are used.
  size_t read_buffer_bytes = 256 * 1024;
};

struct WatchBatch {
  // Changed files, relative to the root, `/`-separated, sorted, unique.
  std::vector<std::string> paths;
  // Look at everything again (see the file comment); `paths` is then empty.
  bool rescan = false;
  // Stop() was called; the watcher hands out nothing more.
  bool stopped = false;
  // Trouble that did not stop the watcher: "cannot watch DIR: REASON".
  std::vector<std::string> warnings;

  // Nothing happened (Next timed out).
  bool empty() const { return paths.empty() && !rescan && !stopped && warnings.empty(); }
};

struct WatchStats {
  uint64_t events = 0;          // inotify events read
  uint64_t batches = 0;         // non-empty batches handed out
  uint64_t rescans = 0;         // of which had `rescan` set
  uint64_t overflows = 0;       // IN_Q_OVERFLOW seen
  size_t max_pending_seen = 0;  // most paths held at once; <= max_pending_paths
  size_t watched_dirs = 0;      // directories watched now
};

// Whether a file of this name is reported: `*.rs` and `Cargo.toml`, not hidden.
bool IsWatchedFileName(std::string_view name);

class Watcher {
 public:
  // Watches the directory `root` (made absolute). Fails with InvalidArgument
  // naming `root` when it does not exist or is not a directory, and with
  // IOError naming the limit (its /proc/sys/fs/inotify file) when inotify
  // refuses an instance or a watch (IOError naming the directory too).
  // Directories that cannot be read are skipped and reported as warnings in
  // the first batch.
  static Result<std::unique_ptr<Watcher>> Start(const std::string& root,
                                                const WatchOptions& options = {});
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // Blocks until a batch is ready, `timeout` passes (an empty batch), or
  // Stop() is called (a batch with `stopped`, holding what was pending).
  // Fails only when reading events fails; the error repeats on later calls.
  Result<WatchBatch> Next(std::chrono::milliseconds timeout);

  // Wakes a blocked Next() and makes every later Next() return at once with
  // `stopped`. Idempotent.
  void Stop();

  WatchStats stats() const;
  // The absolute, normalized root.
  const std::string& root() const;

 private:
  class Impl;
  explicit Watcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferrograph

#endif  // FERROGRAPH_WATCH_WATCHER_H_
