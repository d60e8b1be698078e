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

// A preset is a shape and a recipe (issue 27): tiny's is the measured one, a preset applied later
// sets its own, a file's keys beat the file's preset, and a preset the file names only for checking
// (a --preset flag beat it) changes nothing.
TEST_CASE("a preset sets its model and its recipe; file keys override both", "[unit][train]") {
  facetrain::TrainConfig df;
  facetrain::apply_preset(df, "df-256");
  facetrain::TrainConfig tiny = df;
  facetrain::apply_preset(tiny, "tiny");  // back from df-256's recipe to tiny's
  CHECK(df.preset == "df-256");
  CHECK(df.model.ae_dims == 256);
  CHECK(df.optimizer.lr == Approx(5e-5));
  CHECK(df.optimizer.warmup_steps == 200);
  CHECK(df.optimizer.ema_decay == 0);
  CHECK(df.batch_size == 16);
  CHECK(tiny.model.ae_dims == 64);
  CHECK(tiny.optimizer.lr == Approx(3e-4));
  CHECK(tiny.optimizer.warmup_steps == 20);
  CHECK(tiny.optimizer.ema_decay == Approx(0.999));
  CHECK(tiny.batch_size == 8);
  CHECK_THROWS_AS(facetrain::apply_preset(df, "huge"), facetrain::ConfigError);

  const auto path = std::filesystem::temp_directory_path() / "facetrain_preset_recipe.yaml";
  std::ofstream(path) << "preset: df-256\noptimizer:\n  lr: 1e-4\n";
  facetrain::TrainConfig from_file;
  facetrain::apply_config_file(from_file, path);
  CHECK(from_file.model.ae_dims == 256);
  CHECK(from_file.optimizer.lr == Approx(1e-4));
  CHECK(from_file.optimizer.warmup_steps == 200);
  CHECK(from_file.batch_size == 16);

  facetrain::TrainConfig flag_wins;
  facetrain::apply_preset(flag_wins, "tiny");
  facetrain::apply_config_file(flag_wins, path, facetrain::FilePreset::check_only);
  CHECK(flag_wins.preset == "tiny");
  CHECK(flag_wins.model.ae_dims == 64);
  CHECK(flag_wins.optimizer.lr == Approx(1e-4));
  CHECK(flag_wins.optimizer.warmup_steps == 20);
  std::ofstream(path) << "preset: huge\n";
  CHECK_THROWS_AS(facetrain::apply_config_file(flag_wins, path, facetrain::FilePreset::check_only),
                  facetrain::ConfigError);
  std::filesystem::remove(path);
}

// A resumed run compares the configuration it is given with the run's config.yaml (trainer.cpp).
TEST_CASE("config differences name each changed key, nested ones with their section", "[unit][train]") {
  facetrain::TrainConfig old_recipe;
  facetrain::apply_preset(old_recipe, "df-256");
  old_recipe.model = facetrain::model_preset("tiny");
  old_recipe.preset = "tiny";
  facetrain::TrainConfig now;
  facetrain::apply_preset(now, "tiny");
  const std::string before = facetrain::train_config_to_yaml(old_recipe), after = facetrain::train_config_to_yaml(now);
  CHECK(facetrain::config_differences(after, after).empty());
  const std::vector<std::string> expected{"batch_size: 16 -> 8", "optimizer.lr: 5e-05 -> 0.0003",
                                          "optimizer.warmup_steps: 200 -> 20", "optimizer.ema_decay: 0 -> 0.999"};
  CHECK(facetrain::config_differences(before, after) == expected);
  CHECK(facetrain::config_differences("seed: 1\nloss:\n  l1_weight: 0\n", "seed: 1\n") ==
        std::vector<std::string>{"loss.l1_weight: 0 -> (none)"});
  CHECK(facetrain::config_differences("seed: 1\n", "seed: 2\naugment:\n  flip: true\n") ==
        std::vector<std::string>{"seed: 1 -> 2", "augment.flip: (none) -> true"});
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
  // SAEHD's -U / -D switches (issue 27), each off and both.
  for (auto [u, d] : {std::pair{false, true}, std::pair{true, false}, std::pair{false, false}}) {
    config.model.pixel_norm_latent = u;
    config.model.double_resolution = d;
    std::ofstream(path) << facetrain::train_config_to_yaml(config);
    facetrain::TrainConfig switched;
    facetrain::apply_config_file(switched, path);
    CHECK(switched.model == config.model);
    CHECK(switched.model != facetrain::model_preset("liae-256"));
    CHECK(facetrain::train_config_to_yaml(switched) == facetrain::train_config_to_yaml(config));
  }
  std::ofstream(path) << "model:\n  double_resolution: 0\n";
  facetrain::TrainConfig strict;
  CHECK_THROWS_AS(facetrain::apply_config_file(strict, path), facetrain::ConfigError);
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
