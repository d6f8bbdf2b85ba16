"""An injected fault that no server log reports appears as an anomaly on the page: `worldlog
serve` with 1 s behaviour windows, whose zone 2 silently acknowledges 3 moves in 4 without
logging them from 20 s after it starts, and 20 bots playing (10 a zone, spread over it). The
page's list of anomalies gets one on zone 2's `move` within DETECT_S of the fault's start, a
drop, which began no earlier than the fault did.

The fault drops every move: the test is of the page, not of the detector's sensitivity. A drop
to zero scores -mean/deviation, so it is flagged while the deviation the baseline learned stays
under a quarter of its mean. Bots starved of CPU move in bursts and widen it: a drop of 3 moves
in 4 (flagged under 3/16 of the mean) was missed once in CI, under a concurrent compile.

The bound: the projection learns 12 windows before it scores any, and an anomaly is 3 out-of-line
windows in a row recorded once the last of them closes, 2 s (the lateness) past its end
(docs/behaviour.md): about 5 s after the fault starts, plus the page's 2 s poll. DETECT_S leaves
room for a loaded machine."""

import time

from harness import Browser, World, get_json, main, wait_for

ZONE = 2
FAULT_AFTER_S = 20
DETECT_S = 30
PLAYERS = 20


def explain(served, bots):
    """What the server's behaviour projection holds of the zone's moves, and how the bots fare."""
    behaviour = get_json(served.url, "/api/behaviour")
    scope = next((s for s in behaviour["scopes"] if s["zone"] == ZONE), {"signals": []})
    move = next((s for s in scope["signals"] if s["name"] == "move"), None)
    return (f"closed windows {behaviour['closed_windows']}; zone {ZONE}'s move: {move}\n"
            f"anomalies: {behaviour['anomalies']}\n{bots.describe()}")


def test(binary):
    with World(binary) as world:
        started_us = time.time_ns() // 1000
        fault = f"drop-moves:{ZONE}:100:{FAULT_AFTER_S}"
        with world.serve(zones=2, extra=["--behaviour-window-ms", "1000", "--fault", fault]) as served, \
                world.bots(served, PLAYERS, seconds=FAULT_AFTER_S + DETECT_S + 30, spread=True) as bots, \
                Browser() as browser:
            browser.driver.get(served.url)
            wait_for("players on the live map",
                     lambda: int(browser.find("#map-counts").get_attribute("data-players")) > 0)
            selector = f"#anomalies li[data-zone='{ZONE}'][data-signal='move']"
            # Until the fault, the page shows no anomaly of the zone's moves.
            fault_us = started_us + FAULT_AFTER_S * 1_000_000
            while time.time_ns() // 1000 < fault_us:
                assert not browser.find_all(selector), browser.text("#anomalies")
                time.sleep(0.5)
            flagged = wait_for(f"an anomaly of zone {ZONE}'s move on the page", lambda: browser.find_all(selector),
                               timeout=DETECT_S, explain=lambda: explain(served, bots))
            detected_s = (time.time_ns() // 1000 - fault_us) / 1e6
            assert flagged[0].get_attribute("data-direction") == "drop", flagged[0].text
            assert bots.popen.poll() is None, bots.describe()

            anomalies = [a for a in get_json(served.url, "/api/behaviour")["anomalies"]
                         if a["zone"] == ZONE and a["signal"] == "move"]
            # The server's clock started after ours: the fault's first window starts at the
            # earliest one window (1 s) before our estimate of the fault's start.
            assert anomalies and anomalies[0]["started_us"] >= fault_us - 1_000_000, anomalies
            browser.assert_no_problems()
            print(f"zone {ZONE}'s move flagged on the page {detected_s:.1f} s after the fault began; "
                  f"anomalies on the page: {browser.text('#anomalies')}")


if __name__ == "__main__":
    main(test)
