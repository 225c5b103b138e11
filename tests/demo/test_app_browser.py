"""The demo in a real headless browser: upload a MIDI file, press Generate,
wait for the audio player, keep a screenshot (tests/_output/demo/).

It runs the bundled model, so the screenshot shows what a visitor sees and
can replace docs/demo.png as it stands.

Chromium is Debian's /usr/bin/chromium driven by Python Playwright; nothing
is downloaded (`playwright install` is never run).
"""

import os
import re
import shutil
import socket
from pathlib import Path

import pytest

from midifill.demo.render import synth_available
from tests.support import IN_CI, ROOT

pytestmark = pytest.mark.browser


EXAMPLE = ROOT / "demo" / "examples" / "pop_c_major_8_bars.mid"
OUTPUT = ROOT / "tests" / "_output" / "demo"
CHROMIUM = os.environ.get("MIDIFILL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def need(ok: bool, why: str):
    if not ok:
        if IN_CI:
            pytest.fail(f"required under CI: {why}")
        pytest.skip(why)


@pytest.fixture(scope="module")
def url():
    need(
        Path(CHROMIUM).is_file() or shutil.which(CHROMIUM) is not None,
        f"Chromium not found at {CHROMIUM} (apt-get install chromium)",
    )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        need(False, "the Python package playwright is not installed (pip install playwright)")
    ok, why = synth_available()
    need(ok, why)
    from midifill.demo import app
    from midifill.model import Engine

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app.launch(port=port, engine=Engine.from_checkpoint(None), block=False)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.demo.close()


def test_upload_generate_and_hear_it(url):
    from playwright.sync_api import expect, sync_playwright

    OUTPUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url)
            page.set_input_files("#midi-input input[type=file]", str(EXAMPLE))
            # the track list appears once the file is read
            expect(page.locator("#song-info")).to_contain_text("4 tracks, 8 bars", timeout=60_000)
            expect(page.locator("#tracks")).to_contain_text("Electric Bass (finger)")
            # the instrument box is for a new track only
            instrument = page.locator("#new-instrument")
            expect(instrument).to_be_hidden()
            # the lead is chosen; a new track joins it, then leaves again
            expect(page.locator("#target .token")).to_have_count(1)
            page.locator("#target input").click()
            page.get_by_role("option", name=re.compile("a new track")).click()
            expect(instrument).to_be_visible()
            page.locator("#target .token", has_text="a new track").locator(".token-remove").click()
            expect(instrument).to_be_hidden()
            # several tracks, filled together over the same bars (issue 31)
            page.locator("#target input").click()
            page.get_by_role("option", name=re.compile("^0: Drums")).click()
            expect(page.locator("#target .token")).to_have_count(2)
            page.click("#generate")
            expect(page.locator("#summary")).to_contain_text(
                "variations of Lead and Drums", timeout=180_000
            )
            expect(page.locator("#summary")).to_contain_text("written in the order Drums")
            # the player is ready when it knows the length of the rendered audio
            duration = page.locator("#audio-1 #duration")
            expect(duration).to_have_text(re.compile(r"^0:1[5-9]$|^0:2\d$"), timeout=60_000)
            expect(page.locator("#audio-2 #duration")).to_have_text(re.compile(r"^0:\d\d$"))
            # the piano roll and the downloads are there too
            expect(page.locator("img[src*='pop_c_major_8_bars-1.png']")).to_be_visible()
            expect(page.locator("a[href$='pop_c_major_8_bars-1.mid']").first).to_be_visible()
            # the .wav is downloaded from the player's own button
            expect(page.locator("#audio-1 a[href$='pop_c_major_8_bars-1.wav']")).to_have_count(1)
            shot = OUTPUT / "demo.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 50_000
        finally:
            browser.close()


# marks a refused run leaves on the outputs (not the toast, which closes on its own)
ERROR_MARKS = """() => [...document.querySelectorAll('span.error')]
    .filter(e => e.offsetParent !== null && !e.closest('.toast-wrap, [class*=toast]')).length"""


def _browser(p, width, height=896):
    from playwright.sync_api import expect

    browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    page = browser.new_page(viewport={"width": width, "height": height})
    return browser, page, expect


def _bars(page, first, last):
    page.locator("input[aria-label='from bar']").first.fill(str(first))
    page.locator("input[aria-label='to bar']").first.fill(str(last))


def test_a_phone_sees_the_whole_track_table(url):
    """At 414 px (issue 27) the table scrolled sideways and cut 'notes' and
    'bars'; now every cell is inside it and the page is no wider than the screen."""
    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser, page, expect = _browser(p, 414)
        try:
            page.goto(url)
            page.set_input_files("#midi-input input[type=file]", str(EXAMPLE))
            expect(page.locator("#tracks")).to_contain_text(
                "Electric Bass (finger)", timeout=60_000
            )
            fit = page.evaluate("""() => {
                const t = document.querySelector('#tracks'), r = t.getBoundingClientRect();
                // every piece of text in it: headers and cells (the rows are not all <td>)
                const cells = [...t.querySelectorAll('th *, td *, span')]
                    .filter(e => !e.children.length && e.textContent.trim())
                    .map(e => e.getBoundingClientRect()).filter(c => c.width > 0);
                return {left: r.left, right: r.right, page: document.documentElement.scrollWidth,
                        cells: cells.length,
                        lo: Math.min(...cells.map(c => c.left)),
                        hi: Math.max(...cells.map(c => c.right))}; }""")
            page.screenshot(path=str(OUTPUT / "narrow.png"), full_page=True)
            assert fit["cells"] >= 25, fit  # 5 headers and 4 rows of 5
            assert fit["left"] - 1 <= fit["lo"] and fit["hi"] <= fit["right"] + 1, fit
            assert fit["page"] <= 414
            for header in ("notes", "bars"):
                expect(page.locator("#tracks th", has_text=header).first).to_be_in_viewport()
        finally:
            browser.close()


def test_error_marks_go_with_the_next_run_or_file(url):
    """A refused Generate marks each output 'Error'; the next successful run
    clears them, and so does choosing another file."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser, page, expect = _browser(p, 1280)
        try:
            page.goto(url)
            page.set_input_files("#midi-input input[type=file]", str(EXAMPLE))
            expect(page.locator("#song-info")).to_contain_text("8 bars", timeout=60_000)
            for recover in ("run", "file"):
                _bars(page, 6, 2)
                page.click("#generate")
                expect(page.locator("#summary span.error")).to_be_visible(timeout=60_000)
                assert page.evaluate(ERROR_MARKS) >= 4
                if recover == "run":
                    _bars(page, 5, 6)
                    page.click("#generate")
                    expect(page.locator("#summary")).to_contain_text(
                        "variations of Lead", timeout=180_000
                    )
                else:
                    page.get_by_role("button", name="waltz_d_minor_16_bars.mid").click()
                    expect(page.locator("#song-info")).to_contain_text("16 bars", timeout=60_000)
                    expect(page.locator("#summary span.error")).to_be_hidden(timeout=10_000)
                assert page.evaluate(ERROR_MARKS) == 0, recover
        finally:
            browser.close()
