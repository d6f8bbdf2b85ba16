# The install test, run by CTest as `cmake -P`: installs the build tree into a fresh prefix,
# then configures, builds and runs tests/install/consumer against that prefix only. It proves
# that `find_package(worldlog)`, `worldlog::engine` and `worldlog::tools` work for an embedder
# (as fmt's find-package test does): `consumer` appends to a log and reads it back, and
# `ledger-log`, log tools over a model of the consumer's own, writes a log of that model and
# replays, bisects and audits it. Then the market example (examples/market) is built on its own
# against the prefix, as its README says, and runs its server with bot traders (its tests ran
# in the tree already: here they are not built). Any failing step fails the test.
#
# Inputs (-D): BINARY_DIR (the worldlog build tree), SOURCE_DIR (the consumer project),
# MARKET_SOURCE_DIR (examples/market), WORK_DIR (scratch, wiped first), CXX_COMPILER,
# BUILD_TYPE, and optionally CONFIG_FLAGS (the tree's flags for BUILD_TYPE), CXX_FLAGS and
# LINKER_FLAGS (for sanitizer builds).
cmake_minimum_required(VERSION 3.22)

foreach(input BINARY_DIR SOURCE_DIR MARKET_SOURCE_DIR WORK_DIR CXX_COMPILER)
  if(NOT DEFINED ${input})
    message(FATAL_ERROR "run_install_test.cmake needs -D${input}=...")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
set(consumer_build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run step)
  message(STATUS "${step}: ${ARGN}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${step} failed: ${result}")
  endif()
endfunction()

run("install" ${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${prefix})

set(config_flags "")
if(DEFINED CONFIG_FLAGS AND BUILD_TYPE)
  string(TOUPPER "${BUILD_TYPE}" build_type)
  set(config_flags "-DCMAKE_CXX_FLAGS_${build_type}=${CONFIG_FLAGS}")
endif()

# configure(STEP SOURCE BUILD ARGS...): configures SOURCE in BUILD against the prefix. Only the
# fresh prefix may satisfy find_package(worldlog): no package registry, and the project's cache
# is checked.
function(configure step source build)
  run("${step}"
      ${CMAKE_COMMAND} -S ${source} -B ${build} -G Ninja
      -DCMAKE_PREFIX_PATH=${prefix}
      -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
      -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
      -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
      ${config_flags}
      "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
      "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}"
      ${ARGN})
  file(STRINGS ${build}/CMakeCache.txt found_dir REGEX "^worldlog_DIR:")
  string(FIND "${found_dir}" "${prefix}/" at)
  if(NOT at GREATER -1)
    message(FATAL_ERROR "${step}: worldlog was found outside the test prefix: ${found_dir}")
  endif()
endfunction()

configure("configure consumer" ${SOURCE_DIR} ${consumer_build})

run("build consumer" ${CMAKE_COMMAND} --build ${consumer_build})
run("run consumer" ${consumer_build}/consumer)

# run_expecting(STEP EXPECTED COMMAND...): runs COMMAND, which must succeed and print EXPECTED.
function(run_expecting step expected)
  message(STATUS "${step}: ${ARGN}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${step} failed: ${result}\n${out}${err}")
  endif()
  string(FIND "${out}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${step}: expected '${expected}' in:\n${out}")
  endif()
endfunction()

set(ledger_log ${consumer_build}/ledger-log)
set(ledger ${WORK_DIR}/ledger)
run_expecting("write a ledger log" "wrote zone 1 of example.ledger" ${ledger_log} write --data ${ledger})
run_expecting("replay verify" "1 zone verified: every refold matches"
              ${ledger_log} replay verify --data ${ledger})
run_expecting("replay state" "{\"id\":42,\"gold\":70}"
              ${ledger_log} replay state --data ${ledger} --zone 1)
run_expecting("replay bisect" "zone 1: gold_non_negative holds"
              ${ledger_log} replay bisect --data ${ledger} --zone 1 --invariant gold_non_negative)
run_expecting("audit player"
              "REFUSED Spend            not_enough_gold (code 3): account 42 has 70 gold, cannot spend 500"
              ${ledger_log} audit player --data ${ledger} --player 42)

# The market example on its own: its library, demo and server, then market_server with its
# bots for two seconds.
set(market_build ${WORK_DIR}/market)
configure("configure market" ${MARKET_SOURCE_DIR} ${market_build} -DMARKET_TESTS=OFF)
run("build market" ${CMAKE_COMMAND} --build ${market_build})
run_expecting("market server" "every ledger balanced"
              ${market_build}/market_server --data ${WORK_DIR}/market-log --seconds 2)
