// The adversarial term's patch discriminator (issue 27): its depth from the wanted patch, its logits'
// shape, its state round trip, and that it can be frozen while the model's loss goes through it.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "facetrain/base/error.h"
#include "facetrain/model/patch_discriminator.h"

using namespace facetrain;

TEST_CASE("patch discriminator: as many levels as the patch needs", "[unit][model]") {
  // patch 0 = resolution / 8 (DeepFaceLab's): 8 px at 64 (one level, 8 px field), 32 px at 256 (three, 50 px).
  CHECK(PatchDiscriminator::shape_for(64, 0).levels == 1);
  CHECK(PatchDiscriminator::shape_for(64, 0).receptive_field_px == 8);
  CHECK(PatchDiscriminator::shape_for(256, 0).levels == 3);
  CHECK(PatchDiscriminator::shape_for(256, 0).receptive_field_px == 50);
  CHECK(PatchDiscriminator::shape_for(64, 16).levels == 2);  // 22 px
  // Never more levels than leave 4x4 logits, nor more than 5.
  CHECK(PatchDiscriminator::shape_for(64, 512).levels == 4);
  CHECK(PatchDiscriminator::shape_for(512, 512).levels == 5);
}

TEST_CASE("patch discriminator: one logit per patch, a state that round-trips", "[unit][model]") {
  torch::manual_seed(3);
  PatchDiscriminator d(64, 8, 16);
  const auto images = torch::rand({2, 3, 64, 64});
  const auto logits = d.logits(images);
  REQUIRE(logits.sizes() == torch::IntArrayRef({2, 1, 16, 16}));
  CHECK(torch::isfinite(logits).all().item<bool>());

  torch::manual_seed(4);
  PatchDiscriminator other(64, 8, 16);
  CHECK_FALSE(torch::equal(other.logits(images), logits));
  other.load_named_parameters(d.named_parameters(), "test");
  CHECK(torch::equal(other.logits(images), logits));

  PatchDiscriminator deeper(64, 8, 32);
  CHECK_THROWS_AS(deeper.load_named_parameters(d.named_parameters(), "d.pt"), InputDataError);
  CHECK_THROWS_WITH(PatchDiscriminator(64, 8, 32).load_named_parameters(d.named_parameters(), "d.pt"),
                    Catch::Contains("d.pt") && Catch::Contains("down2.weight"));
}

TEST_CASE("patch discriminator: frozen, gradients reach the images and not its weights", "[unit][model]") {
  torch::manual_seed(5);
  PatchDiscriminator d(64, 8, 0);
  auto images = torch::rand({1, 3, 64, 64}).requires_grad_(true);
  d.set_trainable(false);
  d.logits(images).mean().backward();
  CHECK(images.grad().defined());
  for (const auto& p : d.parameters()) CHECK_FALSE(p.grad().defined());
  d.set_trainable(true);
  d.logits(images.detach()).mean().backward();
  for (const auto& p : d.parameters()) CHECK(p.grad().defined());
}
