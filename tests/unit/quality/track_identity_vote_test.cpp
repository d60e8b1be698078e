#include "facetrain/quality/track_identity_vote.h"
#include "../test_support.h"

#include <cmath>
#include <limits>
#include <vector>

using facetrain::TrackVerdict;
using facetrain::TrackVote;
using facetrain::track_verdict;
using facetrain::vote_on_track;

TEST_CASE("track vote: one blurred frame neither drops the person nor lets a stranger in", "[identity]") {
  // The person's track: close faces and one far one (motion blur, a turned head).
  const TrackVote person = vote_on_track({0.31, 0.35, 0.92, 0.33, 0.38}, 0.5);
  CHECK(person.same_person);
  CHECK(person.samples == 5);
  CHECK(person.median == Approx(0.35));
  CHECK(person.closest == Approx(0.31));
  CHECK(person.farthest == Approx(0.92));
  CHECK(person.share_within == Approx(0.8));
  // A stranger's track with one look-alike frame.
  const TrackVote stranger = vote_on_track({0.71, 0.45, 0.78, 0.69, 0.74}, 0.5);
  CHECK_FALSE(stranger.same_person);
  CHECK(stranger.closest == Approx(0.45));
  CHECK(stranger.share_within == Approx(0.2));
}

TEST_CASE("track vote: the median of an even count, the threshold inclusive, no samples", "[identity]") {
  CHECK(vote_on_track({0.2, 0.4, 0.6, 0.8}, 0.5).median == Approx(0.5));
  CHECK(vote_on_track({0.2, 0.4, 0.6, 0.8}, 0.5).same_person);    // median == threshold: the person
  CHECK_FALSE(vote_on_track({0.2, 0.4, 0.6, 0.8}, 0.49).same_person);
  const TrackVote empty = vote_on_track({}, 0.5);
  CHECK(empty.samples == 0);
  CHECK_FALSE(empty.same_person);
  // A NaN distance (a descriptor that could not be computed) does not vote.
  const TrackVote with_nan = vote_on_track({std::numeric_limits<double>::quiet_NaN(), 0.3}, 0.5);
  CHECK(with_nan.samples == 1);
  CHECK(with_nan.same_person);
}

TEST_CASE("track verdict: --identity, --exclude-identity, and both", "[identity]") {
  const TrackVote match = vote_on_track({0.3, 0.3, 0.3}, 0.5);
  const TrackVote other = vote_on_track({0.8, 0.8, 0.8}, 0.5);
  CHECK(track_verdict(&match, {}) == TrackVerdict::kept);
  CHECK(track_verdict(&other, {}) == TrackVerdict::not_the_person);
  CHECK(track_verdict(nullptr, {other}) == TrackVerdict::kept);          // only --exclude-identity
  CHECK(track_verdict(nullptr, {match}) == TrackVerdict::excluded);
  CHECK(track_verdict(&match, {other, match}) == TrackVerdict::excluded);  // exclusion wins
  CHECK(track_verdict(&other, {match}) == TrackVerdict::excluded);
  CHECK(std::string(facetrain::to_string(TrackVerdict::not_the_person)) == "not the person");
}
