#include "facetrain/matte/track_evidence.h"

#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>

namespace facetrain {

namespace {

namespace F = torch::nn::functional;

constexpr int kTrustWindow = 12;          // moving_look_trust: +-frames of the median
constexpr int kMovingWindow = 30;         // moving_occluders: +-frames of the median
constexpr size_t kCleanLookMaxFaces = 200;  // clean_look_evidence: the surest quarter, at most this many
constexpr double kDepartZ = 2.5;          // deviations over the pixel's usual variation
constexpr double kDepartMinimum = 0.04;   // and at least this much (0..1 code values, mean of R, G, B)

// [R,R] -> the max over a size x size window (a dilation; of the negated mask, an erosion).
torch::Tensor max_pool(const torch::Tensor& x, int size) {
  return F::max_pool2d(x.unsqueeze(0).unsqueeze(0), F::MaxPool2dFuncOptions(size).stride(1).padding(size / 2))[0][0];
}
torch::Tensor opened(const torch::Tensor& mask) { return max_pool(-max_pool(-mask, 3), 3); }  // no specks
torch::Tensor closed(const torch::Tensor& mask) { return -max_pool(-max_pool(mask, 3), 3); }  // no small gaps

// The rows of `members` within +-window of position k.
std::vector<int64_t> window_around(const std::vector<int64_t>& members, size_t k, size_t window) {
  return {members.begin() + static_cast<std::ptrdiff_t>(k >= window ? k - window : 0),
          members.begin() + static_cast<std::ptrdiff_t>(std::min(members.size(), k + window + 1))};
}

// Hull pixels of `face` ([R,R,3]) departing from `look` by kDepartZ times the usual variation
// `usual` ([R,R]) and by kDepartMinimum, as a float mask [R,R].
torch::Tensor departing(const torch::Tensor& face, const torch::Tensor& look, const torch::Tensor& usual,
                        const torch::Tensor& hull) {
  const torch::Tensor deviation = (face - look).abs().mean(2);
  return ((deviation > kDepartZ * (1.4826 * usual + 0.01)) & (deviation > kDepartMinimum) & hull).to(torch::kFloat32);
}

// How the faces `rows` look per pixel: their median [R,R,3] and its usual variation there, the
// median absolute deviation averaged over R, G, B [R,R].
struct TrackLook {
  torch::Tensor look, usual;
};
TrackLook look_of(const MatteFaces& faces, const std::vector<int64_t>& rows) {
  const torch::Tensor group = faces.rgb.index_select(0, torch::tensor(rows));  // [K,R,R,3]
  const torch::Tensor look = std::get<0>(group.median(0));
  return {look, std::get<0>((group - look).abs().median(0)).mean(2)};
}

double share_of_hull(const torch::Tensor& mask, const torch::Tensor& hull) {
  return mask.sum().item<double>() / std::max(1.0, hull.sum().item<double>());
}

// The pixels of `mask` ([R,R] 0/1) connected (4-neighbours, within the mask) to a mask pixel on the
// hull's outline (a hull pixel with a 4-neighbour outside the hull or outside the crop).
torch::Tensor connected_to_outline(const torch::Tensor& mask, const torch::Tensor& hull) {
  const torch::Tensor m = mask.contiguous().to(torch::kFloat32), h = hull.contiguous().to(torch::kFloat32);
  const int r = static_cast<int>(m.size(0));
  const float* in = m.data_ptr<float>();
  const float* inside = h.data_ptr<float>();
  torch::Tensor out = torch::zeros_like(m);
  float* reached = out.data_ptr<float>();
  std::vector<int> stack;
  auto at = [r](int x, int y) { return static_cast<size_t>(y) * r + x; };
  auto outside = [&](int x, int y) { return x < 0 || y < 0 || x >= r || y >= r || inside[at(x, y)] < 0.5f; };
  for (int y = 0; y < r; ++y)
    for (int x = 0; x < r; ++x)
      if (in[at(x, y)] > 0.5f && (outside(x - 1, y) || outside(x + 1, y) || outside(x, y - 1) || outside(x, y + 1))) {
        reached[at(x, y)] = 1;
        stack.push_back(static_cast<int>(at(x, y)));
      }
  while (!stack.empty()) {
    const int p = stack.back();
    stack.pop_back();
    const int x = p % r, y = p / r;
    for (const auto& [nx, ny] : {std::pair{x - 1, y}, std::pair{x + 1, y}, std::pair{x, y - 1}, std::pair{x, y + 1}}) {
      if (nx < 0 || ny < 0 || nx >= r || ny >= r) continue;
      const size_t q = at(nx, ny);
      if (in[q] > 0.5f && reached[q] == 0) {
        reached[q] = 1;
        stack.push_back(static_cast<int>(q));
      }
    }
  }
  return out;
}

}  // namespace

FaceTracks faces_by_track(const UsableFaces& usable, int64_t n) {
  std::map<std::pair<std::string, int>, std::vector<int64_t>> tracks;
  for (int64_t i = 0; i < n; ++i) {
    const auto& f = usable.faces[static_cast<size_t>(i)];
    tracks[{f.record->source, f.face->track}].push_back(i);
  }
  FaceTracks out;
  for (auto& [key, members] : tracks) out.push_back(std::move(members));
  return out;
}

at::Tensor moving_look_trust(const FaceTracks& tracks, const MatteFaces& faces) {
  torch::Tensor trust = torch::ones({faces.rgb.size(0), faces.rgb.size(1), faces.rgb.size(2)}, torch::kFloat32);
  for (const auto& members : tracks) {
    if (members.size() < 5) continue;  // too short to know what the face looks like
    for (size_t k = 0; k < members.size(); ++k) {
      const torch::Tensor median = std::get<0>(faces.rgb.index_select(0, torch::tensor(window_around(members, k, kTrustWindow))).median(0));
      torch::Tensor deviation = (faces.rgb[members[k]] - median).abs().mean(2);  // [R,R]
      // A little spatial support: an isolated noisy pixel is not an occluder.
      deviation = F::avg_pool2d(deviation.unsqueeze(0).unsqueeze(0),
                                F::AvgPool2dFuncOptions(5).stride(1).padding(2).count_include_pad(false))[0][0];
      trust[members[k]] = (1 - (deviation - 0.06) / 0.06).clamp(0, 1);  // trusted below 0.06, none above 0.12
    }
  }
  return trust;
}

CleanLookEvidence clean_look_evidence(const FaceTracks& tracks, const MatteFaces& faces, const std::vector<double>& confidence) {
  const std::vector<int64_t> shape{faces.rgb.size(0), faces.rgb.size(1), faces.rgb.size(2)};
  CleanLookEvidence out{torch::ones(shape, torch::kFloat32), torch::zeros(shape, torch::kFloat32)};
  for (const auto& members : tracks) {
    if (members.size() < 10) continue;
    std::vector<int64_t> surest = members;
    std::stable_sort(surest.begin(), surest.end(), [&](int64_t a, int64_t b) {
      return confidence[static_cast<size_t>(a)] > confidence[static_cast<size_t>(b)];
    });
    surest.resize(std::min(kCleanLookMaxFaces, std::max<size_t>(5, members.size() / 4)));
    const TrackLook clean = look_of(faces, surest);
    for (int64_t row : members) {
      const torch::Tensor hull = faces.hull[row] > 0.5;
      const torch::Tensor departs = opened(departing(faces.rgb[row], clean.look, clean.usual, hull));
      if (share_of_hull(departs, hull) > 0.5) continue;  // the face turned or the light changed
      out.trust[row] = 1 - max_pool(departs, 5);            // and a margin for the blurred edge
      out.entering[row] = connected_to_outline(departs, hull);
    }
  }
  return out;
}

at::Tensor moving_occluders(const FaceTracks& tracks, const MatteFaces& faces) {
  torch::Tensor moving = torch::zeros({faces.rgb.size(0), faces.rgb.size(1), faces.rgb.size(2)}, torch::kFloat32);
  for (const auto& members : tracks) {
    if (members.size() < 10) continue;  // too short to know what the face usually looks like
    for (size_t k = 0; k < members.size(); ++k) {
      const TrackLook around = look_of(faces, window_around(members, k, kMovingWindow));
      const torch::Tensor hull = faces.hull[members[k]] > 0.5;
      const torch::Tensor departs = closed(opened(departing(faces.rgb[members[k]], around.look, around.usual, hull))) * hull.to(torch::kFloat32);
      const double share = share_of_hull(departs, hull);
      if (share >= 0.01 && share <= 0.5) moving[members[k]] = departs;
    }
  }
  return moving;
}

}  // namespace facetrain
