#include "facetrain/occlusion/occluder_synthesis.h"

#include "facetrain/base/error.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace facetrain {

const char* to_string(OccluderKind kind) {
  switch (kind) {
    case OccluderKind::plate_patch: return "plate_patch";
    case OccluderKind::thin_prop: return "thin_prop";
    case OccluderKind::hand: return "hand";
    case OccluderKind::hair: return "hair";
  }
  return "?";
}

namespace {

constexpr double kPi = 3.14159265358979323846;
using Rgb = std::array<float, 3>;

double uniform(std::mt19937_64& rng, double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
int uniform_int(std::mt19937_64& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

struct Vec {
  double x = 0, y = 0;
};

// Distance from p to the segment a-b.
double segment_distance(Vec p, Vec a, Vec b) {
  const double dx = b.x - a.x, dy = b.y - a.y;
  const double length2 = dx * dx + dy * dy;
  double t = length2 > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / length2 : 0;
  t = std::clamp(t, 0.0, 1.0);
  const double ex = a.x + t * dx - p.x, ey = a.y + t * dy - p.y;
  return std::sqrt(ex * ex + ey * ey);
}

// Coverage of shapes, accumulated as a union (max) at pixel centres.
class AlphaCanvas {
 public:
  explicit AlphaCanvas(int size) : size_(size), alpha_(static_cast<size_t>(size) * size, 0.f) {}
  void capsule(Vec a, Vec b, double radius) {
    const int x0 = std::max(0, static_cast<int>(std::floor(std::min(a.x, b.x) - radius - 1)));
    const int x1 = std::min(size_ - 1, static_cast<int>(std::ceil(std::max(a.x, b.x) + radius + 1)));
    const int y0 = std::max(0, static_cast<int>(std::floor(std::min(a.y, b.y) - radius - 1)));
    const int y1 = std::min(size_ - 1, static_cast<int>(std::ceil(std::max(a.y, b.y) + radius + 1)));
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) {
        // Anti-aliased edge: one pixel ramp across the boundary.
        const double coverage = std::clamp(radius + 0.5 - segment_distance({double(x), double(y)}, a, b), 0.0, 1.0);
        float& v = alpha_[static_cast<size_t>(y) * size_ + x];
        v = std::max(v, static_cast<float>(coverage));
      }
  }
  void ellipse(Vec centre, double rx, double ry, double angle) {
    const double reach = std::max(rx, ry) + 1;
    const double ca = std::cos(angle), sa = std::sin(angle);
    for (int y = std::max(0, int(centre.y - reach)); y <= std::min(size_ - 1, int(centre.y + reach)); ++y)
      for (int x = std::max(0, int(centre.x - reach)); x <= std::min(size_ - 1, int(centre.x + reach)); ++x) {
        const double u = ((x - centre.x) * ca + (y - centre.y) * sa) / rx;
        const double v = (-(x - centre.x) * sa + (y - centre.y) * ca) / ry;
        const double r = std::sqrt(u * u + v * v);
        // Signed distance approximated in pixels along the smaller radius.
        const double coverage = std::clamp((1.0 - r) * std::min(rx, ry) + 0.5, 0.0, 1.0);
        float& a = alpha_[static_cast<size_t>(y) * size_ + x];
        a = std::max(a, static_cast<float>(coverage));
      }
  }
  std::vector<float>& alpha() { return alpha_; }

 private:
  int size_;
  std::vector<float> alpha_;
};

// Separable Gaussian blur of a single-channel image (edges clamp).
void gaussian_blur(std::vector<float>& image, int size, double sigma) {
  if (sigma < 0.2) return;
  const int radius = std::max(1, static_cast<int>(std::ceil(sigma * 3)));
  std::vector<float> kernel(2 * radius + 1);
  float sum = 0;
  for (int i = -radius; i <= radius; ++i) sum += kernel[i + radius] = static_cast<float>(std::exp(-0.5 * i * i / (sigma * sigma)));
  for (float& k : kernel) k /= sum;
  std::vector<float> tmp(image.size());
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      float acc = 0;
      for (int i = -radius; i <= radius; ++i) acc += kernel[i + radius] * image[y * size + std::clamp(x + i, 0, size - 1)];
      tmp[y * size + x] = acc;
    }
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      float acc = 0;
      for (int i = -radius; i <= radius; ++i) acc += kernel[i + radius] * tmp[std::clamp(y + i, 0, size - 1) * size + x];
      image[y * size + x] = acc;
    }
}

// The same blur on each channel of an interleaved RGB layer.
void gaussian_blur_rgb(std::vector<float>& rgb, int size, double sigma) {
  if (sigma < 0.2) return;
  const size_t pixels = static_cast<size_t>(size) * size;
  std::vector<float> channel(pixels);
  for (int c = 0; c < 3; ++c) {
    for (size_t p = 0; p < pixels; ++p) channel[p] = rgb[p * 3 + c];
    gaussian_blur(channel, size, sigma);
    for (size_t p = 0; p < pixels; ++p) rgb[p * 3 + c] = channel[p];
  }
}

// Smooth random variation in [-1, 1]: bilinear value noise on a `cells` x `cells` lattice. Skin's
// own blotches and creases at the scale of a finger, without a face's features in them.
std::vector<float> value_noise(int size, int cells, std::mt19937_64& rng) {
  std::vector<float> lattice(static_cast<size_t>(cells + 1) * (cells + 1));
  for (float& v : lattice) v = static_cast<float>(uniform(rng, -1, 1));
  std::vector<float> out(static_cast<size_t>(size) * size);
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      const double gx = static_cast<double>(x) * cells / size, gy = static_cast<double>(y) * cells / size;
      const int x0 = static_cast<int>(gx), y0 = static_cast<int>(gy);
      const float fx = static_cast<float>(gx - x0), fy = static_cast<float>(gy - y0);
      auto at = [&](int xx, int yy) { return lattice[static_cast<size_t>(yy) * (cells + 1) + xx]; };
      out[static_cast<size_t>(y) * size + x] =
          (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
    }
  return out;
}

// Motion blur: the mean of `taps` copies shifted along (dx, dy), bilinear, edges clamped.
std::vector<float> motion_blur(const std::vector<float>& image, int size, int channels, double dx, double dy, int taps) {
  std::vector<float> out(image.size(), 0.f);
  for (int t = 0; t < taps; ++t) {
    const double s = taps == 1 ? 0 : (static_cast<double>(t) / (taps - 1) - 0.5);
    const double ox = s * dx, oy = s * dy;
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x) {
        const double sx = std::clamp(x + ox, 0.0, size - 1.0), sy = std::clamp(y + oy, 0.0, size - 1.0);
        const int x0 = static_cast<int>(sx), y0 = static_cast<int>(sy);
        const int x1 = std::min(x0 + 1, size - 1), y1 = std::min(y0 + 1, size - 1);
        const float fx = static_cast<float>(sx - x0), fy = static_cast<float>(sy - y0);
        for (int c = 0; c < channels; ++c) {
          auto at = [&](int xx, int yy) { return image[(static_cast<size_t>(yy) * size + xx) * channels + c]; };
          const float v = (at(x0, y0) * (1 - fx) + at(x1, y0) * fx) * (1 - fy) + (at(x0, y1) * (1 - fx) + at(x1, y1) * fx) * fy;
          out[(static_cast<size_t>(y) * size + x) * channels + c] += v / taps;
        }
      }
  }
  return out;
}

// A random point inside the face region (where it is > 0.5), else the crop's centre.
Vec point_in_face(const CropSample& face, std::mt19937_64& rng) {
  const int n = face.size;
  for (int attempt = 0; attempt < 64; ++attempt) {
    const int x = uniform_int(rng, 0, n - 1), y = uniform_int(rng, 0, n - 1);
    if (face.face_region[y * n + x] > 0.5f) return {double(x), double(y)};
  }
  return {n / 2.0, n / 2.0};
}

Rgb mean_face_colour(const CropSample& face) {
  const size_t n = static_cast<size_t>(face.size) * face.size;
  double sum[3] = {0, 0, 0}, weight = 0;
  for (size_t p = 0; p < n; ++p) {
    const double w = face.face_region[p];
    for (int c = 0; c < 3; ++c) sum[c] += w * face.rgb[p * 3 + c];
    weight += w;
  }
  if (weight < 1) return {0.6f, 0.45f, 0.4f};
  return {float(sum[0] / weight), float(sum[1] / weight), float(sum[2] / weight)};
}

// Pixels of `source` shifted by (ox, oy) (wrapping), as a colour layer.
std::vector<float> shifted_texture(const CropSample& source, int ox, int oy) {
  const int n = source.size;
  std::vector<float> colour(static_cast<size_t>(n) * n * 3);
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) {
      const int sx = ((x + ox) % n + n) % n, sy = ((y + oy) % n + n) % n;
      for (int c = 0; c < 3; ++c) colour[(static_cast<size_t>(y) * n + x) * 3 + c] = source.rgb[(static_cast<size_t>(sy) * n + sx) * 3 + c];
    }
  return colour;
}

// The shift of `source` under which the occluder's pixels come most from outside its face region.
std::pair<int, int> background_shift(const CropSample& source, const std::vector<float>& alpha, std::mt19937_64& rng) {
  const int n = source.size;
  std::pair<int, int> best{0, 0};
  double best_share = -1;
  for (int attempt = 0; attempt < 12; ++attempt) {
    const int ox = uniform_int(rng, 0, n - 1), oy = uniform_int(rng, 0, n - 1);
    double outside = 0, total = 0;
    for (int y = 0; y < n; y += 4)
      for (int x = 0; x < n; x += 4) {
        const float a = alpha[static_cast<size_t>(y) * n + x];
        if (a <= 0) continue;
        const int sx = (x + ox) % n, sy = (y + oy) % n;
        outside += a * (1.f - source.face_region[static_cast<size_t>(sy) * n + sx]);
        total += a;
      }
    const double share = total > 0 ? outside / total : 0;
    if (share > best_share) best_share = share, best = {ox, oy};
  }
  return best;
}

void draw_plate_patch_shape(AlphaCanvas& canvas, const CropSample& face, std::mt19937_64& rng) {
  const int n = face.size;
  const Vec centre = point_in_face(face, rng);
  const int blobs = uniform_int(rng, 1, 4);
  for (int i = 0; i < blobs; ++i) {
    const Vec c{centre.x + uniform(rng, -0.12, 0.12) * n, centre.y + uniform(rng, -0.12, 0.12) * n};
    canvas.ellipse(c, uniform(rng, 0.08, 0.3) * n, uniform(rng, 0.08, 0.3) * n, uniform(rng, 0, kPi));
  }
  if (uniform(rng, 0, 1) < 0.5) {  // an edge coming in from outside the crop: a shoulder, a door frame
    const double angle = uniform(rng, 0, 2 * kPi);
    const Vec far{centre.x + std::cos(angle) * n, centre.y + std::sin(angle) * n};
    canvas.capsule(centre, far, uniform(rng, 0.1, 0.25) * n);
  }
}

void draw_thin_prop_shape(AlphaCanvas& canvas, const CropSample& face, std::mt19937_64& rng) {
  const int n = face.size;
  const Vec centre = point_in_face(face, rng);
  const double angle = uniform(rng, 0, kPi);
  const double reach = uniform(rng, 0.3, 1.2) * n;  // a prop often enters from outside the crop
  const double start = uniform(rng, -1.0, 0.2) * reach;
  const Vec a{centre.x + std::cos(angle) * start, centre.y + std::sin(angle) * start};
  const Vec b{centre.x + std::cos(angle) * (start + reach), centre.y + std::sin(angle) * (start + reach)};
  canvas.capsule(a, b, uniform(rng, 0.015, 0.07) * n);
  if (uniform(rng, 0, 1) < 0.4)  // a microphone's head, a glass's bowl at one end
    canvas.ellipse(b, uniform(rng, 0.06, 0.14) * n, uniform(rng, 0.06, 0.14) * n, angle);
}

void draw_hand_shape(AlphaCanvas& canvas, const CropSample& face, std::mt19937_64& rng) {
  const int n = face.size;
  const Vec centre = point_in_face(face, rng);
  const double palm = uniform(rng, 0.1, 0.3) * n;
  const double direction = uniform(rng, 0, 2 * kPi);  // where the fingers point
  // The palm sits behind the fingers, often partly outside the crop (a hand coming from below).
  const Vec palm_centre{centre.x - std::cos(direction) * palm, centre.y - std::sin(direction) * palm};
  canvas.ellipse(palm_centre, palm, palm * uniform(rng, 0.8, 1.1), direction);
  canvas.capsule(palm_centre, {palm_centre.x - std::cos(direction) * n, palm_centre.y - std::sin(direction) * n},
                 palm * 0.7);  // the wrist
  const int fingers = uniform_int(rng, 1, 4);
  const double spread = uniform(rng, 0.15, 0.35);
  for (int f = 0; f < fingers; ++f) {
    const double a = direction + (f - (fingers - 1) / 2.0) * spread + uniform(rng, -0.08, 0.08);
    const double width = palm * uniform(rng, 0.18, 0.32);
    const Vec base{palm_centre.x + std::cos(a) * palm * 0.7, palm_centre.y + std::sin(a) * palm * 0.7};
    const double length = palm * uniform(rng, 1.0, 1.7);
    canvas.capsule(base, {base.x + std::cos(a) * length, base.y + std::sin(a) * length}, width);
  }
  if (uniform(rng, 0, 1) < 0.5) {  // the thumb
    const double a = direction + (uniform(rng, 0, 1) < 0.5 ? -1 : 1) * uniform(rng, 0.9, 1.4);
    const Vec base{palm_centre.x + std::cos(a) * palm * 0.6, palm_centre.y + std::sin(a) * palm * 0.6};
    canvas.capsule(base, {base.x + std::cos(a) * palm, base.y + std::sin(a) * palm}, palm * 0.25);
  }
}

void draw_hair_shape(AlphaCanvas& canvas, const CropSample& face, std::mt19937_64& rng) {
  const int n = face.size;
  const double fall = uniform(rng, 0.25, 0.7) * n;
  // From above a point of the face (the hairline side) down across it.
  const Vec through = point_in_face(face, rng);
  const Vec root{through.x, through.y - fall * uniform(rng, 0.2, 0.6)};
  const double sway = uniform(rng, -0.3, 0.3) * n;
  const int strands = uniform_int(rng, 8, 40);
  const double lock_width = uniform(rng, 0.03, 0.15) * n;
  for (int s = 0; s < strands; ++s) {
    const Vec p0{root.x + uniform(rng, -1, 1) * lock_width, root.y};
    const Vec p1{p0.x + sway * uniform(rng, 0.3, 0.8), p0.y + fall * 0.5};
    const Vec p2{p0.x + sway * uniform(rng, 0.7, 1.3) + uniform(rng, -0.05, 0.05) * n, p0.y + fall * uniform(rng, 0.8, 1.1)};
    const double width = uniform(rng, 0.3, 1.0) * std::max(1.0, n / 128.0);
    Vec previous = p0;
    const int segments = 16;
    for (int i = 1; i <= segments; ++i) {  // a quadratic Bezier in short capsules
      const double t = static_cast<double>(i) / segments;
      const Vec q{(1 - t) * (1 - t) * p0.x + 2 * (1 - t) * t * p1.x + t * t * p2.x,
                  (1 - t) * (1 - t) * p0.y + 2 * (1 - t) * t * p1.y + t * t * p2.y};
      canvas.capsule(previous, q, width);
      previous = q;
    }
  }
}

// The occluder's colour layer (size * size * 3) for `kind`.
std::vector<float> occluder_colour(const CropSample& face, const CropSample& other, OccluderKind kind,
                                   const std::vector<float>& alpha, std::mt19937_64& rng) {
  const int n = face.size;
  const size_t pixels = static_cast<size_t>(n) * n;
  std::vector<float> colour(pixels * 3);
  std::normal_distribution<float> noise(0.f, 1.f);
  const double shade_angle = uniform(rng, 0, 2 * kPi);
  const double shade_amount = uniform(rng, 0.0, 0.35);
  auto shading = [&](int x, int y) {  // a linear light falloff across the occluder
    return static_cast<float>(1.0 + shade_amount * ((x - n / 2.0) * std::cos(shade_angle) + (y - n / 2.0) * std::sin(shade_angle)) / n);
  };
  switch (kind) {
    case OccluderKind::plate_patch: {
      const auto [ox, oy] = background_shift(other, alpha, rng);
      return shifted_texture(other, ox, oy);
    }
    case OccluderKind::thin_prop: {
      if (uniform(rng, 0, 1) < 0.35) return shifted_texture(other, uniform_int(rng, 0, n - 1), uniform_int(rng, 0, n - 1));
      const float level = static_cast<float>(uniform(rng, 0, 1) < 0.5 ? uniform(rng, 0.0, 0.25) : uniform(rng, 0.0, 1.0));
      Rgb base{level, level, level};
      for (float& c : base) c = std::clamp(c + static_cast<float>(uniform(rng, -0.15, 0.15)), 0.f, 1.f);
      const float grain = static_cast<float>(uniform(rng, 0.0, 0.04));
      for (int y = 0; y < n; ++y)
        for (int x = 0; x < n; ++x)
          for (int c = 0; c < 3; ++c)
            colour[(static_cast<size_t>(y) * n + x) * 3 + c] = std::clamp(base[c] * shading(x, y) + grain * noise(rng), 0.f, 1.f);
      return colour;
    }
    case OccluderKind::hand: {
      // The face's skin tone, lighter or darker and often redder, but none of the face's texture (a
      // hand has no eyes or brows): blotches and grain of value noise, and the roundness of fingers
      // and palm, darker towards the silhouette's edge (the alpha blurred by about half a finger's
      // width stands for the thickness under each pixel).
      const Rgb skin = mean_face_colour(face);
      const float gain = static_cast<float>(uniform(rng, 0.7, 1.3));
      Rgb tint{};
      for (int c = 0; c < 3; ++c) tint[c] = gain * skin[c] * static_cast<float>(uniform(rng, 0.93, 1.07));
      tint[0] *= static_cast<float>(uniform(rng, 0.97, 1.12));
      std::vector<float> thickness = alpha;
      gaussian_blur(thickness, n, 0.035 * n);
      const std::vector<float> blotches = value_noise(n, 4, rng), creases = value_noise(n, 16, rng);
      const float blotch = static_cast<float>(uniform(rng, 0.02, 0.07)), crease = static_cast<float>(uniform(rng, 0.0, 0.04));
      const float rim = static_cast<float>(uniform(rng, 0.15, 0.5));
      for (int y = 0; y < n; ++y)
        for (int x = 0; x < n; ++x) {
          const size_t p = static_cast<size_t>(y) * n + x;
          const float round = 1 - rim * (1 - std::clamp(2 * thickness[p], 0.f, 1.f));
          for (int c = 0; c < 3; ++c)
            colour[p * 3 + c] = std::clamp(tint[c] * shading(x, y) * round + blotch * blotches[p] + crease * creases[p], 0.f, 1.f);
        }
      return colour;
    }
    case OccluderKind::hair: {
      const double tone = uniform(rng, 0, 1);
      const Rgb base = tone < 0.5 ? Rgb{0.05f, 0.04f, 0.03f} : tone < 0.8 ? Rgb{0.25f, 0.16f, 0.09f} : Rgb{0.7f, 0.6f, 0.4f};
      const float gain = static_cast<float>(uniform(rng, 0.6, 1.4));
      for (size_t p = 0; p < pixels; ++p) {
        const float sheen = 0.05f * noise(rng);
        for (int c = 0; c < 3; ++c) colour[p * 3 + c] = std::clamp(base[c] * gain + sheen, 0.f, 1.f);
      }
      return colour;
    }
  }
  return colour;
}

}  // namespace

SynthesizedOcclusion synthesize_occlusion(const CropSample& face, const CropSample& other, OccluderKind kind,
                                          std::mt19937_64& rng) {
  if (face.size <= 0 || other.size != face.size || !face.rgb || !face.face_region || !other.rgb || !other.face_region)
    throw InternalError("synthesize_occlusion: crops of different sizes or without pixels");
  const int n = face.size;
  const size_t pixels = static_cast<size_t>(n) * n;
  AlphaCanvas canvas(n);
  switch (kind) {
    case OccluderKind::plate_patch: draw_plate_patch_shape(canvas, face, rng); break;
    case OccluderKind::thin_prop: draw_thin_prop_shape(canvas, face, rng); break;
    case OccluderKind::hand: draw_hand_shape(canvas, face, rng); break;
    case OccluderKind::hair: draw_hair_shape(canvas, face, rng); break;
  }
  std::vector<float> alpha = std::move(canvas.alpha());
  // Soft edges: out-of-focus props and hair have partly transparent borders.
  gaussian_blur(alpha, n, kind == OccluderKind::hair ? uniform(rng, 0.0, 0.5) : uniform(rng, 0.0, 1.2) * n / 128.0);
  std::vector<float> colour = occluder_colour(face, other, kind, alpha, rng);
  // Blurs of the occluder act on its premultiplied colour and its alpha alike.
  auto blur_occluder = [&](auto&& blur) {
    std::vector<float> premultiplied(pixels * 3);
    for (size_t p = 0; p < pixels; ++p)
      for (int c = 0; c < 3; ++c) premultiplied[p * 3 + c] = colour[p * 3 + c] * alpha[p];
    blur(premultiplied, 3);
    blur(alpha, 1);
    for (size_t p = 0; p < pixels; ++p)
      for (int c = 0; c < 3; ++c) colour[p * 3 + c] = alpha[p] > 1e-4f ? std::clamp(premultiplied[p * 3 + c] / alpha[p], 0.f, 1.f) : 0.f;
  };
  // Depth of field: a hand or prop near the lens is out of focus while the face is sharp (three in
  // ten), or the face is out of focus behind a sharp one (one in seven, below).
  const bool solid = kind != OccluderKind::hair;
  const double focus = uniform(rng, 0, 1);
  if (solid && focus < 0.3) {
    const double sigma = uniform(rng, 0.005, 0.05) * n;
    blur_occluder([&](std::vector<float>& layer, int channels) {
      if (channels == 3) gaussian_blur_rgb(layer, n, sigma);
      else gaussian_blur(layer, n, sigma);
    });
  }
  // Motion blur of a fast hand or prop, up to a fifth of the crop in one exposure.
  if (solid && uniform(rng, 0, 1) < 0.35) {
    const double length = uniform(rng, 0.02, 0.2) * n, angle = uniform(rng, 0, kPi);
    const int taps = std::max(2, static_cast<int>(length));
    blur_occluder([&](std::vector<float>& layer, int channels) {
      layer = motion_blur(layer, n, channels, length * std::cos(angle), length * std::sin(angle), taps);
    });
  }
  // The face beneath: out of focus, and darkened by the shadow the occluder casts (still face: the
  // target does not change under a shadow).
  std::vector<float> beneath(face.rgb, face.rgb + pixels * 3);
  if (solid && focus >= 0.3 && focus < 0.44) gaussian_blur_rgb(beneath, n, uniform(rng, 0.005, 0.03) * n);
  if (solid && uniform(rng, 0, 1) < 0.4) {
    const double distance = uniform(rng, 0.02, 0.08) * n, angle = uniform(rng, 0, 2 * kPi);
    const int dx = static_cast<int>(std::lround(distance * std::cos(angle))), dy = static_cast<int>(std::lround(distance * std::sin(angle)));
    std::vector<float> shadow(pixels, 0.f);
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) {
        const int sx = x - dx, sy = y - dy;
        if (sx >= 0 && sx < n && sy >= 0 && sy < n) shadow[static_cast<size_t>(y) * n + x] = alpha[static_cast<size_t>(sy) * n + sx];
      }
    gaussian_blur(shadow, n, uniform(rng, 0.01, 0.05) * n);
    const float strength = static_cast<float>(uniform(rng, 0.15, 0.5));
    for (size_t p = 0; p < pixels; ++p)
      for (int c = 0; c < 3; ++c) beneath[p * 3 + c] *= 1 - strength * shadow[p];
  }
  SynthesizedOcclusion out;
  out.kind = kind;
  out.rgb.resize(pixels * 3);
  out.visible.resize(pixels);
  for (size_t p = 0; p < pixels; ++p) {
    const float a = std::clamp(alpha[p], 0.f, 1.f);
    alpha[p] = a;
    for (int c = 0; c < 3; ++c) out.rgb[p * 3 + c] = beneath[p * 3 + c] * (1 - a) + colour[p * 3 + c] * a;
    out.visible[p] = face.face_region[p] * (1 - a);
  }
  out.occluder = std::move(alpha);
  return out;
}

}  // namespace facetrain
