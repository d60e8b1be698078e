#include "facetrain/base/error.h"
#include "facetrain/jobs/train_config.h"

#include <catch2/catch.hpp>

#include <fstream>

using Catch::Matchers::Contains;

TEST_CASE("examples/configs/train.yaml documents exactly the defaults", "[unit][train]") {
  facetrain::TrainConfig defaults;
  defaults.model = facetrain::model_preset(defaults.preset);
  facetrain::TrainConfig from_file;
  facetrain::apply_config_file(from_file, std::string(FACETRAIN_SOURCE_DIR) + "/examples/configs/train.yaml");
  CHECK(facetrain::train_config_to_yaml(from_file) == facetrain::train_config_to_yaml(defaults));
}

TEST_CASE("the effective config round-trips through its YAML", "[unit][train]") {
  facetrain::TrainConfig config;
  config.model = facetrain::model_preset("liae-256");
  config.preset = "liae-256";
  config.batch_size = 7;
  config.optimizer.lr = 1.25e-4;
  config.augment.flip = true;
  const auto path = std::filesystem::temp_directory_path() / "facetrain_roundtrip.yaml";
  std::ofstream(path) << facetrain::train_config_to_yaml(config);
  facetrain::TrainConfig back;
  facetrain::apply_config_file(back, path);
  CHECK(facetrain::train_config_to_yaml(back) == facetrain::train_config_to_yaml(config));
  std::filesystem::remove(path);
}

TEST_CASE("train config errors name file, line and key", "[unit][train]") {
  const auto path = std::filesystem::temp_directory_path() / "facetrain_bad_train.yaml";
  auto load = [&](const std::string& text) {
    std::ofstream(path) << text;
    facetrain::TrainConfig config;
    facetrain::apply_config_file(config, path);
  };
  REQUIRE_THROWS_WITH(load("optimizer:\n  lr: -1\n"), Contains(":2") && Contains("'optimizer.lr'"));
  REQUIRE_THROWS_WITH(load("model:\n  resolution: 100\n"), Contains("resolution"));
  REQUIRE_THROWS_WITH(load("preset: huge\n"), Contains("'preset'") && Contains("tiny"));
  REQUIRE_THROWS_WITH(load("augment:\n  flip: sometimes\n"), Contains("'augment.flip'"));
  REQUIRE_THROWS_AS(load("keep_checkpoints: 1\n"), facetrain::ConfigError);
  std::filesystem::remove(path);
}
