// quality_probe: the reconstruction scores (src/facetrain/quality/image_similarity.h) of two images,
// as one JSON line {"ssim": .., "ms_ssim": .., "psnr_db": ..}, for tests/e2e/quality_agreement.sh's
// comparison with scikit-image. Test-only.
//   quality_probe WIDTH HEIGHT A.f32 B.f32 [MASK.f32] [--data-range R] [--time N]
// A and B: raw little-endian float32 interleaved RGB (WIDTH * HEIGHT * 3 values, rows top to
// bottom); MASK: raw float32, WIDTH * HEIGHT weights. NaN and infinity are written as null (ms_ssim
// below 256 pixels; psnr_db of identical images). --time N adds "ms": the mean milliseconds of each
// score over N runs (each alone, and all three through reconstruction_scores).
#include "facetrain/quality/image_similarity.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

namespace {

std::vector<float> read_f32(const std::string& path, size_t count) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "quality_probe: cannot open %s\n", path.c_str());
    std::exit(66);
  }
  std::vector<float> v(count);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(count * sizeof(float)));
  if (static_cast<size_t>(in.gcount()) != count * sizeof(float) || in.peek() != std::char_traits<char>::eof()) {
    std::fprintf(stderr, "quality_probe: %s is not %zu float32 values\n", path.c_str(), count);
    std::exit(65);
  }
  return v;
}

std::string number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

double time_ms(int runs, const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < runs; ++i) f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / runs;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args;
  double range = 1.0;
  int runs = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--data-range" && i + 1 < argc) {
      range = std::atof(argv[++i]);
    } else if (a == "--time" && i + 1 < argc) {
      runs = std::atoi(argv[++i]);
    } else {
      args.push_back(a);
    }
  }
  if (args.size() != 4 && args.size() != 5) {
    std::fprintf(stderr, "usage: quality_probe WIDTH HEIGHT A.f32 B.f32 [MASK.f32] [--data-range R] [--time N]\n");
    return 64;
  }
  const int w = std::atoi(args[0].c_str()), h = std::atoi(args[1].c_str());
  if (w <= 0 || h <= 0) {
    std::fprintf(stderr, "quality_probe: bad size %s x %s\n", args[0].c_str(), args[1].c_str());
    return 64;
  }
  const size_t n = static_cast<size_t>(w) * h;
  const auto a = read_f32(args[2], n * 3);
  const auto b = read_f32(args[3], n * 3);
  const std::vector<float> mask = args.size() == 5 ? read_f32(args[4], n) : std::vector<float>{};
  const auto s = facetrain::reconstruction_scores(a, b, w, h, mask, range);
  std::string json = "{\"ssim\": " + number(s.ssim) + ", \"ms_ssim\": " + number(s.ms_ssim) +
                     ", \"psnr_db\": " + number(s.psnr_db);
  if (runs > 0) {
    volatile double sink = 0;
    const double t_ssim = time_ms(runs, [&] { sink = facetrain::ssim(a, b, w, h, mask, range); });
    const double t_ms = time_ms(runs, [&] { sink = facetrain::ms_ssim(a, b, w, h, mask, range); });
    const double t_psnr = time_ms(runs, [&] { sink = facetrain::psnr_db(a, b, w, h, mask, range); });
    const double t_all = time_ms(runs, [&] { sink = facetrain::reconstruction_scores(a, b, w, h, mask, range).ssim; });
    (void)sink;
    json += ", \"ms\": {\"ssim\": " + number(t_ssim) + ", \"ms_ssim\": " + number(t_ms) + ", \"psnr_db\": " +
            number(t_psnr) + ", \"all\": " + number(t_all) + "}";
  }
  std::printf("%s}\n", json.c_str());
  return 0;
}
