// The market's rules as data: a rules file (JSON) read into Rules, and their canonical form.
#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include <market/model.hpp>

namespace worldlog::market {
namespace {

namespace json = boost::json;

/// One field of Rules: its name, where it is, and the whole numbers it may take.
struct Field {
  std::string_view name;
  std::int64_t low;
  std::int64_t high;
  std::int64_t (*get)(const Rules&);
  void (*set)(Rules&, std::int64_t);
};

#define WORLDLOG_MARKET_FIELD(member, low, high)                                                   \
  Field {                                                                                          \
#member, low, high, [](const Rules& r) { return static_cast<std::int64_t>(r.member); },        \
        [](Rules& r, std::int64_t v) { r.member = static_cast<decltype(r.member)>(v); }   \
  }

constexpr std::int64_t u32_max = std::numeric_limits<std::uint32_t>::max();

/// Every field, in declaration order: the canonical form's order.
const std::array<Field, 9> fields{
    WORLDLOG_MARKET_FIELD(version, 1, u32_max),
    WORLDLOG_MARKET_FIELD(grant, 0, 1'000'000'000'000),
    WORLDLOG_MARKET_FIELD(gather_cooldown_ticks, 0, 1'000'000'000),
    WORLDLOG_MARKET_FIELD(gather_max, 1, 1'000'000),
    WORLDLOG_MARKET_FIELD(max_count, 1, 1'000'000'000),
    WORLDLOG_MARKET_FIELD(max_price, 1, 1'000'000'000'000),
    WORLDLOG_MARKET_FIELD(fee_per_mille, 0, 1000),
    WORLDLOG_MARKET_FIELD(listing_ttl_ticks, 1, 1'000'000'000),
    WORLDLOG_MARKET_FIELD(max_listings_per_trader, 1, 1'000'000),
};

#undef WORLDLOG_MARKET_FIELD

} // namespace

Result<Rules> parse_rules(std::string_view text) {
  std::error_code error;
  const json::value document = json::parse(text, error);
  if (error || !document.is_object()) {
    return make_error(Errc::invalid_argument, "market rules are not a JSON object{}",
                      error ? fmt::format(" ({})", error.message()) : "");
  }
  Rules rules = default_rules;
  for (const auto& [key, value] : document.as_object()) {
    const Field* field = nullptr;
    for (const Field& each : fields)
      if (each.name == key) field = &each;
    if (field == nullptr) {
      return make_error(Errc::invalid_argument,
                        "market rules field '{}' is not a field of the rules",
                        std::string_view(key));
    }
    const std::int64_t number = value.is_int64() ? value.get_int64() : 0;
    if (!value.is_int64() || number < field->low || number > field->high) {
      return make_error(Errc::invalid_argument,
                        "market rules field '{}' is {}; it takes a whole number from {} to {}",
                        field->name, json::serialize(value), field->low, field->high);
    }
    field->set(rules, number);
  }
  return rules;
}

std::string canonical_rules(const Rules& rules) {
  std::string text = "{";
  for (const Field& field : fields)
    text += fmt::format("{}\"{}\":{}", text.size() > 1 ? "," : "", field.name, field.get(rules));
  return text + "}";
}

} // namespace worldlog::market
