# The LibTorch libraries: facetrain_model, facetrain_distributed, facetrain_train and
# facetrain_swap_pipeline (the parts of `facetrain train` and `facetrain swap` that need LibTorch).
# Every translation unit that includes <torch/torch.h> costs ~45 s on the 2-core CI machine, so
# the header is compiled once as a precompiled header that all of them share, and the
# public headers of src/facetrain/model and src/facetrain/train keep <torch/torch.h> out
# (they include only <ATen/core/Tensor.h>-level headers or forward declarations).
#
# One LibTorch everywhere: the torch 2.11 wheel's (CUDA 13), on the CI machine without a GPU too, so
# every CUDA and NCCL path is compiled and linked in every build. TORCH_CXX_FLAGS (the libstdc++ ABI
# switch) is applied to these targets and, through the torch target's interface, to what links them;
# never globally.
include_guard(GLOBAL)

# FACETRAIN_REQUIRE_CUDA (scripts/build.sh turns it on): a LibTorch without CUDA, or no NCCL, or no
# gloo headers is a configure error instead of a build that silently leaves those paths out.
option(FACETRAIN_REQUIRE_CUDA "Fail unless LibTorch has CUDA and NCCL and Gloo can be built" OFF)

# Gloo (CPU data-parallel training): libtorch_cpu contains Gloo, but the wheel ships none of gloo's
# headers, which ProcessGroupGloo.hpp includes. Debian's libgloo-dev (2022-05) supplies them, for
# declarations only; libgloo itself is never linked. Why that is sound: facetrain only calls
# ProcessGroupGloo::Options::create, createDeviceForHostname and the ProcessGroupGloo constructor,
# all compiled inside libtorch_cpu; every gloo type in ProcessGroupGloo.hpp's class layouts is held
# by shared_ptr/unique_ptr (pointer-sized whatever gloo's version), ProcessGroupGloo's vtable is
# emitted in libtorch (its destructor is the key function), and nothing of gloo is instantiated on
# our side (GlooStore, the one class with inline gloo overrides, is never constructed here). The
# e2e DDP tests (2-3 Gloo ranks, equivalence to one process) check the result.
option(FACETRAIN_WITH_GLOO "Build ProcessGroupGloo support (needs gloo headers)" ON)
if(FACETRAIN_WITH_GLOO)
  find_path(FACETRAIN_GLOO_INCLUDE_DIR gloo/config.h)
  if(NOT FACETRAIN_GLOO_INCLUDE_DIR)
    if(FACETRAIN_REQUIRE_CUDA)
      message(FATAL_ERROR "facetrain: gloo headers not found (Debian: libgloo-dev; scripts/setup.sh installs it)")
    endif()
    message(WARNING "facetrain: no gloo headers (libgloo-dev): data-parallel CPU training is left out")
    set(FACETRAIN_WITH_GLOO OFF)
  endif()
endif()

# facetrain_torch: what every LibTorch library and executable of ours compiles and links with, and
# the precompiled <torch/torch.h> they all share. Not a folder's library: its one source is generated
# (an empty TU), so that the header is compiled once, in one place, and the LibTorch libraries reuse it.
function(facetrain_add_torch_base)
  set(source ${CMAKE_CURRENT_BINARY_DIR}/facetrain_torch_pch.cpp)
  file(WRITE ${source} "// The precompiled <torch/torch.h> of the LibTorch libraries (cmake/FacetrainTorch.cmake).\n")
  add_library(facetrain_torch STATIC ${source})
  # The precompiled header is built without ccache: a .gch that ccache serves from another build
  # directory made GCC 12 stop with "sorry, unimplemented: PCH allocation failure" in every TU that
  # used it (seen here, a worktree built after another's). GCC does not write a .gch byte for byte
  # the same twice, so the TUs that include it got no cache hits anyway.
  set_target_properties(facetrain_torch PROPERTIES CXX_COMPILER_LAUNCHER "")
  target_include_directories(facetrain_torch PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR})
  target_link_libraries(facetrain_torch PUBLIC facetrain_base ${TORCH_LIBRARIES})
  target_compile_options(facetrain_torch PRIVATE ${TORCH_CXX_FLAGS})
  # LibTorch 2.x puts its own {fmt} (v12) on the include path ahead of Debian's (v9) and exports none
  # of its compiled functions: TUs that see torch's headers use that {fmt} header-only. The two
  # versions live in different inline namespaces (fmt::v9, fmt::v12); no fmt type crosses a library.
  target_compile_definitions(facetrain_torch PUBLIC FMT_HEADER_ONLY=1)
  target_precompile_headers(facetrain_torch PRIVATE <torch/torch.h>)
  # The torch wheel's libtorch.so and libtorch_cpu.so export unversioned copies of std::filesystem
  # (built into them from their toolchain's static libstdc++fs). Listed before libstdc++.so.6 in a
  # binary's NEEDED entries they interpose on our calls, and their remove_all jumps to address 0
  # (found as a crash in CheckpointStore::prune). libstdc++ first in the link line puts it first in
  # the lookup order, so every binary that links LibTorch binds std:: to the real libstdc++
  # (tests/torch/libstdcxx_binding_test.cpp checks it).
  target_link_options(facetrain_torch INTERFACE "LINKER:--push-state,--no-as-needed" "-lstdc++" "LINKER:--pop-state")
  # distributed/: c10d (TCPStore, ProcessGroupGloo from libtorch_cpu; ProcessGroupNCCL from libtorch_cuda).
  # FACETRAIN_WITH_CUDA: code that includes c10/cuda headers (allocator statistics, sync debug
  # mode) compiles only against CUDA LibTorch. PUBLIC, so that every LibTorch TU, the tests' too,
  # sees the same definitions as the precompiled header.
  if(TARGET torch_cuda)
    target_compile_definitions(facetrain_torch PUBLIC FACETRAIN_WITH_CUDA)
  endif()
  if(FACETRAIN_WITH_GLOO)
    target_compile_definitions(facetrain_torch PUBLIC FACETRAIN_WITH_GLOO)
    target_include_directories(facetrain_torch SYSTEM PUBLIC ${FACETRAIN_GLOO_INCLUDE_DIR})
  endif()
  if(FACETRAIN_REQUIRE_CUDA AND NOT TARGET torch_cuda)
    message(FATAL_ERROR "facetrain: FACETRAIN_REQUIRE_CUDA, but this LibTorch (${Torch_DIR}) has no CUDA")
  endif()
  # NCCL's header and library: the CUDA toolkit's (our machines' /usr/local/cuda carries NCCL 2.28.9,
  # the version the wheel pins), or NCCL_ROOT (e.g. .../site-packages/nvidia/nccl from the wheel).
  if(TARGET torch_cuda)
    find_path(FACETRAIN_NCCL_INCLUDE_DIR nccl.h HINTS ${NCCL_ROOT} ENV NCCL_ROOT ${CUDAToolkit_INCLUDE_DIRS}
              PATH_SUFFIXES include)
    find_library(FACETRAIN_NCCL_LIBRARY NAMES nccl libnccl.so.2 HINTS ${NCCL_ROOT} ENV NCCL_ROOT
                 ${CUDAToolkit_LIBRARY_DIR} PATH_SUFFIXES lib lib64)
    if(FACETRAIN_NCCL_INCLUDE_DIR AND FACETRAIN_NCCL_LIBRARY)
      target_compile_definitions(facetrain_torch PUBLIC FACETRAIN_WITH_NCCL)
      target_include_directories(facetrain_torch SYSTEM PUBLIC ${FACETRAIN_NCCL_INCLUDE_DIR})
      target_link_libraries(facetrain_torch PUBLIC ${FACETRAIN_NCCL_LIBRARY})
      message(STATUS "facetrain: NCCL ${FACETRAIN_NCCL_INCLUDE_DIR}, ${FACETRAIN_NCCL_LIBRARY}")
    elseif(FACETRAIN_REQUIRE_CUDA)
      message(FATAL_ERROR "facetrain: CUDA LibTorch without nccl.h/libnccl: set NCCL_ROOT")
    else()
      message(WARNING "facetrain: CUDA LibTorch without nccl.h/libnccl (set NCCL_ROOT): CUDA training runs, "
                      "data-parallel CUDA training (ProcessGroupNCCL) is left out")
    endif()
  endif()
endfunction()

# facetrain_torch_library(FOLDER): facetrain_<FOLDER> (static) from every .cpp in src/facetrain/FOLDER,
# compiled against LibTorch with facetrain_torch's flags and precompiled header.
function(facetrain_torch_library folder)
  if(NOT TARGET facetrain_torch)
    facetrain_add_torch_base()
  endif()
  facetrain_library(${folder} STATIC)
  set(target facetrain_${folder})
  target_link_libraries(${target} PUBLIC facetrain_torch)
  target_compile_options(${target} PRIVATE ${TORCH_CXX_FLAGS})
  target_precompile_headers(${target} REUSE_FROM facetrain_torch)
  # The PCH is ~570 MB; loading it costs seconds, so TUs that do not use torch skip it.
  if(folder STREQUAL "train")
    set_source_files_properties(${PROJECT_SOURCE_DIR}/src/facetrain/train/run_directory.cpp
      PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
  endif()
  # The libraries are -fPIC (they go into libfacetrain-torch.so); executables that reuse the PCH must
  # compile with -fPIC too, not CMake's -fPIE, or GCC rejects the PCH (-Winvalid-pch) and compiles
  # every TU from scratch: facetrain_use_torch_pch() below.
endfunction()

# An executable that includes <torch/torch.h> reuses the LibTorch libraries' precompiled header: same
# flags, -fPIC included (a PIE executable links -fPIC objects fine).
function(facetrain_use_torch_pch target)
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE OFF)
  target_compile_options(${target} PRIVATE -fPIC)
  target_precompile_headers(${target} REUSE_FROM facetrain_torch)
endfunction()

# Unit tests of the LibTorch libraries: one Catch2 executable (tests/torch/*_test.cpp), registered per
# test case with the prefix "torch/" and the label "unit".
function(facetrain_add_torch_tests)
  file(GLOB facetrain_torch_test_sources CONFIGURE_DEPENDS
    ${PROJECT_SOURCE_DIR}/tests/torch/*_test.cpp)
  add_executable(facetrain_torch_tests ${PROJECT_SOURCE_DIR}/tests/unit/main.cpp
    ${facetrain_torch_test_sources})
  target_link_libraries(facetrain_torch_tests PRIVATE facetrain_swap_pipeline facetrain_train facetrain_matte Catch2::Catch2)
  add_dependencies(facetrain_torch_tests facetrain_media_oiio)   # media loads it for images
  target_compile_definitions(facetrain_torch_tests PRIVATE FACETRAIN_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  target_compile_options(facetrain_torch_tests PRIVATE ${TORCH_CXX_FLAGS})
  facetrain_use_torch_pch(facetrain_torch_tests)
  set_source_files_properties(${PROJECT_SOURCE_DIR}/tests/unit/main.cpp
    PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
  # Test cases tagged [gpu] (tests/torch/gpu_*_test.cpp) get the ctest label gpu instead: they are
  # Skipped without CUDA, and fail instead when FACETRAIN_REQUIRE_GPU=1 (gpu-smoke.sh).
  catch_discover_tests(facetrain_torch_tests
    TEST_SPEC "~[gpu]"
    TEST_PREFIX "torch/"
    EXTRA_ARGS ${FACETRAIN_CATCH_ARGS}
    PROPERTIES LABELS unit TIMEOUT 300 SKIP_REGULAR_EXPRESSION "${FACETRAIN_CATCH_SKIP_REGEX}"
    DISCOVERY_TIMEOUT 60)
  catch_discover_tests(facetrain_torch_tests
    TEST_SPEC "[gpu]"
    TEST_PREFIX "torch/"
    EXTRA_ARGS ${FACETRAIN_CATCH_ARGS}
    PROPERTIES LABELS gpu TIMEOUT 600 SKIP_REGULAR_EXPRESSION "${FACETRAIN_CATCH_SKIP_REGEX}"
    DISCOVERY_TIMEOUT 60)
endfunction()
