#pragma once
// extract --identity / --exclude-identity: which face tracks of a plate are the person. A first pass
// over the plate tracks every face (up to kIdentityTrackedFaces a frame), describes a sample of each
// track's faces with dlib's face-recognition network, and decides per track by a vote
// (quality/track_identity_vote.h); the crops are then written for the kept tracks only, from the
// same tracked landmarks (extract_pipeline.cpp). Nothing is written in the first pass, so a plate in
// which the person is not found leaves the face set as it was.
#include "data_prep/face/face_tracker.h"
#include "facetrain/base/image.h"
#include "facetrain/quality/face_scorer.h"
#include "facetrain/quality/track_identity_vote.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace facetrain {

// Faces tracked per frame while choosing: the person may be any of them, and a crowd beyond this
// many detectable faces is rare on a plate; --max-faces then caps the faces kept per frame.
inline constexpr int kIdentityTrackedFaces = 8;
// A track's faces are described every this many frames (and its first face always), so that a
// descriptor (about 30 ms of CPU each) costs less than tracking; a track of 100 frames still votes
// with 25 samples.
inline constexpr int kIdentitySampleEvery = 4;

struct IdentityChoice {
  std::optional<FaceDescriptor> keep;   // --identity
  std::vector<FaceDescriptor> exclude;  // --exclude-identity, one person each
  double threshold = kDefaultIdentityThreshold;
};

// What was decided about one track, for the log and the done event.
struct TrackDecision {
  int track = 0;
  int64_t frame_first = 0, frame_last = 0;
  int faces = 0;
  std::optional<TrackVote> identity;  // against --identity
  std::vector<TrackVote> excluded;    // against each --exclude-identity
  TrackVerdict verdict = TrackVerdict::kept;
};

class TrackIdentityPass {
 public:
  TrackIdentityPass(IdentityChoice choice, FaceScorer& scorer, int max_faces_kept);
  // One tracked frame, in order, with the picture its faces were tracked in.
  void add(const Rgb8Image& display, TrackedFrame frame);
  // Votes on every track; call once, after the last add().
  void decide();
  const std::vector<TrackDecision>& decisions() const { return decisions_; }
  bool any_kept() const;
  // The frame's faces of kept tracks, largest first, at most max_faces_kept. InternalError for a
  // frame the pass did not see.
  TrackedFrame kept(int64_t frame_number) const;

 private:
  struct TrackSamples {
    int64_t first = 0, last = 0, last_sampled = 0;
    int faces = 0;
    std::vector<FaceDescriptor> descriptors;
  };
  IdentityChoice choice_;
  FaceScorer& scorer_;
  int max_faces_kept_;
  std::map<int64_t, TrackedFrame> frames_;
  std::map<int, TrackSamples> tracks_;
  std::map<int, TrackVerdict> verdicts_;
  std::vector<TrackDecision> decisions_;
};

// "track 2 (frames 1-200, 50 faces described): median distance 0.31, 96 % within 0.5: kept".
std::string describe_track_decision(const TrackDecision& decision, double threshold);

}  // namespace facetrain
