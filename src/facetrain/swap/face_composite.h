#pragma once
// The image work of `facetrain swap` around the network, on the CPU and without LibTorch: cutting
// the aligned crop out of the full-precision plate, the invertible encoding the network sees,
// mattes, and warping the predicted face back onto the untouched plate.
//
// Geometry: crop pixel (u, v) (integer = pixel centre) sits at frame position
// invert(aligned_from_frame)(u, v), as in facetrain/face/alignment.h.
#include "facetrain/face/face_types.h"
#include "facetrain/base/image.h"
#include "facetrain/media/network_encoding.h"

#include <array>
#include <vector>

namespace facetrain {

// aligned_from_frame stored for crops of `faceset_size_px`, rescaled for crops of `model_size_px`
// (pixel centres kept consistent, as an area resize of the stored crop would place them).
Affine2d rescale_alignment(const std::array<double, 6>& stored, int faceset_size_px, int model_size_px);

// A square crop in planar-free interleaved RGB floats (size * size * 3).
struct CropImage {
  int size = 0;
  std::vector<float> rgb;
};

// Bilinear crop of the plate's RGB (channels 3 or 4; extra channels ignored) in the plate's own
// values. Outside the plate is black (0).
CropImage crop_plate_values(const FloatImage& plate, const Affine2d& aligned_from_frame, int size_px);

// The same crop encoded for the network (network_encoding.h) and NOT clamped (callers clamp what
// the network sees).
CropImage encoded_for_network(CropImage plate_values, const NetworkEncoding& encoding);
CropImage crop_for_network(const FloatImage& plate, const Affine2d& aligned_from_frame, int size_px,
                           const NetworkEncoding& encoding);

// One predicted face, ready to go back onto the plate: colours in the plate's own encoding.
struct PlacedFace {
  CropImage rgb;
  std::vector<float> matte;        // size * size, in [0, 1], crop space
  Affine2d aligned_from_frame;     // for crops of rgb.size
  // The visible-face matte (issue 24), when the face set has one: visible_size^2 in [0, 1], in the
  // crop space of visible_from_frame. It is applied in plate pixels after erosion and feathering,
  // through visible_weight(): where it says "occluder", the plate stays exactly as decoded.
  std::vector<float> visible;
  int visible_size = 0;
  Affine2d visible_from_frame;
};

struct CompositeOptions {
  int erode_px = 0;       // > 0 shrinks, < 0 grows the matte, in output (plate) pixels
  int feather_px = 0;     // Gaussian ramp of this radius (sigma = radius / 2.5), in output pixels
  // The matte is quantised to the output's alpha levels (255, 65535; 0 = not quantised) before
  // blending, so a pixel whose written alpha is 0 is exactly the plate.
  int matte_levels = 0;
  // The visible-face matte (PlacedFace::visible) is eroded by this many output pixels: the soft
  // edge of a hand or a prop stays the plate.
  int visible_choke_px = 2;
};

// Warps `face` back with frame_from_aligned (bilinear), erodes and feathers its matte in plate
// pixels, and blends it over `image` (RGB, channels 3) ONLY where the matte is > 0:
// out = image * (1 - m) + face * m; alpha (width * height) accumulates m (over). Pixels where the
// matte is 0 are not touched at all.
void composite_face(FloatImage& image, std::vector<float>& alpha, const PlacedFace& face,
                    const CompositeOptions& options);

}  // namespace facetrain
