#include "facetrain/swap/face_composite.h"
#include "facetrain/swap/visible_face_matte.h"

#include "facetrain/face/alignment.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace facetrain {

namespace {

// Bilinear sample of a `size` x `size` single-channel plane; outside counts as 0.
float sample_plane(const std::vector<float>& plane, int size, double x, double y) {
  if (!(x > -1.0 && y > -1.0 && x < size && y < size)) return 0.f;
  const int x0 = static_cast<int>(std::floor(x)), y0 = static_cast<int>(std::floor(y));
  const float wx = static_cast<float>(x - x0), wy = static_cast<float>(y - y0);
  float acc = 0.f;
  for (int dy = 0; dy < 2; ++dy) {
    const int sy = y0 + dy;
    if (sy < 0 || sy >= size) continue;
    for (int dx = 0; dx < 2; ++dx) {
      const int sx = x0 + dx;
      if (sx < 0 || sx >= size) continue;
      acc += (dx ? wx : 1.f - wx) * (dy ? wy : 1.f - wy) * plane[static_cast<size_t>(sy) * size + sx];
    }
  }
  return acc;
}

// Bilinear sample of interleaved RGB with coordinates clamped to the crop (the matte decides extent).
void sample_rgb_clamped(const CropImage& crop, double x, double y, float out[3]) {
  const int n = crop.size;
  x = std::clamp(x, 0.0, static_cast<double>(n - 1));
  y = std::clamp(y, 0.0, static_cast<double>(n - 1));
  const int x0 = std::min(static_cast<int>(x), n - 1), y0 = std::min(static_cast<int>(y), n - 1);
  const int x1 = std::min(x0 + 1, n - 1), y1 = std::min(y0 + 1, n - 1);
  const float wx = static_cast<float>(x - x0), wy = static_cast<float>(y - y0);
  const float* p00 = &crop.rgb[(static_cast<size_t>(y0) * n + x0) * 3];
  const float* p01 = &crop.rgb[(static_cast<size_t>(y0) * n + x1) * 3];
  const float* p10 = &crop.rgb[(static_cast<size_t>(y1) * n + x0) * 3];
  const float* p11 = &crop.rgb[(static_cast<size_t>(y1) * n + x1) * 3];
  for (int c = 0; c < 3; ++c) {
    const float top = p00[c] + wx * (p01[c] - p00[c]);
    const float bottom = p10[c] + wx * (p11[c] - p10[c]);
    out[c] = top + wy * (bottom - top);
  }
}

// Separable min (erode) or max (dilate) over a square of radius r; outside the plane counts as 0.
void morph(std::vector<float>& plane, int w, int h, int r, bool erode) {
  if (r <= 0) return;
  std::vector<float> tmp(plane.size());
  auto pick = [erode](float a, float b) { return erode ? std::min(a, b) : std::max(a, b); };
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      float v = plane[static_cast<size_t>(y) * w + x];
      for (int k = x - r; k <= x + r; ++k) v = pick(v, (k < 0 || k >= w) ? 0.f : plane[static_cast<size_t>(y) * w + k]);
      tmp[static_cast<size_t>(y) * w + x] = v;
    }
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      float v = tmp[static_cast<size_t>(y) * w + x];
      for (int k = y - r; k <= y + r; ++k) v = pick(v, (k < 0 || k >= h) ? 0.f : tmp[static_cast<size_t>(k) * w + x]);
      plane[static_cast<size_t>(y) * w + x] = v;
    }
}

// Separable Gaussian of radius r (sigma r / 2.5, weights normalised); zeros stay exactly zero
// beyond r pixels of any non-zero value.
void feather(std::vector<float>& plane, int w, int h, int r) {
  if (r <= 0) return;
  const double sigma = std::max(0.5, r / 2.5);
  std::vector<float> kernel(2 * r + 1);
  double sum = 0;
  for (int i = -r; i <= r; ++i) sum += kernel[i + r] = static_cast<float>(std::exp(-0.5 * i * i / (sigma * sigma)));
  for (float& k : kernel) k = static_cast<float>(k / sum);
  std::vector<float> tmp(plane.size());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      float v = 0.f;
      for (int i = -r; i <= r; ++i) {
        const int k = x + i;
        if (k >= 0 && k < w) v += kernel[i + r] * plane[static_cast<size_t>(y) * w + k];
      }
      tmp[static_cast<size_t>(y) * w + x] = v;
    }
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      float v = 0.f;
      for (int i = -r; i <= r; ++i) {
        const int k = y + i;
        if (k >= 0 && k < h) v += kernel[i + r] * tmp[static_cast<size_t>(k) * w + x];
      }
      plane[static_cast<size_t>(y) * w + x] = std::min(1.f, v);
    }
}

}  // namespace

Affine2d rescale_alignment(const std::array<double, 6>& m, int faceset_size_px, int model_size_px) {
  // q_model + 0.5 = s * (q_stored + 0.5): pixel areas line up as in an area (box) resize.
  const double s = static_cast<double>(model_size_px) / faceset_size_px;
  const double shift = 0.5 * s - 0.5;
  return Affine2d{m[0] * s, m[1] * s, m[2] * s + shift, m[3] * s, m[4] * s, m[5] * s + shift};
}

CropImage crop_plate_values(const FloatImage& plate, const Affine2d& aligned_from_frame, int size_px) {
  CropImage out;
  out.size = size_px;
  out.rgb = warp_rgb_to_aligned(plate, aligned_from_frame, size_px);
  return out;
}

CropImage encoded_for_network(CropImage plate_values, const NetworkEncoding& encoding) {
  encoding.encode(plate_values.rgb.data(), static_cast<size_t>(plate_values.size) * plate_values.size);
  return plate_values;
}

CropImage crop_for_network(const FloatImage& plate, const Affine2d& aligned_from_frame, int size_px,
                           const NetworkEncoding& encoding) {
  return encoded_for_network(crop_plate_values(plate, aligned_from_frame, size_px), encoding);
}

void composite_face(FloatImage& image, std::vector<float>& alpha, const PlacedFace& face,
                    const CompositeOptions& options) {
  const int n = face.rgb.size;
  const int w = image.width, h = image.height;
  if (n <= 0 || image.channels != 3 || face.matte.size() != static_cast<size_t>(n) * n) return;
  if (alpha.size() != static_cast<size_t>(w) * h) alpha.assign(static_cast<size_t>(w) * h, 0.f);
  const Affine2d& a = face.aligned_from_frame;
  const Affine2d f = invert(a);
  // The crop's footprint on the plate, grown by what erosion (negative: dilation) and feathering can spread.
  double x_min = std::numeric_limits<double>::max(), y_min = x_min, x_max = -x_min, y_max = -x_min;
  for (const auto& [u, v] : {std::pair<double, double>{-1, -1}, {n, -1}, {-1, n}, {n, n}}) {
    const double x = f.a * u + f.b * v + f.tx, y = f.c * u + f.d * v + f.ty;
    x_min = std::min(x_min, x); x_max = std::max(x_max, x);
    y_min = std::min(y_min, y); y_max = std::max(y_max, y);
  }
  if (!std::isfinite(x_min + x_max + y_min + y_max)) return;
  const int grow = std::max(0, -options.erode_px) + std::max(0, options.feather_px) + 2;
  const int bx0 = std::max(0, static_cast<int>(std::floor(x_min)) - grow);
  const int by0 = std::max(0, static_cast<int>(std::floor(y_min)) - grow);
  const int bx1 = std::min(w - 1, static_cast<int>(std::ceil(x_max)) + grow);
  const int by1 = std::min(h - 1, static_cast<int>(std::ceil(y_max)) + grow);
  if (bx0 > bx1 || by0 > by1) return;
  const int bw = bx1 - bx0 + 1, bh = by1 - by0 + 1;

  std::vector<float> matte(static_cast<size_t>(bw) * bh, 0.f);
  for (int y = 0; y < bh; ++y)
    for (int x = 0; x < bw; ++x) {
      const double px = bx0 + x, py = by0 + y;
      const double u = a.a * px + a.b * py + a.tx, v = a.c * px + a.d * py + a.ty;
      matte[static_cast<size_t>(y) * bw + x] = std::clamp(sample_plane(face.matte, n, u, v), 0.f, 1.f);
    }
  morph(matte, bw, bh, std::abs(options.erode_px), options.erode_px > 0);
  feather(matte, bw, bh, options.feather_px);

  const float levels = static_cast<float>(options.matte_levels);
  const bool has_visible =
      face.visible_size > 0 && face.visible.size() == static_cast<size_t>(face.visible_size) * face.visible_size;
  if (has_visible) {
    // The visible-face matte in plate pixels, as a weight, choked by options.visible_choke_px so
    // that an occluder's soft edge stays the plate too; it only ever takes away from the matte.
    std::vector<float> visible(matte.size());
    const Affine2d& va = face.visible_from_frame;
    for (int y = 0; y < bh; ++y)
      for (int x = 0; x < bw; ++x) {
        const double px = bx0 + x, py = by0 + y;
        const double vu = va.a * px + va.b * py + va.tx, vv = va.c * px + va.d * py + va.ty;
        visible[static_cast<size_t>(y) * bw + x] = visible_weight(sample_plane(face.visible, face.visible_size, vu, vv));
      }
    morph(visible, bw, bh, std::max(0, options.visible_choke_px), /*erode=*/true);
    for (size_t i = 0; i < matte.size(); ++i) matte[i] *= visible[i];
  }
  for (int y = 0; y < bh; ++y)
    for (int x = 0; x < bw; ++x) {
      float m = matte[static_cast<size_t>(y) * bw + x];
      const int px = bx0 + x, py = by0 + y;
      if (levels > 0) m = std::round(m * levels) / levels;
      if (!(m > 0.f)) continue;  // outside the matte: the plate stays exactly as decoded
      const double u = a.a * px + a.b * py + a.tx, v = a.c * px + a.d * py + a.ty;
      float rgb[3];
      sample_rgb_clamped(face.rgb, u, v, rgb);
      float* dst = &image.pixels[(static_cast<size_t>(py) * w + px) * 3];
      for (int c = 0; c < 3; ++c) dst[c] = dst[c] * (1.f - m) + rgb[c] * m;
      float& al = alpha[static_cast<size_t>(py) * w + px];
      al = al + m * (1.f - al);
    }
}

}  // namespace facetrain
