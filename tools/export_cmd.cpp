#include "commands.hpp"

namespace worldlog::tools {
void add_replay_export_commands(CLI::App&) {} // PLACEHOLDER: replaced by the real subcommand
} // namespace worldlog::tools
