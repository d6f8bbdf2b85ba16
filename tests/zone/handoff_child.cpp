// handoff_child <data dir> <after-departure | after-arrival>
//
// Runs two tally zones on the log in <data dir>, places entity 7 in zone 1 with a tally of 5,
// and sends it to zone 2. The process kills itself (std::_Exit, no shutdown, no snapshot) at
// the chosen point between the two halves of the handoff: once the departure is durable but
// before the arrival is sent, or once the arrival is accepted but before the source records
// the completion. handoff_test.cpp then restarts the world and checks the entity.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string_view>
#include <thread>

#include <boost/asio/thread_pool.hpp>

#include <worldlog/runtime/clock.hpp>
#include <worldlog/zone/zone_set.hpp>

#include "zone/tally_model.hpp"

namespace {

using namespace worldlog;
using Tally = test::TallyModel;

/// The exit status that tells the test the child died where it was asked to.
constexpr int died_as_planned = 3;

void submit_and_wait(zone::ZoneSet<Tally>& zones, zone::ZoneId z, Tally::Command command) {
  std::promise<bool> done;
  static_cast<void>(zones.submit(z, {log::ActorKind::player, 7}, 0, std::move(command),
                                 [&done](Result<zone::Outcome> outcome) {
                                   done.set_value(outcome.ok() && outcome->accepted);
                                 }));
  if (!done.get_future().get()) {
    std::fputs("handoff_child: a setup command failed\n", stderr);
    std::exit(1);
  }
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fputs("usage: handoff_child <data dir> <after-departure|after-arrival>\n", stderr);
    return 2;
  }
  const std::string_view crash_point = argv[2];
  auto opened = log::EventLog::open(argv[1]);
  if (!opened) {
    std::fprintf(stderr, "handoff_child: %s\n", opened.error().to_string().c_str());
    return 1;
  }
  runtime::SystemClock clock;
  boost::asio::thread_pool pool(2);
  auto die = [](const auto&...) { std::_Exit(died_as_planned); };
  zone::ZoneSet<Tally>::Options options{.zones = 2, .seed = 42};
  if (crash_point == "after-departure") options.before_arrival = die;
  if (crash_point == "after-arrival") options.on_arrival = die;
  zone::ZoneSet<Tally> zones(pool.get_executor(), **opened, clock, options);
  auto world = zones.make_supervisor();
  world->start();
  while (!zones.zone(1) || !zones.zone(2))
    std::this_thread::sleep_for(std::chrono::milliseconds(1));

  submit_and_wait(zones, 1, Tally::Place{7, {1'000, 2'000}});
  submit_and_wait(zones, 1, Tally::Add{7, 5});
  submit_and_wait(zones, 1, Tally::Leave{7, 2});
  // The crash comes from the router's thread; if it never comes, the test sees status 0.
  std::this_thread::sleep_for(std::chrono::seconds(30));
  return 0;
}
