#include "facetrain/base/error.h"
#include "facetrain/config/config_map.h"

#include <catch2/catch.hpp>

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

TEST_CASE("hostile config documents are refused quickly", "[unit][config]") {
  REQUIRE_THROWS_WITH(ConfigMap::load_string(std::string(5000, '[') + std::string(5000, ']'), "deep.yaml"),
                      Contains("nesting"));
  std::string indented = "a:\n";
  for (int i = 1; i < 100; ++i) indented += std::string(i * 2, ' ') + "a:\n";
  REQUIRE_THROWS_AS(ConfigMap::load_string(indented, "deep.yaml"), ConfigError);
  // An alias bomb: each level refers to the previous one ten times. Only keys we ask for are read.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'j'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
    prev = c;
  }
  auto config = ConfigMap::load_string(bomb, "bomb.yaml");
  REQUIRE_THROWS_WITH(config.finish(), Contains("unknown key 'a'"));
  REQUIRE_THROWS_AS(ConfigMap::load_string(std::string(2 << 20, '#'), "big.yaml"), ConfigError);
  REQUIRE_THROWS_AS(ConfigMap::load_file("/nonexistent/train.yaml"), facetrain::MissingInputError);
}
