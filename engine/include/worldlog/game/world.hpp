// The reference game's world: the generic supervised world (world/world.hpp) over game::Model,
// compiled once in the game's library.
#pragma once

#include <worldlog/game/model.hpp>
#include <worldlog/world/world.hpp>

namespace worldlog::game {

using World = world::World<Model>;
using WorldOptions = world::WorldOptions<Model>;

} // namespace worldlog::game

extern template class worldlog::world::World<worldlog::game::Model>;
extern template class worldlog::world::Presence<worldlog::game::Model>;
