#pragma once
// Helpers shared by the unit tests (tests/unit and tests/torch): a scratch directory per test
// process, running fixture tools, and skipping a case that cannot run on this machine.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

// FACETRAIN_SKIP(reason); return;  -- this case cannot run here. ctest registers every case with
// SKIP_REGULAR_EXPRESSION "SKIPPED:", so the case is counted as Skipped, never as Passed (Catch2 2
// has no SKIP of its own; -w NoAssertions fails a case that checks nothing). A case skips before it
// checks anything: after an assertion (which may have failed, and a skip would hide that) the skip
// is a failure instead (tests/unit/main.cpp counts the assertions).
#define FACETRAIN_SKIP(reason)                                                                        \
  do {                                                                                                \
    if (::facetrain::testing::assertions_so_far() > 0)                                                \
      FAIL("a case may skip only before its first check; this one had "                              \
           << ::facetrain::testing::assertions_so_far() << " already");                               \
    WARN("SKIPPED: " << reason);                                                                      \
  } while (false)

namespace facetrain::testing {

// The running test case's assertions so far (tests/unit/main.cpp).
int assertions_so_far();

// TMPDIR/facetrain-<name>-<pid>, created on first use and removed when the process exits.
inline const std::filesystem::path& scratch_dir(const std::string& name) {
  struct Dir {
    std::filesystem::path path;
    explicit Dir(const std::string& n)
        : path(std::filesystem::temp_directory_path() / ("facetrain-" + n + "-" + std::to_string(::getpid()))) {
      std::filesystem::create_directories(path);
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  // One directory per name: a single static would hand every caller in the process the first
  // caller's directory (all cases run in one process under scripts/sanitize.sh).
  static std::map<std::string, std::unique_ptr<Dir>> dirs;
  auto& dir = dirs[name];
  if (!dir) dir = std::make_unique<Dir>(name);
  return dir->path;
}

// Runs a shell command that makes a fixture (ffmpeg, oiiotool); the test fails if it does.
inline void run_fixture_command(const std::string& command) {
  INFO(command);
  REQUIRE(std::system((command + " </dev/null >/dev/null 2>&1").c_str()) == 0);
}

}  // namespace facetrain::testing
