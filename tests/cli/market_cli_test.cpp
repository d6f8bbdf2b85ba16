// The second game through the stock command line: `market_demo` (examples/market, the zones
// embedded without a server) and `market_server` (the market behind worldlog's server, played by
// bots over TCP) write logs of the market model, and the stock `worldlog` replays, verifies,
// bisects and audits them with the market's own names — its events, reasons and invariants — as
// it does the reference game's.
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "cli/cli.hpp"

#if !defined(MARKET_DEMO_BINARY) || !defined(MARKET_SERVER_BINARY)
#error "MARKET_DEMO_BINARY and MARKET_SERVER_BINARY must name the market's executables"
#endif

namespace worldlog::test {
namespace {

/// A log of two markets traded in by 12 bots for 2 s (written once per test process).
const fs::path& market_log() {
  static const TempDir dir("worldlog-cli-market-");
  static const fs::path data = [] {
    const fs::path path = dir / "market";
    const Run traded = run_binary(MARKET_DEMO_BINARY, {"--data", path.string(), "--markets", "2",
                                                       "--traders", "12", "--seconds", "2"});
    REQUIRE_RUN_OK(traded);
    CHECK_SAYS(traded.out, " accepted");
    return path;
  }();
  return data;
}

/// A log of three markets traded in over TCP by 8 bots for 2 s (written once per test process).
const fs::path& served_market_log() {
  static const TempDir dir("worldlog-cli-served-market-");
  static const fs::path data = [] {
    const fs::path path = dir / "market";
    const Run traded =
        run_binary(MARKET_SERVER_BINARY, {"--data", path.string(), "--zones", "3", "--bots", "8",
                                          "--seconds", "2", "--listen", "127.0.0.1:0"});
    REQUIRE_RUN_OK(traded);
    CHECK_SAYS(traded.out, "every ledger balanced");
    return path;
  }();
  return data;
}

} // namespace

TEST_SUITE_BEGIN("cli");

TEST_CASE("whatif decides a market again: the same under its rules, dearer under a patch") {
  const fs::path rules = fs::path(WORLDLOG_EXAMPLES_DIR) / "market" / "rules";
  const std::vector<std::string> span{"replay", "whatif", "--data", market_log().string(),
                                      "--zone", "1",      "--from", "2"};
  auto same_args = span;
  same_args.insert(same_args.end(), {"--rules", (rules / "version1.json").string(), "--json"});
  const json::value same = run_json(same_args);
  CHECK(same.at("same").as_bool());
  CHECK(as_number(same.at("commands")) > 0);
  CHECK(as_number(same.at("differing_events")) == 0);

  auto dear_args = span;
  dear_args.insert(dear_args.end(), {"--rules", (rules / "dear-market.json").string(), "--json"});
  const json::value dear = run_json(dear_args);
  CHECK_FALSE(dear.at("same").as_bool());
  CHECK(as_number(dear.at("rules_after").at("version")) == 2);
  // One open listing a trader at most: a second is refused, where it was accepted (and what
  // follows from it changes too: goods not in escrow, journeys with or without open listings).
  bool refused_listing = false;
  for (const auto& change : dear.at("outcome_changes").as_array()) {
    refused_listing = refused_listing || (change.at("command").at("type") == "List" &&
                                          change.at("before").at("accepted").as_bool() &&
                                          !change.at("after").at("accepted").as_bool() &&
                                          change.at("after").at("reject") == "too_many_orders");
  }
  CHECK(refused_listing);
  // A sale that still happens pays four times the fee.
  for (const auto& difference : dear.at("differences").as_array()) {
    const auto& before = difference.at("before").as_array();
    const auto& after = difference.at("after").as_array();
    if (before.size() != 1 || after.size() != 1 || before[0].at("type") != "Bought" ||
        after[0].at("type") != "Bought" || before[0].at("paid") != after[0].at("paid")) {
      continue;
    }
    CHECK(after[0].at("fee").as_int64() == after[0].at("paid").as_int64() * 200 / 1000);
  }
}

TEST_CASE("analyze reads the market's log with the generic signals only: it has no hook") {
  const Run analyzed = run({"analyze", "--data", market_log().string(), "--window", "0.25",
                            "--lateness", "0", "--json"});
  REQUIRE_RUN_OK(analyzed);
  const json::value document = json::parse(analyzed.out);
  const json::array& scopes = document.at("scopes").as_array();
  REQUIRE(scopes.size() == 3); // the world and two markets
  double events = 0;
  for (const json::value& scope : scopes) {
    for (const json::value& signal : scope.at("signals").as_array()) {
      const std::string name(signal.at("name").as_string());
      CAPTURE(name);
      CHECK((name == "events" || name == "commands_accepted" || name == "commands_rejected" ||
             name.starts_with("rejected.")));
      if (name == "events" && !scope.at("zone").is_null()) {
        events += signal.at("total").to_number<double>();
      }
    }
  }
  CHECK(events > 0);
}

TEST_CASE("the stock worldlog replays, verifies and bisects the market example's log") {
  const std::string data = market_log().string();
  const Run verified = run({"replay", "verify", "--data", data, "--json"});
  REQUIRE_RUN_OK(verified);
  CHECK_SAYS(verified.out, "\"model\":\"worldlog.example.market\"");
  CHECK_SAYS(verified.out, "\"ok\":true");

  const Run state = run({"replay", "state", "--data", data, "--zone", "1", "--json"});
  REQUIRE_RUN_OK(state);
  CHECK_SAYS(state.out, "\"gold_minted\"");
  CHECK_SAYS(state.out, "\"orders\"");

  for (const char* invariant : {"gold_conserved", "goods_conserved", "orders_backed"}) {
    CAPTURE(invariant);
    const Run bisected = run(
        {"replay", "bisect", "--data", data, "--zone", "1", "--invariant", invariant, "--json"});
    REQUIRE_RUN_OK(bisected);
    CHECK_SAYS(bisected.out, "\"holds\":true");
  }
  // The reference game's invariants are not the market's: the error lists the market's own.
  const Run wrong =
      run({"replay", "bisect", "--data", data, "--zone", "1", "--invariant", "hp_in_bounds"});
  CHECK(wrong.status != 0);
  CHECK_SAYS(wrong.err, "goods_conserved");
}

TEST_CASE("the stock worldlog audits a trader of the market with the market's names") {
  const Run audited = run({"audit", "player", "--data", market_log().string(), "--player", "3"});
  REQUIRE_RUN_OK(audited);
  CHECK_SAYS(audited.out, "Joined");
  CHECK_SAYS(audited.out, "Gather");
  // Gathering again within the cooldown is refused, and the audit says so by the reason's name.
  CHECK_SAYS(audited.out, "cooldown");
}

TEST_CASE("the market played over TCP replays, bisects and audits with its own names") {
  const std::string data = served_market_log().string();
  const Run verified = run({"replay", "verify", "--data", data, "--json"});
  REQUIRE_RUN_OK(verified);
  CHECK_SAYS(verified.out, "\"model\":\"worldlog.example.market\"");
  CHECK_SAYS(verified.out, "\"ok\":true");

  for (const char* zone : {"1", "2", "3"}) {
    CAPTURE(zone);
    const Run bisected =
        run({"replay", "bisect", "--data", data, "--zone", zone, "--invariant", "gold_conserved"});
    REQUIRE_RUN_OK(bisected);
    CHECK_SAYS(bisected.out, "gold_conserved holds");
  }

  // Trader 1 joined through its connection and traded; the audit names what it did the
  // market's way.
  const Run audited = run({"audit", "player", "--data", data, "--player", "1"});
  REQUIRE_RUN_OK(audited);
  CHECK_SAYS(audited.out, "Joined");
  CHECK_SAYS(audited.out, "trader=1");
  // Every bot's connection closed at the end, and the world logged each trader out (a Left the
  // system records): nobody is left online in any market.
  for (const char* zone : {"1", "2", "3"}) {
    CAPTURE(zone);
    const Run state = run({"replay", "state", "--data", data, "--zone", zone, "--json"});
    REQUIRE_RUN_OK(state);
    CHECK_SAYS(state.out, "\"online\":[]");
  }
}

TEST_SUITE_END();

} // namespace worldlog::test
