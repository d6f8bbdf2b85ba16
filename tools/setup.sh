#!/usr/bin/env bash
# Sets up a Debian 12 machine for worldlog and builds it. Idempotent: a second run installs
# nothing, configures nothing and rebuilds only what changed.
#
#   tools/setup.sh               install packages, configure and build into build/
#   tools/setup.sh demo [ARGS]   ... then run `build/worldlog demo ARGS` (--view: then serve the
#                                viewer of the world it wrote, printing its URL)
#   tools/setup.sh test          ... then check the C++ sources against .clang-format, run the
#                                tests and a minute of `worldlog sim` seeds, both again under
#                                ASan+UBSan (clang 14), then the libFuzzer targets side by
#                                side for WORLDLOG_FUZZ_SECONDS (60)
#
# CMAKE_BUILD_PARALLEL_LEVEL limits the build jobs on a shared machine.
set -euo pipefail

caller_dir=$PWD
cd "$(dirname "$0")/.."
root_dir=$PWD

packages=(
  build-essential cmake ninja-build g++ clang-14 libclang-rt-14-dev pkg-config git
  librocksdb-dev flatbuffers-compiler libflatbuffers-dev
  libboost1.81-dev libboost-json1.81-dev libfmt-dev libcli11-dev libspdlog-dev libssl-dev
  doctest-dev libjemalloc-dev clang-format-14
  e2fsprogs # mkfs.ext4: the full-disk test mounts a small ext4 on a loop device
  chromium chromium-driver python3-selenium # the viewer's browser tests (tests/browser)
)

usage() {
  sed -n '2,11s/^# \{0,1\}//p' "$0"
}

install_packages() {
  local missing=()
  local package
  for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$package")
    fi
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    return
  fi
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    sudo=(sudo)
  fi
  echo "setup: installing ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    "${missing[@]}"
}

# configure DIR [CMAKE_ARGS...]: configure DIR once (its CMakeCache.txt is the marker).
configure() {
  local dir=$1
  shift
  if [[ ! -f $dir/CMakeCache.txt ]]; then
    cmake -S . -B "$dir" -G Ninja "$@"
  fi
}

command=${1:-build}
if [[ $# -gt 0 ]]; then
  shift
fi

case $command in
  build | demo | test) ;;
  -h | --help | help)
    usage
    exit 0
    ;;
  *)
    echo "setup: unknown command '$command'" >&2
    usage >&2
    exit 2
    ;;
esac

install_packages
# Optimised, with line tables only (-g1): backtraces, sanitizer reports and profiles name
# functions and lines, and the build takes about a quarter less time than with -g.
# For a debugger's view of variables, configure a build directory of your own (CONTRIBUTING.md).
configure build -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
cmake --build build

case $command in
  demo)
    # From the caller's directory, so that `--data DIR` and the default ./worldlog-data are
    # where the caller expects them.
    cd "$caller_dir"
    exec "$root_dir/build/worldlog" demo "$@"
    ;;
  test)
    # Every C++ source as .clang-format lays it out; a file that is not fails the run, named.
    find engine replay tools tests schemas examples \( -name '*.cpp' -o -name '*.hpp' \) -print0 |
      xargs -0 clang-format-14 --dry-run --Werror
    ctest --test-dir build --output-on-failure -j2
    # The whole world under injected faults, seed after seed, for a minute in each build (a
    # longer soak: `worldlog sim --seeds`, docs/cli.md); a violation prints its seed and fails
    # the run.
    build/worldlog sim --seed 1 --seeds 1000000 --seconds 60 --steps 4000 --jobs 2
    # Debug keeps the assertions on; clang 14 proves the code builds with it, too. Line tables
    # are all a sanitizer report needs.
    configure build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 \
      -DCMAKE_CXX_COMPILER=clang++-14 -DWORLDLOG_SANITIZE=ON
    cmake --build build-asan
    # All but the install test, which builds a consumer of the installed package: the gcc run
    # above proves the package, and under ASan its compile is the longest test of all.
    ctest --test-dir build-asan --output-on-failure -j2 --label-exclude install
    build-asan/worldlog sim --seed 1 --seeds 1000000 --seconds 60 --steps 2000 --jobs 2
    # The decoders of bytes somebody else wrote (tests/fuzz), from seeds of valid input; a
    # crash, leak or sanitizer report fails the run and leaves the input in build-fuzz/.
    configure build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
      -DWORLDLOG_SANITIZE=ON -DWORLDLOG_FUZZ=ON -DWORLDLOG_TESTS=OFF -DWORLDLOG_TOOLS=OFF
    # Only the fuzz targets and the libraries they call: not the examples or the replay library.
    cmake --build build-fuzz --target fuzz_seeds fuzz_record fuzz_frame
    build-fuzz/tests/fuzz/fuzz_seeds build-fuzz/seeds/record build-fuzz/seeds/frame
    # Both targets at once, a core each. Each one's output goes to build-fuzz/fuzz_TARGET.log:
    # its figures are printed after, or all of it when it failed.
    targets=(record frame)
    pids=()
    for target in "${targets[@]}"; do
      mkdir -p "build-fuzz/corpus/$target"
      "build-fuzz/tests/fuzz/fuzz_$target" -max_total_time="${WORLDLOG_FUZZ_SECONDS:-60}" \
        -artifact_prefix=build-fuzz/ -print_final_stats=1 \
        "build-fuzz/corpus/$target" "build-fuzz/seeds/$target" >"build-fuzz/fuzz_$target.log" 2>&1 &
      pids+=("$!")
    done
    failed=0
    for i in "${!targets[@]}"; do
      log="build-fuzz/fuzz_${targets[$i]}.log"
      if wait "${pids[$i]}"; then
        echo "fuzz_${targets[$i]}:"
        grep -E '^(Done [0-9]+ runs|stat::)' "$log" || tail -n 5 "$log"
      else
        cat "$log"
        echo "setup: fuzz_${targets[$i]} failed (its log: $log; its input: build-fuzz/crash-*)" >&2
        failed=1
      fi
    done
    exit "$failed"
    ;;
esac
