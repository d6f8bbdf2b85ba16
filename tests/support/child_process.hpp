// Runs a child process to completion: for crash tests whose child kills itself at a chosen
// point (std::_Exit), leaving whatever it had made durable behind.
#pragma once

#include <spawn.h>
#include <sys/wait.h>

#include <string>
#include <vector>

extern char** environ;

namespace worldlog::test {

/// Runs `args[0]` with `args` and returns its exit status, or -1 if it could not be started or
/// was killed by a signal.
inline int run_child(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

} // namespace worldlog::test
