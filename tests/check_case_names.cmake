# cmake -DSUITES="bin1|bin2|..." -P check_case_names.cmake
#
# Fails when a doctest case name holds a ';'. CTest registers each case by name, and CMake
# splits a name at ';' into a list: the test then runs a filter that matches no case, and
# passes without running anything.
string(REPLACE "|" ";" suites "${SUITES}")
set(bad "")
foreach(suite IN LISTS suites)
  execute_process(COMMAND "${suite}" --list-test-cases RESULT_VARIABLE status
                  OUTPUT_VARIABLE listed ERROR_VARIABLE errors)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${suite} --list-test-cases failed (${status}): ${errors}")
  endif()
  # ';' is CMake's list separator: look for it as a character, not through list commands.
  string(REPLACE ";" "<SEMICOLON>" listed "${listed}")
  string(REPLACE "\n" ";" lines "${listed}")
  foreach(line IN LISTS lines)
    if(line MATCHES "<SEMICOLON>")
      string(REPLACE "<SEMICOLON>" "\\;" shown "${line}")
      string(APPEND bad "\n  ${suite}: ${shown}")
    endif()
  endforeach()
endforeach()
if(bad)
  message(FATAL_ERROR "test case names with ';' run nothing under CTest; rename them:${bad}")
endif()
