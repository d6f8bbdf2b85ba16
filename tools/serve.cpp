#include <CLI/CLI.hpp>

#include "commands.hpp"

namespace worldlog::tools {
void add_serve_commands(CLI::App&) {}
} // namespace worldlog::tools
