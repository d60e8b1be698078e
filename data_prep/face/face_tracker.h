#pragma once
// Follows faces through consecutive frames of one source: detects on the first frame and every
// `redetect_every` frames (or when a track's fit degrades), telling the detector where its tracks are
// (hog+cnn has the CNN look there when HOG loses a face that turns away), otherwise seeds each face's
// landmark fit from its previous landmarks; smooths landmarks over time so aligned crops do not jitter.
#include "data_prep/face/face_detector.h"
#include "data_prep/face/landmark_predictor.h"

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

namespace facetrain {

struct TrackerOptions {
  int redetect_every = 8;      // frames between full detections
  int max_faces = 1;           // keep the N largest faces
  float smoothing = 0.5f;      // 0 = none; higher = steadier landmarks (more lag on fast motion)
  int lookahead_frames = 2;    // frames of delay used for centred smoothing
};

struct TrackedFace {
  int track_id = 0;
  FaceBox box;                 // frame pixels
  Landmarks68 landmarks;       // frame pixels, smoothed
  float fit_spread = 0.f;      // this frame's raw fit (LandmarkFit): spread of re-seeded fits, of the eye distance
  float fit_confidence = 1.f;  // fit_confidence_of(fit_spread, points)
};

struct TrackedFrame {
  int64_t frame_number = 0;
  std::vector<TrackedFace> faces;   // largest first
};

class FaceTracker {
 public:
  FaceTracker(std::unique_ptr<FaceDetector> detector, const LandmarkPredictor& predictor, TrackerOptions options);
  ~FaceTracker();
  // Feeds frames in order (gaps in numbering are allowed: a gap > 1 forces a re-detection).
  // Returns the frames whose smoothing is final (delayed by up to lookahead_frames).
  std::vector<TrackedFrame> push(int64_t frame_number, const Gray8Image& frame_gray);
  // Returns the frames still held back. Call at the end of a run of frames.
  std::vector<TrackedFrame> flush();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace facetrain
