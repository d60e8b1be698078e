#include "facetrain/media/display_transform.h"
#include "facetrain/media/frame_source.h"
#include "facetrain/media/srgb.h"
#include "facetrain/base/error.h"

#include <catch2/catch.hpp>

#include <fstream>

#include "../test_support.h"

using Catch::Matchers::Contains;
using namespace facetrain;

namespace {

// A small OpenColorIO config: scene-linear reference, a plate stored at a quarter of its light
// ("linear_quarter"), and an sRGB display whose view applies the sRGB encoding.
std::string write_config() {
  const auto path = facetrain::testing::scratch_dir("ocio-test") / "test.ocio";
  std::ofstream(path) << R"(ocio_profile_version: 2
roles:
  default: linear
  scene_linear: linear
file_rules:
  - !<Rule> {name: Default, colorspace: linear}
displays:
  sRGB:
    - !<View> {name: Standard, colorspace: srgb_display}
active_displays: [sRGB]
active_views: [Standard]
colorspaces:
  - !<ColorSpace>
    name: linear
  - !<ColorSpace>
    name: linear_quarter
    to_scene_reference: !<MatrixTransform> {matrix: [4, 0, 0, 0, 0, 4, 0, 0, 0, 0, 4, 0, 0, 0, 0, 1]}
  - !<ColorSpace>
    name: srgb_display
    from_scene_reference: !<ExponentWithLinearTransform> {gamma: 2.4, offset: 0.055, direction: inverse}
)";
  return path.string();
}

}  // namespace

TEST_CASE("the OpenColorIO display transform gives the plate's display proxy", "[unit][media]") {
  const std::string config = write_config();
  const DisplayTransform linear(config, "linear");
  float rgb[] = {0.0f, 0.18f, 0.5f, 1.0f, 0.05f, 0.7f};
  linear.apply(rgb, 2);
  CHECK(rgb[1] == Approx(srgb_encode(0.18f)).margin(1e-3));
  CHECK(rgb[2] == Approx(srgb_encode(0.5f)).margin(1e-3));
  CHECK(rgb[4] == Approx(srgb_encode(0.05f)).margin(1e-3));
  // A plate stored at a quarter of the light shows like the full-light plate.
  const DisplayTransform quarter(config, "linear_quarter");
  float dim[] = {0.045f, 0.125f, 0.25f};
  quarter.apply(dim, 1);
  CHECK(dim[0] == Approx(srgb_encode(0.18f)).margin(1e-3));
  CHECK(dim[1] == Approx(srgb_encode(0.5f)).margin(1e-3));
  CHECK(dim[2] == Approx(1.0f).margin(1e-3));
  CHECK_THAT(linear.description(), Contains("linear -> sRGB/Standard"));
}

TEST_CASE("OpenColorIO errors name the colour space and the config", "[unit][media]") {
  const std::string config = write_config();
  REQUIRE_THROWS_WITH(DisplayTransform(config, "ACEScg"), Contains("ACEScg") && Contains("linear_quarter"));
  REQUIRE_THROWS_AS(DisplayTransform(config, "ACEScg"), ConfigError);
  REQUIRE_THROWS_WITH(DisplayTransform("/nonexistent/config.ocio", "linear"), Contains("/nonexistent/config.ocio"));
}

TEST_CASE("an EXR sequence's proxy follows its OpenColorIO colour space", "[unit][media]") {
  const std::string config = write_config();
  const auto dir = facetrain::testing::scratch_dir("ocio-test");
  // Mid grey 0.045 stored at a quarter of the light: through "linear_quarter" it shows as 0.18 would.
  facetrain::testing::run_fixture_command("oiiotool --pattern constant:color=0.045,0.045,0.045 8x8 3 -d half -o '" +
                                          (dir / "q.1001.exr").string() + "'");
  FrameSourceOptions options;
  options.colorspace = "linear_quarter";
  options.ocio_config = config;
  auto source = open_frame_source((dir / "q.####.exr").string(), options);
  Frame frame;
  REQUIRE(source->read(frame));
  CHECK(source->info().colorspace == "linear_quarter");
  CHECK(std::abs(int(frame.display.pixels[0]) - int(linear_to_srgb8(0.18f))) <= 1);
  FrameSourceOptions plain;
  auto untransformed = open_frame_source((dir / "q.####.exr").string(), plain);
  REQUIRE(untransformed->read(frame));
  CHECK(std::abs(int(frame.display.pixels[0]) - int(linear_to_srgb8(0.045f))) <= 1);
}
