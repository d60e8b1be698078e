// The checkpoint's state.json model_config (train/model_checkpoint.cpp): SAEHD's -U/-D switches are
// recorded, and a state.json from before them (neither key) reads as the -ud network it holds.
#include <catch2/catch.hpp>

#include "facetrain/base/error.h"
#include "facetrain/train/model_checkpoint.h"

using namespace facetrain;

TEST_CASE("state.json records -U and -D and one without the keys reads as -ud", "[unit][train]") {
  CheckpointState s;
  s.model = model_preset("liae-256");
  s.model.pixel_norm_latent = false;
  s.model.double_resolution = false;
  const nlohmann::json state = checkpoint_state_to_json(s);
  CHECK(state.at("model_config").at("pixel_norm_latent") == false);
  CHECK(state.at("model_config").at("double_resolution") == false);
  CHECK(state.at("model") == "liae res=256 ae=256 e=64 d=64 dm=24 -u off -d off");
  const CheckpointState back = checkpoint_state_from_json(state, "run/checkpoints/step-00000010");
  CHECK(back.model == s.model);
  CHECK(back.model_description == describe(s.model));

  // A checkpoint written before issue 27's switches: the same model_config without them.
  nlohmann::json old_state = state;
  old_state["model"] = "liae res=256 ae=256 e=64 d=64 dm=24";
  old_state["model_config"].erase("pixel_norm_latent");
  old_state["model_config"].erase("double_resolution");
  const CheckpointState old = checkpoint_state_from_json(old_state, "old/checkpoints/step-00000010");
  CHECK(old.model == model_preset("liae-256"));
  CHECK(old.model.pixel_norm_latent);
  CHECK(old.model.double_resolution);
  CHECK(old.model_description == describe(old.model));

  nlohmann::json bad = state;
  bad["model_config"]["double_resolution"] = "no";
  CHECK_THROWS_AS(checkpoint_state_from_json(bad, "bad/checkpoints/step-00000010"), InputDataError);
}
