# Proves cmake/check_layering.cmake can fail: runs it on a tree with three
# planted violations (tests/layering/violation/) and requires each to be named,
# the count to be exactly three (the allowed includes there pass), and the exit
# status to be a failure.
#   cmake -DSOURCE_DIR=<repo> -P tests/layering/check_layering_test.cmake
execute_process(
  COMMAND ${CMAKE_COMMAND} -DROOT=${SOURCE_DIR}/tests/layering/violation
          -P ${SOURCE_DIR}/cmake/check_layering.cmake
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(out "${out}${err}")
if(rc EQUAL 0)
  message(FATAL_ERROR "check_layering passed a tree with planted violations:\n${out}")
endif()
foreach(expected
    "model/climbs.h includes \"runtime/engine.h\""
    "parsers/sibling.h includes \"tools/tool.h\""
    "runtime/tokenizer/leaf.h includes \"runtime/engine.h\""
    "3 violation\\(s\\)")
  if(NOT out MATCHES "${expected}")
    message(FATAL_ERROR "check_layering output lacks '${expected}':\n${out}")
  endif()
endforeach()
message("check_layering found the three planted violations")
