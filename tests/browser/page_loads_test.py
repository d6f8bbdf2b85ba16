"""The page loads and is used without an error or a warning in the browser's log: on a stored
log (`worldlog view` over a demo's log, bound beyond loopback so that every request needs the
token of the page's URL) through every part of the timeline, and on a live world (`worldlog
serve` with bots playing), live map and behaviour included."""

from harness import Browser, World, click_entity, get_json, main, wait_for


def go_to_seq(browser, seq):
    box = browser.find("#seq-input")
    box.clear()
    box.send_keys(str(seq) + "\n")
    wait_for(f"the timeline at seq {seq}", lambda: browser.text("#state-seq") == str(seq))


def use_stored_log(binary):
    with World(binary) as world:
        world.demo(seconds=3, players=30, zones=2)
        # Bound beyond loopback, the viewer wants a token: the page carries its own along.
        with world.view(host="0.0.0.0") as viewer, Browser() as browser:
            assert "?token=" in viewer.url, viewer.url
            browser.driver.get(viewer.url)
            wait_for("the world's 2 zones", lambda: len(browser.find_all("#zones tbody tr")) == 2)
            head = get_json(viewer.url, "/api/zones/1/state")
            wait_for("the head state of zone 1 on the map and the timeline",
                     lambda: browser.text("#state-seq") == str(head["seq"])
                     and int(browser.find("#map-counts").get_attribute("data-mobs"))
                     == len(head["state"]["mobs"]))
            wait_for("the behaviour summary", lambda: "windows of" in browser.text("#behaviour-summary"))

            # The timeline, every control of it.
            go_to_seq(browser, 1)
            browser.find("#step-forward").click()
            wait_for("step forward to seq 2 and its event",
                     lambda: browser.text("#state-seq") == "2" and "seq 2" in browser.text("#step"))
            browser.find("#step-back").click()
            wait_for("step back to seq 1", lambda: browser.text("#state-seq") == "1"
                     and "undid seq 2" in browser.text("#step"))
            browser.find("#mark-a").click()
            go_to_seq(browser, 20)
            browser.find("#mark-b").click()
            browser.find("#diff").click()
            wait_for("the diff of seqs 1 and 20",
                     lambda: "seq 1 " in browser.text("#diff-result") and "seq 20 " in browser.text("#diff-result"))
            if browser.find_all("#invariant option"):
                browser.find("#bisect-form button").click()
                wait_for("the bisect's answer", lambda: "holds" in browser.text("#bisect-result")
                         or "first broken" in browser.text("#bisect-result"))

            # A mob's panel: its JSON and its last actions.
            click_entity(browser, "mob")
            wait_for("the mob's last actions", lambda: "actions" in browser.text("#entity"))

            assert browser.text("#status") == "", browser.text("#status")
            browser.assert_no_problems()


def use_live_world(binary):
    with World(binary) as world:
        with world.serve(zones=2) as served, world.bots(served, players=10, seconds=60), Browser() as browser:
            browser.driver.get(served.url)
            wait_for("players on the live map",
                     lambda: int(browser.find("#map-counts").get_attribute("data-players")) > 0)
            wait_for("the behaviour summary", lambda: "windows of" in browser.text("#behaviour-summary"))
            click_entity(browser, "player")
            wait_for("the player's last actions", lambda: "actions" in browser.text("#entity"))
            # The other zone, chosen in the world's table.
            browser.find("#zones tbody tr[data-zone='2']").click()
            wait_for("zone 2's players on the live map", lambda: "zone 2" in browser.text("#map-zone")
                     and int(browser.find("#map-counts").get_attribute("data-players")) > 0)
            assert browser.text("#status") == "", browser.text("#status")
            browser.assert_no_problems()


def test(binary):
    use_stored_log(binary)
    use_live_world(binary)


if __name__ == "__main__":
    main(test)
