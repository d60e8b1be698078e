# cmake -DSOURCE_DIR=<checkout> -P cmake/check_layers.cmake: fails (exit 1), listing each include that
# reaches up or sideways across the layers of cmake/FacetrainLayers.cmake. The build runs it when it
# is configured; ctest runs it as layers/include_order.
cmake_minimum_required(VERSION 3.22)
if(NOT SOURCE_DIR)
  get_filename_component(SOURCE_DIR "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
endif()
include(${CMAKE_CURRENT_LIST_DIR}/FacetrainLayers.cmake)
facetrain_check_layers(${SOURCE_DIR} violations)
if(violations)
  list(LENGTH violations count)
  list(JOIN violations "\n  " shown)
  message(FATAL_ERROR "facetrain layers: ${count} include(s) against cmake/FacetrainLayers.cmake:\n  ${shown}")
endif()
message(STATUS "facetrain layers: every include goes down")
