// Similarity alignment of 68 landmarks to the canonical face template, and the crop warps.
#include "facetrain/face/alignment.h"

#include "facetrain/base/error.h"

#include <algorithm>
#include <cmath>

namespace facetrain {

namespace {

// Mean frontal 68-point shape (iBUG 300-W order, y down). Derived for facetrain from the 43
// reference faces in dlib's examples/faces/training_with_face_landmarks.xml and
// testing_with_face_landmarks.xml (Debian libdlib19.1): each shape centred, then generalized
// Procrustes analysis (similarity-align every shape to the running mean, average, renormalize,
// rotate so the eye centres are level; converged in 4 iterations), then made left/right symmetric
// by averaging with its mirror image (iBUG mirror pairs), and finally translated and scaled so the
// bounding box of all 68 points is centred on (0, 0) with its larger side equal to 1
// (x spans [-0.5, 0.5], y spans [-0.49, 0.49]: brows at the top, chin at the bottom).
constexpr float kMeanShape[68][2] = {
    {-0.50000f, -0.29141f}, {-0.49464f, -0.15965f}, {-0.48236f, -0.03106f}, {-0.45661f, 0.09683f},
    {-0.40519f, 0.21501f}, {-0.32437f, 0.31523f}, {-0.22695f, 0.40087f}, {-0.11957f, 0.47034f},
    {0.00000f, 0.48972f}, {0.11957f, 0.47034f}, {0.22695f, 0.40087f}, {0.32437f, 0.31523f},
    {0.40519f, 0.21501f}, {0.45661f, 0.09683f}, {0.48236f, -0.03106f}, {0.49464f, -0.15965f},
    {0.50000f, -0.29141f}, {-0.39139f, -0.40939f}, {-0.33555f, -0.46692f}, {-0.25501f, -0.48972f},
    {-0.16964f, -0.48285f}, {-0.08801f, -0.45090f}, {0.08801f, -0.45090f}, {0.16964f, -0.48285f},
    {0.25501f, -0.48972f}, {0.33555f, -0.46692f}, {0.39139f, -0.40939f}, {0.00000f, -0.34111f},
    {0.00000f, -0.26069f}, {0.00000f, -0.18112f}, {0.00000f, -0.09649f}, {-0.09942f, -0.04030f},
    {-0.05168f, -0.02113f}, {0.00000f, -0.00513f}, {0.05168f, -0.02113f}, {0.09942f, -0.04030f},
    {-0.29110f, -0.31708f}, {-0.23921f, -0.34423f}, {-0.18084f, -0.34502f}, {-0.12991f, -0.31327f},
    {-0.18247f, -0.30404f}, {-0.24131f, -0.30386f}, {0.12991f, -0.31327f}, {0.18084f, -0.34502f},
    {0.23921f, -0.34423f}, {0.29110f, -0.31708f}, {0.24131f, -0.30386f}, {0.18247f, -0.30404f},
    {-0.20438f, 0.12130f}, {-0.13397f, 0.08312f}, {-0.05493f, 0.07158f}, {0.00000f, 0.07986f},
    {0.05493f, 0.07158f}, {0.13397f, 0.08312f}, {0.20438f, 0.12130f}, {0.13826f, 0.20328f},
    {0.05989f, 0.23437f}, {0.00000f, 0.23932f}, {-0.05989f, 0.23437f}, {-0.13826f, 0.20328f},
    {-0.17534f, 0.12552f}, {-0.05558f, 0.10517f}, {0.00000f, 0.11128f}, {0.05558f, 0.10517f},
    {0.17534f, 0.12552f}, {0.05787f, 0.17620f}, {0.00000f, 0.18362f}, {-0.05787f, 0.17620f},
};

// Where each face type puts the mean shape: the crop shows the square of side `extent` (in mean
// shape units, i.e. face bounding boxes) centred at (0, centre_y).
struct Placement {
  double centre_y;
  double extent;
};

Placement placement(FaceType type) {
  switch (type) {
    case FaceType::full: return {0.0, 1.12};     // brows to chin and cheek to cheek, 6 % margin each side
    case FaceType::whole: return {-0.12, 1.50};  // adds the forehead up to about the hairline
    case FaceType::head: return {-0.20, 2.10};   // the whole head with some hair and neck
  }
  return {0.0, 1.12};
}

// Per-landmark weights for the frame -> crop fit. The jaw contour is the least reliable part of
// dlib's fit (it slides along the cheek and drops when the mouth opens) and the inner mouth moves
// with speech, so the fit rests on the eye corners, the nose and the mouth corners.
float fit_weight(int i) {
  if (i == 0 || i == 16) return 0.5f;              // jaw ends at eye height: steadier than the rest
  if (i <= 16) return 0.03f;                       // jaw contour (slides, drops with the mouth)
  if (i <= 26) return 0.5f;                        // brows (raise with expressions)
  if (i <= 30) return 2.0f;                        // nose bridge and tip
  if (i <= 35) return 1.0f;                        // nostrils
  if (i == 36 || i == 39 || i == 42 || i == 45) return 3.0f;  // eye corners
  if (i <= 47) return 1.0f;                        // eyelids (blinks)
  if (i == 48 || i == 54) return 1.5f;             // mouth corners
  if (i <= 53) return 0.3f;                        // upper lip (moves little against the nose)
  return 0.05f;                                    // lower and inner lips (move with speech)
}

// Weighted least-squares similarity dst ~= [[a, -b], [b, a]] src + t. In 2-D the closed form over
// all rotations+scales equals Umeyama's solution without reflection.
Affine2d fit_similarity(const Point2f* src, const Point2f* dst, const float* weights, size_t n) {
  double wsum = 0, msx = 0, msy = 0, mdx = 0, mdy = 0;
  for (size_t i = 0; i < n; ++i) {
    const double w = weights ? weights[i] : 1.0;
    wsum += w;
    msx += w * src[i].x;
    msy += w * src[i].y;
    mdx += w * dst[i].x;
    mdy += w * dst[i].y;
  }
  if (!(wsum > 0)) throw InternalError("similarity fit without points");
  msx /= wsum;
  msy /= wsum;
  mdx /= wsum;
  mdy /= wsum;
  double sxx = 0, dot = 0, cross = 0;
  for (size_t i = 0; i < n; ++i) {
    const double w = weights ? weights[i] : 1.0;
    const double sx = src[i].x - msx, sy = src[i].y - msy;
    const double dx = dst[i].x - mdx, dy = dst[i].y - mdy;
    sxx += w * (sx * sx + sy * sy);
    dot += w * (sx * dx + sy * dy);
    cross += w * (sx * dy - sy * dx);
  }
  if (!(sxx > 1e-12 * std::max(1.0, wsum)) || !std::isfinite(sxx) || !std::isfinite(dot) || !std::isfinite(cross)) {
    throw InputDataError("similarity fit needs at least two distinct, finite points");
  }
  const double a = dot / sxx, b = cross / sxx;
  Affine2d t;
  t.a = a;
  t.b = -b;
  t.c = b;
  t.d = a;
  t.tx = mdx - (a * msx - b * msy);
  t.ty = mdy - (b * msx + a * msy);
  return t;
}

}  // namespace

Affine2d estimate_similarity(const std::vector<Point2f>& src, const std::vector<Point2f>& dst) {
  if (src.size() != dst.size() || src.size() < 2) {
    throw InternalError("estimate_similarity needs two equally long point lists with at least two points");
  }
  return fit_similarity(src.data(), dst.data(), nullptr, src.size());
}

Affine2d invert(const Affine2d& m) {
  const double det = m.a * m.d - m.b * m.c;
  if (!(std::abs(det) > 1e-300) || !std::isfinite(det)) throw InputDataError("cannot invert a singular transform");
  Affine2d r;
  r.a = m.d / det;
  r.b = -m.b / det;
  r.c = -m.c / det;
  r.d = m.a / det;
  r.tx = -(r.a * m.tx + r.b * m.ty);
  r.ty = -(r.c * m.tx + r.d * m.ty);
  return r;
}

Affine2d compose(const Affine2d& o, const Affine2d& i) {
  Affine2d r;
  r.a = o.a * i.a + o.b * i.c;
  r.b = o.a * i.b + o.b * i.d;
  r.tx = o.a * i.tx + o.b * i.ty + o.tx;
  r.c = o.c * i.a + o.d * i.c;
  r.d = o.c * i.b + o.d * i.d;
  r.ty = o.c * i.tx + o.d * i.ty + o.ty;
  return r;
}

std::vector<Point2f> template_landmarks(FaceType type, int crop_size_px) {
  const Placement p = placement(type);
  // Pixel centres sit at integer coordinates (as in dlib's landmarks), so the crop spans
  // [-0.5, size - 0.5] and its centre is (size - 1) / 2.
  const double scale = crop_size_px / p.extent;
  const double centre = (crop_size_px - 1) / 2.0;
  std::vector<Point2f> out(68);
  for (int i = 0; i < 68; ++i) {
    out[i] = {static_cast<float>(centre + kMeanShape[i][0] * scale),
              static_cast<float>(centre + (kMeanShape[i][1] - p.centre_y) * scale)};
  }
  return out;
}

Landmarks68 landmarks_from_five_points(const FivePointLandmarks& five_in_frame) {
  Point2f template_points[5];
  for (int k = 0; k < 5; ++k) template_points[k] = {kMeanShape[kFivePointIbugIndex[k]][0], kMeanShape[kFivePointIbugIndex[k]][1]};
  const float weights[5] = {1.f, 1.f, 1.f, 1.f, 1.f};
  const Affine2d frame_from_mean = fit_similarity(template_points, five_in_frame.data(), weights, 5);
  Landmarks68 out;
  for (int i = 0; i < 68; ++i) out[i] = frame_from_mean.apply({kMeanShape[i][0], kMeanShape[i][1]});
  for (int k = 0; k < 5; ++k) out[kFivePointIbugIndex[k]] = five_in_frame[k];
  return out;
}

Affine2d aligned_from_frame(const Landmarks68& landmarks_in_frame, FaceType type, int crop_size_px) {
  if (crop_size_px <= 0) throw InternalError("crop size must be positive");
  const std::vector<Point2f> dst = template_landmarks(type, crop_size_px);
  float weights[68];
  for (int i = 0; i < 68; ++i) weights[i] = fit_weight(i);
  return fit_similarity(landmarks_in_frame.data(), dst.data(), weights, 68);
}

Rgb8Image warp_to_aligned(const Rgb8Image& frame, const Affine2d& aligned_from_frame, int crop_size_px) {
  if (crop_size_px <= 0) throw InternalError("crop size must be positive");
  const Affine2d f = invert(aligned_from_frame);  // crop pixel -> frame position
  Rgb8Image out;
  out.width = out.height = crop_size_px;
  out.pixels.assign(static_cast<size_t>(crop_size_px) * crop_size_px * 3, 0);
  if (frame.empty() || frame.pixels.size() < static_cast<size_t>(frame.width) * frame.height * 3) return out;
  const int w = frame.width, h = frame.height;
  const size_t stride = static_cast<size_t>(w) * 3;
  const uint8_t* src = frame.pixels.data();
  for (int y = 0; y < crop_size_px; ++y) {
    uint8_t* dst = out.row(y);
    double fx = f.b * y + f.tx, fy = f.d * y + f.ty;
    for (int x = 0; x < crop_size_px; ++x, fx += f.a, fy += f.c, dst += 3) {
      if (!(fx > -1.0 && fy > -1.0 && fx < w && fy < h)) continue;  // no frame pixel contributes
      const int x0 = static_cast<int>(std::floor(fx)), y0 = static_cast<int>(std::floor(fy));
      const float wx = static_cast<float>(fx - x0), wy = static_cast<float>(fy - y0);
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
        const uint8_t* p00 = src + y0 * stride + x0 * 3;
        const uint8_t* p10 = p00 + stride;
        for (int ch = 0; ch < 3; ++ch) {
          const float top = p00[ch] + wx * (p00[ch + 3] - p00[ch]);
          const float bottom = p10[ch] + wx * (p10[ch + 3] - p10[ch]);
          dst[ch] = static_cast<uint8_t>(top + wy * (bottom - top) + 0.5f);
        }
      } else {  // the frame edge: neighbours outside the frame are black
        float acc[3] = {0.f, 0.f, 0.f};
        for (int dy = 0; dy < 2; ++dy) {
          for (int dx = 0; dx < 2; ++dx) {
            const int sx = x0 + dx, sy = y0 + dy;
            if (sx < 0 || sy < 0 || sx >= w || sy >= h) continue;
            const float wgt = (dx ? wx : 1.f - wx) * (dy ? wy : 1.f - wy);
            const uint8_t* p = src + sy * stride + sx * 3;
            for (int ch = 0; ch < 3; ++ch) acc[ch] += wgt * p[ch];
          }
        }
        for (int ch = 0; ch < 3; ++ch) dst[ch] = static_cast<uint8_t>(std::min(255.f, acc[ch] + 0.5f));
      }
    }
  }
  return out;
}

Gray8Image face_hull_mask(const Landmarks68& landmarks_in_frame, const Affine2d& aligned_from_frame,
                          int crop_size_px) {
  if (crop_size_px <= 0) throw InternalError("crop size must be positive");
  Gray8Image mask;
  mask.width = mask.height = crop_size_px;
  mask.pixels.assign(static_cast<size_t>(crop_size_px) * crop_size_px, 0);

  // Jaw and brows in crop pixels; the brows are raised by 15 % of the brow-to-chin distance so
  // the hull reaches over the brow ridge onto the forehead.
  std::vector<Point2f> pts;
  for (int i = 0; i <= 26; ++i) pts.push_back(aligned_from_frame.apply(landmarks_in_frame[i]));
  Point2f brow_mid{0.f, 0.f};
  for (int i = 17; i <= 26; ++i) {
    brow_mid.x += pts[i].x / 10.f;
    brow_mid.y += pts[i].y / 10.f;
  }
  const float ux = brow_mid.x - pts[8].x, uy = brow_mid.y - pts[8].y;  // chin -> brows
  for (int i = 17; i <= 26; ++i) {
    pts[i].x += 0.15f * ux;
    pts[i].y += 0.15f * uy;
  }
  for (const Point2f& p : pts) {
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) return mask;
  }

  // Convex hull (Andrew's monotone chain), counter-clockwise in y-down coordinates.
  std::sort(pts.begin(), pts.end(), [](const Point2f& a, const Point2f& b) { return a.x < b.x || (a.x == b.x && a.y < b.y); });
  auto cross = [](const Point2f& o, const Point2f& a, const Point2f& b) {
    return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
  };
  std::vector<Point2f> hull(2 * pts.size());
  size_t k = 0;
  for (size_t i = 0; i < pts.size(); ++i) {
    while (k >= 2 && cross(hull[k - 2], hull[k - 1], pts[i]) <= 0) --k;
    hull[k++] = pts[i];
  }
  for (size_t i = pts.size() - 1, lower = k + 1; i-- > 0;) {
    while (k >= lower && cross(hull[k - 2], hull[k - 1], pts[i]) <= 0) --k;
    hull[k++] = pts[i];
  }
  hull.resize(k > 0 ? k - 1 : 0);
  if (hull.size() < 3) return mask;

  float min_y = hull[0].y, max_y = hull[0].y;
  for (const Point2f& p : hull) {
    min_y = std::min(min_y, p.y);
    max_y = std::max(max_y, p.y);
  }
  // Scan-convert with 4 sub-rows per pixel row and exact horizontal coverage (anti-aliased edges).
  constexpr int kSubRows = 4;
  std::vector<float> coverage(crop_size_px);
  const int y_begin = std::max(0, static_cast<int>(std::floor(min_y)));
  const int y_end = std::min(crop_size_px - 1, static_cast<int>(std::ceil(max_y)));
  for (int y = y_begin; y <= y_end; ++y) {
    std::fill(coverage.begin(), coverage.end(), 0.f);
    bool any = false;
    for (int s = 0; s < kSubRows; ++s) {
      const float sy = y - 0.5f + (s + 0.5f) / kSubRows;
      float left = 1e30f, right = -1e30f;
      for (size_t e = 0; e < hull.size(); ++e) {
        const Point2f& p = hull[e];
        const Point2f& q = hull[(e + 1) % hull.size()];
        if ((p.y <= sy && q.y > sy) || (q.y <= sy && p.y > sy)) {
          const float x = p.x + (sy - p.y) / (q.y - p.y) * (q.x - p.x);
          left = std::min(left, x);
          right = std::max(right, x);
        }
      }
      if (!(right > left)) continue;
      any = true;
      const int x_begin = std::max(0, static_cast<int>(std::floor(left + 0.5f)));
      const int x_end = std::min(crop_size_px - 1, static_cast<int>(std::ceil(right - 0.5f)));
      for (int x = x_begin; x <= x_end; ++x) {
        const float c = std::min(x + 0.5f, right) - std::max(x - 0.5f, left);
        if (c > 0.f) coverage[x] += std::min(1.f, c) / kSubRows;
      }
    }
    if (!any) continue;
    uint8_t* row = mask.pixels.data() + static_cast<size_t>(y) * crop_size_px;
    for (int x = 0; x < crop_size_px; ++x) {
      row[x] = static_cast<uint8_t>(std::min(255.f, coverage[x] * 255.f + 0.5f));
    }
  }
  return mask;
}

Gray8Image to_gray(const Rgb8Image& image) {
  // Rec.709 luma weights on the encoded values, 16-bit fixed point (0.2126, 0.7152, 0.0722).
  Gray8Image gray;
  gray.width = image.width;
  gray.height = image.height;
  const size_t n = image.empty() ? 0 : static_cast<size_t>(image.width) * image.height;
  gray.pixels.resize(n);
  if (image.pixels.size() < n * 3) throw InternalError("to_gray: malformed image");
  const uint8_t* p = image.pixels.data();
  for (size_t i = 0; i < n; ++i, p += 3) {
    gray.pixels[i] = static_cast<uint8_t>((13933u * p[0] + 46871u * p[1] + 4732u * p[2] + 32768u) >> 16);
  }
  return gray;
}

}  // namespace facetrain

namespace facetrain {

std::vector<float> warp_rgb_to_aligned(const FloatImage& frame, const Affine2d& aligned_from_frame, int size_px) {
  std::vector<float> out(static_cast<size_t>(size_px) * size_px * 3, 0.f);
  const int w = frame.width, h = frame.height, ch = frame.channels;
  if (frame.empty() || ch < 3 || frame.pixels.size() < static_cast<size_t>(w) * h * ch) return out;
  const Affine2d f = invert(aligned_from_frame);
  for (int v = 0; v < size_px; ++v) {
    for (int u = 0; u < size_px; ++u) {
      const double fx = f.a * u + f.b * v + f.tx, fy = f.c * u + f.d * v + f.ty;
      if (!(fx > -1.0 && fy > -1.0 && fx < w && fy < h)) continue;
      const int x0 = static_cast<int>(std::floor(fx)), y0 = static_cast<int>(std::floor(fy));
      const float wx = static_cast<float>(fx - x0), wy = static_cast<float>(fy - y0);
      float acc[3] = {0.f, 0.f, 0.f};
      for (int dy = 0; dy < 2; ++dy) {
        const int sy = y0 + dy;
        if (sy < 0 || sy >= h) continue;
        for (int dx = 0; dx < 2; ++dx) {
          const int sx = x0 + dx;
          if (sx < 0 || sx >= w) continue;
          const float wgt = (dx ? wx : 1.f - wx) * (dy ? wy : 1.f - wy);
          const float* p = &frame.pixels[(static_cast<size_t>(sy) * w + sx) * ch];
          for (int c = 0; c < 3; ++c) acc[c] += wgt * (std::isfinite(p[c]) ? p[c] : 0.f);
        }
      }
      float* dst = &out[(static_cast<size_t>(v) * size_px + u) * 3];
      for (int c = 0; c < 3; ++c) dst[c] = acc[c];
    }
  }
  return out;
}

}  // namespace facetrain
