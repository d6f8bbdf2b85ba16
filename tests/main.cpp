// The test runner of log_tests: doctest's own main. CTest runs each test case on its own
// (see tests/CMakeLists.txt); run the binary directly to run them all.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
