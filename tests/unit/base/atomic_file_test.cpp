#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"
#include "facetrain/base/sha256.h"

#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;

TEST_CASE("atomic writes replace whole files, owner-only, leaving no temporaries", "[unit][base]") {
  const auto dir = fs::temp_directory_path() / "facetrain_atomic_test";
  fs::remove_all(dir);
  facetrain::create_directories_private(dir / "a" / "b");
  struct stat st {};
  REQUIRE(::stat((dir / "a" / "b").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  const auto path = dir / "a" / "b" / "file.json";
  facetrain::write_file_atomic(path, "first");
  facetrain::write_file_atomic(path, "second");
  CHECK(facetrain::read_file(path) == "second");
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir / "a" / "b")) ++entries;
  CHECK(entries == 1);
  // An output abandoned before commit (an exception midway) leaves neither the file nor its temporary.
  fs::path abandoned_temp;
  {
    facetrain::AtomicOutput abandoned(dir / "abandoned.png");
    abandoned_temp = abandoned.temp_path();
    REQUIRE(fs::exists(abandoned_temp));
    CHECK(abandoned_temp.parent_path() == dir);  // beside its final name, so the rename cannot cross file systems
    facetrain::write_file_atomic(abandoned_temp, "half an image");
  }
  CHECK_FALSE(fs::exists(abandoned_temp));
  CHECK_FALSE(fs::exists(dir / "abandoned.png"));
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir)) left.push_back(e.path().filename().string());
  CHECK(left == std::vector<std::string>{"a"});
  CHECK_THROWS_AS(facetrain::write_file_atomic("/proc/facetrain-cannot-write/x", "x"), facetrain::OutputError);
  CHECK_THROWS_AS(facetrain::read_file(dir / "missing"), facetrain::MissingInputError);
  fs::remove_all(dir);
}

TEST_CASE("SHA-256 matches the standard vectors", "[unit][base]") {
  CHECK(facetrain::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(facetrain::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK_THROWS_AS(facetrain::sha256_file_hex("/nonexistent/model.dat"), facetrain::MissingInputError);
}

TEST_CASE("FACETRAIN_UMASK widens or narrows what facetrain creates, and is checked", "[unit][base]") {
  const auto dir = fs::temp_directory_path() / "facetrain_umask_test";
  fs::remove_all(dir);
  ::setenv("FACETRAIN_UMASK", "027", 1);
  CHECK(facetrain::default_file_mode() == 0640);
  CHECK(facetrain::default_directory_mode() == 0750);
  const mode_t process_mask = ::umask(027);  // what main() does with the same setting
  facetrain::create_directories_private(dir);
  facetrain::write_file_atomic(dir / "shared.json", "{}");
  {
    facetrain::AtomicOutput encoded(dir / "frame.png");
    facetrain::write_file_atomic(encoded.temp_path(), "png bytes");
    encoded.commit();
  }
  struct stat st {};
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0750);
  REQUIRE(::stat((dir / "shared.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  REQUIRE(::stat((dir / "frame.png").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  ::umask(process_mask);
  for (const char* bad : {"abc", "0999", "1777", "27x"}) {
    ::setenv("FACETRAIN_UMASK", bad, 1);
    CHECK_THROWS_AS(facetrain::creation_mask(), facetrain::UsageError);
  }
  ::unsetenv("FACETRAIN_UMASK");
  CHECK(facetrain::default_file_mode() == 0600);
  fs::remove_all(dir);
}
