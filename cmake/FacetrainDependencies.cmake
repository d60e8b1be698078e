# Every third-party dependency is found here, once, and exposed as an imported target.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(fmt REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
find_package(CLI11 REQUIRED)
find_package(dlib REQUIRED)
find_package(OpenImageIO REQUIRED)
find_package(PNG REQUIRED)
find_package(ZLIB REQUIRED)
pkg_check_modules(FFMPEG REQUIRED IMPORTED_TARGET libavformat libavcodec libavutil libswscale)
pkg_check_modules(OCIO REQUIRED IMPORTED_TARGET OpenColorIO)
# TensorBoard event files (src/facetrain/tensorboard): protobuf (lite) for the Event messages, ISA-L's
# CRC-32C for the record checksums. Report pages (src/facetrain/report): libjpeg for thumbnails.
find_package(Protobuf REQUIRED)
pkg_check_modules(ISAL REQUIRED IMPORTED_TARGET libisal)
find_package(JPEG REQUIRED)
if(TARGET yaml-cpp AND NOT TARGET yaml-cpp::yaml-cpp)
  add_library(yaml-cpp::yaml-cpp ALIAS yaml-cpp)
endif()

# --- LibTorch (model/losses/augmentation; see cmake/FacetrainTorch.cmake) ---------------------
# The torch 2.11 wheel's TorchConfig.cmake (CUDA 13) on every machine: scripts/build.sh passes
# -DCMAKE_PREFIX_PATH=<venv>/lib/python3.X/site-packages/torch/share/cmake.
# FACETRAIN_WITH_TORCH=OFF builds only the torch-free libraries and their unit tests (the
# sanitizer build of scripts/sanitize.sh: LibTorch itself is not instrumented).
if(FACETRAIN_WITH_TORCH)
  if(NOT TARGET torch)
    find_package(Torch REQUIRED)
  endif()
  include(FacetrainTorch)
endif()
# --- end LibTorch -----------------------------------------------------------------------------
