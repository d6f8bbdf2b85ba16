// The reference game's behaviour signals, for the behaviour projection (replay/behaviour.hpp,
// docs/behaviour.md): what each of its events counts as.
//
//   Joined                 join, online +1      Said              chat_line (a count, never text)
//   Left, LoggedOut        leave, online -1     Died              death (players' and mobs')
//   Moved                  move                 LevelUp           level_up
//   Departed               handoff_started,     QuestCompleted    quest_completed
//                          online -1            LootDropped       loot_created
//   Arrived                online +1            Used              loot_used
//   HandoffCompleted       handoff_completed
//
// The other events count only in the generic signals (events, commands accepted).
#pragma once

#include <worldlog/game/model.hpp>
#include <worldlog/replay/behaviour.hpp>

namespace worldlog::game {

/// The signals of one event, as the table above says (a replay::BehaviourHook<Model>).
void behaviour_signals(const Event& event, replay::Signals& signals);

} // namespace worldlog::game
