#pragma once
// dlib's example photos (Debian libdlib19.1) and their reference boxes and landmarks (imglab XML),
// for the face tests.
#include "facetrain/face/face_types.h"
#include "facetrain/base/image.h"

#include <OpenImageIO/imageio.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace facetrain::testing {

// Debian's copy, or $FACETRAIN_DLIB_FACES (a folder holding them, ending in '/': the GPU machine's
// carried photos, scripts/gpu-smoke.sh).
inline const std::string kFacesDir = [] {
  const char* dir = std::getenv("FACETRAIN_DLIB_FACES");
  return std::string(dir && *dir ? dir : "/usr/share/doc/libdlib19.1/examples/faces/");
}();

inline Rgb8Image load_rgb(const std::string& path) {
  auto in = OIIO::ImageInput::open(path);
  REQUIRE(in);
  const OIIO::ImageSpec& spec = in->spec();
  std::vector<uint8_t> data(static_cast<size_t>(spec.width) * spec.height * spec.nchannels);
  REQUIRE(in->read_image(0, 0, 0, spec.nchannels, OIIO::TypeDesc::UINT8, data.data()));
  Rgb8Image img;
  img.width = spec.width;
  img.height = spec.height;
  img.pixels.resize(static_cast<size_t>(img.width) * img.height * 3);
  for (size_t i = 0; i < static_cast<size_t>(img.width) * img.height; ++i) {
    for (int c = 0; c < 3; ++c) img.pixels[3 * i + c] = data[i * spec.nchannels + std::min(c, spec.nchannels - 1)];
  }
  return img;
}

struct ReferenceFace {
  FaceBox box;
  std::vector<Point2f> landmarks;  // empty or 68
};

// Minimal reader for dlib's imglab XML: file -> boxes (+ parts).
inline std::map<std::string, std::vector<ReferenceFace>> read_reference(const std::string& xml_name) {
  std::ifstream in(kFacesDir + xml_name);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  auto attr = [](const std::string& tag, const std::string& name) {
    const size_t p = tag.find(" " + name + "='");
    REQUIRE(p != std::string::npos);
    const size_t b = p + name.size() + 3;
    return tag.substr(b, tag.find('\'', b) - b);
  };
  std::map<std::string, std::vector<ReferenceFace>> out;
  std::string file;
  for (size_t pos = 0; (pos = text.find('<', pos)) != std::string::npos; ++pos) {
    const std::string tag = text.substr(pos, text.find('>', pos) - pos);
    if (tag.rfind("<image ", 0) == 0) {
      file = attr(tag, "file");
    } else if (tag.rfind("<box ", 0) == 0) {
      ReferenceFace f;
      const float left = std::stof(attr(tag, "left")), top = std::stof(attr(tag, "top"));
      f.box = {left, top, left + std::stof(attr(tag, "width")), top + std::stof(attr(tag, "height")), 0.f};
      out[file].push_back(f);
    } else if (tag.rfind("<part ", 0) == 0) {
      auto& lm = out[file].back().landmarks;
      REQUIRE(std::stoi(attr(tag, "name")) == static_cast<int>(lm.size()));
      lm.push_back({std::stof(attr(tag, "x")), std::stof(attr(tag, "y"))});
    }
  }
  return out;
}

// Intersection over union of two boxes.
inline float iou(const FaceBox& a, const FaceBox& b) {
  const float w = std::min(a.x1, b.x1) - std::max(a.x0, b.x0);
  const float h = std::min(a.y1, b.y1) - std::max(a.y0, b.y0);
  if (w <= 0 || h <= 0) return 0.f;
  return w * h / (a.width() * a.height() + b.width() * b.height() - w * h);
}

}  // namespace facetrain::testing
