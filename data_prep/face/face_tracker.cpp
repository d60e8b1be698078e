// FaceTracker: detection every few frames, landmark tracking in between, and temporal smoothing.
//
// Between detections each face's landmark fit is seeded with a box derived from its previous
// landmarks. dlib's shape predictor was trained on boxes from dlib's HOG detector, so the derived
// box imitates those: a square placed relative to the face's similarity frame, calibrated on the 43
// reference faces of dlib's examples/faces/*_with_face_landmarks.xml (each face's HOG box expressed
// in the coordinates of the mean shape, see alignment.cpp): centre (0.000, -0.110), side 1.074 in
// mean-shape units (face bounding boxes), spread 0.05 / 0.09. Boxes derived this way move smoothly
// with the face, unlike the detector's, which snap to its pyramid scales.
//
// Smoothing is centred (frames t-L..t+L, L = lookahead_frames), so constant-velocity motion is
// reproduced without lag, followed by a light one-euro style exponential filter; both relax as a
// landmark's speed (in interocular distances per frame) grows, so fast motion is followed closely
// while a still face does not jitter.
//
// Detection runs on the first frame, every redetect_every frames, after a gap in frame numbers,
// after a scene cut (a coarse grid of the frame changes wholesale), and when a tracked fit looks
// wrong (its box jumps or changes size implausibly, or the shape strays far from a face). A track
// the detector does not confirm survives one detection pass, unless its fit looked wrong or the
// frame follows a cut or gap. Smoothing windows never span a gap or a cut.
#include "data_prep/face/face_tracker.h"

#include "facetrain/face/alignment.h"
#include "facetrain/base/error.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <map>

namespace facetrain {

namespace {

constexpr float kBoxCentreY = -0.110f;      // derived-box centre, mean-shape units (see above)
constexpr float kBoxSide = 1.074f;          // derived-box side, mean-shape units
constexpr float kMatchIou = 0.3f;           // detection <-> track association
constexpr float kRefitIou = 0.5f;           // below this the detector's box seeds the fit instead
constexpr int kMaxMissedDetections = 2;     // consecutive detection passes a track may miss
constexpr float kMaxJumpFraction = 0.35f;   // per-frame box centre jump, fraction of box width
constexpr float kMaxScaleStep = 1.25f;      // per-frame box size change (either way)
constexpr float kMaxShapeResidual = 0.12f;  // weighted RMS distance to the mean shape, mean-shape units
constexpr float kSpeedScale = 0.03f;        // interocular distances per frame at which smoothing halves
constexpr int kCutGrid = 24;                // scene-cut check: kCutGrid x kCutGrid samples per frame
constexpr int kCutMeanAbsDiff = 28;         // mean absolute change (0-255) that counts as a cut

// Mapping between the crop of template_landmarks(full, kRefCrop) and mean-shape units, measured
// from the template itself so it follows any change of placement.
constexpr int kRefCrop = 1000;
struct MeanShapeFrame {
  float origin_x = 0, origin_y = 0, units_to_px = 1;
  std::vector<Point2f> reference;  // template_landmarks(full, kRefCrop)
};
const MeanShapeFrame& mean_shape_frame() {
  static const MeanShapeFrame frame = [] {
    MeanShapeFrame f;
    f.reference = template_landmarks(FaceType::full, kRefCrop);
    float x0 = 1e30f, x1 = -1e30f, y0 = 1e30f, y1 = -1e30f;
    for (const Point2f& p : f.reference) {
      x0 = std::min(x0, p.x);
      x1 = std::max(x1, p.x);
      y0 = std::min(y0, p.y);
      y1 = std::max(y1, p.y);
    }
    f.units_to_px = std::max(x1 - x0, y1 - y0);  // the mean shape's larger bbox side is 1 unit
    f.origin_x = (x0 + x1) / 2;
    f.origin_y = (y0 + y1) / 2;
    return f;
  }();
  return frame;
}

struct FitSummary {
  FaceBox box;            // detector-like box derived from the landmarks
  float residual = 0.f;   // RMS distance to the mean shape after similarity alignment (mean-shape units)
};

FitSummary summarize_fit(const Landmarks68& lm) {
  const MeanShapeFrame& ms = mean_shape_frame();
  const Affine2d ref_from_frame = aligned_from_frame(lm, FaceType::full, kRefCrop);
  const Affine2d frame_from_ref = invert(ref_from_frame);
  const Point2f centre = frame_from_ref.apply({ms.origin_x, ms.origin_y + kBoxCentreY * ms.units_to_px});
  const float px_per_ref = static_cast<float>(std::hypot(frame_from_ref.a, frame_from_ref.c));
  const float side = kBoxSide * ms.units_to_px * px_per_ref;
  FitSummary s;
  s.box.x0 = centre.x - (side - 1.f) / 2.f;
  s.box.y0 = centre.y - (side - 1.f) / 2.f;
  s.box.x1 = s.box.x0 + side;
  s.box.y1 = s.box.y0 + side;
  double sum = 0;
  for (int i = 0; i < 68; ++i) {
    const Point2f p = ref_from_frame.apply(lm[i]);
    const double dx = p.x - ms.reference[i].x, dy = p.y - ms.reference[i].y;
    sum += dx * dx + dy * dy;
  }
  s.residual = static_cast<float>(std::sqrt(sum / 68) / ms.units_to_px);
  return s;
}

float iou(const FaceBox& a, const FaceBox& b) {
  const float w = std::min(a.x1, b.x1) - std::max(a.x0, b.x0);
  const float h = std::min(a.y1, b.y1) - std::max(a.y0, b.y0);
  if (w <= 0 || h <= 0) return 0.f;
  const float inter = w * h;
  return inter / (a.width() * a.height() + b.width() * b.height() - inter);
}

float fraction_inside(const FaceBox& b, int width, int height) {
  const float w = std::min(b.x1, static_cast<float>(width)) - std::max(b.x0, 0.f);
  const float h = std::min(b.y1, static_cast<float>(height)) - std::max(b.y0, 0.f);
  if (w <= 0 || h <= 0) return 0.f;
  return w * h / (b.width() * b.height());
}

Point2f eye_centre(const Landmarks68& lm, int first) {
  Point2f c{0, 0};
  for (int i = first; i < first + 6; ++i) {
    c.x += lm[i].x / 6.f;
    c.y += lm[i].y / 6.f;
  }
  return c;
}

// Mean of the rigid points (eye corners, nose): the face's position for the global speed.
Point2f rigid_centre(const Landmarks68& lm) {
  static constexpr int kIdx[] = {36, 39, 42, 45, 27, 28, 29, 30, 31, 33, 35};
  Point2f c{0, 0};
  for (int i : kIdx) {
    c.x += lm[i].x;
    c.y += lm[i].y;
  }
  const float n = static_cast<float>(std::size(kIdx));
  return {c.x / n, c.y / n};
}

struct Sample {
  int64_t frame_number;
  int segment;
  Landmarks68 raw;
};

struct History {
  std::deque<Sample> samples;        // raw fits, increasing frame numbers
  bool filtered = false;             // one-euro state valid for (filtered_frame, filtered_segment)
  int64_t filtered_frame = 0;
  int filtered_segment = 0;
  Landmarks68 filtered_landmarks{};
};

struct Track {
  int id = 0;
  FaceBox box;            // derived from the latest raw landmarks (seeds the next fit)
  float score = 0.f;      // latest detector score
  int missed = 0;         // consecutive detection passes without a matching detection
  bool suspect = false;   // its last tracked fit looked wrong: drop it unless the detector confirms it
  Landmarks68 raw{};
  float spread = 0.f;     // the raw fit's spread (LandmarkFit)
};

struct PendingFace {
  int track_id;
  float score;
  float spread;
};

struct PendingFrame {
  int64_t frame_number;
  int segment;
  int frames_after = 0;   // frames pushed after this one in the same segment
  std::vector<PendingFace> faces;
};

}  // namespace

struct FaceTracker::Impl {
  std::unique_ptr<FaceDetector> detector;
  const LandmarkPredictor& predictor;
  TrackerOptions options;

  std::vector<Track> tracks;
  std::map<int, History> histories;
  std::deque<PendingFrame> pending;
  int next_track_id = 0;
  int segment = 0;
  bool have_last = false;
  int64_t last_frame = 0;
  int frames_since_detection = 0;
  bool detect_next = true;
  std::vector<uint8_t> thumbnail;  // grid samples of the previous frame (scene-cut check)

  // True when the frame differs wholesale from the previous one (a cut, a flash): tracked fits
  // would otherwise follow a face that is no longer there until the next scheduled detection.
  bool scene_changed(const Gray8Image& frame) {
    std::vector<uint8_t> next(kCutGrid * kCutGrid);
    for (int gy = 0; gy < kCutGrid; ++gy) {
      const int y = (2 * gy + 1) * frame.height / (2 * kCutGrid);
      for (int gx = 0; gx < kCutGrid; ++gx) {
        const int x = (2 * gx + 1) * frame.width / (2 * kCutGrid);
        next[gy * kCutGrid + gx] = frame.pixels[static_cast<size_t>(y) * frame.width + x];
      }
    }
    bool changed = false;
    if (thumbnail.size() == next.size()) {
      int sum = 0;
      for (size_t i = 0; i < next.size(); ++i) sum += std::abs(int(next[i]) - int(thumbnail[i]));
      changed = sum > kCutMeanAbsDiff * static_cast<int>(next.size());
    }
    thumbnail = std::move(next);
    return changed;
  }

  Impl(std::unique_ptr<FaceDetector> d, const LandmarkPredictor& p, TrackerOptions o)
      : detector(std::move(d)), predictor(p), options(o) {
    if (!detector) throw InternalError("FaceTracker needs a detector");
    options.redetect_every = std::max(1, options.redetect_every);
    options.max_faces = std::max(1, options.max_faces);
    options.lookahead_frames = std::clamp(options.lookahead_frames, 0, 16);
    options.smoothing = std::isfinite(options.smoothing) ? std::max(0.f, options.smoothing) : 0.f;
  }

  // Full detection: associate detections with tracks, start new tracks, keep the largest faces,
  // and fit every kept face (seeded by its track box, or by the detector's where they disagree).
  // `strict`: tracks the detector does not confirm are dropped at once (after a scene cut).
  void detect_and_fit(const Gray8Image& frame, bool strict) {
    frames_since_detection = 0;
    detect_next = false;
    std::vector<FaceBox> expected;
    if (!strict) {
      for (const Track& t : tracks) expected.push_back(t.box);
    }
    std::vector<FaceBox> detections = detector->detect(frame, expected);
    struct Pair {
      float overlap;
      size_t track, detection;
    };
    std::vector<Pair> pairs;
    for (size_t t = 0; t < tracks.size(); ++t) {
      for (size_t d = 0; d < detections.size(); ++d) {
        const float o = iou(tracks[t].box, detections[d]);
        if (o >= kMatchIou) pairs.push_back({o, t, d});
      }
    }
    std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) { return a.overlap > b.overlap; });
    std::vector<int> track_match(tracks.size(), -1), detection_match(detections.size(), -1);
    for (const Pair& p : pairs) {
      if (track_match[p.track] >= 0 || detection_match[p.detection] >= 0) continue;
      track_match[p.track] = static_cast<int>(p.detection);
      detection_match[p.detection] = static_cast<int>(p.track);
    }
    struct Candidate {
      Track track;
      FaceBox seed;
    };
    std::vector<Candidate> candidates;
    for (size_t t = 0; t < tracks.size(); ++t) {
      Candidate c{tracks[t], tracks[t].box};
      if (track_match[t] >= 0) {
        const FaceBox& d = detections[track_match[t]];
        c.track.missed = 0;
        c.track.score = d.score;
        if (iou(c.track.box, d) < kRefitIou) c.seed = d;
      } else {
        if (strict || c.track.suspect || ++c.track.missed >= kMaxMissedDetections) continue;  // gone
        detect_next = true;                                       // confirm soon
      }
      candidates.push_back(c);
    }
    for (size_t d = 0; d < detections.size(); ++d) {
      if (detection_match[d] >= 0) continue;
      Candidate c;
      c.track.id = -1;  // assigned below if kept
      c.track.box = detections[d];
      c.track.score = detections[d].score;
      c.seed = detections[d];
      candidates.push_back(c);
    }
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Candidate& a, const Candidate& b) { return a.seed.width() > b.seed.width(); });
    if (candidates.size() > static_cast<size_t>(options.max_faces)) candidates.resize(options.max_faces);
    tracks.clear();
    for (Candidate& c : candidates) {
      if (c.track.id < 0) c.track.id = next_track_id++;
      c.track.suspect = false;
      if (fit(frame, c.track, c.seed)) tracks.push_back(c.track);
    }
  }

  // Fits landmarks from `seed`; false when the face has left the frame.
  bool fit(const Gray8Image& frame, Track& track, const FaceBox& seed) {
    if (fraction_inside(seed, frame.width, frame.height) < 0.5f) return false;
    const LandmarkFit checked = predictor.predict_checked(frame, seed);
    track.raw = checked.landmarks;
    track.spread = checked.spread;
    const FitSummary s = summarize_fit(track.raw);
    track.box = s.box;
    track.box.score = track.score;
    return fraction_inside(track.box, frame.width, frame.height) >= 0.5f;
  }

  // Landmark tracking between detections; false when some fit looks wrong (re-detect).
  bool track_and_fit(const Gray8Image& frame) {
    bool ok = true;
    std::vector<Track> kept;
    for (Track& t : tracks) {
      const FaceBox before = t.box;
      if (fraction_inside(before, frame.width, frame.height) < 0.5f) {
        ok = false;  // left the frame: dropped
        continue;
      }
      const LandmarkFit checked = predictor.predict_checked(frame, before);
      t.raw = checked.landmarks;
      t.spread = checked.spread;
      const FitSummary s = summarize_fit(t.raw);
      const float jump = std::hypot((s.box.x0 + s.box.x1 - before.x0 - before.x1) / 2.f,
                                    (s.box.y0 + s.box.y1 - before.y0 - before.y1) / 2.f);
      const float ratio = s.box.width() / before.width();
      if (jump > kMaxJumpFraction * before.width() || ratio > kMaxScaleStep || ratio < 1.f / kMaxScaleStep ||
          s.residual > kMaxShapeResidual || fraction_inside(s.box, frame.width, frame.height) < 0.5f) {
        ok = false;
        t.suspect = true;
        t.box = before;  // re-detection matches against the last good box
      } else {
        t.box = s.box;
        t.box.score = t.score;
      }
      kept.push_back(t);
    }
    tracks = std::move(kept);
    return ok;
  }

  std::vector<TrackedFrame> push(int64_t frame_number, const Gray8Image& frame) {
    if (frame.empty() || frame.pixels.size() < static_cast<size_t>(frame.width) * frame.height) {
      throw InternalError("FaceTracker::push: empty or malformed frame " + std::to_string(frame_number));
    }
    if (have_last && frame_number <= last_frame) {
      throw InternalError("FaceTracker::push: frame " + std::to_string(frame_number) + " after frame " +
                          std::to_string(last_frame));
    }
    std::vector<TrackedFrame> out;
    const bool gap = have_last && frame_number != last_frame + 1;
    const bool cut = scene_changed(frame) && !gap;
    if (gap || cut) {  // smoothing windows end here
      ++segment;
      while (!pending.empty()) out.push_back(finalize_front());
    }
    const bool detect = !have_last || gap || cut || detect_next || tracks.empty() ||
                        frames_since_detection >= options.redetect_every;
    have_last = true;
    last_frame = frame_number;
    ++frames_since_detection;
    if (detect) {
      detect_and_fit(frame, cut || gap);
    } else if (!track_and_fit(frame)) {
      detect_and_fit(frame, false);
    }

    PendingFrame p{frame_number, segment, 0, {}};
    std::vector<const Track*> order;
    for (const Track& t : tracks) order.push_back(&t);
    std::stable_sort(order.begin(), order.end(),
                     [](const Track* a, const Track* b) { return a->box.width() > b->box.width(); });
    for (const Track* t : order) {
      histories[t->id].samples.push_back({frame_number, segment, t->raw});
      p.faces.push_back({t->id, t->score, t->spread});
    }
    for (PendingFrame& q : pending) ++q.frames_after;
    pending.push_back(std::move(p));
    while (!pending.empty() && pending.front().frames_after >= options.lookahead_frames) {
      out.push_back(finalize_front());
    }
    return out;
  }

  std::vector<TrackedFrame> flush() {
    std::vector<TrackedFrame> out;
    while (!pending.empty()) out.push_back(finalize_front());
    return out;
  }

  TrackedFrame finalize_front() {
    PendingFrame p = std::move(pending.front());
    pending.pop_front();
    TrackedFrame out;
    out.frame_number = p.frame_number;
    for (const PendingFace& f : p.faces) {
      TrackedFace face;
      face.track_id = f.track_id;
      face.landmarks = smooth(histories[f.track_id], p.frame_number, p.segment);
      face.box = summarize_fit(face.landmarks).box;
      face.box.score = f.score;
      face.fit_spread = f.spread;
      face.fit_confidence = fit_confidence_of(f.spread, predictor.points());
      out.faces.push_back(face);
    }
    // Forget samples no pending frame can need.
    const int64_t keep_from = pending.empty() ? last_frame + 1 : pending.front().frame_number;
    for (auto it = histories.begin(); it != histories.end();) {
      auto& s = it->second.samples;
      while (!s.empty() && s.front().frame_number < keep_from - options.lookahead_frames) s.pop_front();
      const bool active = std::any_of(tracks.begin(), tracks.end(), [&](const Track& t) { return t.id == it->first; });
      if (s.empty() && !active) {
        it = histories.erase(it);
      } else {
        ++it;
      }
    }
    return out;
  }

  Landmarks68 smooth(History& h, int64_t frame_number, int seg) {
    // Locate the frame's sample and how far the window reaches symmetrically around it.
    const auto& s = h.samples;
    size_t at = s.size();
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i].frame_number == frame_number && s[i].segment == seg) at = i;
    }
    if (at == s.size()) throw InternalError("FaceTracker: missing landmark sample");
    const Landmarks68& raw = s[at].raw;
    if (options.smoothing <= 0.f) return raw;
    const int lookahead = options.lookahead_frames;
    auto same_run = [&](size_t i, int64_t offset) {
      return s[i].segment == seg && s[i].frame_number == frame_number + offset;
    };
    int before = 0, after = 0;
    while (before < lookahead && at >= static_cast<size_t>(before + 1) && same_run(at - before - 1, -before - 1)) ++before;
    while (after < lookahead && at + after + 1 < s.size() && same_run(at + after + 1, after + 1)) ++after;
    const int reach = std::min(before, after);

    // Speeds (pixels per frame) from central differences where possible.
    const Sample* prev = before > 0 ? &s[at - 1] : nullptr;
    const Sample* next = after > 0 ? &s[at + 1] : nullptr;
    auto velocity = [&](auto get) -> Point2f {
      if (prev && next) {
        const Point2f a = get(prev->raw), b = get(next->raw);
        return {(b.x - a.x) / 2.f, (b.y - a.y) / 2.f};
      }
      const Point2f c = get(raw);
      if (next) {
        const Point2f b = get(next->raw);
        return {b.x - c.x, b.y - c.y};
      }
      if (prev) {
        const Point2f a = get(prev->raw);
        return {c.x - a.x, c.y - a.y};
      }
      return {0.f, 0.f};
    };
    const Point2f global_v = velocity([](const Landmarks68& l) { return rigid_centre(l); });
    const Point2f le = eye_centre(raw, 36), re = eye_centre(raw, 42);
    const float interocular = std::max(1.f, std::hypot(re.x - le.x, re.y - le.y));
    const float global_speed = std::hypot(global_v.x, global_v.y) / interocular;

    const float base_sigma = options.smoothing * (static_cast<float>(lookahead) + 0.5f);
    const float base_tau = 1.3f * options.smoothing;  // frames, exponential stage at rest
    const bool continue_filter = h.filtered && h.filtered_segment == seg && h.filtered_frame == frame_number - 1;
    Landmarks68 out;
    for (int i = 0; i < 68; ++i) {
      const Point2f v = velocity([i](const Landmarks68& l) { return l[i]; });
      const float speed = std::max(global_speed, std::hypot(v.x, v.y) / interocular);
      const float relax = 1.f / (1.f + speed / kSpeedScale);
      // Centred Gaussian window.
      const float sigma = base_sigma * relax;
      double wx = raw[i].x, wy = raw[i].y, wsum = 1.0;
      if (sigma > 0.05f) {
        for (int d = 1; d <= reach; ++d) {
          const double w = std::exp(-0.5 * d * d / (sigma * sigma));
          wx += w * (s[at - d].raw[i].x + s[at + d].raw[i].x);
          wy += w * (s[at - d].raw[i].y + s[at + d].raw[i].y);
          wsum += 2 * w;
        }
      }
      Point2f c{static_cast<float>(wx / wsum), static_cast<float>(wy / wsum)};
      // One-euro style exponential stage: time constant shrinks with speed.
      if (continue_filter) {
        const float tau = base_tau * relax;
        const float alpha = 1.f / (1.f + tau);
        const Point2f prev_out = h.filtered_landmarks[i];
        c = {prev_out.x + alpha * (c.x - prev_out.x), prev_out.y + alpha * (c.y - prev_out.y)};
      }
      out[i] = c;
    }
    h.filtered = true;
    h.filtered_frame = frame_number;
    h.filtered_segment = seg;
    h.filtered_landmarks = out;
    return out;
  }
};

FaceTracker::FaceTracker(std::unique_ptr<FaceDetector> detector, const LandmarkPredictor& predictor,
                         TrackerOptions options)
    : impl_(std::make_unique<Impl>(std::move(detector), predictor, options)) {}

FaceTracker::~FaceTracker() = default;

std::vector<TrackedFrame> FaceTracker::push(int64_t frame_number, const Gray8Image& frame_gray) {
  return impl_->push(frame_number, frame_gray);
}

std::vector<TrackedFrame> FaceTracker::flush() { return impl_->flush(); }

}  // namespace facetrain
