#include "facetrain/quality/track_identity_vote.h"

#include <algorithm>
#include <cmath>

namespace facetrain {

TrackVote vote_on_track(std::vector<double> distances, double threshold) {
  TrackVote vote;
  distances.erase(std::remove_if(distances.begin(), distances.end(), [](double d) { return !std::isfinite(d); }),
                  distances.end());
  vote.samples = static_cast<int>(distances.size());
  if (distances.empty()) return vote;
  std::sort(distances.begin(), distances.end());
  const size_t n = distances.size();
  vote.median = n % 2 ? distances[n / 2] : (distances[n / 2 - 1] + distances[n / 2]) / 2;
  vote.closest = distances.front();
  vote.farthest = distances.back();
  const auto within = std::upper_bound(distances.begin(), distances.end(), threshold) - distances.begin();
  vote.share_within = static_cast<double>(within) / n;
  vote.same_person = vote.median <= threshold;
  return vote;
}

const char* to_string(TrackVerdict verdict) {
  switch (verdict) {
    case TrackVerdict::kept: return "kept";
    case TrackVerdict::not_the_person: return "not the person";
    case TrackVerdict::excluded: return "excluded";
  }
  return "?";
}

TrackVerdict track_verdict(const TrackVote* identity, const std::vector<TrackVote>& excluded) {
  for (const TrackVote& vote : excluded)
    if (vote.same_person) return TrackVerdict::excluded;
  if (identity && !identity->same_person) return TrackVerdict::not_the_person;
  return TrackVerdict::kept;
}

}  // namespace facetrain
