"""Takes the screenshots of docs/viewer.md from a running world with bots:

    /usr/bin/python3 -B tests/browser/screenshots.py build/worldlog docs/images

writes viewer-map.png (the world and the live map of zone 1, a player's panel open) and
viewer-timeline.png (zone 1's timeline at a step, with a diff). Not a test: run it by hand when
the page changes."""

import os
import sys

from harness import Browser, World, click_entity, wait_for


def main():
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} PATH_OF_WORLDLOG OUTPUT_DIR")
    binary, out = os.path.abspath(sys.argv[1]), sys.argv[2]
    with World(binary) as world:
        with world.serve(zones=2) as served, world.bots(served, players=40, seconds=120), \
                Browser(width=1400, height=1100) as browser:
            browser.driver.get(served.url)
            wait_for("20 players on the map",
                     lambda: int(browser.find("#map-counts").get_attribute("data-players")) >= 20)
            wait_for("closed behaviour windows", lambda: browser.find_all("#charts svg"), timeout=90)
            click_entity(browser, "player")
            wait_for("the player's last actions", lambda: "actions" in browser.text("#entity"))
            browser.driver.execute_script("document.querySelector('#world-section').scrollIntoView()")
            browser.find("main").screenshot(os.path.join(out, "viewer-map.png"))

            seq = int(browser.text("#state-head")) // 2
            browser.find("#seq-input").clear()
            browser.find("#seq-input").send_keys(f"{seq}\n")
            wait_for(f"seq {seq}", lambda: browser.text("#state-seq") == str(seq))
            browser.find("#mark-a").click()
            browser.find("#step-forward").click()
            wait_for("a step", lambda: browser.text("#state-seq") == str(seq + 1))
            browser.find("#mark-b").click()
            browser.find("#diff").click()
            wait_for("the diff", lambda: "changes" in browser.text("#diff-result"))
            browser.find("#timeline-section").screenshot(os.path.join(out, "viewer-timeline.png"))
            browser.assert_no_problems()


if __name__ == "__main__":
    main()
