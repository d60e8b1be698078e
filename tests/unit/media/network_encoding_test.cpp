#include "facetrain/media/network_encoding.h"
#include "facetrain/faceset/network_encoding_record.h"
#include "facetrain/base/error.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

#include "../test_support.h"

using Catch::Matchers::Contains;
using namespace facetrain;

namespace {

// A small OpenColorIO config: a scene-linear reference; "log2", a log encoding of it
// (0.05 * log2(x) + 0.6: 2^-12 -> 0, 1 -> 0.6, 256 -> 1) that is the compositing_log role; a
// display whose "Invertible" view is the sRGB curve and whose "Clipped" view clamps to [0, 1]
// after it (as a tone-mapped output transform loses what is above its white).
std::string write_config(const std::string& file, const std::string& name) {
  const auto path = facetrain::testing::scratch_dir("encoding-test") / file;
  std::ofstream(path) << "ocio_profile_version: 2\nname: " << name << R"(
roles:
  default: linear
  scene_linear: linear
  compositing_log: log2
file_rules:
  - !<Rule> {name: Default, colorspace: linear}
displays:
  sRGB:
    - !<View> {name: Invertible, colorspace: srgb_curve}
    - !<View> {name: Clipped, colorspace: srgb_clipped}
active_displays: [sRGB]
active_views: [Invertible, Clipped]
colorspaces:
  - !<ColorSpace>
    name: linear
  - !<ColorSpace>
    name: linear_quarter
    to_scene_reference: !<MatrixTransform> {matrix: [4, 0, 0, 0, 0, 4, 0, 0, 0, 0, 4, 0, 0, 0, 0, 1]}
  - !<ColorSpace>
    name: log2
    encoding: log
    from_scene_reference: !<LogAffineTransform> {base: 2, log_side_slope: 0.05, log_side_offset: 0.6}
  - !<ColorSpace>
    name: srgb_curve
    from_scene_reference: !<ExponentWithLinearTransform> {gamma: 2.4, offset: 0.055, direction: inverse}
  - !<ColorSpace>
    name: srgb_clipped
    from_scene_reference: !<GroupTransform>
      children:
        - !<ExponentWithLinearTransform> {gamma: 2.4, offset: 0.055, direction: inverse}
        - !<RangeTransform> {min_in_value: 0, max_in_value: 1, min_out_value: 0, max_out_value: 1}
)";
  return path.string();
}

std::array<float, 3> encoded(const NetworkEncoding& e, float r, float g, float b) {
  std::array<float, 3> rgb{r, g, b};
  e.encode(rgb.data(), 1);
  return rgb;
}

}  // namespace

TEST_CASE("network encodings without OpenColorIO: srgb for scene-linear plates, plate otherwise", "[unit][media]") {
  const NetworkEncoding srgb = NetworkEncoding::for_request({}, true);
  const NetworkEncoding plate = NetworkEncoding::for_request({}, false);
  CHECK(srgb.record().kind == EncodingKind::srgb);
  CHECK(plate.record().kind == EncodingKind::plate);
  CHECK(encoded(srgb, 0.18f, 1.f, 4.f)[0] == Approx(0.4613).margin(1e-3));
  CHECK(encoded(srgb, 0.18f, 1.f, 4.f)[1] == Approx(1.0).margin(1e-5));
  CHECK(encoded(srgb, 0.18f, 1.f, 4.f)[2] > 1.f);  // not clamped: monotonic beyond 1.0
  CHECK(encoded(plate, 0.25f, NAN, 1.5f) == std::array<float, 3>{0.25f, 0.f, 1.5f});
  // Both are exact inverses over the probes they map into [0, 1].
  CHECK(srgb.round_trip().invertible());
  CHECK(srgb.round_trip().max_error <= kInvertibleTolerance);
  CHECK(plate.round_trip().max_error == 0.0);
  CHECK(plate.round_trip().probes_in_range > 100);
  CHECK(NetworkEncoding::for_request({"", "", "srgb"}, false).record().kind == EncodingKind::srgb);
  CHECK(NetworkEncoding::for_request({"", "", "plate"}, true).record().kind == EncodingKind::plate);
}

TEST_CASE("an OpenColorIO colour-space encoding round-trips to float precision", "[unit][media]") {
  const std::string config = write_config("studio.ocio", "studio-config");
  // Default with a colour space: the config's compositing_log role, by its colour space's name.
  const NetworkEncoding log = NetworkEncoding::for_request({config, "linear", ""}, true);
  REQUIRE(log.record().kind == EncodingKind::colorspace);
  CHECK(log.record().colorspace == "log2");
  REQUIRE(log.record().config);
  CHECK(log.record().config->name == "studio-config");
  CHECK(log.record().config->profile_version == "2.0");
  CHECK(log.record().config->sha256.size() == 64);
  CHECK(!log.record().config->library_version.empty());
  const auto mid = encoded(log, 1.f, 0.25f, 256.f);
  CHECK(mid[0] == Approx(0.6).margin(1e-6));
  CHECK(mid[1] == Approx(0.5).margin(1e-6));
  CHECK(mid[2] == Approx(1.0).margin(1e-6));
  const RoundTrip& rt = log.round_trip();
  CHECK(rt.has_inverse);
  CHECK(rt.probes_in_range > 100);
  CHECK(rt.max_error <= kInvertibleTolerance);
  CHECK(rt.invertible());
  // A plate in another colour space of the config: the encoding starts from it.
  const NetworkEncoding quarter = NetworkEncoding::for_request({config, "linear_quarter", "log2"}, true);
  CHECK(encoded(quarter, 0.25f, 0.25f, 0.25f)[0] == Approx(0.6).margin(1e-6));
  std::array<float, 3> back = encoded(quarter, 0.3f, 2.f, 0.01f);
  quarter.decode(back.data(), 1);
  CHECK(back[0] == Approx(0.3f).epsilon(1e-6));
  CHECK(back[1] == Approx(2.f).epsilon(1e-6));
  CHECK(back[2] == Approx(0.01f).epsilon(1e-6));
}

TEST_CASE("a clipping display view is measured as not invertible, naming an invertible alternative", "[unit][media]") {
  const std::string config = write_config("studio.ocio", "studio-config");
  const NetworkEncoding clipped = NetworkEncoding::for_request({config, "linear", "sRGB/Clipped"}, true);
  CHECK(clipped.record().kind == EncodingKind::display_view);
  CHECK(clipped.record().name() == "sRGB/Clipped");
  CHECK(!clipped.round_trip().invertible());
  CHECK(clipped.round_trip().max_error > 0.1);           // 2.0 comes back as 1.0
  CHECK(clipped.round_trip().worst[0] + clipped.round_trip().worst[1] + clipped.round_trip().worst[2] > 1.f);
  CHECK_THAT(clipped.invertible_alternative(), Contains("log2"));
  const NetworkEncoding curve = NetworkEncoding::for_request({config, "linear", "sRGB/Invertible"}, true);
  CHECK(curve.round_trip().invertible());
  // "display": the config's default display and view.
  CHECK(NetworkEncoding::for_request({config, "linear", "display"}, true).record().name() == "sRGB/Invertible");
}

TEST_CASE("network encoding requests that cannot be met are config errors naming what is wrong", "[unit][media]") {
  const std::string config = write_config("studio.ocio", "studio-config");
  REQUIRE_THROWS_AS(NetworkEncoding::for_request({config, "linear", "ACEScct"}, true), ConfigError);
  REQUIRE_THROWS_WITH(NetworkEncoding::for_request({config, "linear", "ACEScct"}, true),
                      Contains("ACEScct") && Contains("studio.ocio") && Contains("sRGB/Invertible"));
  REQUIRE_THROWS_WITH(NetworkEncoding::for_request({config, "", "log2"}, true), Contains("--colorspace"));
  REQUIRE_THROWS_WITH(NetworkEncoding::for_request({config, "ACEScg", "log2"}, true),
                      Contains("ACEScg") && Contains("linear_quarter"));
  REQUIRE_THROWS_WITH(NetworkEncoding::for_request({"/nonexistent/c.ocio", "linear", "log2"}, true),
                      Contains("/nonexistent/c.ocio"));
}

TEST_CASE("swap finds the recorded config by identity, not by path", "[unit][media]") {
  const std::string config = write_config("studio.ocio", "studio-config");
  const NetworkEncodingRecord record = NetworkEncoding::for_request({config, "linear", "log2"}, true).record();
  // The same file elsewhere (a farm's mount) is the same config.
  const std::string copy = write_config("mounted.ocio", "studio-config");
  const NetworkEncoding moved = NetworkEncoding::from_record(record, "linear", copy);
  CHECK(moved.record().config->path == copy);
  CHECK(same_network_encoding(moved.record(), record));
  CHECK(encoded(moved, 1.f, 1.f, 1.f)[0] == Approx(0.6).margin(1e-6));
  // An edited config is not: 78, naming both.
  const std::string edited = write_config("edited.ocio", "studio-config-edited");
  REQUIRE_THROWS_AS(NetworkEncoding::from_record(record, "linear", edited), ConfigError);
  REQUIRE_THROWS_WITH(NetworkEncoding::from_record(record, "linear", edited),
                      Contains("edited.ocio") && Contains("studio-config-edited") && Contains("'studio-config'"));
}

TEST_CASE("the encoding record survives JSON and compares by config identity", "[unit][faceset]") {
  NetworkEncodingRecord a;
  a.kind = EncodingKind::colorspace;
  a.colorspace = "ACEScct";
  a.config = OcioConfigIdentity{"/studio/config.ocio", "cg-config", "2.1", std::string(64, 'a'), "2.1.2"};
  const NetworkEncodingRecord b = network_encoding_from_json(network_encoding_to_json(a), "faceset.json");
  CHECK(b.kind == a.kind);
  CHECK(b.colorspace == "ACEScct");
  REQUIRE(b.config);
  CHECK(b.config->path == "/studio/config.ocio");
  CHECK(b.config->library_version == "2.1.2");
  CHECK(same_network_encoding(a, b));
  NetworkEncodingRecord moved = a;
  moved.config->path = "/mnt/farm/config.ocio";
  CHECK(same_network_encoding(a, moved));
  NetworkEncodingRecord edited = a;
  edited.config->sha256 = std::string(64, 'b');
  CHECK(!same_network_encoding(a, edited));
  NetworkEncodingRecord plate;
  CHECK(!same_network_encoding(a, plate));
  CHECK(!same_network_values(a, plate));
  CHECK(same_network_values(a, moved));
  // plate (video code values) and srgb (scene-linear through the sRGB curve): the same kind of
  // values for the network, so one model serves both, but not one face set.
  NetworkEncodingRecord srgb;
  srgb.kind = EncodingKind::srgb;
  CHECK(same_network_values(plate, srgb));
  CHECK(!same_network_encoding(plate, srgb));
  CHECK(network_encoding_to_json(plate).dump() == R"({"kind":"plate","name":"plate"})");
  CHECK_THAT(a.describe(), Contains("ACEScct") && Contains("cg-config") && Contains("aaaaaaaa"));
  nlohmann::json broken = network_encoding_to_json(a);
  broken.erase("ocio_config");
  REQUIRE_THROWS_AS(network_encoding_from_json(broken, "faceset.json"), InputDataError);
  REQUIRE_THROWS_WITH(network_encoding_from_json({{"kind", "aces"}}, "faceset.json"),
                      Contains("faceset.json") && Contains("aces"));
  // Face sets from before the record: scene-linear plates went through the sRGB curve.
  CHECK(legacy_network_encoding({"bt709"}).kind == EncodingKind::plate);
  CHECK(legacy_network_encoding({"Linear"}).kind == EncodingKind::srgb);
  CHECK(!legacy_network_encoding({"bt709"}).recorded);
}
