// Model::encode_command and Model::decode_command: one `Command` table around a union
// (schemas/game.fbs), with file identifier "WLGC".
#include <variant>

#include <worldlog/game/model.hpp>

#include "game/codec.hpp"

namespace worldlog::game {
namespace {

using namespace codec;

constexpr const char* command_identifier = "WLGC";

struct Writer {
  fb::FlatBufferBuilder& b;

  fb::Offset<schema::Command> body(schema::CommandBody type, fb::Offset<void> table) const {
    return schema::CreateCommand(b, type, table);
  }

  fb::Offset<schema::Command> operator()(const Join& c) const {
    return body(schema::CommandBody::Join, schema::CreateJoin(b, c.entity, c.epoch).Union());
  }
  fb::Offset<schema::Command> operator()(const Leave& c) const {
    return body(schema::CommandBody::Leave,
                schema::CreateLeave(b, c.entity, static_cast<std::uint8_t>(c.reason)).Union());
  }
  fb::Offset<schema::Command> operator()(const Move& c) const {
    const auto to = to_schema(c.to);
    return body(schema::CommandBody::Move, schema::CreateMove(b, c.entity, &to).Union());
  }
  fb::Offset<schema::Command> operator()(const Attack& c) const {
    return body(schema::CommandBody::Attack, schema::CreateAttack(b, c.entity, c.target).Union());
  }
  fb::Offset<schema::Command> operator()(const PickUp& c) const {
    return body(schema::CommandBody::PickUp, schema::CreatePickUp(b, c.entity, c.item).Union());
  }
  fb::Offset<schema::Command> operator()(const Drop& c) const {
    return body(schema::CommandBody::Drop,
                schema::CreateDrop(b, c.entity, static_cast<std::uint8_t>(c.kind)).Union());
  }
  fb::Offset<schema::Command> operator()(const Use& c) const {
    return body(schema::CommandBody::Use,
                schema::CreateUse(b, c.entity, static_cast<std::uint8_t>(c.kind)).Union());
  }
  fb::Offset<schema::Command> operator()(const Say& c) const {
    return body(schema::CommandBody::Say,
                schema::CreateSay(b, c.entity, b.CreateString(c.text)).Union());
  }
  fb::Offset<schema::Command> operator()(const Arrive& c) const {
    return body(schema::CommandBody::Arrive,
                schema::CreateArrive(b, write_player(b, c.player), c.epoch, c.from).Union());
  }
  fb::Offset<schema::Command> operator()(const CompleteHandoff& c) const {
    return body(schema::CommandBody::CompleteHandoff,
                schema::CreateCompleteHandoff(b, c.entity, c.epoch).Union());
  }
  fb::Offset<schema::Command> operator()(const ChangeRules& c) const {
    return body(schema::CommandBody::ChangeRules,
                schema::CreateChangeRules(b, b.CreateString(c.rules)).Union());
  }
};

/// The command in `table`, or nullopt when its body is missing or unknown.
std::optional<Command> read(const schema::Command& table, Reader& reader) {
  // The verifier accepts a union type without its table.
  if (table.body() == nullptr) return std::nullopt;
  switch (table.body_type()) {
  case schema::CommandBody::Join: {
    const auto* join = table.body_as_Join();
    return Join{join->entity(), join->epoch()};
  }
  case schema::CommandBody::Leave: {
    const auto* leave = table.body_as_Leave();
    return Leave{leave->entity(), reader.logout_reason(leave->reason())};
  }
  case schema::CommandBody::Move: {
    const auto* move = table.body_as_Move();
    return Move{move->entity(), from_schema(move->to())};
  }
  case schema::CommandBody::Attack: {
    const auto* attack = table.body_as_Attack();
    return Attack{attack->entity(), attack->target()};
  }
  case schema::CommandBody::PickUp: {
    const auto* pick_up = table.body_as_PickUp();
    return PickUp{pick_up->entity(), pick_up->item()};
  }
  case schema::CommandBody::Drop: {
    const auto* drop = table.body_as_Drop();
    return Drop{drop->entity(), reader.item_kind(drop->kind())};
  }
  case schema::CommandBody::Use: {
    const auto* use = table.body_as_Use();
    return Use{use->entity(), reader.item_kind(use->kind())};
  }
  case schema::CommandBody::Say: {
    const auto* say = table.body_as_Say();
    return Say{say->entity(), say->text() == nullptr ? std::string() : say->text()->str()};
  }
  case schema::CommandBody::Arrive: {
    const auto* arrive = table.body_as_Arrive();
    return Arrive{reader.player(arrive->player()), arrive->epoch(), arrive->from()};
  }
  case schema::CommandBody::CompleteHandoff: {
    const auto* complete = table.body_as_CompleteHandoff();
    return CompleteHandoff{complete->entity(), complete->epoch()};
  }
  case schema::CommandBody::ChangeRules: {
    const auto* change = table.body_as_ChangeRules();
    return ChangeRules{change->rules() == nullptr ? std::string() : change->rules()->str()};
  }
  case schema::CommandBody::NONE: break;
  }
  return std::nullopt;
}

} // namespace

std::string Model::encode_command(const Command& command) {
  fb::FlatBufferBuilder builder(128);
  builder.Finish(std::visit(Writer{builder}, command), command_identifier);
  return bytes_of(builder);
}

Result<Command> Model::decode_command(std::string_view bytes) {
  std::string scratch;
  const auto* table = verified_root<schema::Command>(bytes, scratch, command_identifier);
  if (table == nullptr)
    return make_error(Errc::corruption, "game command ({} bytes) fails verification", bytes.size());
  Reader reader;
  std::optional<Command> command = read(*table, reader);
  if (!command)
    return make_error(Errc::corruption, "game command of unknown type {} or without a body",
                      static_cast<unsigned>(table->body_type()));
  if (!reader.ok)
    return make_error(Errc::corruption, "game command {} holds an unknown kind or no player",
                      command_name(*command));
  return std::move(*command);
}

} // namespace worldlog::game
