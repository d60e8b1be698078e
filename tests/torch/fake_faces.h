#pragma once
// Synthetic faces for the torch tests that train the tiny model: a smooth random colour field with a
// bright ellipse (the face) and two dark spots (the eyes), optionally with a film grain, and an
// elliptical face mask. uint8 [N,3,S,S] and [N,1,S,S], as face packs hold them.
#include <torch/torch.h>

#include <vector>

namespace facetrain::test {

inline torch::Tensor fake_faces(int64_t count, int64_t size, int64_t seed, double grain = 0.0) {
  torch::manual_seed(seed);
  auto field = torch::nn::functional::interpolate(
      torch::rand({count, 3, 5, 5}), torch::nn::functional::InterpolateFuncOptions()
                                        .size(std::vector<int64_t>{size, size})
                                        .mode(torch::kBicubic)
                                        .align_corners(false));
  auto ys = torch::linspace(-1, 1, size).view({1, 1, size, 1});
  auto xs = torch::linspace(-1, 1, size).view({1, 1, 1, size});
  auto centre = torch::rand({count, 2, 1, 1}) * 0.3 - 0.15;
  auto cx = centre.narrow(1, 0, 1), cy = centre.narrow(1, 1, 1);
  auto ellipse = ((xs - cx).square() / 0.36 + (ys - cy).square() / 0.6 < 1.0).to(torch::kFloat32);
  auto eyes = torch::exp(-(((xs - cx).abs() - 0.25).square() + (ys - cy + 0.2).square()) / 0.004);
  auto face = field * 0.5 + ellipse * 0.4 - eyes * 0.5;
  if (grain > 0) face = face + grain * torch::randn({count, 3, size, size});
  return (face.clamp(0, 1) * 255).round().to(torch::kUInt8);
}

inline torch::Tensor face_masks(int64_t count, int64_t size) {
  auto ys = torch::linspace(-1, 1, size).view({1, 1, size, 1});
  auto xs = torch::linspace(-1, 1, size).view({1, 1, 1, size});
  auto m = (xs.square() / 0.5 + ys.square() / 0.7 < 1.0).to(torch::kUInt8) * 255;
  return m.expand({count, 1, size, size}).contiguous();
}

}  // namespace facetrain::test
