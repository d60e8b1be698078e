#include "facetrain/matte/matte_faces.h"

#include "facetrain/base/error.h"
#include "facetrain/face/alignment.h"
#include "facetrain/media/image_io.h"
#include "facetrain/swap/face_composite.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cstring>

namespace facetrain {

at::Tensor planar(const at::Tensor& interleaved) { return interleaved.permute({0, 3, 1, 2}).contiguous(); }

MatteFaces load_matte_faces(const UsableFaces& usable, const std::vector<size_t>& indices, int resolution_px) {
  namespace F = torch::nn::functional;
  const int64_t n = static_cast<int64_t>(indices.size());
  const int crop_px = usable.set.manifest.size;
  const int64_t r = resolution_px;
  MatteFaces out;
  out.rgb = torch::empty({n, r, r, 3}, torch::kFloat32);
  out.hull = torch::empty({n, r, r}, torch::kFloat32);
  for (int64_t i = 0; i < n; ++i) {
    const UsableFace& f = usable.faces.at(indices[static_cast<size_t>(i)]);
    const auto path = usable.set.directory / f.face->crop;
    const Rgb8Image crop = read_rgb8(path);
    if (crop.width != crop_px || crop.height != crop_px)
      throw InputDataError(fmt::format("{}: crop is {}x{}, the face set says {} px", path.string(), crop.width, crop.height, crop_px));
    torch::Tensor image = torch::from_blob(const_cast<uint8_t*>(crop.pixels.data()), {1, crop_px, crop_px, 3}, torch::kUInt8)
                              .permute({0, 3, 1, 2})
                              .to(torch::kFloat32)
                              .div(255);
    if (crop_px != resolution_px) {
      auto options = F::InterpolateFuncOptions().size(std::vector<int64_t>{r, r});
      if (crop_px % resolution_px == 0) options.mode(torch::kArea);
      else options.mode(torch::kBilinear).align_corners(false);
      image = F::interpolate(image, options);
    }
    out.rgb[i] = image[0].permute({1, 2, 0});
    Landmarks68 in_frame;
    for (size_t p = 0; p < 68; ++p)
      in_frame[p] = {static_cast<float>(f.face->landmarks[p][0]), static_cast<float>(f.face->landmarks[p][1])};
    const Gray8Image hull = face_hull_mask(in_frame, rescale_alignment(f.face->aligned_from_frame, crop_px, resolution_px), resolution_px);
    float* dst = out.hull[i].data_ptr<float>();
    for (size_t p = 0; p < hull.pixels.size(); ++p) dst[p] = hull.pixels[p] / 255.f;
  }
  out.rgb = out.rgb.contiguous();
  return out;
}

}  // namespace facetrain
