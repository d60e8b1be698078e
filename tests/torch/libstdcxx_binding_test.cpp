// A binary that links LibTorch must bind std::filesystem to libstdc++, not to the unversioned copies
// the torch wheel's libraries export (their remove_all crashed CheckpointStore::prune).
#include <catch2/catch.hpp>

#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;

TEST_CASE("std::filesystem binds to libstdc++ in a binary that links LibTorch", "[unit][torch]") {
  using RemoveAll = std::uintmax_t (*)(const fs::path&, std::error_code&);
  const RemoveAll remove_all = &fs::remove_all;
  Dl_info info{};
  REQUIRE(::dladdr(reinterpret_cast<void*>(remove_all), &info) != 0);
  REQUIRE(info.dli_fname != nullptr);
  const std::string library = info.dli_fname;
  INFO("std::filesystem::remove_all comes from " << library);
  CHECK(library.find("libstdc++") != std::string::npos);

  const fs::path root = fs::temp_directory_path() / ("facetrain-remove-all-" + std::to_string(::getpid()));
  fs::create_directories(root / "a" / "b");
  std::ofstream(root / "a" / "b" / "file") << "x";
  std::error_code ec;
  CHECK(fs::remove_all(root, ec) == 4);
  CHECK_FALSE(ec);
  CHECK_FALSE(fs::exists(root));
}
