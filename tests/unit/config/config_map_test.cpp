#include "facetrain/base/error.h"
#include "facetrain/config/config_map.h"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

using facetrain::ConfigError;
using facetrain::ConfigMap;
using Catch::Matchers::Contains;

TEST_CASE("config values are read with their types and ranges", "[unit][config]") {
  auto config = ConfigMap::load_string("batch_size: 16\nlr: 5.0e-5\nname: df\nflip: true\noptimizer:\n  beta1: 0.5\n",
                                       "train.yaml");
  CHECK(config.get_int("batch_size", 8, 1, 4096) == 16);
  CHECK(config.get_double("lr", 1e-4, 0, 1) == Approx(5e-5));
  CHECK(config.get_string("name", "liae", {"df", "liae"}) == "df");
  CHECK(config.get_bool("flip", false));
  CHECK(config.get_int("absent", 7, 0, 10) == 7);
  auto optimizer = config.get_map("optimizer");
  CHECK(optimizer.get_double("beta1", 0.9, 0, 1) == Approx(0.5));
  optimizer.finish();
  config.finish();
}

TEST_CASE("config errors name file, line and key", "[unit][config]") {
  SECTION("unknown key") {
    auto config = ConfigMap::load_string("batch_size: 16\nbatchsize: 4\n", "train.yaml");
    config.get_int("batch_size", 8, 1, 4096);
    REQUIRE_THROWS_WITH(config.finish(), Contains("train.yaml:2") && Contains("unknown key 'batchsize'"));
  }
  SECTION("nested unknown key") {
    auto config = ConfigMap::load_string("optimizer:\n  beta1: 0.5\n  betta2: 0.9\n", "t.yaml");
    auto optimizer = config.get_map("optimizer");
    optimizer.get_double("beta1", 0.9, 0, 1);
    REQUIRE_THROWS_WITH(optimizer.finish(), Contains("t.yaml:3") && Contains("'optimizer.betta2'"));
  }
  SECTION("duplicate key") {
    REQUIRE_THROWS_WITH(ConfigMap::load_string("lr: 1\nsteps: 2\nlr: 3\n", "t.yaml"),
                        Contains("t.yaml:3") && Contains("'lr' appears twice"));
  }
  SECTION("wrong type") {
    auto config = ConfigMap::load_string("batch_size: sixteen\n", "t.yaml");
    REQUIRE_THROWS_WITH(config.get_int("batch_size", 8, 1, 4096),
                        Contains("t.yaml:1") && Contains("'batch_size'") && Contains("sixteen"));
  }
  SECTION("out of range") {
    auto config = ConfigMap::load_string("\nbatch_size: 0\n", "t.yaml");
    REQUIRE_THROWS_WITH(config.get_int("batch_size", 8, 1, 4096), Contains("t.yaml:2") && Contains("[1, 4096]"));
  }
  SECTION("not finite") {
    auto config = ConfigMap::load_string("lr: .nan\n", "t.yaml");
    REQUIRE_THROWS_AS(config.get_double("lr", 1e-4, 0, 1), ConfigError);
  }
  SECTION("choice") {
    auto config = ConfigMap::load_string("arch: dfl\n", "t.yaml");
    REQUIRE_THROWS_WITH(config.get_string("arch", "df", {"df", "liae"}), Contains("df, liae"));
  }
  SECTION("a list where a value belongs") {
    auto config = ConfigMap::load_string("lr: [1, 2]\n", "t.yaml");
    REQUIRE_THROWS_WITH(config.get_double("lr", 1e-4, 0, 1), Contains("single value"));
  }
  SECTION("bad YAML") {
    REQUIRE_THROWS_WITH(ConfigMap::load_string("a: [1, 2\nb: 3\n", "t.yaml"), Contains("t.yaml:") && Contains("invalid YAML"));
  }
  SECTION("top level not a mapping") {
    REQUIRE_THROWS_AS(ConfigMap::load_string("- 1\n- 2\n", "t.yaml"), ConfigError);
  }
}

namespace {

// Seconds `body` takes.
template <typename Body>
double seconds_for(Body&& body) {
  const auto start = std::chrono::steady_clock::now();
  body();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("hostile config documents are refused quickly", "[unit][config]") {
  // Each is refused in well under a millisecond (a scan before yaml-cpp sees the text, or keys read
  // without expanding aliases). A parser that recursed 5000 levels or expanded the alias bomb (10^10
  // nodes) would take far longer; 1 s per document leaves room for a loaded CI machine.
  constexpr double kQuickly = 1.0;
  double took = seconds_for([] {
    REQUIRE_THROWS_WITH(ConfigMap::load_string(std::string(5000, '[') + std::string(5000, ']'), "deep.yaml"),
                        Contains("nesting"));
  });
  CHECK(took < kQuickly);
  std::string indented = "a:\n";
  for (int i = 1; i < 100; ++i) indented += std::string(i * 2, ' ') + "a:\n";
  took = seconds_for([&] { REQUIRE_THROWS_AS(ConfigMap::load_string(indented, "deep.yaml"), ConfigError); });
  CHECK(took < kQuickly);
  // An alias bomb: each level refers to the previous one ten times. Only keys we ask for are read.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'j'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
    prev = c;
  }
  took = seconds_for([&] {
    auto config = ConfigMap::load_string(bomb, "bomb.yaml");
    REQUIRE_THROWS_WITH(config.finish(), Contains("unknown key 'a'"));
  });
  CHECK(took < kQuickly);
  took = seconds_for([] {
    REQUIRE_THROWS_WITH(ConfigMap::load_string(std::string(2 << 20, '#'), "big.yaml"), Contains("larger than 1 MiB"));
  });
  CHECK(took < kQuickly);
  REQUIRE_THROWS_AS(ConfigMap::load_file("/nonexistent/train.yaml"), facetrain::MissingInputError);
}

TEST_CASE("a config read from a pipe as process substitution gives is read", "[unit][config]") {
  const auto fifo = std::filesystem::temp_directory_path() / "facetrain_config_fifo.yaml";
  std::filesystem::remove(fifo);
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::thread writer([&] { std::ofstream(fifo) << "seed: 7\n"; });
  auto config = ConfigMap::load_file(fifo);
  writer.join();
  std::filesystem::remove(fifo);
  CHECK(config.get_int("seed", 1, 0, 100) == 7);
}
