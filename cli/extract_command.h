#pragma once
#include "data_prep/extract_pipeline.h"

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace facetrain::cli {

class ConsoleReporter;

struct ExtractArgs {
  ExtractConfig config;
  std::string frames;        // farm syntax; parsed after CLI11 so errors name the text
  std::string face_type = "whole";
  std::string on_missing = "error";
  std::string detector;      // auto | hog | cnn | hog+cnn; empty: auto, or cnn with only --detector-model
  std::string detector_device = "dlib";  // dlib | cpu | cuda
  bool json = false;
};

CLI::App* setup_extract(CLI::App& app, ExtractArgs& args);
int run_extract_command(ExtractArgs& args, ConsoleReporter& reporter);

}  // namespace facetrain::cli
