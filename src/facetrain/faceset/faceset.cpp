#include "facetrain/faceset/faceset.h"

#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"
#include "facetrain/base/log.h"
#include "facetrain/base/sequence_pattern.h"
#include "facetrain/base/sha256.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <random>

namespace facetrain {
namespace {

using json = nlohmann::json;
constexpr double kMaxCoordinate = 1e6;       // frame pixels; anything larger is damage, not a plate
constexpr size_t kMaxLineBytes = 1 << 20;

const char* kManifestName = "faceset.json";

// Holds an exclusive flock on DIR/.lock for the lifetime of the object.
class DirectoryLock {
 public:
  explicit DirectoryLock(const std::filesystem::path& directory) {
    const auto path = directory / ".lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, default_file_mode());
    if (fd_ < 0) throw OutputError(fmt::format("{}: cannot create lock file", path.string()));
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) throw OutputError(fmt::format("{}: cannot lock", path.string()));
    }
  }
  ~DirectoryLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_ = -1;
};

std::string sanitized_stem(const std::string& source) {
  std::string name = std::filesystem::path(source).filename().string();
  const auto dot = name.find_last_of('.');
  if (dot != std::string::npos && dot > 0) name.resize(dot);
  std::string stem;
  for (char c : name) {
    const bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    stem += keep ? c : '_';
  }
  while (!stem.empty() && stem.back() == '_') stem.pop_back();
  if (stem.empty()) stem = "source";
  if (stem.size() > 48) stem.resize(48);
  // Two sources with one file name in different folders must not share crop names.
  return stem + "-" + sha256_hex(source).substr(0, 6);
}

double finite_number(const json& value, const std::string& where, const char* key) {
  if (!value.is_number()) throw InputDataError(fmt::format("{}: '{}' must be a number", where, key));
  const double number = value.get<double>();
  if (!std::isfinite(number) || std::fabs(number) > kMaxCoordinate)
    throw InputDataError(fmt::format("{}: '{}' is not a finite number in range", where, key));
  return number;
}

const json& required(const json& object, const char* key, const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end()) throw InputDataError(fmt::format("{}: missing key '{}'", where, key));
  return *it;
}

std::string relative_face_path(const json& value, const std::string& where, const char* key, const char* folder) {
  if (!value.is_string()) throw InputDataError(fmt::format("{}: '{}' must be a string", where, key));
  const std::string path = value.get<std::string>();
  // Only plain names inside faces/ or masks/: a record must never point outside its face set.
  const std::string prefix = std::string(folder) + "/";
  const bool plain = path.rfind(prefix, 0) == 0 && path.find("..") == std::string::npos &&
                     path.find('/', prefix.size()) == std::string::npos && path.size() > prefix.size();
  if (!plain) throw InputDataError(fmt::format("{}: '{}' must name a file in {}/, got '{}'", where, key, folder, path));
  return path;
}

json manifest_to_json(const FaceSetManifest& manifest) {
  json sources = json::array();
  for (const auto& s : manifest.sources) {
    json entry = {{"path", s.path}, {"sha256", s.sha256}, {"width", s.width}, {"height", s.height},
                  {"fps", s.fps}, {"frame_first", s.frame_first}, {"frame_last", s.frame_last},
                  {"colorspace", s.colorspace}};
    if (!s.detectors.empty()) {
      entry["detectors"] = json::array();
      for (const auto& d : s.detectors) {
        json detector = {{"kind", d.kind}, {"model_sha256", d.model_sha256}};
        if (!d.device.empty()) detector["device"] = d.device;
        entry["detectors"].push_back(std::move(detector));
      }
    }
    sources.push_back(std::move(entry));
  }
  json out = {{"format_version", kFaceSetFormatVersion},
              {"face_type", manifest.face_type},
              {"size", manifest.size},
              {"encoding", network_encoding_to_json(manifest.encoding)},
              {"sources", sources},
              {"landmark_model_sha256", manifest.landmark_model_sha256},
              {"landmark_points", manifest.landmark_points},
              {"tool_version", manifest.tool_version}};
  if (manifest.identity) out["identity"] = identity_record_to_json(*manifest.identity);
  return out;
}

FaceSetManifest manifest_from_json(const std::string& text, const std::string& where) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    throw InputDataError(fmt::format("{}: not valid JSON: {}", where, e.what()));
  }
  try {
    FaceSetManifest manifest;
    manifest.format_version = doc.at("format_version").get<int>();
    if (manifest.format_version < 1 || manifest.format_version > kFaceSetFormatVersion)
      throw InputDataError(fmt::format("{}: format_version {} is not supported (this facetrain reads 1 to {})", where,
                                       manifest.format_version, kFaceSetFormatVersion));
    manifest.face_type = doc.at("face_type").get<std::string>();
    manifest.size = doc.at("size").get<int>();
    manifest.landmark_model_sha256 = doc.value("landmark_model_sha256", "");
    manifest.landmark_points = doc.value("landmark_points", 68);
    if (manifest.landmark_points != 68 && manifest.landmark_points != 5)
      throw InputDataError(fmt::format("{}: landmark_points {} is not supported (68 or 5)", where, manifest.landmark_points));
    manifest.tool_version = doc.value("tool_version", "");
    for (const auto& s : doc.at("sources")) {
      FaceSetSource source;
      source.path = s.at("path").get<std::string>();
      source.sha256 = s.at("sha256").get<std::string>();
      source.width = s.at("width").get<int>();
      source.height = s.at("height").get<int>();
      source.fps = s.at("fps").get<double>();
      source.frame_first = s.at("frame_first").get<int64_t>();
      source.frame_last = s.at("frame_last").get<int64_t>();
      source.colorspace = s.value("colorspace", "");
      for (const auto& d : s.value("detectors", json::array()))
        source.detectors.push_back({d.at("kind").get<std::string>(), d.value("model_sha256", ""), d.value("device", "")});
      manifest.sources.push_back(source);
    }
    if (doc.contains("encoding")) {
      manifest.encoding = network_encoding_from_json(doc["encoding"], where);
    } else {
      if (manifest.format_version >= 2) throw InputDataError(fmt::format("{}: missing key 'encoding'", where));
      std::vector<std::string> colorspaces;
      for (const auto& s : manifest.sources) colorspaces.push_back(s.colorspace);
      manifest.encoding = legacy_network_encoding(colorspaces);
    }
    if (doc.contains("identity")) manifest.identity = identity_record_from_json(doc["identity"], where);
    return manifest;
  } catch (const json::exception& e) {
    throw InputDataError(fmt::format("{}: malformed face-set manifest: {}", where, e.what()));
  }
}

std::vector<std::filesystem::path> alignment_files(const std::filesystem::path& directory) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(directory / "alignments", ec)) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name[0] == '.') continue;  // temporaries of writers still at work
    if (entry.path().extension() == ".jsonl") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Calls visit(record) for each line of each alignments file.
template <typename Visit>
void for_each_record(const std::filesystem::path& directory, Visit&& visit) {
  for (const auto& file : alignment_files(directory)) {
    std::ifstream in(file);
    if (!in) throw IoError(fmt::format("{}: cannot read", file.string()));
    std::string line;
    int64_t line_number = 0;
    while (std::getline(in, line)) {
      ++line_number;
      if (line.size() > kMaxLineBytes)
        throw InputDataError(fmt::format("{}:{}: line longer than 1 MiB", file.string(), line_number));
      if (line.empty()) continue;
      visit(frame_record_from_json_line(line, fmt::format("{}:{}", file.string(), line_number)));
    }
  }
}

}  // namespace

std::string frame_record_to_json_line(const FrameRecord& record) {
  json faces = json::array();
  for (const auto& face : record.faces) {
    json landmarks = json::array();
    for (const auto& p : face.landmarks) landmarks.push_back({p[0], p[1]});
    const auto& m = face.aligned_from_frame;
    json entry = {{"index", face.index},
                  {"track", face.track},
                  {"bbox", face.bbox},
                  {"score", face.score},
                  {"landmarks", landmarks},
                  {"aligned_from_frame", {{m[0], m[1], m[2]}, {m[3], m[4], m[5]}}},
                  {"crop", face.crop},
                  {"mask", face.mask}};
    if (face.fit_confidence) entry["fit_confidence"] = *face.fit_confidence;
    faces.push_back(std::move(entry));
  }
  return json{{"source", record.source}, {"frame", record.frame}, {"faces", faces}}.dump();
}

FrameRecord frame_record_from_json_line(const std::string& line, const std::string& where) {
  json doc;
  try {
    doc = json::parse(line);
  } catch (const json::exception&) {
    throw InputDataError(fmt::format("{}: not a JSON object", where));
  }
  if (!doc.is_object()) throw InputDataError(fmt::format("{}: not a JSON object", where));
  FrameRecord record;
  const json& source = required(doc, "source", where);
  if (!source.is_string()) throw InputDataError(fmt::format("{}: 'source' must be a string", where));
  record.source = source.get<std::string>();
  const json& frame = required(doc, "frame", where);
  if (!frame.is_number_integer()) throw InputDataError(fmt::format("{}: 'frame' must be an integer", where));
  record.frame = frame.get<int64_t>();
  const json& faces = required(doc, "faces", where);
  if (!faces.is_array()) throw InputDataError(fmt::format("{}: 'faces' must be an array", where));
  if (faces.size() > kMaxFacesPerFrame)
    throw InputDataError(fmt::format("{}: {} faces in one frame (at most {})", where, faces.size(), kMaxFacesPerFrame));
  for (const auto& f : faces) {
    if (!f.is_object()) throw InputDataError(fmt::format("{}: each face must be an object", where));
    FaceRecord face;
    const json& index = required(f, "index", where);
    if (!index.is_number_integer()) throw InputDataError(fmt::format("{}: 'index' must be an integer", where));
    face.index = index.get<int>();
    face.track = f.contains("track") && f["track"].is_number_integer() ? f["track"].get<int>() : face.index;
    const json& bbox = required(f, "bbox", where);
    if (!bbox.is_array() || bbox.size() != 4) throw InputDataError(fmt::format("{}: 'bbox' must hold 4 numbers", where));
    for (size_t i = 0; i < 4; ++i) face.bbox[i] = finite_number(bbox[i], where, "bbox");
    face.score = f.contains("score") ? finite_number(f["score"], where, "score") : 0.0;
    const json& landmarks = required(f, "landmarks", where);
    if (!landmarks.is_array() || landmarks.size() != 68)
      throw InputDataError(fmt::format("{}: 'landmarks' must hold 68 [x, y] pairs", where));
    for (const auto& p : landmarks) {
      if (!p.is_array() || p.size() != 2) throw InputDataError(fmt::format("{}: a landmark must be [x, y]", where));
      face.landmarks.push_back({finite_number(p[0], where, "landmarks"), finite_number(p[1], where, "landmarks")});
    }
    const json& m = required(f, "aligned_from_frame", where);
    if (!m.is_array() || m.size() != 2 || !m[0].is_array() || !m[1].is_array() || m[0].size() != 3 || m[1].size() != 3)
      throw InputDataError(fmt::format("{}: 'aligned_from_frame' must be [[a, b, tx], [c, d, ty]]", where));
    for (size_t r = 0; r < 2; ++r)
      for (size_t c = 0; c < 3; ++c) face.aligned_from_frame[r * 3 + c] = finite_number(m[r][c], where, "aligned_from_frame");
    const double det = face.aligned_from_frame[0] * face.aligned_from_frame[4] -
                       face.aligned_from_frame[1] * face.aligned_from_frame[3];
    if (std::fabs(det) < 1e-12) throw InputDataError(fmt::format("{}: 'aligned_from_frame' is singular", where));
    face.crop = relative_face_path(required(f, "crop", where), where, "crop", "faces");
    if (f.contains("mask")) face.mask = relative_face_path(f["mask"], where, "mask", "masks");
    if (f.contains("fit_confidence")) {
      const double confidence = finite_number(f["fit_confidence"], where, "fit_confidence");
      if (confidence < 0.0 || confidence > 1.0)
        throw InputDataError(fmt::format("{}: 'fit_confidence' must be within 0..1, not {}", where, confidence));
      face.fit_confidence = confidence;
    }
    record.faces.push_back(std::move(face));
  }
  return record;
}

std::string source_identity_sha256(const std::map<int64_t, std::filesystem::path>& frames) {
  std::string identity;
  std::error_code ec;
  for (const auto& [number, path] : frames)
    identity += fmt::format("{} {} {}\n", number, path.filename().string(), std::filesystem::file_size(path, ec));
  if (!frames.empty()) {
    identity += sha256_file_hex(frames.begin()->second) + "\n";
    identity += sha256_file_hex(frames.rbegin()->second) + "\n";
  }
  return sha256_hex(identity);
}

std::string plate_identity_sha256(const std::string& plate) {
  if (auto pattern = SequencePattern::parse(plate)) {
    const auto frames = pattern->scan();
    return frames.empty() ? std::string() : source_identity_sha256(frames);
  }
  std::error_code ec;
  return std::filesystem::is_regular_file(plate, ec) ? sha256_file_hex(plate) : std::string();
}

FaceSetManifest FaceSet::read_manifest(const std::filesystem::path& directory) {
  const auto path = directory / kManifestName;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw MissingInputError(fmt::format("{}: not a face set (no {})", directory.string(), kManifestName));
  return manifest_from_json(read_file(path), path.string());
}

FaceSet FaceSet::read(const std::filesystem::path& directory) {
  FaceSet set;
  set.directory = directory;
  set.manifest = read_manifest(directory);
  std::set<std::pair<std::string, int64_t>> seen;
  for_each_record(directory, [&](FrameRecord record) {
    if (seen.emplace(record.source, record.frame).second) set.frames.push_back(std::move(record));
  });
  std::sort(set.frames.begin(), set.frames.end(), [](const FrameRecord& a, const FrameRecord& b) {
    return a.source != b.source ? a.source < b.source : a.frame < b.frame;
  });
  return set;
}

std::set<int64_t> FaceSet::recorded_frames(const std::filesystem::path& directory, const std::string& source) {
  std::set<int64_t> frames;
  for_each_record(directory, [&](const FrameRecord& record) {
    if (record.source == source) frames.insert(record.frame);
  });
  return frames;
}

FaceSetWriter::FaceSetWriter(std::filesystem::path directory, const std::string& face_type, int size,
                             const std::string& landmark_model_sha256, const std::string& tool_version,
                             const NetworkEncodingRecord& encoding, const std::optional<IdentityRecord>& identity,
                             int landmark_points)
    : directory_(std::move(directory)) {
  create_directories_private(directory_);
  for (const char* sub : {"alignments", "faces", "masks"}) create_directories_private(directory_ / sub);
  DirectoryLock lock(directory_);
  const auto manifest_path = directory_ / kManifestName;
  std::error_code ec;
  if (std::filesystem::exists(manifest_path, ec)) {
    const FaceSetManifest existing = manifest_from_json(read_file(manifest_path), manifest_path.string());
    if (existing.face_type != face_type || existing.size != size)
      throw ConfigError(fmt::format("{}: this face set holds {} faces at {} px; this run asks for {} at {} px "
                                    "(use another -o, or the same --face-type and --size)",
                                    directory_.string(), existing.face_type, existing.size, face_type, size));
    if (!same_network_encoding(existing.encoding, encoding))
      throw ConfigError(fmt::format("{}: this face set's crops are in the encoding {}; this run asks for {} (one face "
                                    "set holds one encoding: use another -o, or --encoding {} with the same config)",
                                    directory_.string(), existing.encoding.describe(), encoding.describe(),
                                    existing.encoding.name()));
    if (!same_identity_choice(existing.identity, identity))
      throw ConfigError(fmt::format("{}: this face set was extracted with {}; this run asks for {} (one face set "
                                    "holds one person, chosen one way: use another -o, or the same flags)",
                                    directory_.string(), describe_identity_choice(existing.identity),
                                    describe_identity_choice(identity)));
    if (existing.landmark_points != landmark_points)
      throw ConfigError(fmt::format("{}: this face set's faces were landmarked with a {}-point model; this run's model "
                                    "fits {} points (one face set is landmarked one way: use another -o, or the "
                                    "same --landmarks)",
                                    directory_.string(), existing.landmark_points, landmark_points));
    if (!existing.landmark_model_sha256.empty() && existing.landmark_model_sha256 != landmark_model_sha256)
      log_warning("{}: earlier faces were landmarked with model {}, this run uses {}", directory_.string(),
                  existing.landmark_model_sha256, landmark_model_sha256);
    return;
  }
  FaceSetManifest manifest;
  manifest.face_type = face_type;
  manifest.size = size;
  manifest.landmark_model_sha256 = landmark_model_sha256;
  manifest.landmark_points = landmark_points;
  manifest.tool_version = tool_version;
  manifest.encoding = encoding;
  manifest.identity = identity;
  write_file_atomic(manifest_path, manifest_to_json(manifest).dump(2) + "\n");
}

FaceSetWriter::~FaceSetWriter() = default;

bool FaceSetWriter::register_source(const FaceSetSource& source) {
  DirectoryLock lock(directory_);
  const auto manifest_path = directory_ / kManifestName;
  FaceSetManifest manifest = manifest_from_json(read_file(manifest_path), manifest_path.string());
  auto it = std::find_if(manifest.sources.begin(), manifest.sources.end(),
                         [&](const FaceSetSource& s) { return s.path == source.path; });
  const bool added = it == manifest.sources.end();
  if (added) {
    manifest.sources.push_back(source);
  } else {
    if (it->sha256 != source.sha256)
      throw InputDataError(fmt::format("{}: the face set already holds faces from a different file at this path "
                                       "(SHA-256 {} recorded, {} now)", source.path, it->sha256, source.sha256));
    const bool recorded = it->frame_last >= it->frame_first;
    const int64_t first = recorded ? std::min(it->frame_first, source.frame_first) : source.frame_first;
    const int64_t last = recorded ? std::max(it->frame_last, source.frame_last) : source.frame_last;
    bool new_detector = false;
    for (const auto& d : source.detectors) {
      if (std::find(it->detectors.begin(), it->detectors.end(), d) != it->detectors.end()) continue;
      it->detectors.push_back(d);
      new_detector = true;
    }
    // A chunk inside the recorded range (farm chunks of one plate, a rerun) with a detector already
    // recorded changes nothing: no rewrite, no fsync.
    if (first == it->frame_first && last == it->frame_last && !new_detector) return false;
    it->frame_first = first;
    it->frame_last = last;
  }
  write_file_atomic(manifest_path, manifest_to_json(manifest).dump(2) + "\n");
  return added;
}

void FaceSetWriter::retract(const std::string& source, bool remove_entry) {
  std::error_code ec;
  for (const auto& path : committed_[source]) std::filesystem::remove(path, ec);
  committed_.erase(source);
  if (!remove_entry) return;
  DirectoryLock lock(directory_);
  const auto manifest_path = directory_ / kManifestName;
  FaceSetManifest manifest = manifest_from_json(read_file(manifest_path), manifest_path.string());
  const auto before = manifest.sources.size();
  manifest.sources.erase(std::remove_if(manifest.sources.begin(), manifest.sources.end(),
                                        [&](const FaceSetSource& s) { return s.path == source; }),
                         manifest.sources.end());
  if (manifest.sources.size() != before) write_file_atomic(manifest_path, manifest_to_json(manifest).dump(2) + "\n");
}

std::string FaceSetWriter::face_name(const std::string& source, int64_t frame, int index) const {
  return fmt::format("{}_{:06d}_{}", sanitized_stem(source), frame, index);
}

void FaceSetWriter::add(FrameRecord record) { pending_.push_back(std::move(record)); }

void FaceSetWriter::flush() {
  if (pending_.empty()) return;
  // The crops and masks these records name were written with deferred durability: make them
  // durable before the records that refer to them are committed.
  sync_filesystem(directory_);
  std::string text;
  int64_t first = pending_.front().frame, last = first;
  for (const auto& record : pending_) {
    text += frame_record_to_json_line(record);
    text += '\n';
    first = std::min(first, record.frame);
    last = std::max(last, record.frame);
  }
  static std::atomic<uint64_t> counter{0};
  static const uint32_t salt = std::random_device{}();
  const auto name = fmt::format("{}.{:06d}-{:06d}.{}-{:08x}-{}.jsonl", sanitized_stem(pending_.front().source), first,
                                last, ::getpid(), salt, counter.fetch_add(1));
  const auto path = directory_ / "alignments" / name;
  write_file_atomic(path, text);
  committed_[pending_.front().source].push_back(path);
  pending_.clear();
}

}  // namespace facetrain
