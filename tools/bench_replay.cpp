#include "commands.hpp"

namespace worldlog::tools {
void add_bench_replay_command(CLI::App&) {} // PLACEHOLDER: replaced by the real subcommand
} // namespace worldlog::tools
