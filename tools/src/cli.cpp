// The Cli of worldlog::tools, its registry of models, and how a stream finds its model.
#include <charconv>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>
#include <worldlog/tools/cli.hpp>
#include <worldlog/zone/records.hpp>

#include "tool_commands.hpp"

namespace worldlog::tools {
namespace {

/// What fail() heads its messages with: the name of the last Cli made.
std::string& program_name() {
  static std::string name = "worldlog";
  return name;
}

} // namespace

// ---- Models ------------------------------------------------------------------------------------

Models& Models::add(std::unique_ptr<ModelTools> model) {
  if (model == nullptr) throw std::invalid_argument("worldlog::tools::Models::add: no model");
  if (find(model->name()) != nullptr) {
    throw std::invalid_argument(
        fmt::format("worldlog::tools::Models::add: model '{}' is registered twice", model->name()));
  }
  models_.push_back(std::move(model));
  return *this;
}

const ModelTools* Models::find(std::string_view name) const noexcept {
  for (const auto& model : models_)
    if (model->name() == name) return model.get();
  return nullptr;
}

std::string Models::names() const {
  std::string names;
  for (const auto& model : models_)
    names += fmt::format("{}{}", names.empty() ? "" : ", ", model->name());
  return names.empty() ? "none" : names;
}

// ---- StreamModels ------------------------------------------------------------------------------

Result<const ModelTools*> StreamModels::find(log::StreamId stream) {
  if (const auto known = found_.find(stream); known != found_.end()) return known->second;
  const ModelTools* model = models_.all().empty() ? nullptr : models_.all().front().get();
  auto first = log_.read_stream(stream, 1, 1);
  if (first.ok() && !first->empty() &&
      first->front().payload_type() == zone::genesis_payload_type) {
    auto genesis = zone::decode_genesis(first->front().payload());
    if (genesis.ok()) {
      model = models_.find(genesis->model);
      if (model == nullptr) {
        return make_error(Errc::not_found,
                          "zone {} was written by model '{}' (rules version {}), which this {} "
                          "does not know (it knows: {})",
                          stream, genesis->model, genesis->rules_version, program_name(),
                          models_.names());
      }
    }
  }
  found_.emplace(stream, model);
  return model;
}

const ModelTools* StreamModels::of(log::StreamId stream) {
  auto model = find(stream);
  if (!model.ok()) fail(model.error().message());
  return *model;
}

const ModelTools& model_of(const Models& models, const log::EventLog& log, log::StreamId stream) {
  StreamModels streams(models, log);
  const ModelTools* model = streams.of(stream);
  if (model == nullptr) {
    fail(fmt::format("zone {}: this {} knows no model to read it with", stream, program_name()));
  }
  return *model;
}

// ---- helpers -----------------------------------------------------------------------------------

void fail(std::string_view message) {
  fmt::print(stderr, "{}: {}\n", program_name(), message);
  throw CLI::RuntimeError(1);
}

std::string read_text_file(const std::filesystem::path& path, std::string_view option) {
  constexpr std::uintmax_t limit = 1 << 20;
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (error || !std::filesystem::exists(status)) {
    fail(fmt::format("{} {}: no such file", option, path.string()));
  }
  if (!std::filesystem::is_regular_file(status)) {
    fail(fmt::format("{} {}: not a regular file", option, path.string()));
  }
  if (std::filesystem::file_size(path, error) > limit || error) {
    fail(fmt::format("{} {}: {}", option, path.string(),
                     error ? error.message() : fmt::format("larger than {} bytes", limit)));
  }
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) fail(fmt::format("{} {}: cannot read it", option, path.string()));
  return text;
}

HostPort split_host_port(std::string_view text, std::string_view option) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    fail(fmt::format("{} '{}' is not HOST:PORT", option, text));
  }
  std::string_view host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string_view digits = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
      port > 65535) {
    fail(fmt::format("{} '{}': the port is not a number from 0 to 65535", option, text));
  }
  return {std::string(host), static_cast<std::uint16_t>(port)};
}

boost::asio::ip::tcp::endpoint listen_endpoint(std::string_view text, std::string_view option) {
  const HostPort split = split_host_port(text, option);
  boost::system::error_code error;
  const auto address = boost::asio::ip::make_address(split.host, error);
  if (error) fail(fmt::format("{} '{}': '{}' is not an IP address", option, text, split.host));
  return {address, split.port};
}

std::unique_ptr<log::EventLog> open_existing_log(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    fail(fmt::format("no worldlog data at {}: not a directory", dir.string()));
  }
  auto opened = log::EventLog::open(dir, {.create_if_missing = false, .read_only = true});
  if (!opened) fail(fmt::format("cannot open the log at {}: {}", dir.string(), opened.error()));
  return std::move(opened).value();
}

// ---- Cli ---------------------------------------------------------------------------------------

Cli::Cli(std::string name, std::string description)
    : name_(std::move(name)), app_(std::move(description), name_) {
  program_name() = name_;
  app_.require_subcommand(1);
  add_events_command(app_);
  add_verify_command(app_);
  auto* replay =
      app_.add_subcommand("replay", "Rebuild, step through, verify and export past states");
  replay->require_subcommand(1);
  invariant_option_ = add_replay_commands(*replay, models_);
  add_replay_export_commands(*replay, models_);
  add_audit_commands(app_, models_);
  add_analyze_command(app_, models_);
  add_view_command(app_, models_);
  add_repair_command(app_);
}

Cli::~Cli() = default;

int Cli::run(int argc, char** argv) {
  program_name() = name_;
  invariant_option_->description(invariants_help(models_));
  try {
    app_.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // Help, usage errors, and the RuntimeError a failed command throws after its message.
    return app_.exit(error);
  } catch (const std::exception& error) {
    fmt::print(stderr, "{}: {}\n", name_, error.what());
    return 1;
  }
  return 0;
}

} // namespace worldlog::tools
