#pragma once
// Plain data shared by detection, landmarks, alignment and the face-set format.
#include <array>
#include <string>

namespace facetrain {

struct Point2f {
  float x = 0.f;
  float y = 0.f;
};

// A face rectangle in frame pixels with the detector's confidence.
struct FaceBox {
  float x0 = 0.f, y0 = 0.f, x1 = 0.f, y1 = 0.f;
  float score = 0.f;
  float width() const { return x1 - x0; }
  float height() const { return y1 - y0; }
};

using Landmarks68 = std::array<Point2f, 68>;  // iBUG 300-W order, frame pixels

// dlib's 5-point order: the outer and inner corner of the eye on the image's right (iBUG 45, 42),
// the outer and inner corner of the other eye (36, 39), the base of the nose (33).
using FivePointLandmarks = std::array<Point2f, 5>;
inline constexpr std::array<int, 5> kFivePointIbugIndex = {45, 42, 36, 39, 33};

// 2x3 matrix [[a, b, tx], [c, d, ty]] mapping a point p to (a*x + b*y + tx, c*x + d*y + ty).
// For a similarity a == d and b == -c.
struct Affine2d {
  double a = 1, b = 0, tx = 0;
  double c = 0, d = 1, ty = 0;
  Point2f apply(Point2f p) const {
    return {static_cast<float>(a * p.x + b * p.y + tx), static_cast<float>(c * p.x + d * p.y + ty)};
  }
};

// How much of the head the aligned crop covers (DeepFaceLab's names): "full" is the face from
// brows to chin, "whole" adds forehead and some hair, "head" the whole head.
enum class FaceType { full, whole, head };
FaceType face_type_from_string(const std::string& name);  // throws UsageError listing the names
const char* to_string(FaceType type);

}  // namespace facetrain
