#pragma once
// Whether a face track is a given person: a vote over the descriptor distances of the track's
// faces to that person's reference (extract --identity, --exclude-identity; docs/extract.md).
// The decision is per track, not per face, so that one blurred or turned-away frame neither drops
// the person's track nor lets a stranger's single look-alike frame in. Pure: distances in,
// decision out; no dlib.
#include <vector>

namespace facetrain {

// The default --identity-threshold: the largest median distance at which a track is the reference
// person. Below dlib's LFW pair threshold (0.6) because a track's median is steadier than one
// pair's distance; measured in docs/extract.md#choosing-the-person.
inline constexpr double kDefaultIdentityThreshold = 0.5;

struct TrackVote {
  int samples = 0;             // faces of the track with a descriptor
  double median = 0;           // median distance to the reference (even count: mean of the middle two)
  double closest = 0;          // smallest distance
  double farthest = 0;         // largest distance
  double share_within = 0;     // share of samples within the threshold, 0..1
  bool same_person = false;    // median <= threshold (and at least one sample)
};

// The vote over one track's distances to one reference. No samples: not the person.
TrackVote vote_on_track(std::vector<double> distances, double threshold);

enum class TrackVerdict {
  kept,               // the --identity person (or, with only --exclude-identity, anyone else)
  not_the_person,     // --identity given, and the track's vote says someone else
  excluded,           // the vote against an --exclude-identity reference says it is that person
};
const char* to_string(TrackVerdict verdict);

// The verdict on a track from its vote against the --identity reference (absent: no --identity)
// and its votes against each --exclude-identity reference. Exclusion wins over a match: a track
// that is both is dropped, the safe side for a plate.
TrackVerdict track_verdict(const TrackVote* identity, const std::vector<TrackVote>& excluded);

}  // namespace facetrain
