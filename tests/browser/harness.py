"""What the viewer's browser tests share: real `worldlog` processes in a temporary directory and
a headless Chromium (Debian's chromium and chromium-driver, driven by Debian's python3-selenium).

Nothing here is a stand-in for the server: every page the browser loads comes from a `worldlog
view` or `worldlog serve` process started from the binary under test.

Every wait is for a condition, with a deadline; a deadline is only ever reached by a bug or a
machine far slower than CI's (two test processes on two cores).
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# How long to wait for a process to start or the page to show something it should.
PATIENCE = 60
SECRET = "a secret of more than sixteen bytes\n"
# How `serve` and `view` print the viewer's URL (with its token, if any), at the end of a line.
VIEWER_URL = r"viewer at (http://\S+)\n"


def binary_from_argv():
    """The worldlog binary under test: the script's one argument."""
    if len(sys.argv) != 2 or not os.access(sys.argv[1], os.X_OK):
        sys.exit(f"usage: {sys.argv[0]} PATH_OF_WORLDLOG")
    return os.path.abspath(sys.argv[1])


def wait_for(what, condition, timeout=PATIENCE, interval=0.1, explain=None):
    """Polls `condition` until it returns something truthy, and returns that; fails naming
    `what` after `timeout` seconds, with what `explain()` returns then, if given. An element
    replaced while it was read counts as not yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except (NoSuchElementException, StaleElementReferenceException):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            detail = f"\n{explain()}" if explain else ""
            raise AssertionError(f"waited {timeout} s for {what}{detail}")
        time.sleep(interval)


class Process:
    """A worldlog process whose output goes to files in `scratch`; stopped with SIGTERM when
    the `with` block ends."""

    def __init__(self, binary, args, scratch, name):
        self.name = name
        self.args = [binary, *args]
        self.out_path = os.path.join(scratch, f"{name}.out")
        self.err_path = os.path.join(scratch, f"{name}.err")
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.popen = subprocess.Popen(self.args, stdout=out, stderr=err, stdin=subprocess.DEVNULL)

    def output(self):
        with open(self.out_path, encoding="utf-8", errors="replace") as out:
            return out.read()

    def describe(self):
        with open(self.err_path, encoding="utf-8", errors="replace") as err:
            return (f"{' '.join(self.args)}: status {self.popen.poll()}\n"
                    f"stdout:\n{self.output()}\nstderr:\n{err.read()}")

    def wait_output(self, what, pattern):
        """The first match of `pattern` in the process's stdout, once there."""
        def found():
            if self.popen.poll() is not None:
                raise AssertionError(f"{self.name} ended before printing {what}:\n{self.describe()}")
            return re.search(pattern, self.output())
        return wait_for(f"{self.name} to print {what}", found)

    def stop(self):
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=PATIENCE)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class World:
    """A temporary directory for one test's log, secret and process output."""

    def __init__(self, binary):
        self.binary = binary
        self._dir = tempfile.TemporaryDirectory(prefix="worldlog-browser-")
        self.path = self._dir.name
        self.data = os.path.join(self.path, "data")
        self.secret = os.path.join(self.path, "secret")
        with open(self.secret, "w", encoding="utf-8") as secret:
            secret.write(SECRET)

    def run(self, *args, timeout=PATIENCE * 2):
        """Runs worldlog to its end; its stdout. A failure fails the test, with the output."""
        done = subprocess.run([self.binary, *args], capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise AssertionError(f"worldlog {' '.join(args)}: status {done.returncode}\n"
                                 f"{done.stdout}\n{done.stderr}")
        return done.stdout

    def demo(self, seconds=3, players=40, zones=2):
        """Writes a log: `worldlog demo` for `seconds`."""
        self.run("demo", "--data", self.data, "--seconds", str(seconds), "--players", str(players),
                 "--zones", str(zones))

    def view(self, host="127.0.0.1"):
        """`worldlog view` on the log, on a port of its own on `host`; a Process with `url`, the
        viewer's (on 127.0.0.1 whatever the host: "0.0.0.0" binds every address)."""
        process = Process(self.binary, ["view", "--data", self.data, "--http", f"{host}:0"],
                          self.path, "view")
        url = process.wait_output("its URL", VIEWER_URL).group(1)
        process.url = url.replace("//0.0.0.0:", "//127.0.0.1:")
        return process

    def serve(self, zones=2, extra=()):
        """`worldlog serve` on ports of its own; a Process with `game_port` and `url`, the
        viewer's, both read from its banner."""
        process = Process(self.binary, ["serve", "--data", self.data, "--listen", "127.0.0.1:0",
                                        "--http", "127.0.0.1:0", "--secret-file", self.secret,
                                        "--zones", str(zones), *extra], self.path, "serve")
        banner = process.wait_output("its banner", r" on 127\.0\.0\.1:(\d+), .*" + VIEWER_URL)
        process.game_port = int(banner.group(1))
        process.url = banner.group(2)
        return process

    def bots(self, served, players, seconds, spread=False):
        """`worldlog bots` playing `served` (a Process of serve()), in the background; with
        `spread`, each walks to a tile of its own instead of staying by the spawn point."""
        return Process(self.binary, ["bots", "--connect", f"127.0.0.1:{served.game_port}",
                                     "--secret-file", self.secret, "--players", str(players),
                                     "--seconds", str(seconds), *(["--spread"] if spread else [])],
                       self.path, "bots")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._dir.cleanup()


def get_json(base_url, path):
    """GET `path` of the viewer at `base_url` (its token, if the URL has one, carried along)."""
    url = urllib.request.urljoin(base_url, path)
    token = re.search(r"[?&]token=([^&]+)", base_url)
    if token:
        url += ("&" if "?" in url else "?") + "token=" + token.group(1)
    with urllib.request.urlopen(url, timeout=PATIENCE) as answer:
        return json.load(answer)


class Browser:
    """A headless Chromium whose console messages are kept, from the page's first load on."""

    def __init__(self, width=1400, height=1000):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--disable-gpu", f"--window-size={width},{height}"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(PATIENCE)
        self.log = []

    def problems(self):
        """Every error and warning the page has logged so far (console, network, JavaScript)."""
        self.log += self.driver.get_log("browser")
        return [entry for entry in self.log if entry["level"] in ("SEVERE", "WARNING")]

    def assert_no_problems(self):
        problems = self.problems()
        assert not problems, "the browser logged:\n" + "\n".join(
            f"{entry['level']}: {entry['message']}" for entry in problems)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css):
        return self.find(css).text

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.driver.quit()


def main(test):
    """Runs `test(binary)`: a failure is an exception, which exits 1 with its traceback."""
    binary = binary_from_argv()
    started = time.monotonic()
    test(binary)
    print(f"{os.path.basename(sys.argv[0])}: passed in {time.monotonic() - started:.1f} s")


def click_entity(browser, kind):
    """Clicks the map where the page drew an entity of `kind` (the first of the page's list of
    what it drew); the panel's heading after the click. Live entities move between reading
    where one is and the click, so it clicks again until the panel names one."""
    canvas = browser.find("#map")
    # A pointer moves only within the window: the whole map in it.
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)

    def clicked():
        entity = browser.driver.execute_script(
            "return view.drawn.find((e) => e.kind === arguments[0]) ?? null", kind)
        if not entity:
            return None
        # Selenium 4 offsets a pointer move from the element's centre.
        size = canvas.size
        webdriver.ActionChains(browser.driver).move_to_element_with_offset(
            canvas, entity["px"] - size["width"] / 2, entity["py"] - size["height"] / 2).click().perform()
        heading = browser.find_all("#entity h3")
        return heading and heading[0].text.startswith(kind + " ") and heading[0].text

    return wait_for(f"a click on the map to show a {kind}", clicked, interval=0.5)
