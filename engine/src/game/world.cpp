#include <worldlog/game/world.hpp>

template class worldlog::world::World<worldlog::game::Model>;
template class worldlog::world::Presence<worldlog::game::Model>;
