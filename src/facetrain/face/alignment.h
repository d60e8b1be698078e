#pragma once
// Similarity alignment of 68 landmarks to a canonical face template, and the crop warps.
#include "facetrain/face/face_types.h"
#include "facetrain/base/image.h"

#include <vector>

namespace facetrain {

// Least-squares similarity (Umeyama, no reflection) with dst ~= T(src). Needs >= 2 distinct points.
Affine2d estimate_similarity(const std::vector<Point2f>& src, const std::vector<Point2f>& dst);
Affine2d invert(const Affine2d& transform);
Affine2d compose(const Affine2d& outer, const Affine2d& inner);  // outer(inner(p))

// The canonical positions of the 68 landmarks in a crop of `crop_size_px` for `type`.
std::vector<Point2f> template_landmarks(FaceType type, int crop_size_px);

// The 68 landmarks a 5-point fit stands for: the canonical template moved onto the five points by
// their least-squares similarity, with the five fitted points themselves in their iBUG slots. The
// other 63 are the mean face's (no expression, no jaw line of this face): alignment, hull and
// identity crops follow from them, the expression score does not.
Landmarks68 landmarks_from_five_points(const FivePointLandmarks& five_in_frame);

// Maps frame pixels to the aligned crop (what faceset alignments store as "aligned_from_frame").
Affine2d aligned_from_frame(const Landmarks68& landmarks_in_frame, FaceType type, int crop_size_px);

// Bilinear warp of `frame` into a crop_size x crop_size image; outside the frame is black.
Rgb8Image warp_to_aligned(const Rgb8Image& frame, const Affine2d& aligned_from_frame, int crop_size_px);

// Bilinear warp of `frame`'s RGB (channels 3 or 4; extra channels ignored) into crop_size x
// crop_size interleaved RGB floats, values as they are (nothing clamped); outside the frame, and
// non-finite samples, count as 0.
std::vector<float> warp_rgb_to_aligned(const FloatImage& frame, const Affine2d& aligned_from_frame, int crop_size_px);

// Filled convex hull of the landmarks (jaw + brows), in crop pixels: 255 inside, 0 outside.
Gray8Image face_hull_mask(const Landmarks68& landmarks_in_frame, const Affine2d& aligned_from_frame,
                          int crop_size_px);

Gray8Image to_gray(const Rgb8Image& image);

}  // namespace facetrain
