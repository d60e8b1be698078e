#pragma once
// Helpers shared by the unit tests: a scratch directory per test process and running fixture tools.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace facetrain::testing {

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
  static Dir dir(name);
  return dir.path;
}

// Runs a shell command that makes a fixture (ffmpeg, oiiotool); the test fails if it does.
inline void run_fixture_command(const std::string& command) {
  INFO(command);
  REQUIRE(std::system((command + " </dev/null >/dev/null 2>&1").c_str()) == 0);
}

}  // namespace facetrain::testing
