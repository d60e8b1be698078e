#include "facetrain/base/error.h"
#include "facetrain/jobs/model_config.h"
#include "facetrain/jobs/train_config.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

using Catch::Matchers::Contains;

namespace {

struct Field {
  const char* key;
  facetrain::ModelFieldRange range;
  int facetrain::ModelConfig::*member;
};

}  // namespace

// The config reader (train.yaml) and validate_model_config (which swap applies to a checkpoint's
// state.json too) hold the model's dims to one set of ranges: every value one accepts, the other
// does; one past either end, both refuse, naming the same range.
TEST_CASE("the config reader and the model agree on the ranges of the dims", "[unit][jobs]") {
  const Field fields[] = {{"resolution", facetrain::kResolutionRange, &facetrain::ModelConfig::resolution_px},
                          {"ae_dims", facetrain::kAeDimsRange, &facetrain::ModelConfig::ae_dims},
                          {"e_dims", facetrain::kEDimsRange, &facetrain::ModelConfig::e_dims},
                          {"d_dims", facetrain::kDDimsRange, &facetrain::ModelConfig::d_dims},
                          {"d_mask_dims", facetrain::kDMaskDimsRange, &facetrain::ModelConfig::d_mask_dims}};
  const auto path = std::filesystem::temp_directory_path() / fmt::format("facetrain_dims_{}.yaml", ::getpid());
  auto load = [&](const char* key, int value) {
    std::ofstream(path) << fmt::format("model:\n  {}: {}\n", key, value);
    facetrain::TrainConfig config;
    facetrain::apply_config_file(config, path);
    return config;
  };
  for (const Field& f : fields) {
    INFO(f.key);
    const std::string range = fmt::format("[{}, {}]", f.range.low, f.range.high);
    for (int inside : {f.range.low, f.range.high}) {
      const facetrain::TrainConfig config = load(f.key, inside);
      CHECK(config.model.*f.member == inside);
      CHECK_NOTHROW(facetrain::validate_model_config(config.model));
    }
    for (int outside : {f.range.low - 1, f.range.high + 1}) {
      CHECK_THROWS_WITH(load(f.key, outside), Contains(range) && Contains(f.key));
      facetrain::ModelConfig model;
      model.*f.member = outside;
      CHECK_THROWS_WITH(facetrain::validate_model_config(model), Contains(range) && Contains(f.key));
    }
  }
  // Before: ae_dims 3000 passed the reader (up to 4096) and failed only in validate_model_config.
  CHECK_THROWS_AS(load("ae_dims", 3000), facetrain::ConfigError);
  std::filesystem::remove(path);
}

// SAEHD's -U / -D switches (issue 27): on by default (every preset is -ud, and its description is
// the one before them, which resume compares and checkpoints record); off, each says so.
TEST_CASE("describe and == follow -U and -D and keep the -ud strings", "[unit][jobs]") {
  facetrain::ModelConfig c = facetrain::model_preset("tiny");
  CHECK(c.pixel_norm_latent);
  CHECK(c.double_resolution);
  CHECK(facetrain::describe(c) == "df res=64 ae=64 e=16 d=16 dm=8");
  CHECK(facetrain::describe(facetrain::model_preset("liae-256")) == "liae res=256 ae=256 e=64 d=64 dm=24");
  facetrain::ModelConfig no_u = c, no_d = c, neither = c;
  no_u.pixel_norm_latent = false;
  no_d.double_resolution = false;
  neither.pixel_norm_latent = neither.double_resolution = false;
  CHECK(facetrain::describe(no_u) == "df res=64 ae=64 e=16 d=16 dm=8 -u off");
  CHECK(facetrain::describe(no_d) == "df res=64 ae=64 e=16 d=16 dm=8 -d off");
  CHECK(facetrain::describe(neither) == "df res=64 ae=64 e=16 d=16 dm=8 -u off -d off");
  CHECK(no_u != c);
  CHECK(no_d != c);
  CHECK(no_u != no_d);
  facetrain::ModelConfig xavier = c;
  xavier.upsample_init = facetrain::UpsampleInit::xavier;  // how training starts: not the shape
  CHECK(xavier == c);
}
