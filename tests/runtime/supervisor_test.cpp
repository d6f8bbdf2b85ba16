// Supervision: restart strategies, restart intensity and escalation, nested trees.
#include <memory>
#include <string>
#include <vector>

#include "runtime_support.hpp"

namespace worldlog::runtime::testing {
namespace {

/// A started supervisor of probes named `children`, each running when this returns.
std::shared_ptr<Supervisor> supervise(Pool& pool, Strategy strategy,
                                      const std::vector<std::string>& children, const Clock& clock,
                                      Journal* stops = nullptr) {
  auto supervisor = Supervisor::create(pool.executor(), "supervisor", strategy, {}, clock);
  for (const auto& name : children)
    supervisor->add_child(probe_spec(pool.executor(), name, stops));
  supervisor->start();
  for (const auto& name : children)
    static_cast<void>(running_child(*supervisor, name));
  return supervisor;
}

TEST_CASE("one_for_one restarts only the crashed child, and its sibling keeps its id and state") {
  Pool pool;
  ManualClock clock;
  auto supervisor = supervise(pool, Strategy::one_for_one, {"crasher", "sibling"}, clock);
  auto crasher = probe_child(*supervisor, "crasher");
  auto sibling = probe_child(*supervisor, "sibling");
  add_to(*crasher, 3);
  add_to(*sibling, 5);

  crash(*crasher);
  auto reborn = restarted(*supervisor, "crasher", crasher->id());
  CHECK(value_of(*reborn) == 0); // a fresh incarnation
  CHECK(probe_child(*supervisor, "sibling") == sibling);
  CHECK(value_of(*sibling) == 5);
  CHECK(supervisor->restarts() == 1);
  stop_and_wait(*supervisor);
}

TEST_CASE("one_for_all restarts every child when one crashes") {
  Pool pool;
  ManualClock clock;
  auto supervisor = supervise(pool, Strategy::one_for_all, {"a", "b", "c"}, clock);
  const auto a = probe_child(*supervisor, "a")->id();
  const auto b = probe_child(*supervisor, "b")->id();
  const auto c = probe_child(*supervisor, "c")->id();

  crash(*probe_child(*supervisor, "b"));
  static_cast<void>(restarted(*supervisor, "a", a));
  static_cast<void>(restarted(*supervisor, "b", b));
  static_cast<void>(restarted(*supervisor, "c", c));
  CHECK(supervisor->restarts() == 1);
  stop_and_wait(*supervisor);
}

TEST_CASE("rest_for_one restarts the crashed child and those added after it, not those before") {
  Pool pool;
  ManualClock clock;
  auto supervisor = supervise(pool, Strategy::rest_for_one, {"a", "b", "c"}, clock);
  auto a = probe_child(*supervisor, "a");
  add_to(*a, 7);
  const auto b = probe_child(*supervisor, "b")->id();
  const auto c = probe_child(*supervisor, "c")->id();

  crash(*probe_child(*supervisor, "b"));
  static_cast<void>(restarted(*supervisor, "b", b));
  static_cast<void>(restarted(*supervisor, "c", c));
  CHECK(probe_child(*supervisor, "a") == a);
  CHECK(value_of(*a) == 7);
  CHECK(supervisor->restarts() == 1);
  stop_and_wait(*supervisor);
}

TEST_CASE("a child that calls fail() is restarted like one that throws") {
  Pool pool;
  ManualClock clock;
  auto supervisor = supervise(pool, Strategy::one_for_one, {"child"}, clock);
  auto child = probe_child(*supervisor, "child");
  REQUIRE_OK(child->cast([c = child.get()] { c->fail("inventory went negative"); }));
  static_cast<void>(restarted(*supervisor, "child", child->id()));
  CHECK(supervisor->restarts() == 1);
  stop_and_wait(*supervisor);
}

TEST_CASE("a child that stops normally is not restarted") {
  Pool pool;
  ManualClock clock;
  auto supervisor = supervise(pool, Strategy::one_for_all, {"quitter", "other"}, clock);
  auto other = probe_child(*supervisor, "other");
  stop_and_wait(*probe_child(*supervisor, "quitter"));
  REQUIRE(eventually([&] { return supervisor->child("quitter") == nullptr; }));
  CHECK(supervisor->restarts() == 0);
  CHECK(probe_child(*supervisor, "other") == other);
  stop_and_wait(*supervisor);
}

TEST_CASE("stopping a supervisor stops its children first, in reverse order") {
  Pool pool;
  ManualClock clock;
  Journal stops;
  auto supervisor = supervise(pool, Strategy::one_for_one, {"a", "b", "c"}, clock, &stops);
  stop_and_wait(*supervisor);
  CHECK(stops.entries() == std::vector<std::string>{"c", "b", "a"});
  CHECK(supervisor->child("a") == nullptr);
}

/// root (one_for_one) -> mid (one_for_one, at most 2 restarts in 10 s) -> worker.
struct Escalation {
  explicit Escalation(Pool& pool) {
    root = Supervisor::create(pool.executor(), "root", Strategy::one_for_one, {}, clock);
    root->add_child({"mid", [this, executor = pool.executor()] {
                       auto mid = Supervisor::create(executor, "mid", Strategy::one_for_one,
                                                     RestartIntensity{2, 10s}, clock);
                       mid->add_child(probe_spec(executor, "worker"));
                       return mid;
                     }});
    root->start();
  }

  [[nodiscard]] std::shared_ptr<Supervisor> mid() const {
    std::shared_ptr<Supervisor> current;
    REQUIRE(eventually([&] {
      current = std::static_pointer_cast<Supervisor>(root->child("mid"));
      return current && current->running();
    }));
    return current;
  }

  /// Crashes mid's worker and waits until mid restarted it.
  void crash_worker_and_wait(Supervisor& current_mid) const {
    auto worker = running_child(current_mid, "worker");
    crash(*worker);
    static_cast<void>(restarted(current_mid, "worker", worker->id()));
  }

  ManualClock clock;
  std::shared_ptr<Supervisor> root;
};

TEST_CASE("more restarts than the intensity allows make the supervisor fail, and its parent "
          "restarts it") {
  Pool pool;
  Escalation tree(pool);
  auto mid = tree.mid();
  tree.crash_worker_and_wait(*mid);
  tree.crash_worker_and_wait(*mid);
  CHECK(mid->restarts() == 2);

  crash(*running_child(*mid, "worker")); // the third within 10 s: mid gives up
  REQUIRE(eventually([&] { return mid->exited(); }));
  auto new_mid = tree.mid();
  CHECK(new_mid->id() != mid->id());
  CHECK(new_mid->restarts() == 0);
  CHECK(mid->child("worker") == nullptr); // the old mid stopped its worker
  static_cast<void>(running_child(*new_mid, "worker"));
  CHECK(tree.root->restarts() == 1);
  stop_and_wait(*tree.root);
}

TEST_CASE("failures spread out beyond the intensity window do not escalate") {
  Pool pool;
  Escalation tree(pool);
  auto mid = tree.mid();
  for (int i = 0; i < 5; ++i) {
    tree.clock.advance(11s);
    tree.crash_worker_and_wait(*mid);
  }
  CHECK(mid->restarts() == 5);
  CHECK(tree.root->restarts() == 0);
  CHECK(tree.root->child("mid") == mid);
  stop_and_wait(*tree.root);
}

TEST_CASE("a crashing zone is restarted while chat and the other zone keep their state") {
  // root -> {presence, chat, world -> {zone1, zone2}}, as the game server builds it.
  Pool pool;
  ManualClock clock;
  const Executor executor = pool.executor();
  auto root = Supervisor::create(executor, "root", Strategy::one_for_one, {}, clock);
  root->add_child(probe_spec(executor, "presence"));
  root->add_child(probe_spec(executor, "chat"));
  root->add_child({"world", [&] {
                     auto world = Supervisor::create(executor, "world", Strategy::one_for_one,
                                                     RestartIntensity{5, 10s}, clock);
                     world->add_child(probe_spec(executor, "zone1"));
                     world->add_child(probe_spec(executor, "zone2"));
                     return world;
                   }});
  root->start();
  auto chat = running_child(*root, "chat");
  std::shared_ptr<Supervisor> world;
  REQUIRE(eventually([&] {
    world = std::static_pointer_cast<Supervisor>(root->child("world"));
    return world && world->running();
  }));
  auto zone2 = running_child(*world, "zone2");
  add_to(*chat, 11);
  add_to(*zone2, 22);

  for (int round = 1; round <= 3; ++round) {
    auto zone1 = running_child(*world, "zone1");
    crash(*zone1);
    // Answered while zone1 is failing or being restarted, not only after.
    CHECK(value_of(*chat) == 11);
    CHECK(value_of(*zone2) == 22);
    static_cast<void>(restarted(*world, "zone1", zone1->id()));
    CHECK(value_of(*chat) == 11);
    CHECK(value_of(*zone2) == 22);
  }
  CHECK(world->restarts() == 3);
  CHECK(root->restarts() == 0);
  CHECK(root->child("chat") == chat);
  CHECK(world->child("zone2") == zone2);
  stop_and_wait(*root);
}

} // namespace
} // namespace worldlog::runtime::testing
