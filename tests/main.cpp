// The test runner of every suite: doctest's own main, compiled once. CTest runs each test case
// on its own (see tests/CMakeLists.txt); run a suite's binary directly to run all its cases.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
