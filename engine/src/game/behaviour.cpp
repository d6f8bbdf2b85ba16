// The reference game's behaviour signals (game/behaviour.hpp).
#include <variant>

#include <worldlog/game/behaviour.hpp>

namespace worldlog::game {
namespace {

struct Classify {
  replay::Signals& signals;

  void operator()(const Joined&) const {
    signals.count("join");
    signals.online(1);
  }
  void operator()(const Left&) const {
    signals.count("leave");
    signals.online(-1);
  }
  void operator()(const LoggedOut&) const {
    signals.count("leave");
    signals.online(-1);
  }
  void operator()(const Moved&) const { signals.count("move"); }
  void operator()(const Said&) const { signals.count("chat_line"); }
  void operator()(const Died&) const { signals.count("death"); }
  void operator()(const LevelUp&) const { signals.count("level_up"); }
  void operator()(const QuestCompleted&) const { signals.count("quest_completed"); }
  void operator()(const LootDropped&) const { signals.count("loot_created"); }
  void operator()(const Used&) const { signals.count("loot_used"); }
  void operator()(const Departed&) const {
    signals.count("handoff_started");
    signals.online(-1);
  }
  void operator()(const Arrived&) const { signals.online(1); }
  void operator()(const HandoffCompleted&) const { signals.count("handoff_completed"); }
  template <typename Other> void operator()(const Other&) const {}
};

} // namespace

void behaviour_signals(const Event& event, replay::Signals& signals) {
  std::visit(Classify{signals}, event);
}

} // namespace worldlog::game
