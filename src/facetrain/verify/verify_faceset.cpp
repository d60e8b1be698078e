// verify PATH for a face set: faceset.json, every alignments line, every crop and mask it names,
// files nobody names, and the sources' SHA-256 where the sources can still be found.
#include "facetrain/verify/png_check.h"
#include "facetrain/base/error.h"
#include "facetrain/base/sequence_pattern.h"
#include "facetrain/base/sha256.h"
#include "facetrain/faceset/faceset.h"
#include "facetrain/faceset/visible_mattes.h"
#include "facetrain/verify/verify.h"

#include <fmt/format.h>

#include <algorithm>

#include <fstream>
#include <map>
#include <optional>
#include <set>

namespace facetrain {

namespace fs = std::filesystem;

namespace {

// Decodes an image the face set names and checks its size; returns the problem, or empty.
std::string check_image(const fs::path& path, int size_px) {
  try {
    const PngSize image = check_png_decodes(path);
    if (image.width != size_px || image.height != size_px)
      return fmt::format("{}: {}x{} pixels, the face set's crops are {}x{}", path.string(), image.width, image.height,
                         size_px, size_px);
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

// The visible-face mattes (faceset/visible_mattes.h), when the face set has them: the index parses,
// every matte it names decodes at the face set's size with the SHA-256 recorded, every face it names
// is recorded, and its folder holds nothing else.
void verify_visible_mattes(const fs::path& directory, const FaceSetManifest& manifest,
                           const std::set<std::string>& recorded_crops, VerifyReport& report) {
  std::optional<VisibleMatteIndex> index;
  try {
    index = read_visible_matte_index(directory);
  } catch (const Error& e) {
    report.problems.push_back(e.what());
    return;
  }
  if (!index) return;
  ++report.files_checked;
  const std::string where = (directory / kVisibleMatteIndex).string();
  if (index->size != manifest.size)
    report.problems.push_back(fmt::format("{}: mattes of {} px, the face set's crops are {} px", where, index->size, manifest.size));
  std::set<std::string> named;
  std::error_code ec;
  for (const auto& [crop, file] : index->faces) {
    named.insert(file.matte);
    if (!recorded_crops.count(crop)) {
      report.problems.push_back(fmt::format("{}: matte for {}, which no alignments record names", where, crop));
      continue;
    }
    const fs::path path = directory / file.matte;
    if (!fs::exists(path, ec)) {
      report.problems.push_back(fmt::format("{}: the visible-face matte {} of {} is missing", where, file.matte, crop));
      continue;
    }
    ++report.files_checked;
    if (auto problem = check_image(path, manifest.size); !problem.empty()) {
      report.problems.push_back(problem);
    } else if (const std::string sha = sha256_file_hex(path); sha != file.sha256) {
      report.problems.push_back(fmt::format("{}: SHA-256 {} differs from the {} recorded in {}", path.string(), sha,
                                            file.sha256, where));
    }
  }
  size_t faces_with_crop = 0;
  for (const auto& crop : recorded_crops)
    if (fs::exists(directory / crop, ec)) ++faces_with_crop;
  report.notes.push_back(fmt::format("visible-face mattes: {} of {} faces (model {})", index->faces.size(), faces_with_crop,
                                     index->model_sha256.substr(0, 12)));
  std::set<fs::path> folders;
  for (const auto& m : named) folders.insert((directory / m).parent_path());
  for (const auto& folder : folders)
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
      const std::string relative = fs::relative(entry.path(), directory, ec).generic_string();
      if (is_atomic_temp_name(entry.path().filename().string()))
        report.notes.push_back(fmt::format("{}: leftover temporary file of an interrupted write", entry.path().string()));
      else if (!named.count(relative))
        report.problems.push_back(fmt::format("{}: not named by {}", entry.path().string(), where));
    }
}

}  // namespace

VerifyReport verify_faceset(const fs::path& directory) {
  VerifyReport report{"face set", directory, 0, {}, {}};
  FaceSetManifest manifest;
  try {
    manifest = FaceSet::read_manifest(directory);
    ++report.files_checked;
  } catch (const Error& e) {
    report.problems.push_back(e.what());
    return report;  // without the manifest nothing else can be judged
  }
  std::map<std::string, const FaceSetSource*> sources;
  for (const auto& s : manifest.sources) sources.emplace(s.path, &s);

  // Every alignments line, every face it holds.
  std::set<std::string> named_files;
  std::set<std::string> recorded_crops;  // every crop a record names, deleted or not
  std::set<std::pair<std::string, int64_t>> frames_seen;
  int64_t records = 0, faces = 0, deleted_crops = 0, duplicate_records = 0;
  std::error_code ec;
  std::vector<fs::path> alignment_files;
  for (const auto& entry : fs::directory_iterator(directory / "alignments", ec)) alignment_files.push_back(entry.path());
  std::sort(alignment_files.begin(), alignment_files.end());
  for (const fs::path& file : alignment_files) {
    const std::string name = file.filename().string();
    if (is_atomic_temp_name(name)) {
      report.notes.push_back(fmt::format("{}: leftover temporary file of an interrupted write (readers ignore it)",
                                         file.string()));
      continue;
    }
    if (file.extension() != ".jsonl") {
      report.problems.push_back(fmt::format("{}: not an alignments file (.jsonl) but inside alignments/", file.string()));
      continue;
    }
    ++report.files_checked;
    std::ifstream in(file, std::ios::binary);
    std::string line;
    int64_t line_number = 0;
    while (std::getline(in, line)) {
      ++line_number;
      const std::string where = fmt::format("{}:{}", file.string(), line_number);
      FrameRecord record;
      try {
        record = frame_record_from_json_line(line, where);
      } catch (const Error& e) {
        report.problems.push_back(e.what());
        continue;
      }
      ++records;
      if (!frames_seen.emplace(record.source, record.frame).second) ++duplicate_records;
      auto source = sources.find(record.source);
      if (source == sources.end()) {
        report.problems.push_back(fmt::format("{}: source '{}' is not listed in faceset.json", where, record.source));
      } else if (record.frame < source->second->frame_first || record.frame > source->second->frame_last) {
        report.problems.push_back(fmt::format("{}: frame {} lies outside the source's recorded range {}-{}", where,
                                              record.frame, source->second->frame_first, source->second->frame_last));
      }
      for (const FaceRecord& face : record.faces) {
        ++faces;
        named_files.insert(face.crop);
        recorded_crops.insert(face.crop);
        if (!face.mask.empty()) named_files.insert(face.mask);
        if (!fs::exists(directory / face.crop, ec)) {
          ++deleted_crops;  // an artist's way of excluding a face: not damage
          continue;
        }
        ++report.files_checked;
        if (auto problem = check_image(directory / face.crop, manifest.size); !problem.empty())
          report.problems.push_back(fmt::format("{} (frame {} face {}): {}", where, record.frame, face.index, problem));
        if (face.mask.empty()) continue;
        if (!fs::exists(directory / face.mask, ec)) {
          report.problems.push_back(fmt::format("{}: frame {} face {}: the crop is there but its mask {} is missing",
                                                where, record.frame, face.index, face.mask));
          continue;
        }
        ++report.files_checked;
        if (auto problem = check_image(directory / face.mask, manifest.size); !problem.empty())
          report.problems.push_back(fmt::format("{} (frame {} face {}): {}", where, record.frame, face.index, problem));
      }
    }
  }
  if (deleted_crops > 0)
    report.notes.push_back(fmt::format("{} of {} crops deleted (those faces are excluded from training)", deleted_crops, faces));
  if (duplicate_records > 0)
    report.notes.push_back(fmt::format("{} frames recorded more than once (readers take the last)", duplicate_records));

  // Files in faces/ and masks/ that no record names.
  for (const char* folder : {"faces", "masks"}) {
    for (const auto& entry : fs::directory_iterator(directory / folder, ec)) {
      const std::string name = entry.path().filename().string();
      if (is_atomic_temp_name(name)) {
        report.notes.push_back(fmt::format("{}: leftover temporary file of an interrupted write", entry.path().string()));
      } else if (!named_files.count(std::string(folder) + "/" + name)) {
        report.problems.push_back(fmt::format("{}: not named by any alignments record", entry.path().string()));
      }
    }
  }

  verify_visible_mattes(directory, manifest, recorded_crops, report);

  // The sources, where they can still be found at the path recorded.
  for (const auto& s : manifest.sources) {
    const std::string sha = plate_identity_sha256(s.path);
    if (sha.empty()) {
      report.notes.push_back(fmt::format("source {} not found from here: its SHA-256 was not checked", s.path));
    } else if (sha != s.sha256) {
      report.problems.push_back(fmt::format("source {}: SHA-256 {} differs from the {} recorded in faceset.json "
                                            "(the plate changed since extraction)", s.path, sha, s.sha256));
    }
  }
  report.notes.push_back(fmt::format("{} frame records, {} faces, {} sources", records, faces, manifest.sources.size()));
  return report;
}

}  // namespace facetrain
