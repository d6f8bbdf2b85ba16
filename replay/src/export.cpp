// The export format (export.hpp): writing a log as JSON Lines, and reading such text back into
// an empty log with every record checked against its line.
#include <worldlog/replay/export.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <istream>
#include <limits>
#include <map>
#include <mutex>
#include <ostream>
#include <utility>
#include <variant>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <fmt/format.h>

#include <worldlog/zone/records.hpp>

namespace worldlog::replay {
namespace {

namespace json = boost::json;

// ---- payload and hash encodings ----------------------------------------------------------------

constexpr std::string_view base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::uint32_t byte_at(std::string_view bytes, std::size_t i) {
  return static_cast<std::uint8_t>(bytes[i]);
}

/// RFC 4648 base64 with padding.
std::string to_base64(std::string_view bytes) {
  std::string text;
  text.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t left = bytes.size() - i;
    const std::uint32_t group = byte_at(bytes, i) << 16 |
                                (left > 1 ? byte_at(bytes, i + 1) << 8 : 0) |
                                (left > 2 ? byte_at(bytes, i + 2) : 0);
    text += base64_alphabet[group >> 18 & 63];
    text += base64_alphabet[group >> 12 & 63];
    text += left > 1 ? base64_alphabet[group >> 6 & 63] : '=';
    text += left > 2 ? base64_alphabet[group & 63] : '=';
  }
  return text;
}

std::optional<std::string> from_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string bytes;
  bytes.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::uint32_t group = 0;
    std::size_t padding = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      std::size_t value = 0;
      if (c == '=' && j >= 2 && i + 4 == text.size()) {
        ++padding;
      } else {
        value = base64_alphabet.find(c);
        if (value == std::string_view::npos || padding > 0) return std::nullopt;
      }
      group = group << 6 | static_cast<std::uint32_t>(value);
    }
    bytes += static_cast<char>(group >> 16 & 0xff);
    if (padding < 2) bytes += static_cast<char>(group >> 8 & 0xff);
    if (padding < 1) bytes += static_cast<char>(group & 0xff);
  }
  return bytes;
}

std::optional<log::Hash> hash_from_hex(std::string_view text) {
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  log::Hash hash{};
  if (text.size() != 2 * hash.size()) return std::nullopt;
  for (std::size_t i = 0; i < hash.size(); ++i) {
    const int high = nibble(text[2 * i]);
    const int low = nibble(text[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    hash[i] = static_cast<std::uint8_t>(high << 4 | low);
  }
  return hash;
}

/// An actor kind as the export writes it: its name, or its number when it has none.
json::value actor_kind_json(log::ActorKind kind) {
  const auto index = static_cast<unsigned>(kind);
  if (index <= static_cast<unsigned>(log::ActorKind::service)) {
    return json::string(fmt::format("{}", kind));
  }
  return index;
}

std::optional<log::ActorKind> actor_kind_of(const json::value& value) {
  for (unsigned index = 0; index <= static_cast<unsigned>(log::ActorKind::service); ++index) {
    const auto kind = static_cast<log::ActorKind>(index);
    if (value.is_string() && value.get_string() == fmt::format("{}", kind)) return kind;
  }
  if (value.is_int64() && value.get_int64() >= 0 && value.get_int64() <= 255) {
    return static_cast<log::ActorKind>(value.get_int64());
  }
  return std::nullopt;
}

// ---- writing -----------------------------------------------------------------------------------

json::object event_line(const log::EventView& event, const EventDescriber& describe) {
  const log::Actor actor = event.actor();
  json::object line;
  line["position"] = event.position();
  line["stream"] = event.stream();
  line["seq"] = event.seq();
  line["tick"] = event.tick();
  line["wall_time_us"] = event.wall_time_us();
  line["wall_time"] = format_wall_time(event.wall_time_us());
  line["actor"] = {{"kind", actor_kind_json(actor.kind)}, {"id", actor.id}};
  line["command_id"] = event.command_id();
  line["causation"] = event.causation();
  line["rules_version"] = event.rules_version();
  line["schema_version"] = event.schema_version();
  line["epoch"] = event.epoch();
  line["payload_type"] = event.payload_type();
  line["payload_version"] = event.payload_version();
  line["payload"] = to_base64(event.payload());
  if (!event.command().empty()) line["command"] = to_base64(event.command());
  line["prev_hash"] = log::to_hex(event.prev_hash());
  line["hash"] = log::to_hex(event.hash());
  if (describe) {
    if (auto described = describe(event)) line["event"] = std::move(*described);
  }
  return line;
}

// ---- reading -----------------------------------------------------------------------------------

/// Reads the fields of one JSON object, remembering the first one missing or malformed, so
/// that a line is read in one go and reported once.
class FieldReader {
public:
  explicit FieldReader(const json::object& object, std::string prefix = "")
      : object_(object), prefix_(std::move(prefix)) {}

  std::uint64_t u64(std::string_view key, std::uint64_t max = ~std::uint64_t{0}) {
    const json::value* value = find(key);
    if (value == nullptr) return 0;
    if (value->is_uint64() && value->get_uint64() <= max) return value->get_uint64();
    if (value->is_int64() && value->get_int64() >= 0 &&
        static_cast<std::uint64_t>(value->get_int64()) <= max) {
      return static_cast<std::uint64_t>(value->get_int64());
    }
    fail(fmt::format("\"{}\" is not an integer from 0 to {}", key, max));
    return 0;
  }

  std::int64_t i64(std::string_view key) {
    const json::value* value = find(key);
    if (value == nullptr) return 0;
    if (value->is_int64()) return value->get_int64();
    fail(fmt::format("\"{}\" is not a signed 64-bit integer", key));
    return 0;
  }

  bool boolean(std::string_view key) {
    const json::value* value = find(key);
    if (value == nullptr) return false;
    if (value->is_bool()) return value->get_bool();
    fail(fmt::format("\"{}\" is not true or false", key));
    return false;
  }

  std::string_view text(std::string_view key) {
    const json::value* value = find(key);
    if (value == nullptr) return {};
    if (value->is_string()) return value->get_string();
    fail(fmt::format("\"{}\" is not a string", key));
    return {};
  }

  /// The value of `key`, or null (having noted the problem) when it is missing.
  const json::value& value(std::string_view key) {
    static const json::value null;
    const json::value* value = find(key);
    return value != nullptr ? *value : null;
  }

  void fail(std::string problem) {
    if (!problem_) problem_ = prefix_ + std::move(problem);
  }
  [[nodiscard]] const std::optional<std::string>& problem() const { return problem_; }

private:
  const json::value* find(std::string_view key) {
    const json::value* value = object_.if_contains(key);
    if (value == nullptr) fail(fmt::format("\"{}\" is missing", key));
    return value;
  }

  const json::object& object_;
  std::string prefix_;
  std::optional<std::string> problem_;
};

Result<json::object> parse_object(std::string_view text, std::uint64_t number) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec) return make_error(Errc::invalid_argument, "line {}: not JSON ({})", number, ec.message());
  if (!value.is_object()) {
    return make_error(Errc::invalid_argument, "line {}: not a JSON object", number);
  }
  return std::move(value.get_object());
}

struct Header {
  bool whole_log = true;
  std::uint64_t events = 0;
  std::vector<log::StreamId> streams;
};

Result<Header> parse_header(std::string_view text) {
  auto object = parse_object(text, 1);
  if (!object.ok()) return std::move(object).error();
  FieldReader fields(*object);
  if (fields.text("format") != export_format) {
    return make_error(Errc::invalid_argument, "line 1: not a {} header", export_format);
  }
  const std::uint64_t version = fields.u64("version");
  if (!fields.problem() && version > export_version) {
    return make_error(Errc::incompatible_format,
                      "line 1: export version {} is newer than this worldlog reads ({})", version,
                      export_version);
  }
  Header header;
  header.whole_log = fields.boolean("whole_log");
  header.events = fields.u64("events");
  const json::value& streams = fields.value("streams");
  if (streams.is_array()) {
    for (const json::value& stream : streams.get_array()) {
      if (stream.is_uint64()) {
        header.streams.push_back(stream.get_uint64());
      } else if (stream.is_int64() && stream.get_int64() >= 0) {
        header.streams.push_back(static_cast<log::StreamId>(stream.get_int64()));
      } else {
        fields.fail("\"streams\" holds something that is not a stream id");
      }
    }
  } else {
    fields.fail("\"streams\" is not an array of stream ids");
  }
  if (fields.problem()) {
    return make_error(Errc::invalid_argument, "line 1: {}", *fields.problem());
  }
  return header;
}

/// One event line of an export.
struct Line {
  std::uint64_t number = 0; ///< line number in the export, from 1 (the header)
  log::StreamId stream = 0;
  log::Seq seq = 0;
  log::Position position = 0;
  std::uint16_t schema_version = 0;
  log::NewEvent event;
  log::Hash hash{};
};

Result<Line> parse_line(std::string_view text, std::uint64_t number) {
  auto object = parse_object(text, number);
  if (!object.ok()) return std::move(object).error();
  FieldReader fields(*object);
  Line line;
  line.number = number;
  line.position = fields.u64("position");
  line.stream = fields.u64("stream");
  line.seq = fields.u64("seq");
  line.event.tick = fields.u64("tick");
  line.event.wall_time_us = fields.i64("wall_time_us");
  const json::value& actor = fields.value("actor");
  if (actor.is_object()) {
    FieldReader actor_fields(actor.get_object(), "\"actor\": ");
    const auto kind = actor_kind_of(actor_fields.value("kind"));
    if (!kind) actor_fields.fail("\"kind\" is not system, player, mob, service or 0 to 255");
    line.event.actor = {kind.value_or(log::ActorKind::system), actor_fields.u64("id")};
    if (actor_fields.problem()) fields.fail(*actor_fields.problem());
  } else {
    fields.fail("\"actor\" is not an object with kind and id");
  }
  line.event.command_id = fields.u64("command_id");
  line.event.causation = fields.u64("causation");
  line.event.rules_version = static_cast<std::uint32_t>(
      fields.u64("rules_version", std::numeric_limits<std::uint32_t>::max()));
  line.schema_version = static_cast<std::uint16_t>(
      fields.u64("schema_version", std::numeric_limits<std::uint16_t>::max()));
  // An export of envelope format 1 has no epoch, and its records none to give.
  if (object->contains("epoch")) line.event.epoch = fields.u64("epoch");
  line.event.payload_type = static_cast<std::uint32_t>(
      fields.u64("payload_type", std::numeric_limits<std::uint32_t>::max()));
  // Exports of version 1 have neither: their records are of envelope format 1 or 2.
  if (object->contains("payload_version")) {
    line.event.payload_version = static_cast<std::uint16_t>(
        fields.u64("payload_version", std::numeric_limits<std::uint16_t>::max()));
  }
  if (auto payload = from_base64(fields.text("payload"))) {
    line.event.payload = std::move(*payload);
  } else {
    fields.fail("\"payload\" is not base64");
  }
  if (object->contains("command")) {
    if (auto command = from_base64(fields.text("command"))) {
      line.event.command = std::move(*command);
    } else {
      fields.fail("\"command\" is not base64");
    }
  }
  if (const auto hash = hash_from_hex(fields.text("hash"))) {
    line.hash = *hash;
  } else {
    fields.fail("\"hash\" is not 64 hex digits");
  }
  if (fields.problem()) {
    return make_error(Errc::invalid_argument, "line {}: {}", number, *fields.problem());
  }
  if (line.seq == 0) {
    return make_error(Errc::invalid_argument, "line {}: seq 0 does not exist", number);
  }
  if (line.schema_version < 1 || line.schema_version > 3) {
    return make_error(Errc::invalid_argument,
                      "line {}: envelope schema version {}; this worldlog reads versions 1 to 3",
                      number, line.schema_version);
  }
  if (line.event.payload_version == 0) {
    return make_error(Errc::invalid_argument,
                      "line {}: \"payload_version\" is 0 (versions start at 1)", number);
  }
  if (line.schema_version < 3 && (line.event.payload_version != 1 || !line.event.command.empty())) {
    return make_error(Errc::invalid_argument,
                      "line {}: envelope schema version {} holds neither a payload version other "
                      "than 1 nor a command",
                      number, line.schema_version);
  }
  // The record is stored in the envelope format it was exported from, so that its hash, and
  // every hash of the chain after it, is the one the line carries.
  line.event.envelope = line.schema_version;
  if (line.event.wall_time_us <= 0) {
    // The log stamps an event without a wall time with its own clock: a stored event has one.
    return make_error(Errc::invalid_argument, "line {}: \"wall_time_us\" is {}, not a time", number,
                      line.event.wall_time_us);
  }
  return line;
}

/// How `stored` differs from the line it was appended from, or nullopt when it does not.
/// `whole_log`: the position and the hash must be the line's too.
std::optional<std::string> difference(const log::EventView& stored, const Line& line,
                                      bool whole_log) {
  if (stored.stream() != line.stream || stored.seq() != line.seq) {
    return fmt::format("it was stored as stream {} seq {}, not stream {} seq {}", stored.stream(),
                       stored.seq(), line.stream, line.seq);
  }
  if (stored.schema_version() != line.schema_version) {
    return fmt::format("it has envelope schema version {}, and this worldlog writes version {}",
                       line.schema_version, stored.schema_version());
  }
  const log::NewEvent& sent = line.event;
  const std::pair<const char*, bool> fields[] = {
      {"tick", stored.tick() == sent.tick},
      {"wall_time_us", stored.wall_time_us() == sent.wall_time_us},
      {"actor", stored.actor() == sent.actor},
      {"command_id", stored.command_id() == sent.command_id},
      {"causation", stored.causation() == sent.causation},
      {"rules_version", stored.rules_version() == sent.rules_version},
      {"epoch", stored.epoch() == sent.epoch},
      {"payload_type", stored.payload_type() == sent.payload_type},
      {"payload_version", stored.payload_version() == sent.payload_version},
      {"payload", stored.payload() == sent.payload},
      {"command", stored.command() == sent.command},
  };
  for (const auto& [name, same] : fields) {
    if (!same) return fmt::format("its {} was stored differently", name);
  }
  if (whole_log && stored.position() != line.position) {
    return fmt::format("it was stored at position {}, not {}", stored.position(), line.position);
  }
  if (whole_log && stored.hash() != line.hash) {
    return fmt::format("its record hash is {}, and the line says {}", log::to_hex(stored.hash()),
                       log::to_hex(line.hash));
  }
  return std::nullopt;
}

/// Appends the lines of an export a chunk at a time: each chunk's appends go in together, so
/// the log's group commit makes them durable with few syncs, and then the chunk is read back
/// and compared with its lines before the next one starts.
class Importer {
public:
  Importer(log::EventLog& log, const Header& header) : log_(log), header_(header) {}

  Status add(Line line) {
    if (appended_ + chunk_.size() == header_.events) {
      return make_error(Errc::invalid_argument,
                        "line {}: the header announces {} events and this is one more", line.number,
                        header_.events);
    }
    if (std::find(header_.streams.begin(), header_.streams.end(), line.stream) ==
        header_.streams.end()) {
      return make_error(Errc::invalid_argument, "line {}: stream {} is not in the header's streams",
                        line.number, line.stream);
    }
    const log::Position next = appended_ + chunk_.size() + 1;
    if (header_.whole_log && line.position != next) {
      return make_error(Errc::invalid_argument,
                        "line {}: position {}, but a whole-log export numbers its events from 1 "
                        "without gaps: {} was next",
                        line.number, line.position, next);
    }
    log::Seq& head = heads_[line.stream];
    if (line.seq != head + 1) {
      return make_error(Errc::invalid_argument, "line {}: stream {} seq {} does not follow seq {}",
                        line.number, line.stream, line.seq, head);
    }
    head = line.seq;
    chunk_bytes_ += line.event.payload.size();
    chunk_.push_back(std::move(line));
    if (chunk_.size() < max_chunk_events && chunk_bytes_ < max_chunk_bytes) return {};
    return flush();
  }

  /// Appends and checks what is pending.
  Status flush() {
    if (chunk_.empty()) return {};
    if (auto appended = append_chunk(); !appended.ok()) return appended;
    std::size_t index = 0;
    std::optional<Error> different;
    auto scanned = log_.scan_all(appended_ + 1, chunk_.size(), [&](const log::EventView& stored) {
      const Line& line = chunk_[index++];
      if (auto why = difference(stored, line, header_.whole_log)) {
        different = make_error(Errc::corruption, "line {} (stream {} seq {}): {}", line.number,
                               line.stream, line.seq, *why);
      }
      return !different;
    });
    if (!scanned.ok()) return scanned;
    if (different) return std::move(*different);
    if (index != chunk_.size()) {
      return make_error(Errc::corruption, "line {}: the appended event is not in the log",
                        chunk_[index].number);
    }
    appended_ += chunk_.size();
    chunk_.clear();
    chunk_bytes_ = 0;
    return {};
  }

  [[nodiscard]] std::uint64_t appended() const { return appended_; }
  [[nodiscard]] std::vector<log::StreamId> streams() const {
    std::vector<log::StreamId> streams;
    for (const auto& [stream, head] : heads_)
      streams.push_back(stream);
    return streams;
  }

private:
  static constexpr std::size_t max_chunk_events = 4096;
  static constexpr std::size_t max_chunk_bytes = 8 << 20;

  /// Appends the chunk, one append per run of lines of the same stream, all in flight at once:
  /// the commit thread takes them in order, so positions follow the lines.
  Status append_chunk() {
    struct InFlight {
      std::mutex mutex;
      std::condition_variable done;
      std::size_t outstanding = 0; ///< guarded by mutex
      /// guarded by mutex; the failed append with the earliest line
      std::optional<std::pair<std::uint64_t, Error>> failure;
    } in_flight;
    std::vector<log::NewEvent> run;
    for (std::size_t first = 0; first < chunk_.size();) {
      std::size_t end = first;
      run.clear();
      while (end < chunk_.size() && chunk_[end].stream == chunk_[first].stream) {
        run.push_back(chunk_[end].event);
        ++end;
      }
      {
        std::lock_guard lock(in_flight.mutex);
        ++in_flight.outstanding;
      }
      const Line& line = chunk_[first];
      log_.append_async(line.stream, line.seq - 1, run,
                        [&in_flight, number = line.number](Result<log::AppendResult> appended) {
                          std::lock_guard lock(in_flight.mutex);
                          if (!appended.ok() &&
                              (!in_flight.failure || number < in_flight.failure->first)) {
                            in_flight.failure.emplace(number, std::move(appended).error());
                          }
                          if (--in_flight.outstanding == 0) in_flight.done.notify_all();
                        });
      first = end;
    }
    std::unique_lock lock(in_flight.mutex);
    in_flight.done.wait(lock, [&] { return in_flight.outstanding == 0; });
    if (in_flight.failure) {
      return make_error(in_flight.failure->second.code(), "line {}: {}", in_flight.failure->first,
                        in_flight.failure->second.message());
    }
    return {};
  }

  log::EventLog& log_;
  const Header& header_;
  std::vector<Line> chunk_; ///< parsed, not yet appended
  std::size_t chunk_bytes_ = 0;
  std::uint64_t appended_ = 0;              ///< appended and checked, all before `chunk_`
  std::map<log::StreamId, log::Seq> heads_; ///< the last seq each stream's lines reached
};

} // namespace

Result<ExportSummary> export_log(const log::EventLog& log, std::ostream& out,
                                 const ExportOptions& options) {
  ExportSummary summary;
  summary.whole_log = options.streams.empty();
  std::map<log::StreamId, log::Seq> heads;
  std::uint64_t events = 0;
  log::Position last = 0;
  if (summary.whole_log) {
    // Every position up to the last one, and every stream that has events by then.
    last = log.last_position();
    events = last;
    summary.streams = log.streams();
  } else {
    for (const log::StreamId stream : options.streams) {
      const log::Seq head = log.head(stream);
      if (head == 0) return make_error(Errc::not_found, "stream {} has no events", stream);
      if (heads.emplace(stream, head).second) events += head;
    }
    // Read after the heads, so that every event up to a head is at a position up to it.
    last = log.last_position();
    for (const auto& [stream, head] : heads)
      summary.streams.push_back(stream);
  }

  json::array streams;
  for (const log::StreamId stream : summary.streams)
    streams.emplace_back(stream);
  const json::object header{{"format", export_format},
                            {"version", export_version},
                            {"whole_log", summary.whole_log},
                            {"streams", std::move(streams)},
                            {"events", events}};
  out << json::serialize(header) << '\n';

  const log::EventVisitor write = [&](const log::EventView& event) {
    if (!summary.whole_log) {
      const auto head = heads.find(event.stream());
      if (head == heads.end() || event.seq() > head->second) return true;
    }
    out << json::serialize(event_line(event, options.describe)) << '\n';
    ++summary.events;
    return out.good();
  };
  const Status scanned =
      heads.size() == 1 ? log.scan_stream(heads.begin()->first, 1, heads.begin()->second, write)
                        : log.scan_all(1, last, write);
  if (!scanned.ok()) return scanned.error();
  out.flush();
  if (!out.good()) {
    return make_error(Errc::io_error, "writing the export failed after {} of {} events",
                      summary.events, events);
  }
  if (summary.events != events) {
    return make_error(Errc::corruption, "the log yielded {} events to export, not {}",
                      summary.events, events);
  }
  return summary;
}

Result<ImportSummary> import_log(log::EventLog& log, std::istream& in) {
  if (const log::Position last = log.last_position(); last != 0) {
    return make_error(Errc::invalid_argument,
                      "the log to import into is not empty: it holds {} events", last);
  }
  std::string text;
  const auto next_line = [&]() {
    if (!std::getline(in, text)) return false;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    return true;
  };
  if (!next_line()) {
    return make_error(Errc::invalid_argument, "the export is empty: it has no header line");
  }
  auto header = parse_header(text);
  if (!header.ok()) return std::move(header).error();

  Importer importer(log, *header);
  std::uint64_t number = 1;
  while (next_line()) {
    ++number;
    auto line = parse_line(text, number);
    if (!line.ok()) return std::move(line).error();
    if (auto added = importer.add(std::move(line).value()); !added.ok()) {
      return std::move(added).error();
    }
  }
  if (in.bad())
    return make_error(Errc::io_error, "reading the export failed after line {}", number);
  if (auto flushed = importer.flush(); !flushed.ok()) return std::move(flushed).error();
  if (importer.appended() != header->events) {
    return make_error(Errc::invalid_argument,
                      "the export ends after {} events, and its header announces {}: it was cut "
                      "short",
                      importer.appended(), header->events);
  }
  return ImportSummary{importer.appended(), importer.streams(), header->whole_log};
}

std::string format_wall_time(std::int64_t wall_time_us) {
  using namespace std::chrono;
  const sys_time<microseconds> time{microseconds{wall_time_us}};
  const auto day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss clock{time - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     clock.hours().count(), clock.minutes().count(), clock.seconds().count(),
                     clock.subseconds().count());
}

Result<std::int64_t> parse_wall_time(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return make_error(Errc::invalid_argument,
                      "'{}' is not a time: {} (write ISO 8601 such as 2024-11-21T08:15:02Z, or "
                      "microseconds since the epoch)",
                      text, why);
  };
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  if (text.empty()) return bad("it is empty");
  if (std::all_of(text.begin(), text.end(), is_digit)) {
    std::int64_t us = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), us);
    if (ec != std::errc() || end != text.data() + text.size()) return bad("too large");
    return us;
  }

  std::size_t at = 0;
  const auto number = [&](std::size_t digits) -> std::optional<int> {
    if (at + digits > text.size()) return std::nullopt;
    int value = 0;
    for (std::size_t i = 0; i < digits; ++i) {
      if (!is_digit(text[at + i])) return std::nullopt;
      value = value * 10 + (text[at + i] - '0');
    }
    at += digits;
    return value;
  };
  const auto skip = [&](char c) {
    if (at >= text.size() || text[at] != c) return false;
    ++at;
    return true;
  };

  const auto year = number(4);
  const bool dash1 = skip('-');
  const auto month = number(2);
  const bool dash2 = skip('-');
  const auto day = number(2);
  if (!year || !dash1 || !month || !dash2 || !day) return bad("it does not start with YYYY-MM-DD");
  using namespace std::chrono;
  const year_month_day date{std::chrono::year{*year},
                            std::chrono::month{static_cast<unsigned>(*month)},
                            std::chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok()) return bad("there is no such date");
  microseconds time = sys_days(date).time_since_epoch();
  if (at == text.size()) return time.count();

  if (!skip('T') && !skip('t') && !skip(' ')) return bad("the date is not followed by T");
  const auto hour = number(2);
  const bool colon = skip(':');
  const auto minute = number(2);
  if (!hour || !colon || !minute) return bad("the time is not HH:MM");
  int second = 0;
  if (skip(':')) {
    const auto seconds = number(2);
    if (!seconds) return bad("the seconds are not two digits");
    second = *seconds;
  }
  if (*hour > 23 || *minute > 59 || second > 59) return bad("the time of day is out of range");
  time += hours(*hour) + minutes(*minute) + seconds(second);
  if (skip('.') || skip(',')) {
    std::int64_t fraction = 0;
    std::size_t digits = 0;
    for (; at < text.size() && is_digit(text[at]); ++at, ++digits) {
      if (digits < 6) fraction = fraction * 10 + (text[at] - '0');
    }
    if (digits == 0) return bad("the decimal point is not followed by digits");
    for (std::size_t i = digits; i < 6; ++i)
      fraction *= 10;
    time += microseconds(fraction);
  }
  if (skip('Z') || skip('z')) {
    // UTC, as without a zone.
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    const int sign = text[at] == '+' ? 1 : -1;
    ++at;
    const auto offset_hours = number(2);
    skip(':');
    const auto offset_minutes = number(2);
    if (!offset_hours || !offset_minutes || *offset_hours > 23 || *offset_minutes > 59) {
      return bad("the zone offset is not +HH:MM or -HH:MM");
    }
    // 08:15+01:00 is 07:15 UTC.
    time -= sign * (hours(*offset_hours) + minutes(*offset_minutes));
  }
  if (at != text.size()) return bad(fmt::format("'{}' follows the time", text.substr(at)));
  return time.count();
}

} // namespace worldlog::replay
