#include <worldlog/tools/viewer.hpp>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include <worldlog/replay/diff.hpp>
#include <worldlog/tools/behaviour_follower.hpp>
#include <worldlog/tools/cli.hpp>
#include <worldlog/tools/model_tools.hpp>
#include <worldlog/zone/records.hpp>

#include "tool_commands.hpp"
#include "viewer_files.hpp"

namespace worldlog::tools {
namespace {

namespace json = boost::json;
using net::HttpRequest;
using net::HttpResponse;
using net::json_error;

// The most a zone's follower folds in one pass of the live thread, so that one zone far behind
// (a long log opened by `view`) does not hold the others' frames back for long.
constexpr std::uint64_t fold_per_pass = 20'000;
// An actor's events are looked for in windows of the log this many positions wide at first,
// widened fourfold until enough are found.
constexpr log::Position actor_window = 4096;
// Events read at once when scanning an actor's window.
constexpr std::size_t actor_read = 1024;

struct Limits {
  std::uint64_t default_value;
  std::uint64_t max;
};
constexpr Limits events_limit{100, 1000};
constexpr Limits step_count{1, 100};
constexpr Limits actor_limit{20, 200};

HttpResponse json_response(const json::value& document) {
  return {.body = json::serialize(document)};
}

// A failed read or fold as an answer: what was not there is 404, a bad argument 400.
HttpResponse error_response(const Error& error) {
  switch (error.code()) {
  case Errc::not_found: return json_error(404, error.message());
  case Errc::invalid_argument: return json_error(400, error.message());
  default: return json_error(500, error.message());
  }
}

// Thrown by the parameter readers below and turned into the answer it holds by handle().
struct Refusal {
  HttpResponse response;
};

[[noreturn]] void refuse(unsigned status, std::string message) {
  throw Refusal{json_error(status, message)};
}

std::optional<std::uint64_t> parse_number(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::optional<std::int64_t> parse_signed(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// Query parameter `name` as a whole number, nullopt when absent; a 400 naming it when it is not
// one.
std::optional<std::uint64_t> number_parameter(const HttpRequest& request, std::string_view name) {
  const auto found = request.query.find(name);
  if (found == request.query.end()) return std::nullopt;
  auto value = parse_number(found->second);
  if (!value) {
    refuse(400, fmt::format("parameter '{}': '{}' is not a whole number", name,
                            found->second.substr(0, 64)));
  }
  return value;
}

// A count parameter within its limits (1..max), its default when absent.
std::uint64_t count_parameter(const HttpRequest& request, std::string_view name, Limits limits) {
  const std::uint64_t value = number_parameter(request, name).value_or(limits.default_value);
  if (value < 1 || value > limits.max)
    refuse(400, fmt::format("parameter '{}': {} is not within 1..{}", name, value, limits.max));
  return value;
}

std::string_view required_text(const HttpRequest& request, std::string_view name) {
  const auto found = request.query.find(name);
  if (found == request.query.end() || found->second.empty())
    refuse(400, fmt::format("parameter '{}' is missing", name));
  return found->second;
}

// The path's segments: "/api/zones/3/state" -> {"api", "zones", "3", "state"}.
std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    if (slash != 0) parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

json::object actor_json(const log::Actor& actor) {
  return {{"kind", fmt::format("{}", actor.kind)}, {"id", actor.id}};
}

std::string_view content_type(std::string_view name) {
  const std::size_t dot = name.rfind('.');
  const std::string_view extension = dot == std::string_view::npos ? "" : name.substr(dot + 1);
  if (extension == "html") return "text/html; charset=utf-8";
  if (extension == "js" || extension == "mjs") return "text/javascript; charset=utf-8";
  if (extension == "css") return "text/css; charset=utf-8";
  if (extension == "json" || extension == "map") return "application/json";
  if (extension == "svg") return "image/svg+xml";
  if (extension == "png") return "image/png";
  if (extension == "ico") return "image/x-icon";
  if (extension == "txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

// Whether `name` (what follows /viewer/) names a file under the page's directory: relative,
// and no segment that climbs out or hides.
bool safe_file_name(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.find('\\') != std::string_view::npos ||
      name.find('\0') != std::string_view::npos)
    return false;
  return std::ranges::none_of(segments(name), [](std::string_view part) {
    return part == "." || part == ".." || part.front() == '.';
  });
}

} // namespace

// The frames of one watched zone, shared by its WebSockets' FrameSources: the zone is followed
// while one of them holds it.
struct LiveZone {
  zone::ZoneId zone = 0;
  const ModelTools* model = nullptr;
  std::unique_ptr<ZoneFollower> follower{}; // the live thread's only
  std::mutex mutex;
  net::WebSocketFrame latest{}; // guarded by mutex; number = the frame's seq
};

struct Viewer::State {
  State(const log::EventLog& log_in, const Models& models_in, const BehaviourFollower& behaviour_in,
        ViewerOptions options_in)
      : log(log_in), models(models_in), behaviour(behaviour_in), options(std::move(options_in)) {}

  // A zone of the log: its model and its genesis' ZoneInfo.
  struct Zone {
    const ModelTools* model = nullptr;
    zone::ZoneInfo info{};
  };

  HttpResponse route(const HttpRequest& request);
  HttpResponse world();
  HttpResponse invariants() const;
  HttpResponse zone_endpoint(zone::ZoneId zone, std::string_view what, const HttpRequest& request);
  HttpResponse state_of(zone::ZoneId zone, const Zone& found, const HttpRequest& request);
  HttpResponse events(zone::ZoneId zone, const Zone& found, const HttpRequest& request);
  HttpResponse step(zone::ZoneId zone, const Zone& found, const HttpRequest& request);
  HttpResponse diff(zone::ZoneId zone, const Zone& found, const HttpRequest& request);
  HttpResponse bisect(zone::ZoneId zone, const Zone& found, const HttpRequest& request);
  HttpResponse actor_events(std::string_view kind, std::string_view id, const HttpRequest& request);
  HttpResponse websocket(zone::ZoneId zone, const Zone& found);
  HttpResponse page_file(std::string_view name) const;

  // The zone `text` names, or a 404 naming it.
  std::pair<zone::ZoneId, Zone> zone_named(std::string_view text);
  // A seq parameter: absent -> nullopt; not a number -> 400; 0 or past the head -> 404.
  std::optional<log::Seq> seq_parameter(const HttpRequest& request, std::string_view name,
                                        zone::ZoneId zone);
  // An event as the API shows it (docs/viewer.md, `events`).
  json::object event_json(const ModelTools& model, const log::EventView& event) const;

  // The live thread: advances each watched zone's follower and renders its frame.
  void follow_zones();
  void render(LiveZone& live);

  const log::EventLog& log;
  const Models& models;
  const BehaviourFollower& behaviour;
  const ViewerOptions options;

  std::mutex zones_mutex;
  std::map<zone::ZoneId, Zone> zones; // guarded by zones_mutex; every zone found so far

  std::mutex live_mutex;
  std::condition_variable wake; // stopping, or fresh
  bool stopping = false;        // guarded by live_mutex
  bool fresh = false;           // guarded by live_mutex; a zone is watched that has no frame yet
  std::map<zone::ZoneId, std::weak_ptr<LiveZone>> watched; // guarded by live_mutex
  std::thread thread;
};

Viewer::Viewer(const log::EventLog& log, const Models& models, const BehaviourFollower& behaviour,
               ViewerOptions options)
    : state_(std::make_shared<State>(log, models, behaviour, std::move(options))) {
  state_->thread = std::thread([state = state_.get()] { state->follow_zones(); });
}

Viewer::~Viewer() {
  {
    std::lock_guard lock(state_->live_mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  state_->thread.join();
}

HttpResponse Viewer::handle(const HttpRequest& request) {
  try {
    return state_->route(request);
  } catch (const Refusal& refusal) {
    return refusal.response;
  }
}

HttpResponse Viewer::State::route(const HttpRequest& request) {
  const std::vector<std::string_view> parts = segments(request.path);
  const auto is = [&](std::initializer_list<std::string_view> expected) {
    return std::equal(parts.begin(), parts.end(), expected.begin(), expected.end());
  };
  if (request.websocket) {
    if (parts.size() == 3 && parts[0] == "ws" && parts[1] == "zones") {
      auto [zone, found] = zone_named(parts[2]);
      return websocket(zone, found);
    }
    return json_error(404, fmt::format("no WebSocket at {}", request.path));
  }
  if (parts.empty()) return page_file("index.html");
  if (parts[0] == "viewer" && request.path.starts_with("/viewer/"))
    return page_file(std::string_view(request.path).substr(std::string_view("/viewer/").size()));
  if (parts.size() == 3 && parts[0] == "ws" && parts[1] == "zones")
    return json_error(400, fmt::format("{} is a WebSocket: it needs an upgrade", request.path));
  if (is({"api", "world"})) return world();
  if (is({"api", "invariants"})) return invariants();
  if (is({"api", "behaviour"})) return json_response(behaviour.json());
  if (parts.size() == 4 && parts[0] == "api" && parts[1] == "zones") {
    auto [zone, found] = zone_named(parts[2]);
    if (parts[3] == "map") return json_response(found.model->map(found.info));
    if (parts[3] == "state") return state_of(zone, found, request);
    if (parts[3] == "events") return events(zone, found, request);
    if (parts[3] == "step") return step(zone, found, request);
    if (parts[3] == "diff") return diff(zone, found, request);
    if (parts[3] == "bisect") return bisect(zone, found, request);
  }
  if (parts.size() == 5 && parts[0] == "api" && parts[1] == "actors" && parts[4] == "events")
    return actor_events(parts[2], parts[3], request);
  return json_error(404, fmt::format("no such endpoint: {}", request.path));
}

std::pair<zone::ZoneId, Viewer::State::Zone> Viewer::State::zone_named(std::string_view text) {
  const std::optional<std::uint64_t> number = parse_number(text);
  if (!number || *number == 0) refuse(404, fmt::format("no zone '{}'", text.substr(0, 64)));
  const auto zone = static_cast<zone::ZoneId>(*number);
  {
    std::lock_guard lock(zones_mutex);
    if (auto known = zones.find(zone); known != zones.end()) return {zone, known->second};
  }
  auto first = log.read_stream(zone, 1, 1);
  if (!first.ok()) refuse(500, first.error().to_string());
  if (first->empty() || first->front().payload_type() != zone::genesis_payload_type)
    refuse(404, fmt::format("no zone {}", zone));
  auto genesis = zone::decode_genesis(first->front().payload());
  if (!genesis.ok())
    refuse(500, fmt::format("zone {}: its genesis does not decode: {}", zone, genesis.error()));
  const ModelTools* model = models.find(genesis->model);
  if (model == nullptr) {
    refuse(404, fmt::format("zone {} was written by model '{}', which this binary does not know "
                            "(it knows: {})",
                            zone, genesis->model, models.names()));
  }
  Zone found{model, genesis->info};
  std::lock_guard lock(zones_mutex);
  zones.emplace(zone, found);
  return {zone, found};
}

std::optional<log::Seq> Viewer::State::seq_parameter(const HttpRequest& request,
                                                     std::string_view name, zone::ZoneId zone) {
  const std::optional<std::uint64_t> seq = number_parameter(request, name);
  if (!seq) return std::nullopt;
  const log::Seq head = log.head(zone);
  if (*seq == 0 || *seq > head)
    refuse(404, fmt::format("zone {} has no seq {} (parameter '{}'): its seqs are 1..{}", zone,
                            *seq, name, head));
  return seq;
}

json::object Viewer::State::event_json(const ModelTools& model, const log::EventView& event) const {
  auto described = model.describe(event);
  return {{"seq", event.seq()},
          {"position", event.position()},
          {"wall_time_us", event.wall_time_us()},
          {"actor", actor_json(event.actor())},
          {"command_id", event.command_id()},
          {"type", model.event_name(event)},
          {"event", described ? std::move(*described) : json::value(nullptr)}};
}

HttpResponse Viewer::State::world() {
  const std::map<zone::ZoneId, ZoneFigures> live =
      options.live ? options.live() : std::map<zone::ZoneId, ZoneFigures>();
  json::array listed;
  std::string model_name;
  for (const log::StreamId stream : log.streams()) {
    const zone::ZoneId zone = stream;
    try {
      const Zone found = zone_named(fmt::format("{}", stream)).second;
      if (model_name.empty()) model_name = found.model->name();
    } catch (const Refusal&) {
      continue; // not a zone, or of a model this binary does not know
    }
    const log::Seq head = log.head(stream);
    auto last = log.read_stream(stream, head, 1);
    if (!last.ok()) return error_response(last.error());
    const auto known = live.find(zone);
    const ZoneFigures figures = known == live.end() ? ZoneFigures{} : known->second;
    const auto figure = [](const std::optional<std::uint64_t>& value) {
      return value ? json::value(*value) : json::value(nullptr);
    };
    listed.push_back(
        json::object{{"zone", zone},
                     {"head", head},
                     {"wall_time_us", last->empty() ? json::value(nullptr)
                                                    : json::value(last->front().wall_time_us())},
                     {"online", figure(figures.online)},
                     {"mailbox", figure(figures.mailbox)}});
  }
  if (model_name.empty() && !models.all().empty()) model_name = models.all().front()->name();
  return json_response(json::object{{"model", model_name},
                                    {"live", static_cast<bool>(options.live)},
                                    {"position", log.last_position()},
                                    {"zones", std::move(listed)}});
}

HttpResponse Viewer::State::invariants() const {
  json::array listed;
  for (const auto& model : models.all())
    for (const InvariantInfo& invariant : model->invariants())
      listed.push_back(
          json::object{{"name", invariant.name}, {"description", invariant.description}});
  return json_response(listed);
}

HttpResponse Viewer::State::state_of(zone::ZoneId zone, const Zone& found,
                                     const HttpRequest& request) {
  const std::optional<log::Seq> at = seq_parameter(request, "at", zone);
  std::optional<std::int64_t> time;
  if (auto given = request.query.find("time"); given != request.query.end()) {
    time = parse_signed(given->second);
    if (!time) {
      refuse(400, fmt::format("parameter 'time': '{}' is not microseconds since the epoch",
                              given->second.substr(0, 64)));
    }
  }
  if (at && time) refuse(400, "parameters 'at' and 'time': give one of them, not both");
  auto rebuilt = time ? found.model->state_at_time(log, zone, *time, {})
                      : found.model->state_at(log, zone, at.value_or(log.head(zone)), {});
  if (!rebuilt.ok()) return error_response(rebuilt.error());
  return json_response(json::object{{"zone", zone},
                                    {"seq", rebuilt->seq},
                                    {"wall_time_us", rebuilt->wall_time_us},
                                    {"hash", log::to_hex(rebuilt->hash)},
                                    {"from_snapshot", rebuilt->from_snapshot},
                                    {"folded", rebuilt->folded},
                                    {"state", std::move(rebuilt->state)}});
}

HttpResponse Viewer::State::events(zone::ZoneId zone, const Zone& found,
                                   const HttpRequest& request) {
  const std::uint64_t from = number_parameter(request, "from").value_or(1);
  if (from == 0) refuse(400, "parameter 'from': seqs start at 1");
  const std::uint64_t limit = count_parameter(request, "limit", events_limit);
  auto read = log.read_stream(zone, from, limit);
  if (!read.ok()) return error_response(read.error());
  json::array listed;
  for (const log::Event& event : *read)
    listed.push_back(event_json(*found.model, event.view()));
  return json_response(
      json::object{{"zone", zone}, {"head", log.head(zone)}, {"events", std::move(listed)}});
}

HttpResponse Viewer::State::step(zone::ZoneId zone, const Zone& found, const HttpRequest& request) {
  const log::Seq from = seq_parameter(request, "from", zone).value_or(1);
  const std::uint64_t count = count_parameter(request, "count", step_count);
  json::array steps;
  auto stepped =
      found.model->step(log, zone, from, count,
                        [&](const log::EventView& event, const json::value& before,
                            const json::value& after, const log::Hash& hash) {
                          auto described = found.model->describe(event);
                          steps.push_back(json::object{
                              {"seq", event.seq()},
                              {"wall_time_us", event.wall_time_us()},
                              {"hash", log::to_hex(hash)},
                              {"type", found.model->event_name(event)},
                              {"event", described ? std::move(*described) : json::value(nullptr)},
                              {"changes", replay::to_json(replay::diff(before, after))}});
                        },
                        {});
  if (!stepped.ok()) return error_response(stepped.error());
  return json_response(json::object{{"zone", zone}, {"steps", std::move(steps)}});
}

HttpResponse Viewer::State::diff(zone::ZoneId zone, const Zone& found, const HttpRequest& request) {
  const auto from = seq_parameter(request, "from", zone);
  if (!from) refuse(400, "parameter 'from' is missing");
  const auto to = seq_parameter(request, "to", zone);
  if (!to) refuse(400, "parameter 'to' is missing");
  auto diffed = found.model->diff(log, zone, *from, *to, {});
  if (!diffed.ok()) return error_response(diffed.error());
  const auto point = [](const StateAt& state) {
    return json::object{{"seq", state.seq},
                        {"wall_time_us", state.wall_time_us},
                        {"hash", log::to_hex(state.hash)}};
  };
  return json_response(json::object{{"zone", zone},
                                    {"from", point(diffed->from)},
                                    {"to", point(diffed->to)},
                                    {"changes", replay::to_json(diffed->changes)}});
}

HttpResponse Viewer::State::bisect(zone::ZoneId zone, const Zone& found,
                                   const HttpRequest& request) {
  const std::string_view invariant = required_text(request, "invariant");
  const auto known = found.model->invariants();
  if (std::ranges::none_of(known,
                           [&](const InvariantInfo& info) { return info.name == invariant; })) {
    std::string names;
    for (const InvariantInfo& info : known)
      names += fmt::format("{}{}", names.empty() ? "" : ", ", info.name);
    refuse(400, fmt::format("parameter 'invariant': model '{}' has no invariant '{}' (it has: {})",
                            found.model->name(), invariant.substr(0, 64),
                            names.empty() ? "none" : names));
  }
  const log::Seq to = seq_parameter(request, "to", zone).value_or(log.head(zone));
  auto bisection = found.model->bisect(log, zone, invariant, to, {});
  if (!bisection.ok()) return error_response(bisection.error());
  json::value event = nullptr;
  if (bisection->event) event = event_json(*found.model, bisection->event->view());
  return json_response(
      json::object{{"zone", zone},
                   {"invariant", invariant},
                   {"checked_to", bisection->head},
                   {"holds", !bisection->first_bad.has_value()},
                   {"first_broken", bisection->first_bad ? json::value(*bisection->first_bad)
                                                         : json::value(nullptr)},
                   {"event", std::move(event)}});
}

HttpResponse Viewer::State::actor_events(std::string_view kind, std::string_view id,
                                         const HttpRequest& request) {
  log::Actor actor;
  if (kind == "player") {
    actor.kind = log::ActorKind::player;
  } else if (kind == "mob") {
    actor.kind = log::ActorKind::mob;
  } else if (kind == "system") {
    actor.kind = log::ActorKind::system;
  } else {
    refuse(400, fmt::format("actor kind '{}': it is player, mob or system", kind.substr(0, 64)));
  }
  const std::optional<std::uint64_t> number = parse_number(id);
  if (!number) refuse(400, fmt::format("actor id '{}' is not a whole number", id.substr(0, 64)));
  actor.id = *number;
  const std::uint64_t limit = count_parameter(request, "limit", actor_limit);

  // The actor's last `limit` events: windows of the log, widened backwards from its end until
  // they hold enough (or reach its start); only the newest `limit` of a window are kept.
  const log::Position end = log.last_position();
  std::deque<log::Event> last;
  for (log::Position window = actor_window;; window *= 4) {
    const log::Position start = end > window ? end - window : 0;
    last.clear();
    for (log::Position from = start;;) {
      auto read = log.read_actor(actor, from, actor_read);
      if (!read.ok()) return error_response(read.error());
      for (log::Event& event : *read) {
        last.push_back(std::move(event));
        if (last.size() > limit) last.pop_front();
      }
      if (read->size() < actor_read) break;
      from = read->back().position() + 1;
    }
    if (last.size() >= limit || start == 0) break;
  }
  StreamModels stream_models(models, log);
  json::array listed;
  for (const log::Event& event : last) {
    auto model = stream_models.find(event.stream());
    json::object shown;
    if (model.ok() && *model != nullptr) {
      shown = event_json(**model, event.view());
    } else {
      shown = {{"seq", event.seq()},
               {"position", event.position()},
               {"wall_time_us", event.wall_time_us()},
               {"actor", actor_json(event.actor())},
               {"command_id", event.command_id()},
               {"type", "undecodable"},
               {"event", nullptr}};
    }
    shown["zone"] = event.stream();
    listed.push_back(std::move(shown));
  }
  return json_response(json::object{{"actor", actor_json(actor)}, {"events", std::move(listed)}});
}

HttpResponse Viewer::State::websocket(zone::ZoneId zone, const Zone& found) {
  std::shared_ptr<LiveZone> live;
  {
    std::lock_guard lock(live_mutex);
    live = watched[zone].lock();
    if (!live) {
      live = std::make_shared<LiveZone>();
      live->zone = zone;
      live->model = found.model;
      watched[zone] = live;
      fresh = true; // its first frame need not wait for the next pass
    }
  }
  wake.notify_all();
  return {.frames =
              [live = std::move(live)](std::uint64_t after) -> std::optional<net::WebSocketFrame> {
    std::lock_guard lock(live->mutex);
    if (live->latest.number <= after || !live->latest.text) return std::nullopt;
    return live->latest;
  }};
}

void Viewer::State::follow_zones() {
  std::unique_lock lock(live_mutex);
  while (!stopping) {
    fresh = false;
    std::vector<std::shared_ptr<LiveZone>> zones_now;
    for (auto it = watched.begin(); it != watched.end();) {
      if (auto live = it->second.lock()) {
        zones_now.push_back(std::move(live));
        ++it;
      } else {
        it = watched.erase(it);
      }
    }
    lock.unlock();
    for (const auto& live : zones_now)
      render(*live);
    // The last watcher of a zone may leave meanwhile: then its follower goes here, off the
    // server's threads.
    zones_now.clear();
    lock.lock();
    wake.wait_for(lock, options.frame_interval, [&] { return stopping || fresh; });
  }
}

void Viewer::State::render(LiveZone& live) {
  bool moved = false;
  if (!live.follower) {
    auto follower = live.model->follow(log, live.zone);
    if (!follower.ok()) return; // tried again on the next pass
    live.follower = std::move(follower).value();
    moved = true;
  } else {
    auto advanced = live.follower->advance(fold_per_pass);
    if (!advanced.ok()) return;
    moved = *advanced;
  }
  if (!moved) return;
  auto text = std::make_shared<const std::string>(json::serialize(live.follower->frame()));
  std::lock_guard lock(live.mutex);
  live.latest = {.number = live.follower->seq(), .text = std::move(text)};
}

std::string viewer_url(const boost::asio::ip::tcp::endpoint& endpoint, std::string_view token) {
  const auto address = endpoint.address();
  const std::string host =
      address.is_v6() ? fmt::format("[{}]", address.to_string()) : address.to_string();
  return fmt::format("http://{}:{}/{}", host, endpoint.port(),
                     token.empty() ? std::string() : fmt::format("?token={}", token));
}

HttpResponse Viewer::State::page_file(std::string_view name) const {
  if (!safe_file_name(name)) refuse(404, "no such file");
  if (!options.viewer_dir.empty()) {
    const std::filesystem::path file = options.viewer_dir / std::filesystem::path(name);
    std::error_code error;
    if (!std::filesystem::is_regular_file(file, error))
      refuse(404, fmt::format("no such file: {}", name));
    std::ifstream in(file, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (!in) refuse(500, fmt::format("cannot read {}", name));
    return {.content_type = std::string(content_type(name)), .body = std::move(bytes).str()};
  }
  const auto files = viewer_files();
  const auto found = std::ranges::lower_bound(files, name, {}, &EmbeddedFile::name);
  if (found == files.end() || found->name != name) {
    refuse(404, name == "index.html" ? "this binary was built without the viewer's page"
                                     : fmt::format("no such file: {}", name));
  }
  return {.content_type = std::string(content_type(name)), .body = std::string(found->bytes)};
}

} // namespace worldlog::tools
