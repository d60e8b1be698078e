// What a face's track says about its pixels (issue 24, matte/track_evidence.h): an occluder held
// still in front of the face for most of a window is absorbed by the moving median but departs from
// the clean look of the track's surest faces; a whole-face change is no occluder; a moving one is.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "facetrain/matte/track_evidence.h"

using namespace facetrain;

namespace {

constexpr int kSize = 32;

// `count` faces of one track: a smooth skin-like gradient with a little per-frame noise, a disc
// hull of radius 12 in the middle.
MatteFaces track_of(int count) {
  torch::manual_seed(11);
  MatteFaces faces;
  const torch::Tensor ramp = torch::linspace(0.45, 0.65, kSize);
  torch::Tensor base = torch::stack({ramp.unsqueeze(0).expand({kSize, kSize}), 0.8 * ramp.unsqueeze(1).expand({kSize, kSize}),
                                     torch::full({kSize, kSize}, 0.4)}, 2);  // [R,R,3]
  faces.rgb = (base.unsqueeze(0).repeat({count, 1, 1, 1}) + 0.005 * torch::randn({count, kSize, kSize, 3})).clamp(0, 1);
  const torch::Tensor yy = torch::arange(kSize).unsqueeze(1).expand({kSize, kSize}).to(torch::kFloat32) - 15.5;
  const torch::Tensor xx = torch::arange(kSize).unsqueeze(0).expand({kSize, kSize}).to(torch::kFloat32) - 15.5;
  faces.hull = ((xx * xx + yy * yy) < 144).to(torch::kFloat32).unsqueeze(0).repeat({count, 1, 1});
  return faces;
}

void paint_square(MatteFaces& faces, int row, int x0, int y0, int side, float value) {
  using torch::indexing::Slice;
  faces.rgb.index_put_({row, Slice(y0, y0 + side), Slice(x0, x0 + side)}, value);
}

double mean_in_square(const torch::Tensor& plane, int x0, int y0, int side) {
  using torch::indexing::Slice;
  return plane.index({Slice(y0, y0 + side), Slice(x0, x0 + side)}).mean().item<double>();
}

FaceTracks one_track(int count) {
  FaceTracks tracks(1);
  for (int i = 0; i < count; ++i) tracks[0].push_back(i);
  return tracks;
}

}  // namespace

TEST_CASE("track evidence: a thumb held still for most of the shot departs from the clean look only",
          "[unit][matte]") {
  const int count = 60;
  MatteFaces faces = track_of(count);
  std::vector<double> confidence(count, 0.9);
  // Frames 12..59 (four fifths of the track): a thumb from above the face to its middle, always in
  // the same place, its landmark fit less sure. Frames 30..44: the mouth opens (darker, inside).
  for (int row = 12; row < count; ++row) {
    paint_square(faces, row, 14, 0, 6, 0.95f);
    paint_square(faces, row, 14, 6, 6, 0.95f);
    confidence[static_cast<size_t>(row)] = 0.5;
  }
  for (int row = 30; row < 45; ++row) paint_square(faces, row, 13, 21, 5, 0.15f);
  const torch::Tensor moving = moving_look_trust(one_track(count), faces);
  const CleanLookEvidence clean = clean_look_evidence(one_track(count), faces, confidence);
  // In the middle of the held stretch the +-12 median holds the thumb: trusted as face there.
  CHECK(mean_in_square(moving[50], 14, 6, 6) > 0.9);
  // Against the clean look (the fifteen surest faces, none with it) it departs: left out, and taught
  // as an occluder, for it comes in from outside the face.
  CHECK(mean_in_square(clean.trust[40], 14, 6, 6) == 0.0);
  CHECK(mean_in_square(clean.entering[40], 14, 6, 6) == 1.0);
  // The open mouth departs too, but inside the face: left out, never taught as an occluder.
  CHECK(mean_in_square(clean.trust[40], 14, 22, 3) == 0.0);
  CHECK(clean.entering[40].index({torch::indexing::Slice(19, 28), torch::indexing::Slice(11, 20)}).max().item<double>() == 0.0);
  CHECK(mean_in_square(clean.trust[50], 14, 22, 3) == 1.0);  // closed again
  CHECK(mean_in_square(clean.trust[40], 5, 16, 3) == 1.0);   // a cheek, untouched, stays trusted
  CHECK(clean.trust[5].min().item<double>() == 1.0);          // the clean frames too
  CHECK(clean.entering[5].max().item<double>() == 0.0);
  // Only the thumb, the mouth and their 2 px margins are left out of a face that has them.
  using torch::indexing::Slice;
  torch::Tensor explained = torch::zeros({kSize, kSize});
  explained.index_put_({Slice(0, 14), Slice(12, 22)}, 1);   // the thumb, x 14..19, y 0..11, and 2 px
  explained.index_put_({Slice(19, 28), Slice(11, 20)}, 1);  // the mouth, x 13..17, y 21..25, and 2 px
  CHECK(((1 - clean.trust[40]) * (1 - explained)).max().item<double>() == 0.0);
  CHECK(((1 - clean.trust[40]) * faces.hull[40]).sum().item<double>() > 60);
}

TEST_CASE("track evidence: a whole face that changes (light, a turn) is no occluder", "[unit][matte]") {
  const int count = 40;
  MatteFaces faces = track_of(count);
  std::vector<double> confidence(count, 0.9);
  for (int row = 20; row < count; ++row) faces.rgb[row] = (faces.rgb[row] * 0.6).clone();  // the light goes down
  const CleanLookEvidence clean = clean_look_evidence(one_track(count), faces, confidence);
  CHECK(clean.trust.min().item<double>() == 1.0);
  CHECK(clean.entering.max().item<double>() == 0.0);
  CHECK(moving_occluders(one_track(count), faces).max().item<double>() == 0.0);
}

TEST_CASE("track evidence: an occluder that moves across the face is found where it is, frame by frame",
          "[unit][matte]") {
  const int count = 40;
  MatteFaces faces = track_of(count);
  for (int row = 15; row < 25; ++row) paint_square(faces, row, 6 + (row - 15) * 2, 12, 6, 0.1f);  // a dark prop sweeping right
  const torch::Tensor moving = moving_occluders(one_track(count), faces);
  CHECK(mean_in_square(moving[20], 16, 12, 6) == 1.0);
  CHECK(mean_in_square(moving[20], 4, 22, 4) == 0.0);
  CHECK(moving[5].max().item<double>() == 0.0);  // nothing before it comes
  // A short track says nothing.
  MatteFaces few = track_of(8);
  paint_square(few, 4, 14, 8, 6, 0.95f);
  CHECK(moving_occluders(one_track(8), few).max().item<double>() == 0.0);
  CHECK(clean_look_evidence(one_track(8), few, std::vector<double>(8, 0.9)).trust.min().item<double>() == 1.0);
}
