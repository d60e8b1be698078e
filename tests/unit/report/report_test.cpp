#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"
#include "facetrain/report/downsample.h"
#include "facetrain/report/embedded_image.h"
#include "facetrain/report/faceset_report.h"
#include "facetrain/report/html_page.h"
#include "facetrain/report/line_chart.h"
#include "facetrain/report/metric_names.h"
#include "facetrain/report/report.h"
#include "facetrain/report/run_metrics.h"
#include "../test_support.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <png.h>

#include <cmath>
#include <fstream>
#include <regex>

namespace fs = std::filesystem;
namespace rp = facetrain::report;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = facetrain::testing::scratch_dir("report") / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string encode_png(int width, int height, uint8_t r, uint8_t g, uint8_t b) {
  std::vector<uint8_t> pixels(static_cast<size_t>(width) * height * 3);
  for (size_t i = 0; i < pixels.size(); i += 3) {
    pixels[i] = r;
    pixels[i + 1] = g;
    pixels[i + 2] = b;
  }
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  REQUIRE(png_image_write_to_memory(&image, nullptr, &size, 0, pixels.data(), 0, nullptr));
  std::string out(size, '\0');
  REQUIRE(png_image_write_to_memory(&image, out.data(), &size, 0, pixels.data(), 0, nullptr));
  out.resize(size);
  return out;
}

// The text of the element with id="ID" (first match).
std::string element_text(const std::string& html, const std::string& id) {
  std::smatch m;
  if (!std::regex_search(html, m, std::regex("id=\"" + id + "\"[^>]*>([^<]*)<"))) return "<missing " + id + ">";
  return m[1];
}

}  // namespace

TEST_CASE("downsampling keeps every spike and dip and bounds the points", "[unit][report]") {
  std::vector<double> x, y;
  for (int i = 0; i < 100000; ++i) {
    x.push_back(i + 1);
    y.push_back(10.0 / std::sqrt(i + 1.0) + 0.01 * std::sin(i));
  }
  y[77776] = 50.0;   // a spike
  y[12344] = -3.0;   // a dip
  y[99999] = 0.001;  // the last point
  const auto kept = rp::downsample_keep_extremes(x, y, 500);
  CHECK(kept.size() <= 2000);
  CHECK(kept.size() >= 1000);
  CHECK(std::is_sorted(kept.begin(), kept.end()));
  CHECK(std::find(kept.begin(), kept.end(), size_t{77776}) != kept.end());
  CHECK(std::find(kept.begin(), kept.end(), size_t{12344}) != kept.end());
  CHECK(kept.front() == 0);
  CHECK(kept.back() == 99999);

  SECTION("short series and gaps") {
    std::vector<double> few_x{1, 2, 3, 4}, few_y{1, NAN, 3, INFINITY};
    CHECK(rp::downsample_keep_extremes(few_x, few_y, 500) == std::vector<size_t>{0, 2});
  }
}

TEST_CASE("charts carry the extremes they draw and label training time under the steps", "[unit][report]") {
  rp::LineChart chart;
  chart.id = "chart-test";
  chart.x_label = "step";
  rp::ChartSeries s;
  s.name = "loss/train";
  for (int i = 1; i <= 5000; ++i) {
    s.x.push_back(i);
    s.y.push_back(i == 4321 ? 99.5 : 1.0 + 1.0 / i);
  }
  chart.series.push_back(s);
  chart.clock_x = {1, 5000};
  chart.clock_seconds = {1.0, 3600.0 * 2};
  const std::string svg = rp::render_line_chart(chart);
  CHECK_THAT(svg, Catch::Contains("data-series=\"loss/train\""));
  CHECK_THAT(svg, Catch::Contains("data-y-max=\"99.5\""));
  CHECK_THAT(svg, Catch::Contains("data-y-min=\"1.0002\""));
  CHECK_THAT(svg, Catch::Contains(">2h 00m<"));  // the last tick's training time
  CHECK_THAT(svg, Catch::Contains("<svg id=\"chart-test\""));
  CHECK(rp::interpolate_clock(chart.clock_x, chart.clock_seconds, 2500.5) == Approx(3600.5));
}

TEST_CASE("page helpers: escaping, durations, numbers, base64", "[unit][report]") {
  CHECK(rp::html_escape("<a href=\"x\">&'") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
  CHECK(rp::format_duration(45) == "45s");
  CHECK(rp::format_duration(750) == "12m 30s");
  CHECK(rp::format_duration(3900) == "1h 05m");
  CHECK(rp::format_duration(2 * 86400 + 3 * 3600) == "2d 03h");
  CHECK(rp::format_number(15.521656036376953) == "15.5217");
  CHECK(rp::format_number(5e-7) == "5e-07");
  CHECK(rp::data_uri("text/plain", "Man") == "data:text/plain;base64,TWFu");
  CHECK(rp::data_uri("text/plain", "Ma") == "data:text/plain;base64,TWE=");
  CHECK(rp::metric_tag("actor_dssim") == "actor/dssim");
  CHECK(rp::metric_tag("validation_loss") == "loss/validation");
  CHECK(rp::metric_tag("discriminator_loss") == "loss/discriminator");
  CHECK(rp::metric_tag("actor_adversarial") == "actor/adversarial");
  CHECK(rp::metric_tag("swap_landmark_error") == "swap/landmark_error");
  CHECK(rp::metric_tag("identity_cosine") == "identity/cosine");
  CHECK(rp::metric_tag("step").empty());
  CHECK(rp::directory_name("runs/v001/") == "v001");
  CHECK(rp::directory_name("runs/v001/.") == "v001");
}

TEST_CASE("pictures: PNG in, smaller JPEG out, colours kept", "[unit][report]") {
  const std::string png = encode_png(320, 256, 200, 60, 20);
  const rp::RgbImage image = rp::decode_png(png, "sheet.png");
  REQUIRE(image.width == 320);
  REQUIRE(image.height == 256);
  const rp::RgbImage small = rp::fit_width(image, 100);
  CHECK(small.width == 100);
  CHECK(small.height == 80);
  CHECK(static_cast<int>(small.pixels[0]) == 200);
  CHECK(static_cast<int>(small.pixels[small.pixels.size() - 2]) == 60);
  const std::string jpeg = rp::encode_jpeg(small, 80);
  CHECK(jpeg.substr(0, 3) == std::string("\xff\xd8\xff", 3));
  CHECK_THROWS_AS(rp::decode_png("not a png at all", "bad.png"), facetrain::InputDataError);
}

TEST_CASE("a run's page shows the run's numbers", "[unit][report]") {
  const fs::path run = fresh_dir("run");
  fs::create_directories(run / "previews");
  fs::create_directories(run / "checkpoints");
  std::ofstream metrics(run / "metrics.jsonl");
  // elapsed 10 s per 25 steps, validation every 100 steps, target 4.0 reached at step 300
  for (int step = 25; step <= 500; step += 25) {
    nlohmann::json line = {{"step", step}, {"loss", 20.0 - step / 50.0}, {"lr", 5e-5}, {"images_per_s", 10.0 + step % 3},
                           {"elapsed_s", step * 0.4}, {"actor_dssim", 0.2}, {"double_dssim", 0.3}};
    if (step % 100 == 0) line["validation_loss"] = 7.0 - step / 100.0;
    metrics << line.dump() << "\n";
  }
  metrics << "{\"step\": 525, \"loss\"";  // cut short by a crash
  metrics.close();
  facetrain::write_file_atomic(run / "manifest.json", R"({"format_version": 1, "model": "df res=64", "world_size": 2,
    "actor_faceset": {"content_sha256": "abc123"}})");
  facetrain::write_file_atomic(run / "config.yaml", "preset: tiny\ntarget_loss: 4.0\n");
  // Stopped by --max-time at step 510, after the last logged row: the checkpoint has the run's end.
  fs::create_directories(run / "checkpoints" / "step-00000510");
  facetrain::write_file_atomic(run / "checkpoints" / "latest", "step-00000510\n");
  facetrain::write_file_atomic(run / "checkpoints" / "step-00000510" / "state.json", R"({"step": 510, "elapsed_s": 210.0})");
  for (int step : {250, 500}) facetrain::write_file_atomic(run / "previews" / fmt::format("step-{:08d}.png", step),
                                                           encode_png(320, 256, 10, static_cast<uint8_t>(step / 2), 30));

  const auto written = rp::write_report(run, {});
  CHECK(written.kind == rp::ReportKind::run);
  CHECK(written.output == run / "report.html");
  const std::string html = facetrain::read_file(written.output);
  CHECK(element_text(html, "run-steps") == "510");
  CHECK(element_text(html, "run-last-loss") == "10");
  CHECK(element_text(html, "run-min-loss") == "10");
  CHECK(element_text(html, "run-last-validation") == "2");
  CHECK(element_text(html, "run-elapsed") == "3m 30s");
  CHECK(element_text(html, "run-device-hours") == rp::format_number(210.0 * 2 / 3600));
  CHECK(element_text(html, "run-images-per-s") == "11");
  CHECK(element_text(html, "run-time-to-target") == "2m 00s (step 300)");
  CHECK(element_text(html, "run-previews") == "2");
  CHECK_THAT(html, Catch::Contains("1 line(s) could not be read"));
  CHECK_THAT(html, Catch::Contains("data-key=\"actor_faceset.content_sha256\">abc123<"));
  CHECK_THAT(html, Catch::Contains("target_loss: 4.0"));
  // Newest sheet first, each an embedded picture with its file beside the page.
  const auto first = html.find("data-step=\"500\"");
  const auto second = html.find("data-step=\"250\"");
  CHECK(first < second);
  CHECK(second != std::string::npos);
  CHECK_THAT(html, Catch::Contains("data-file=\"previews/step-00000500.png\""));
  CHECK_THAT(html, Catch::Contains("data-large=\"data:image/png;base64,"));
  // Self-contained: nothing fetched from anywhere.
  CHECK_FALSE(std::regex_search(html, std::regex("(src|href)=\"(https?:)?//")));
  CHECK_THAT(html, Catch::Contains("Content-Security-Policy"));
}

TEST_CASE("report refuses what is not a run, a render or a face set", "[unit][report]") {
  const fs::path dir = fresh_dir("kinds");
  CHECK_THROWS_AS(rp::report_kind(dir / "missing"), facetrain::MissingInputError);
  CHECK_THROWS_WITH(rp::report_kind(dir), Catch::Contains("nor a face set"));
  facetrain::write_file_atomic(dir / "faceset.json", "{}");
  CHECK(rp::report_kind(dir) == rp::ReportKind::faceset);
  const fs::path run = fresh_dir("kinds-run");
  fs::create_directories(run / "checkpoints");
  CHECK_THROWS_AS(rp::write_report(run, run / "no-such-dir" / "page.html"), facetrain::OutputError);
}

TEST_CASE("the face set's sheet: dimmed outside the hull, magenta where the visible matte leaves the face out",
          "[unit][report]") {
  auto solid = [](int w, int h, uint8_t r, uint8_t g, uint8_t b) {
    rp::RgbImage image{w, h, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
    for (size_t i = 0; i < image.pixels.size(); i += 3) {
      image.pixels[i] = r;
      image.pixels[i + 1] = g;
      image.pixels[i + 2] = b;
    }
    return image;
  };
  const rp::RgbImage crop = solid(4, 1, 200, 150, 100);
  rp::RgbImage hull = solid(4, 1, 255, 255, 255), visible = solid(4, 1, 255, 255, 255);
  for (int c = 0; c < 3; ++c) {
    hull.pixels[0 * 3 + c] = 0;      // pixel 0: outside the hull
    visible.pixels[1 * 3 + c] = 0;   // pixel 1: in the hull, hidden (an occluder)
    visible.pixels[0 * 3 + c] = 0;   //   outside the hull the visible matte changes nothing
  }
  const rp::RgbImage out = rp::matte_overlay(crop, hull, &visible);
  auto px = [&](int p) { return std::vector<int>{out.pixels[p * 3], out.pixels[p * 3 + 1], out.pixels[p * 3 + 2]}; };
  CHECK(px(0) == std::vector<int>{80, 60, 40});     // 40 % brightness
  CHECK(px(1) == std::vector<int>{228, 75, 178});   // half way to magenta
  CHECK(px(2) == std::vector<int>{200, 150, 100});  // the visible face, as it is
  CHECK(rp::matte_overlay(crop, hull, nullptr).pixels[1 * 3 + 1] == 150);  // no visible matte: the hull alone
  CHECK_THROWS_AS(rp::matte_overlay(crop, solid(2, 2, 0, 0, 0), nullptr), facetrain::InputDataError);
}
