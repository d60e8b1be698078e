# One folder, one library; and which folder may include which (docs/layout.md draws the picture).
#
# FACETRAIN_LAYERS lists the folders lowest layer first, one string per layer. A folder may include
# its own headers and those of the folders in the layers below it; never a folder of its own layer or
# of a layer above. src/facetrain/<name> for every name but data_prep (data_prep/, its face/ folder
# included) and cli (cli/). A folder under src/facetrain that is not in the list is an error too: a
# new folder is given its place here.
include_guard(GLOBAL)

set(FACETRAIN_LAYERS
  "base"                                                    # errors, log, images, module loader
  "config faceset checkpoint manifest face tensorboard"     # formats and maths on base alone
  "media quality verify"                                    # frames in and out; scores; verify
  "media_oiio jobs report occlusion"                        # OpenImageIO half; stage jobs; pages; occluders
  "swap model distributed data_prep"                        # compositing; network; c10d; extract
  "train matte"                                             # the Trainer; the visible-face matte
  "swap_pipeline"                                           # the SwapPipeline
  "module"                                                  # the composition root
  "cli")                                                    # the executable

# facetrain_library(FOLDER SHARED|STATIC [extra sources...]): facetrain_<FOLDER> from every .cpp in
# src/facetrain/FOLDER.
function(facetrain_library folder kind)
  file(GLOB sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/facetrain/${folder}/*.cpp)
  add_library(facetrain_${folder} ${kind} ${sources} ${ARGN})
  target_include_directories(facetrain_${folder} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR})
endfunction()

# facetrain_check_layers(SOURCE_DIR RESULT_VAR): RESULT_VAR is set to the list of violations, each
# "FILE includes FOLDER/...: FOLDER is not below FILE's folder (layer N)"; empty when none.
function(facetrain_check_layers source_dir result_var)
  set(violations "")
  set(level 0)
  foreach(layer IN LISTS FACETRAIN_LAYERS)
    string(REPLACE " " ";" folders "${layer}")
    foreach(folder IN LISTS folders)
      set(level_of_${folder} ${level})
    endforeach()
    math(EXPR level "${level} + 1")
  endforeach()

  # Every folder under src/facetrain has its place.
  file(GLOB children LIST_DIRECTORIES true RELATIVE ${source_dir}/src/facetrain ${source_dir}/src/facetrain/*)
  foreach(child IN LISTS children)
    if(IS_DIRECTORY ${source_dir}/src/facetrain/${child} AND NOT DEFINED level_of_${child})
      list(APPEND violations "src/facetrain/${child}/ is in no layer of FACETRAIN_LAYERS (cmake/FacetrainLayers.cmake)")
    endif()
  endforeach()

  foreach(layer IN LISTS FACETRAIN_LAYERS)
    string(REPLACE " " ";" folders "${layer}")
    foreach(folder IN LISTS folders)
      if(folder STREQUAL "data_prep" OR folder STREQUAL "cli")
        set(dir ${source_dir}/${folder})
      else()
        set(dir ${source_dir}/src/facetrain/${folder})
      endif()
      file(GLOB_RECURSE files ${dir}/*.h ${dir}/*.cpp)
      foreach(file IN LISTS files)
        file(STRINGS ${file} includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"(facetrain|data_prep)/")
        foreach(line IN LISTS includes)
          if(line MATCHES "\"facetrain/([a-z_0-9]+)/")
            set(target ${CMAKE_MATCH_1})
          elseif(line MATCHES "\"(data_prep)/")
            set(target data_prep)
          else()
            continue()   # "facetrain/build_info.h": generated, of no folder
          endif()
          file(RELATIVE_PATH shown ${source_dir} ${file})
          if(target STREQUAL folder)
            continue()
          elseif(NOT DEFINED level_of_${target})
            list(APPEND violations "${shown} includes ${target}/, a folder in no layer")
          elseif(NOT level_of_${target} LESS level_of_${folder})
            list(APPEND violations
                 "${shown} includes ${target}/ (layer ${level_of_${target}}): ${folder}/ (layer ${level_of_${folder}}) may include only layers below it")
          endif()
        endforeach()
      endforeach()
    endforeach()
  endforeach()
  set(${result_var} "${violations}" PARENT_SCOPE)
endfunction()
