#include "data_prep/track_identity.h"

#include "facetrain/base/error.h"
#include "facetrain/quality/identity_scores.h"

#include <fmt/format.h>

#include <algorithm>

namespace facetrain {

TrackIdentityPass::TrackIdentityPass(IdentityChoice choice, FaceScorer& scorer, int max_faces_kept)
    : choice_(std::move(choice)), scorer_(scorer), max_faces_kept_(std::max(1, max_faces_kept)) {}

void TrackIdentityPass::add(const Rgb8Image& display, TrackedFrame frame) {
  std::vector<FaceToScore> batch;
  std::vector<int> batch_tracks;
  for (const TrackedFace& face : frame.faces) {
    auto [it, is_new] = tracks_.try_emplace(face.track_id);
    TrackSamples& t = it->second;
    if (is_new) t.first = frame.frame_number;
    t.last = frame.frame_number;
    ++t.faces;
    if (is_new || frame.frame_number - t.last_sampled >= kIdentitySampleEvery) {
      t.last_sampled = frame.frame_number;
      batch.push_back({&display, face.landmarks});
      batch_tracks.push_back(face.track_id);
    }
  }
  const std::vector<FaceDescriptor> described = scorer_.descriptors(batch);
  for (size_t i = 0; i < described.size(); ++i) tracks_[batch_tracks[i]].descriptors.push_back(described[i]);
  const int64_t number = frame.frame_number;
  frames_.emplace(number, std::move(frame));
}

void TrackIdentityPass::decide() {
  decisions_.clear();
  for (const auto& [id, samples] : tracks_) {
    TrackDecision d;
    d.track = id;
    d.frame_first = samples.first;
    d.frame_last = samples.last;
    d.faces = samples.faces;
    auto distances_to = [&](const FaceDescriptor& reference) {
      std::vector<double> out;
      for (const FaceDescriptor& face : samples.descriptors) out.push_back(descriptor_distance(face, reference));
      return out;
    };
    if (choice_.keep) d.identity = vote_on_track(distances_to(*choice_.keep), choice_.threshold);
    for (const FaceDescriptor& other : choice_.exclude) d.excluded.push_back(vote_on_track(distances_to(other), choice_.threshold));
    d.verdict = track_verdict(d.identity ? &*d.identity : nullptr, d.excluded);
    verdicts_[id] = d.verdict;
    decisions_.push_back(d);
  }
}

bool TrackIdentityPass::any_kept() const {
  return std::any_of(decisions_.begin(), decisions_.end(),
                     [](const TrackDecision& d) { return d.verdict == TrackVerdict::kept; });
}

TrackedFrame TrackIdentityPass::kept(int64_t frame_number) const {
  const auto it = frames_.find(frame_number);
  if (it == frames_.end())
    throw InternalError(fmt::format("frame {} was not seen when the person's tracks were chosen", frame_number));
  TrackedFrame out;
  out.frame_number = frame_number;
  for (const TrackedFace& face : it->second.faces) {  // largest first, as tracked
    const auto verdict = verdicts_.find(face.track_id);
    if (verdict == verdicts_.end() || verdict->second != TrackVerdict::kept) continue;
    if (static_cast<int>(out.faces.size()) < max_faces_kept_) out.faces.push_back(face);
  }
  return out;
}

std::string describe_track_decision(const TrackDecision& d, double threshold) {
  std::string votes;
  if (d.identity)
    votes = fmt::format(": median distance {:.3f} to --identity, {:.0f} % of faces within {:g}", d.identity->median,
                        100 * d.identity->share_within, threshold);
  for (size_t i = 0; i < d.excluded.size(); ++i)
    votes += fmt::format("{} median distance {:.3f} to --exclude-identity #{}", votes.empty() ? ":" : ";",
                         d.excluded[i].median, i + 1);
  const int described = d.identity ? d.identity->samples : d.excluded.empty() ? 0 : d.excluded.front().samples;
  return fmt::format("track {} (frames {}-{}, {} faces, {} described){}: {}", d.track, d.frame_first, d.frame_last,
                     d.faces, described, votes, to_string(d.verdict));
}

}  // namespace facetrain
