# facetrain_torch: the LibTorch parts of `facetrain train` and `facetrain swap` (model, losses,
# on-device augmentation). Every translation unit that includes <torch/torch.h> costs ~45 s on the
# 2-core CI machine, so the target compiles the header once as a precompiled header, and the
# public headers of src/facetrain/model and src/facetrain/train keep <torch/torch.h> out
# (they include only <ATen/core/Tensor.h>-level headers or forward declarations).
#
# Works with LibTorch 1.13 (Debian, CPU) and 2.x (pip wheel, CUDA). TORCH_CXX_FLAGS
# (the libstdc++ ABI switch) is applied to this target and, through the torch target's interface,
# to what links it; never globally.
include_guard(GLOBAL)

# Gloo (CPU data-parallel training) needs gloo's headers: Debian's libgloo-dev; a torch wheel may
# have none (scripts/gpu-smoke.sh turns this off then). OFF: make_gloo() throws UnavailableError.
option(FACETRAIN_WITH_GLOO "Build ProcessGroupGloo support (needs gloo headers)" ON)

function(facetrain_add_torch_library)
  file(GLOB facetrain_torch_sources CONFIGURE_DEPENDS
    ${PROJECT_SOURCE_DIR}/src/facetrain/model/*.cpp
    ${PROJECT_SOURCE_DIR}/src/facetrain/train/*.cpp
    ${PROJECT_SOURCE_DIR}/src/facetrain/swap/*.cpp
    ${PROJECT_SOURCE_DIR}/src/facetrain/dist/*.cpp)
  add_library(facetrain_torch STATIC ${facetrain_torch_sources})
  target_include_directories(facetrain_torch PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR})
  target_link_libraries(facetrain_torch PUBLIC facetrain_base ${TORCH_LIBRARIES})
  target_compile_options(facetrain_torch PRIVATE ${TORCH_CXX_FLAGS})
  target_precompile_headers(facetrain_torch PRIVATE <torch/torch.h>)
  # dist/: c10d (TCPStore, ProcessGroupGloo from libtorch_cpu; ProcessGroupNCCL from libtorch_cuda).
  # FACETRAIN_WITH_CUDA: code that includes c10/cuda headers (allocator statistics, sync debug
  # mode) compiles only against CUDA LibTorch. PUBLIC, so that the tests reuse the same PCH.
  if(TARGET torch_cuda)
    target_compile_definitions(facetrain_torch PUBLIC FACETRAIN_WITH_CUDA)
  endif()
  if(FACETRAIN_WITH_GLOO)
    target_compile_definitions(facetrain_torch PUBLIC FACETRAIN_WITH_GLOO)
  endif()
  # NCCL's header and library come from the nvidia-nccl wheel on the GPU machine (NCCL_ROOT, or
  # -DNCCL_ROOT=.../site-packages/nvidia/nccl); scripts/gpu-smoke.sh passes it.
  if(TARGET torch_cuda)
    find_path(FACETRAIN_NCCL_INCLUDE_DIR nccl.h HINTS ${NCCL_ROOT} ENV NCCL_ROOT PATH_SUFFIXES include)
    find_library(FACETRAIN_NCCL_LIBRARY NAMES nccl libnccl.so.2 HINTS ${NCCL_ROOT} ENV NCCL_ROOT PATH_SUFFIXES lib)
    if(FACETRAIN_NCCL_INCLUDE_DIR AND FACETRAIN_NCCL_LIBRARY)
      target_compile_definitions(facetrain_torch PUBLIC FACETRAIN_WITH_NCCL)
      target_include_directories(facetrain_torch SYSTEM PRIVATE ${FACETRAIN_NCCL_INCLUDE_DIR})
      target_link_libraries(facetrain_torch PUBLIC ${FACETRAIN_NCCL_LIBRARY})
      message(STATUS "facetrain: NCCL ${FACETRAIN_NCCL_INCLUDE_DIR}, ${FACETRAIN_NCCL_LIBRARY}")
    else()
      message(WARNING "facetrain: CUDA LibTorch without nccl.h/libnccl (set NCCL_ROOT): CUDA training runs, "
                      "data-parallel CUDA training (ProcessGroupNCCL) is left out")
    endif()
  endif()
  set_source_files_properties(${PROJECT_SOURCE_DIR}/src/facetrain/dist/local_launcher.cpp
    PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
  # The PCH is ~570 MB; loading it costs seconds, so TUs that do not use torch skip it.
  set_source_files_properties(${PROJECT_SOURCE_DIR}/src/facetrain/model/model_config.cpp
    ${PROJECT_SOURCE_DIR}/src/facetrain/swap/face_composite.cpp
    ${PROJECT_SOURCE_DIR}/src/facetrain/swap/swap_output.cpp
    PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
  # swap writes its frames (EXR/TIFF/PNG RGBA) through OpenImageIO, in swap_output.cpp only.
  target_link_libraries(facetrain_torch PRIVATE OpenImageIO::OpenImageIO)
  # No POSITION_INDEPENDENT_CODE here: -fPIC on the library vs -fPIE on the test executable would
  # make GCC reject the reused PCH (-Winvalid-pch) and compile every test TU from scratch.
endfunction()

# Unit tests of facetrain_torch: one Catch2 executable (tests/torch/*_test.cpp), registered per
# test case with the prefix "torch/" and the label "unit".
function(facetrain_add_torch_tests)
  file(GLOB facetrain_torch_test_sources CONFIGURE_DEPENDS
    ${PROJECT_SOURCE_DIR}/tests/torch/*_test.cpp)
  add_executable(facetrain_torch_tests ${PROJECT_SOURCE_DIR}/tests/unit/main.cpp
    ${facetrain_torch_test_sources})
  target_link_libraries(facetrain_torch_tests PRIVATE facetrain_torch Catch2::Catch2)
  target_compile_definitions(facetrain_torch_tests PRIVATE FACETRAIN_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  target_compile_options(facetrain_torch_tests PRIVATE ${TORCH_CXX_FLAGS})
  # Same flags as facetrain_torch, so the precompiled <torch/torch.h> is reused, not rebuilt.
  target_precompile_headers(facetrain_torch_tests REUSE_FROM facetrain_torch)
  set_source_files_properties(${PROJECT_SOURCE_DIR}/tests/unit/main.cpp
    PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
  # Test cases tagged [gpu] (tests/torch/gpu_*_test.cpp) get the ctest label gpu instead: they
  # skip with a warning without CUDA, and fail instead when FACETRAIN_REQUIRE_GPU=1 (gpu-smoke.sh).
  catch_discover_tests(facetrain_torch_tests
    TEST_SPEC "~[gpu]"
    TEST_PREFIX "torch/"
    PROPERTIES LABELS unit TIMEOUT 300
    DISCOVERY_TIMEOUT 60)
  catch_discover_tests(facetrain_torch_tests
    TEST_SPEC "[gpu]"
    TEST_PREFIX "torch/"
    PROPERTIES LABELS gpu TIMEOUT 600
    DISCOVERY_TIMEOUT 60)
endfunction()
