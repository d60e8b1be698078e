#pragma once
// The face outline an artist draws, learnt from a shot's labelled frames (issue 24). The landmark
// hull (jaw and raised brows) is not the outline artists draw: the drawn face goes up to the
// hairline and out to the far ear. Labels teach the drawn outline on the labelled faces; the
// synthetic and unlabelled targets are the hull, so without a correction the network learns two
// outlines. An OutlineCorrection is, for each direction from the hull's centroid in aligned space,
// how far the drawn face reaches as a multiple of how far the hull reaches; applied to any face's
// hull it gives that face's outline as the artist would draw it. Plain loops; no LibTorch.
#include <vector>

namespace facetrain {

struct OutlineCorrection {
  // Radial scale per direction: bin k covers the angle 2 pi k / size() (x right, y down); 1 = the hull.
  std::vector<float> scale;
  int directions_seen = 0;  // directions where enough labelled faces showed visible face
};

// From labelled faces: their hulls and visible-face labels (`size` x `size`, in [0, 1], aligned space).
// Along each direction the drawn extent is the farthest visible pixel: an occluder inside the face
// does not shorten it, one over the edge does, and occluders are what lower quantiles would follow,
// so the scale is the upper quartile over the faces that show any visible pixel in that direction
// (at least half of them; else 1), smoothed by a circular median of five directions and clamped to
// [0.7, 1.4]. Empty inputs give the identity (all 1).
OutlineCorrection outline_correction(const std::vector<std::vector<float>>& hulls,
                                     const std::vector<std::vector<float>>& visible_labels, int size, int directions = 64);

// The face region of a face whose landmark hull is `hull` (`size` x `size`), with the correction
// applied: pixels within scale(angle) times the hull's own extent from the hull's centroid, 1 or 0.
// An empty hull stays empty.
std::vector<float> corrected_face_region(const std::vector<float>& hull, const OutlineCorrection& correction, int size);

}  // namespace facetrain
