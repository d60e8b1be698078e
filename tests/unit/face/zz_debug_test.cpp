#include "data_prep/face/alignment.h"
#include "data_prep/face/face_detector.h"
#include "data_prep/face/face_tracker.h"
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <cstdlib>
#include <fstream>
#include <map>
using namespace facetrain;
using clk = std::chrono::steady_clock;
namespace {
struct CountingDetector : FaceDetector {
  std::unique_ptr<FaceDetector> inner; int calls = 0; double ms = 0;
  std::vector<FaceBox> detect(const Gray8Image& g) override {
    auto t0 = clk::now(); auto r = inner->detect(g); ms += std::chrono::duration<double, std::milli>(clk::now() - t0).count(); ++calls; return r; }
};
double crop_jitter(const std::vector<TrackedFrame>& fr) {
  double sum = 0; int n = 0;
  std::vector<Point2f> qs = {{0,0},{255,0},{0,255},{255,255},{128,128}};
  for (size_t t = 1; t + 1 < fr.size(); ++t) {
    if (fr[t-1].faces.empty() || fr[t].faces.empty() || fr[t+1].faces.empty()) continue;
    Affine2d a = invert(aligned_from_frame(fr[t-1].faces[0].landmarks, FaceType::whole, 256));
    Affine2d b = invert(aligned_from_frame(fr[t].faces[0].landmarks, FaceType::whole, 256));
    Affine2d c = invert(aligned_from_frame(fr[t+1].faces[0].landmarks, FaceType::whole, 256));
    for (auto q : qs) { auto pa = a.apply(q), pb = b.apply(q), pc = c.apply(q); sum += std::hypot(pc.x - 2*pb.x + pa.x, pc.y - 2*pb.y + pa.y); ++n; }
  }
  return sum / std::max(1, n);
}
}
TEST_CASE("debug bench", "[debug]") {
  const char* path = std::getenv("BENCH_RAW"); if (!path) return;
  int w = std::atoi(std::getenv("BENCH_W")), h = std::atoi(std::getenv("BENCH_H"));
  int maxf = std::getenv("BENCH_N") ? std::atoi(std::getenv("BENCH_N")) : 100000;
  std::ifstream in(path, std::ios::binary);
  std::vector<Gray8Image> frames;
  while ((int)frames.size() < maxf) { Gray8Image g; g.width = w; g.height = h; g.pixels.resize(w*h); if (!in.read((char*)g.pixels.data(), w*h)) break; frames.push_back(std::move(g)); }
  static LandmarkPredictor pred(kDefaultLandmarkModelPath, "");
  for (float smoothing : {0.f, 0.5f}) {
    auto det = std::make_unique<CountingDetector>(); det->inner = make_face_detector(DetectorOptions{});
    CountingDetector* d = det.get();
    TrackerOptions o; o.smoothing = smoothing;
    FaceTracker tr(std::move(det), pred, o);
    std::vector<TrackedFrame> out;
    auto t0 = clk::now(); std::clock_t c0 = std::clock();
    for (size_t i = 0; i < frames.size(); ++i) for (auto& f : tr.push(i + 1, frames[i])) out.push_back(f);
    for (auto& f : tr.flush()) out.push_back(f);
    double ms = std::chrono::duration<double, std::milli>(clk::now() - t0).count();
    printf("cpu %.2f ms/frame\n", 1000.0 * (std::clock() - c0) / CLOCKS_PER_SEC / frames.size());
    int with = 0; std::map<int,int> ids; for (auto& f : out) { with += !f.faces.empty(); for (auto& x : f.faces) ids[x.track_id]++; }
    printf("smoothing %.1f: %zu frames, %.2f ms/frame, detector %d calls %.2f ms/call (%.2f ms/frame); frames with face %d; ids %zu; crop jitter %.3f px\n",
      smoothing, frames.size(), ms / frames.size(), d->calls, d->ms / std::max(1, d->calls), d->ms / frames.size(), with, ids.size(), crop_jitter(out));
    for (auto& [id, n] : ids) printf("  id %d: %d frames\n", id, n);
  }
  // predictor cost alone
  Gray8Image g = frames[0]; FaceBox b{150, 80, 250, 180, 0};
  double best = 1e9;
  for (int rep = 0; rep < 30; ++rep) { auto t0 = clk::now(); for (int i = 0; i < 20; ++i) pred.predict(frames[rep * 10 + i], b);
    best = std::min(best, std::chrono::duration<double, std::milli>(clk::now() - t0).count() / 20); }
  printf("predict: %.3f ms/face (best chunk)\n", best);
  std::clock_t c0;
  auto detector = make_face_detector(DetectorOptions{});
  c0 = std::clock(); for (int i = 0; i < 50; ++i) detector->detect(frames[i]);
  printf("detect: %.3f ms/frame (cpu)\n", 1000.0 * (std::clock() - c0) / CLOCKS_PER_SEC / 50);
}
