#include <worldlog/zone/interest.hpp>

namespace worldlog::zone {

InterestGrid::InterestGrid(std::int64_t view_radius_mm)
    : view_radius_(view_radius_mm), radius_squared_(static_cast<std::uint64_t>(view_radius_mm) *
                                                    static_cast<std::uint64_t>(view_radius_mm)) {
  assert(view_radius_mm > 0 && view_radius_mm <= max_view_radius);
}

void InterestGrid::place(EntityId viewer, Point point) {
  assert(in_domain(point));
  const Spot at = to_spot(point);
  const auto slot = slots_.find(viewer);
  if (slot == slots_.end()) return insert_into_cell(viewer, at);

  const CellKey from = cell_of(slot->second.at);
  if (from == cell_of(at)) {
    // Most moves are small steps inside a cell: update in place, no reshuffling.
    cells_.find(from)->second[slot->second.index].at = at;
    slot->second.at = at;
    return;
  }
  erase_from_cell(from, slot->second.index);
  insert_into_cell(viewer, at);
}

void InterestGrid::remove(EntityId viewer) {
  const auto slot = slots_.find(viewer);
  if (slot == slots_.end()) return;
  const Slot removed = slot->second;
  slots_.erase(slot);
  erase_from_cell(cell_of(removed.at), removed.index);
}

bool InterestGrid::contains(EntityId viewer) const { return slots_.contains(viewer); }

std::optional<Point> InterestGrid::position(EntityId viewer) const {
  const auto slot = slots_.find(viewer);
  if (slot == slots_.end()) return std::nullopt;
  return to_point(slot->second.at);
}

void InterestGrid::insert_into_cell(EntityId viewer, Spot at) {
  std::vector<Entry>& cell = cells_[cell_of(at)];
  slots_.insert_or_assign(viewer, Slot{at, static_cast<std::uint32_t>(cell.size())});
  cell.push_back(Entry{viewer, at});
}

void InterestGrid::erase_from_cell(CellKey key, std::uint32_t index) {
  const auto cell = cells_.find(key);
  assert(cell != cells_.end() && index < cell->second.size());
  std::vector<Entry>& entries = cell->second;
  if (index + 1 != entries.size()) {
    entries[index] = entries.back();
    slots_.find(entries[index].viewer)->second.index = index;
  }
  entries.pop_back();
  if (entries.empty()) cells_.erase(cell);
}

} // namespace worldlog::zone
