"""The live map shows the players a running world has: `worldlog serve` with 2 zones and 12 bots
(player P starts in zone P mod 2 + 1, so 6 a zone, and the bots stay by the spawn point), and
the page's count of the players it drew reaches, in each zone, what the zone's state holds,
over the WebSocket's frames as they come."""

import re

from harness import Browser, World, get_json, main, wait_for

PLAYERS = 12
ZONES = 2


def drawn(browser, what):
    return int(browser.find("#map-counts").get_attribute(f"data-{what}"))


def frame_seq(browser):
    """The seq of the frame the map shows (its count line ends with it)."""
    found = re.search(r"seq (\d+)", browser.text("#map-counts"))
    return int(found.group(1)) if found else 0


def test(binary):
    with World(binary) as world:
        with world.serve(zones=ZONES) as served, world.bots(served, PLAYERS, seconds=90) as bots, \
                Browser() as browser:
            browser.driver.get(served.url)
            total = 0
            for zone in range(1, ZONES + 1):
                browser.find(f"#zones tbody tr[data-zone='{zone}']").click()
                wait_for(f"zone {zone} on the map", lambda: browser.text("#map-zone") == f"zone {zone}")

                def agrees():
                    in_state = len(get_json(served.url, f"/api/zones/{zone}/state")["state"]["players"])
                    return in_state == PLAYERS // ZONES and drawn(browser, "players") == in_state
                wait_for(f"the map of zone {zone} to draw its {PLAYERS // ZONES} players", agrees)
                total += drawn(browser, "players")
                assert drawn(browser, "mobs") > 0, browser.text("#map-counts")

                # The frames keep coming while the bots play: the map moves on by itself.
                seen = frame_seq(browser)
                wait_for(f"a newer frame of zone {zone}", lambda: frame_seq(browser) > seen)
                assert bots.popen.poll() is None, bots.describe()
            assert total == PLAYERS, total
            browser.assert_no_problems()


if __name__ == "__main__":
    main(test)
