// Runs the ferrograph binary the way a user does, for the end-to-end CLI
// tests: shell words in, exit code and both streams out.
#ifndef FERROGRAPH_TESTS_CLI_RUNNER_H_
#define FERROGRAPH_TESTS_CLI_RUNNER_H_

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ferrograph_test {

inline const std::string kBinary = std::string(FERROGRAPH_BINARY_DIR) + "/ferrograph";

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

struct RunOptions {
  std::string cwd;  // run in this directory ("" = the test's)
  std::string env;  // "NAME=value " assignments put before the command
};

// Runs `args` (shell words, already quoted) and captures both streams.
inline RunResult RunFerrograph(const std::string& args, const RunOptions& options = {}) {
  namespace fs = std::filesystem;
  static int counter = 0;
  fs::path dir = fs::path(testing::TempDir()) /
                 ("cli_run_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
  fs::create_directories(dir);
  std::string out = (dir / "out").string(), err = (dir / "err").string();
  std::string cmd = (options.cwd.empty() ? "" : "cd '" + options.cwd + "' && ") + options.env +
                    kBinary + " " + args + " >" + out + " 2>" + err;
  int status = std::system(cmd.c_str());
  RunResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::stringstream so, se;
  so << std::ifstream(out).rdbuf();
  se << std::ifstream(err).rdbuf();
  r.out = so.str();
  r.err = se.str();
  return r;
}

}  // namespace ferrograph_test

#endif  // FERROGRAPH_TESTS_CLI_RUNNER_H_
