// The CNN face detector (dlib's mmod network) with its convolutions run through LibTorch (the torch
// module, as `extract --detector-device cpu|cuda` runs them) against dlib's own forward: the output
// map within 1e-3 (relative to the map's largest magnitude) and the same detections, on dlib's
// example photos. Needs $FACETRAIN_MODELS/mmod_human_face_detector.dat (scripts/fetch-models.sh) and
// libfacetrain-torch.so; skips without either. The CUDA case ([gpu]) skips without a CUDA device,
// unless FACETRAIN_REQUIRE_GPU=1, which makes that a failure.
#include "data_prep/face/face_detector.h"
#include "data_prep/face/mmod_net.h"
#include "facetrain/base/error.h"
#include "facetrain/module/conv_stack_loader.h"
#include "facetrain/quality/face_scorer.h"
#include "dlib_examples.h"
#include "../test_support.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <optional>

using namespace facetrain;
using facetrain::testing::kFacesDir;
using facetrain::testing::load_rgb;

namespace {

std::string mmod_model() {
  const std::string path = default_model_path(kMmodDetectorModelFile);
  std::error_code ec;
  return !path.empty() && std::filesystem::is_regular_file(path, ec) ? path : std::string();
}

MmodNet& shared_net(const std::string& path) {
  static MmodNet net = [&] {
    MmodNet n;
    dlib::deserialize(path) >> n;
    return n;
  }();
  return net;
}

dlib::matrix<dlib::rgb_pixel> to_dlib(const Rgb8Image& image) {
  dlib::matrix<dlib::rgb_pixel> m(image.height, image.width);
  for (int y = 0; y < image.height; ++y) {
    const uint8_t* row = image.row(y);
    for (int x = 0; x < image.width; ++x) m(y, x) = dlib::rgb_pixel(row[3 * x], row[3 * x + 1], row[3 * x + 2]);
  }
  return m;
}

Gray8Image to_gray(const Rgb8Image& rgb) {
  Gray8Image g;
  g.width = rgb.width;
  g.height = rgb.height;
  g.pixels.resize(static_cast<size_t>(g.width) * g.height);
  for (size_t i = 0; i < g.pixels.size(); ++i)
    g.pixels[i] = static_cast<uint8_t>((rgb.pixels[3 * i] + rgb.pixels[3 * i + 1] + rgb.pixels[3 * i + 2]) / 3);
  return g;
}

// The runner on `device`, or the reason it cannot be opened here.
std::unique_ptr<ConvStackRunner> open_runner(const ConvStack& stack, ConvStackDevice device, std::string& why) {
  try {
    return open_conv_stack_in_torch_module(stack, device);
  } catch (const UnavailableError& e) {
    why = e.what();
    return nullptr;
  }
}

// The mmod model and a runner of its convolutions on `device`, or in `skip` why not here (no model
// file, no torch module, no such device): the case skips with it.
struct MmodCase {
  std::string model;
  std::unique_ptr<ConvStackRunner> runner;
  std::string skip;
};
MmodCase mmod_case(ConvStackDevice device) {
  MmodCase c;
  c.model = mmod_model();
  if (c.model.empty()) {
    c.skip = std::string("no ") + kMmodDetectorModelFile + " ($FACETRAIN_MODELS; scripts/fetch-models.sh fetches it)";
    return c;
  }
  std::string why;
  c.runner = open_runner(conv_stack_of(shared_net(c.model)), device, why);
  if (!c.runner) c.skip = (device == ConvStackDevice::cpu ? "no torch module: " : "") + why;
  return c;
}

bool gpu_required() {
  const char* v = std::getenv("FACETRAIN_REQUIRE_GPU");
  return v && std::string(v) == "1";
}

// dlib's forward and the runner's on the same photos: output maps and detections.
void check_equivalent(MmodNet& net, std::unique_ptr<ConvStackRunner> runner) {
  MmodStackNet stack_net(net, std::move(runner));
  const double threshold = -0.5;  // below the detector's 0, so that near-misses are compared too
  int detections = 0;
  // bald_guys.jpg (a crowd) at 0.6 of its size: a few seconds of dlib's forward instead of 13.
  for (const auto& [file, scale] : {std::pair<const char*, double>{"2009_004587.jpg", 1.0}, {"2008_001322.jpg", 1.0},
                                    {"bald_guys.jpg", 0.6}}) {
    INFO(file);
    dlib::matrix<dlib::rgb_pixel> image = to_dlib(load_rgb(kFacesDir + file));
    if (scale != 1.0) {
      dlib::matrix<dlib::rgb_pixel> scaled(std::lround(image.nr() * scale), std::lround(image.nc() * scale));
      dlib::resize_image(image, scaled);
      image = scaled;
    }
    const std::vector<dlib::mmod_rect> expected = net.process(image, threshold);
    const dlib::tensor& dlib_out = net.subnet().get_output();
    const std::vector<dlib::mmod_rect> got = stack_net.detect(image, threshold);
    REQUIRE(stack_net.output_rows() == dlib_out.nr());
    REQUIRE(stack_net.output_cols() == dlib_out.nc());
    REQUIRE(stack_net.output().size() == dlib_out.size());
    const float* d = dlib_out.host();
    double max_abs = 0, max_mag = 0;
    for (size_t i = 0; i < dlib_out.size(); ++i) {
      max_abs = std::max(max_abs, std::abs(double(d[i]) - stack_net.output()[i]));
      max_mag = std::max(max_mag, std::abs(double(d[i])));
    }
    UNSCOPED_INFO(file << ": output map " << dlib_out.nr() << "x" << dlib_out.nc() << ", max |dlib - torch| " << max_abs
                       << ", relative to the map's largest |value| " << max_abs / max_mag << "; " << expected.size()
                       << " detections");
    CHECK(max_abs / max_mag < 1e-3);
    REQUIRE(got.size() == expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CHECK(std::abs(got[i].rect.left() - expected[i].rect.left()) <= 1);
      CHECK(std::abs(got[i].rect.top() - expected[i].rect.top()) <= 1);
      CHECK(std::abs(got[i].rect.right() - expected[i].rect.right()) <= 1);
      CHECK(std::abs(got[i].rect.bottom() - expected[i].rect.bottom()) <= 1);
      CHECK(std::abs(got[i].detection_confidence - expected[i].detection_confidence) <= 1e-3);
    }
    detections += static_cast<int>(got.size());
  }
  CHECK(detections >= 3);
}

}  // namespace

TEST_CASE("mmod detector: the weights copied out of dlib's network have its layers' shapes and padding",
          "[unit][face][mmod]") {
  const std::string model = mmod_model();
  if (model.empty()) {
    FACETRAIN_SKIP("no " << kMmodDetectorModelFile << " ($FACETRAIN_MODELS; scripts/fetch-models.sh fetches it)");
    return;
  }
  const ConvStack stack = conv_stack_of(shared_net(model));
  REQUIRE(stack.layers.size() == 7);
  const long filters[7] = {16, 32, 32, 45, 45, 45, 1};
  const long kernel[7] = {5, 5, 5, 5, 5, 5, 9};
  const long stride[7] = {2, 2, 2, 1, 1, 1, 1};
  const long pad[7] = {0, 0, 0, 2, 2, 2, 4};  // con_: none at stride 2, filter/2 at stride 1
  long in = 3;
  for (int i = 0; i < 7; ++i) {
    INFO("layer " << i);
    const ConvStackLayer& l = stack.layers[i];
    CHECK(l.in_channels == in);
    CHECK(l.out_channels == filters[i]);
    CHECK((l.kernel_rows == kernel[i] && l.kernel_cols == kernel[i]));
    CHECK((l.stride_y == stride[i] && l.stride_x == stride[i]));
    CHECK((l.pad_y == pad[i] && l.pad_x == pad[i]));
    CHECK(l.filters.size() == static_cast<size_t>(filters[i] * in * kernel[i] * kernel[i]));
    CHECK(l.bias.size() == static_cast<size_t>(filters[i]));
    CHECK(l.scale.size() == (i < 6 ? static_cast<size_t>(filters[i]) : 0u));  // affine (the trained bn_con)
    CHECK(l.relu == (i < 6));
    in = filters[i];
  }
}

TEST_CASE("mmod detector through LibTorch on the CPU: dlib's output map and detections", "[unit][face][mmod]") {
  MmodCase c = mmod_case(ConvStackDevice::cpu);
  if (!c.runner) {
    FACETRAIN_SKIP(c.skip);
    return;
  }
  check_equivalent(shared_net(c.model), std::move(c.runner));
}

TEST_CASE("mmod detector through LibTorch: frames in one batch give each frame's own detections", "[unit][face][mmod]") {
  MmodCase c = mmod_case(ConvStackDevice::cpu);
  if (!c.runner) {
    FACETRAIN_SKIP(c.skip);
    return;
  }
  MmodStackNet stack_net(shared_net(c.model), std::move(c.runner));
  const dlib::matrix<dlib::rgb_pixel> a = to_dlib(load_rgb(kFacesDir + "2009_004587.jpg"));
  dlib::matrix<dlib::rgb_pixel> b = dlib::fliplr(a);  // another frame of the same size
  const auto one_a = stack_net.detect(a, 0.0), one_b = stack_net.detect(b, 0.0);
  const auto both = stack_net.detect(std::vector<dlib::matrix<dlib::rgb_pixel>>{a, b}, 0.0);
  REQUIRE(both.size() == 2);
  REQUIRE(both[0].size() == one_a.size());
  REQUIRE(both[1].size() == one_b.size());
  CHECK(!one_a.empty());
  for (size_t i = 0; i < one_a.size(); ++i) CHECK(both[0][i].rect == one_a[i].rect);
  for (size_t i = 0; i < one_b.size(); ++i) CHECK(both[1][i].rect == one_b[i].rect);
}

TEST_CASE("mmod detector: extract's cnn detector on --detector-device cpu finds dlib's boxes", "[unit][face][mmod]") {
  const MmodCase c = mmod_case(ConvStackDevice::cpu);
  if (!c.runner) {
    FACETRAIN_SKIP(c.skip);
    return;
  }
  const std::string& model = c.model;
  DetectorOptions dlib_options;
  dlib_options.kind = DetectorKind::cnn;
  dlib_options.mmod_model_path = model;
  DetectorOptions torch_options = dlib_options;
  torch_options.device = DetectorDevice::cpu;
  torch_options.open_conv_stack = &open_conv_stack_in_torch_module;
  auto with_dlib = make_face_detector(dlib_options);
  auto with_torch = make_face_detector(torch_options);
  const Gray8Image gray = to_gray(load_rgb(kFacesDir + "2009_004587.jpg"));
  const std::vector<FaceBox> expected = with_dlib->detect(gray), got = with_torch->detect(gray);
  REQUIRE(got.size() == expected.size());
  CHECK(!got.empty());
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].x0 == Approx(expected[i].x0).margin(1));
    CHECK(got[i].y0 == Approx(expected[i].y0).margin(1));
    CHECK(got[i].x1 == Approx(expected[i].x1).margin(1));
    CHECK(got[i].y1 == Approx(expected[i].y1).margin(1));
    CHECK(got[i].score == Approx(expected[i].score).margin(1e-3));
  }
}

TEST_CASE("mmod detector: a device other than dlib needs the opener, and the word is checked", "[unit][face][mmod]") {
  CHECK_THROWS_AS(parse_detector_device("gpu"), ConfigError);
  CHECK_THROWS_AS(parse_detector_device("CPU"), ConfigError);
  for (DetectorDevice device : {DetectorDevice::dlib, DetectorDevice::cpu, DetectorDevice::cuda})
    CHECK(parse_detector_device(to_string(device)) == device);
  const std::string model = mmod_model();
  if (model.empty()) return;  // the checks above ran
  DetectorOptions options;
  options.kind = DetectorKind::cnn;
  options.mmod_model_path = model;
  options.device = DetectorDevice::cpu;  // no open_conv_stack: data_prep alone cannot reach LibTorch
  CHECK_THROWS_AS(make_face_detector(options), UnavailableError);
  options.device = DetectorDevice::dlib;  // dlib's own code needs no opener
  CHECK_NOTHROW(make_face_detector(options));
}

TEST_CASE("mmod detector: --detector-device cuda without a CUDA device is 69 naming the option", "[unit][face][mmod]") {
  const MmodCase c = mmod_case(ConvStackDevice::cpu);
  if (!c.runner) {
    FACETRAIN_SKIP(c.skip);
    return;
  }
  const MmodCase cuda = mmod_case(ConvStackDevice::cuda);
  if (cuda.runner) {
    FACETRAIN_SKIP("this machine has a CUDA device");
    return;
  }
  const std::string& cuda_why = cuda.skip;
  CHECK(cuda_why.find("--detector-device cuda: no CUDA device") != std::string::npos);
}

TEST_CASE("gpu: mmod detector through LibTorch on CUDA: dlib's output map and detections", "[gpu][face][mmod]") {
  MmodCase c = mmod_case(ConvStackDevice::cuda);
  if (!c.runner) {
    if (gpu_required()) FAIL("FACETRAIN_REQUIRE_GPU=1, but: " << c.skip);
    FACETRAIN_SKIP(c.skip);
    return;
  }
  check_equivalent(shared_net(c.model), std::move(c.runner));
}
