# check_layering.cmake: fails when a source folder includes one it must not.
#   cmake -DROOT=<source tree> -P cmake/check_layering.cmake
# Reads every `#include "..."` line of every .h/.cpp/.inc/.cu/.cuh below each
# folder of the table and checks the first path component(s) of the included
# file against that folder's allowed set. docs/architecture.md draws the same
# table; the two change together. Angle-bracket includes (system and
# third-party headers) are not ours and are not checked.
#
# Rule rows are "folder:allowed,allowed,...". A file belongs to the longest
# folder that prefixes its path, so a subfolder row (runtime/tokenizer) narrows
# its parent's. An included path belongs to the longest prefix in its row.
cmake_minimum_required(VERSION 3.25)
if(NOT DEFINED ROOT)
  message(FATAL_ERROR "check_layering: pass -DROOT=<source tree>")
endif()

set(rules
  "base:base"
  "model:base,model"
  "parsers:base,parsers"
  "tools:base,tools"
  "sessions:base,sessions"
  "runtime:base,model,parsers,sessions,runtime"
  "runtime/tokenizer:base,parsers,runtime/tokenizer"
  "agents:base,model,parsers,tools,sessions,runtime,agents"
  "plugins:tools/plugin,plugins"
)
# Every top-level folder that is a library must have a row: a new folder
# without one is reported rather than silently unchecked.
set(known_roots base model parsers tools sessions runtime agents plugins)

set(folders "")
foreach(rule ${rules})
  string(REPLACE ":" ";" parts "${rule}")
  list(GET parts 0 folder)
  list(GET parts 1 allowed)
  string(REPLACE "," ";" allowed "${allowed}")
  list(APPEND folders "${folder}")
  set("allowed_${folder}" "${allowed}")
endforeach()

# The rule row a path (relative to ROOT) falls under: the longest folder prefix.
function(owning_folder path out)
  set(best "")
  foreach(folder ${folders})
    string(FIND "${path}/" "${folder}/" at)
    string(LENGTH "${folder}" n)
    string(LENGTH "${best}" nb)
    if(at EQUAL 0 AND n GREATER nb)
      set(best "${folder}")
    endif()
  endforeach()
  set(${out} "${best}" PARENT_SCOPE)
endfunction()

# Top-level folders present in ROOT that hold sources but have no row.
file(GLOB entries LIST_DIRECTORIES true RELATIVE "${ROOT}" "${ROOT}/*")
set(violations 0)
foreach(entry ${entries})
  if(IS_DIRECTORY "${ROOT}/${entry}" AND NOT entry IN_LIST known_roots
     AND NOT entry MATCHES "^(tests|docs|scripts|cmake|data|build.*|\\..*)$")
    file(GLOB_RECURSE stray "${ROOT}/${entry}/*.h" "${ROOT}/${entry}/*.cpp")
    if(stray)
      message("layering: folder ${entry}/ holds sources but has no row in cmake/check_layering.cmake")
      math(EXPR violations "${violations} + 1")
    endif()
  endif()
endforeach()

set(checked 0)
foreach(root ${known_roots})
  if(NOT IS_DIRECTORY "${ROOT}/${root}")
    continue()
  endif()
  file(GLOB_RECURSE srcs RELATIVE "${ROOT}"
       "${ROOT}/${root}/*.h" "${ROOT}/${root}/*.cpp" "${ROOT}/${root}/*.inc"
       "${ROOT}/${root}/*.cu" "${ROOT}/${root}/*.cuh")
  foreach(src ${srcs})
    math(EXPR checked "${checked} + 1")
    get_filename_component(dir "${src}" DIRECTORY)
    owning_folder("${dir}" from)
    set(allowed "${allowed_${from}}")
    file(STRINGS "${ROOT}/${src}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
    foreach(line ${lines})
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]*)\".*$" "\\1" inc "${line}")
      if(NOT inc MATCHES "/")
        continue()  # a file beside this one ("foo.inc"): same folder
      endif()
      get_filename_component(inc_dir "${inc}" DIRECTORY)
      # The included file's folder, matched against this row's allowed set
      # by longest prefix, so "runtime/tokenizer/bpe.h" is "runtime/tokenizer".
      set(to "")
      foreach(a ${allowed})
        string(FIND "${inc_dir}/" "${a}/" at)
        if(at EQUAL 0)
          set(to "${a}")
        endif()
      endforeach()
      if(to STREQUAL "")
        message("layering: ${src} includes \"${inc}\"; ${from}/ may include only: ${allowed}")
        math(EXPR violations "${violations} + 1")
      endif()
    endforeach()
  endforeach()
endforeach()

if(violations GREATER 0)
  message(FATAL_ERROR "layering: ${violations} violation(s) in ${checked} files; see docs/architecture.md")
endif()
message("layering: ${checked} files, no violations")
