#include <CLI/CLI.hpp>

#include "commands.hpp"

namespace worldlog::tools {
void add_bots_command(CLI::App&) {}
} // namespace worldlog::tools
