"""Takes the screenshots of docs/viewer.md from a running world with bots:

    /usr/bin/python3 -B tests/browser/screenshots.py build/worldlog docs/images

writes viewer-map.png (the world and the live map of zone 1, a player's panel open) and
viewer-timeline.png (zone 1's timeline after a step back, with a diff over 11 events). Not a
test: run it by hand when the page changes."""

import os
import sys

from harness import Browser, World, click_entity, wait_for


def go_to(browser, seq):
    browser.find("#seq-input").clear()
    browser.find("#seq-input").send_keys(f"{seq}\n")
    wait_for(f"seq {seq}", lambda: browser.text("#state-seq") == str(seq))


def main():
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} PATH_OF_WORLDLOG OUTPUT_DIR")
    binary, out = os.path.abspath(sys.argv[1]), sys.argv[2]
    with World(binary) as world:
        # 1 s behaviour windows: charts to show after a few seconds.
        with world.serve(zones=2, extra=["--behaviour-window-ms", "1000"]) as served, \
                world.bots(served, players=40, seconds=120, spread=True), \
                Browser(width=1300, height=1000) as browser:
            browser.driver.get(served.url)
            # A while of play: the players walked away from the spawn point.
            wait_for("20 players on the map",
                     lambda: int(browser.find("#map-counts").get_attribute("data-players")) >= 20)
            wait_for("1500 events in zone 1", lambda: int(browser.text("#state-head")) >= 1500)
            click_entity(browser, "player")
            wait_for("the player's last actions", lambda: "actions" in browser.text("#entity"))
            # The window's top: the header, the world and the map.
            browser.driver.execute_script("window.scrollTo(0, 0)")
            browser.driver.save_screenshot(os.path.join(out, "viewer-map.png"))

            seq = int(browser.text("#state-head")) // 2
            go_to(browser, seq)
            browser.find("#mark-a").click()
            go_to(browser, seq + 11)
            browser.find("#mark-b").click()
            browser.find("#step-back").click()
            wait_for("a step back", lambda: browser.text("#state-seq") == str(seq + 10))
            browser.find("#diff").click()
            wait_for("the diff", lambda: "changes" in browser.text("#diff-result"))
            # An element's screenshot is cut at the window's edge: the section from the top.
            timeline = browser.find("#timeline-section")
            browser.driver.execute_script("arguments[0].scrollIntoView()", timeline)
            timeline.screenshot(os.path.join(out, "viewer-timeline.png"))
            browser.assert_no_problems()


if __name__ == "__main__":
    main()
