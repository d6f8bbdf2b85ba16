#include <worldlog/game/world.hpp>

#include <thread>
#include <variant>

namespace worldlog::game {
namespace {

constexpr std::string_view presence_name = "presence";
constexpr std::string_view chat_name = "chat";
constexpr std::string_view world_name = "world";

/// Polls `ready` until it holds or `timeout` passes: for start-up only, where nothing can
/// signal readiness without coupling the actors to the world.
bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!ready()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

} // namespace

World::World(runtime::Executor executor, log::EventLog& log, const runtime::Clock& clock,
             WorldOptions options)
    : executor_(std::move(executor)), clock_(clock), options_(std::move(options)),
      zones_(executor_, log, clock,
             {.zones = options_.zones,
              .seed = options_.seed,
              .tick_us = options_.tick_us,
              .model_config = options_.mobs ? model_config(*options_.mobs) : std::string(),
              .zone = options_.zone,
              .before_arrival = options_.before_arrival,
              .on_arrival =
                  [this](const Model::Handoff& handoff) {
                    if (auto presence = this->presence()) {
                      static_cast<void>(presence->set_online(handoff.entity, handoff.to));
                    }
                  }}),
      root_(runtime::Supervisor::create(executor_, "root", runtime::Strategy::one_for_one,
                                        {.max_restarts = 10, .within = std::chrono::seconds(10)},
                                        clock)) {
  root_->add_child({std::string(presence_name),
                    [this] { return std::make_shared<Presence>(executor_, zones_); }});
  root_->add_child({std::string(chat_name),
                    [this] { return std::make_shared<Chat>(executor_, clock_, options_.chat); }});
  root_->add_child({std::string(world_name), [this] { return zones_.make_supervisor(); }});
}

World::~World() {
  if (stopped_) return;
  root_->stop();
  // The actors use this world's zone set and options until they have exited.
  wait_until([this] { return root_->exited(); }, std::chrono::seconds(30));
}

Status World::start(std::chrono::milliseconds timeout) {
  root_->start();
  const bool ready = wait_until(
      [this] {
        for (ZoneId zone = 1; zone <= options_.zones; ++zone) {
          auto target = zones_.zone(zone);
          if (!target || !target->running()) return false;
        }
        return presence() != nullptr && chat() != nullptr;
      },
      timeout);
  if (!ready) {
    return make_error(Errc::timeout, "the world's {} zones did not start within {} ms",
                      options_.zones, timeout.count());
  }
  return {};
}

Status World::shutdown(std::chrono::milliseconds timeout) {
  Status drained = zones_.drain_all(timeout);
  root_->stop();
  stopped_ = true;
  wait_until([this] { return root_->exited(); }, timeout);
  return drained;
}

Status World::submit(ZoneId zone, log::Actor actor, std::uint64_t command_id, Command command,
                     zone::Reply reply) {
  const bool joins = std::holds_alternative<Join>(command);
  const bool leaves = std::holds_alternative<Leave>(command);
  if (!joins && !leaves) {
    return zones_.submit(zone, actor, command_id, std::move(command), std::move(reply));
  }
  const EntityId player = entity_of(command);
  return zones_.submit(
      zone, actor, command_id, std::move(command),
      [this, zone, player, joins, reply = std::move(reply)](Result<zone::Outcome> outcome) {
        if (outcome.ok() && outcome->accepted && !outcome->duplicate) {
          if (auto presence = this->presence()) {
            static_cast<void>(joins ? presence->set_online(player, zone)
                                    : presence->set_offline(player));
          }
          if (!joins) {
            if (auto chat = this->chat()) static_cast<void>(chat->leave_all(player));
          }
        }
        if (reply) reply(std::move(outcome));
      });
}

std::shared_ptr<Presence> World::presence() const {
  return std::static_pointer_cast<Presence>(root_->child(presence_name));
}

std::shared_ptr<Chat> World::chat() const {
  return std::static_pointer_cast<Chat>(root_->child(chat_name));
}

std::shared_ptr<runtime::Supervisor> World::world_supervisor() const {
  return std::static_pointer_cast<runtime::Supervisor>(root_->child(world_name));
}

} // namespace worldlog::game
