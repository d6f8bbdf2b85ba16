"""Scrubbing the timeline to seq S shows the state hash that `worldlog replay state --at S`
prints: seqs typed into the page, one moved to with the scrubber itself, and steps back, in a
zone other than the one the page starts on, over a demo's log served by `worldlog view`."""

import json

from selenium.webdriver.common.keys import Keys

from harness import Browser, World, main, wait_for

ZONE = 2


def test(binary):
    with World(binary) as world:
        world.demo(seconds=3, players=30, zones=2)
        replayed = {}

        def replay_hash(seq):
            if seq not in replayed:
                answer = json.loads(world.run("replay", "state", "--data", world.data, "--zone", str(ZONE),
                                              "--at", str(seq), "--json"))
                assert answer["seq"] == seq, answer
                replayed[seq] = answer["state_hash"]
            return replayed[seq]

        head = json.loads(world.run("replay", "state", "--data", world.data, "--zone", str(ZONE), "--json"))["head"]
        seqs = sorted({1, 2, head // 3, head // 2, head - 1, head})

        with world.view() as viewer, Browser() as browser:
            browser.driver.get(viewer.url)
            wait_for(f"zone {ZONE} in the world's table",
                     lambda: browser.find_all(f"#zones tbody tr[data-zone='{ZONE}']"))
            browser.find(f"#zones tbody tr[data-zone='{ZONE}']").click()
            wait_for(f"zone {ZONE}'s head on the timeline", lambda: browser.text("#timeline-zone") == f"zone {ZONE}"
                     and browser.text("#state-seq") == str(head))
            assert browser.text("#state-hash") == replay_hash(head)

            shown = {}
            for seq in seqs:
                box = browser.find("#seq-input")
                box.clear()
                box.send_keys(f"{seq}\n")
                wait_for(f"the state at seq {seq}", lambda: browser.text("#state-seq") == str(seq))
                shown[seq] = browser.text("#state-hash")
                assert shown[seq] == replay_hash(seq), (seq, shown[seq], replay_hash(seq))
            # Different points of a zone that plays have different states.
            assert len(set(shown.values())) == len(seqs), shown

            # The scrubber itself: a key moves it one seq on and loads that state.
            middle = head // 2
            browser.find("#seq-input").clear()
            browser.find("#seq-input").send_keys(f"{middle}\n")
            wait_for(f"the state at seq {middle}", lambda: browser.text("#state-seq") == str(middle))
            browser.find("#scrubber").send_keys(Keys.ARROW_RIGHT)
            wait_for(f"the scrubber at seq {middle + 1}",
                     lambda: browser.text("#state-seq") == str(middle + 1)
                     and browser.find("#scrubber").get_attribute("value") == str(middle + 1))
            assert browser.text("#state-hash") == replay_hash(middle + 1)

            # Stepping back undoes the event: the hash is the previous seq's again.
            browser.find("#step-back").click()
            wait_for(f"a step back to seq {middle}", lambda: browser.text("#state-seq") == str(middle))
            assert browser.text("#state-hash") == replay_hash(middle)
            browser.assert_no_problems()


if __name__ == "__main__":
    main(test)
