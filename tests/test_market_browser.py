"""The market page in a real headless Chromium (Debian's ``chromium``, driven by Playwright for Python):
browse the free tier, switch to premium with a key, upload a pair, see it scored and ranked, see a
rejected upload's reason. The app runs on uvicorn on a free loopback port; uploads render with
projectM where it is installed (``upload.render: auto``), as in production."""

from __future__ import annotations

import shutil
import threading
import time

import numpy as np
import pytest
from omegaconf import OmegaConf

from aivj.market.app import create_market_app
from aivj.refinery.native import missing_requirements
from tests.helpers.market import FREE_TOP, N_ELITE, build, make_market, milk_text, open_store
from tests.servers import free_port

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def served(tmp_path):
    import uvicorn

    m = make_market(tmp_path)
    build(m)
    cfg = OmegaConf.merge(m.cfg, {"upload": {"render": "auto"}})
    app = create_market_app(cfg, open_store(m), m.scorer, m.frames)
    key = app.state.keys.issue("browser")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start in 30 s"
    try:
        yield f"http://127.0.0.1:{port}/", key, tmp_path
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.slow
def test_a_user_uploads_a_pair_in_the_browser_and_sees_it_ranked(served):
    from playwright.sync_api import expect, sync_playwright

    assert shutil.which(CHROMIUM), f"{CHROMIUM} missing: apt-get install -y chromium (make test does)"
    url, key, tmp = served
    fg, bg = tmp / "my fg.milk", tmp / "my bg.milk"
    fg.write_text(milk_text(np.random.default_rng(300)))
    bg.write_text(milk_text(np.random.default_rng(301)))
    bad = tmp / "evil.milk"
    bad.write_text("[preset00]\n<script>alert(1)</script>\n")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.set_default_timeout(45_000)
        page.goto(url)
        expect(page.locator("#tier")).to_have_text(f"free tier: the top {FREE_TOP} elite templates")
        expect(page.locator("#grid .card")).to_have_count(FREE_TOP)
        expect(page.locator("#upload-box")).to_be_hidden()
        page.wait_for_function(
            "document.querySelector('#grid .card img') && document.querySelector('#grid .card img').naturalWidth > 0"
        )
        page.locator("#grid .card .similar").first.click()
        expect(page.locator("#similar li")).to_have_count(FREE_TOP - 1)  # the free tier's other templates

        page.fill("#key", key)
        page.click("#save-key")
        expect(page.locator("#tier")).to_have_text(f"premium (browser): {N_ELITE} templates")
        expect(page.locator("#grid .card")).to_have_count(N_ELITE)
        page.set_input_files("#upload-fg", str(fg))
        page.set_input_files("#upload-bg", str(bg))
        page.click("#upload-btn")
        expect(page.locator("#upload-result")).to_contain_text("ranked #", timeout=40_000)  # projectM renders both layers
        result = page.locator("#upload-result").inner_text()
        rank = int(result.split("#")[1].split()[0])
        card = page.locator("#grid .card[data-kind=upload]")
        expect(card).to_have_count(1)
        expect(card.locator(".rank")).to_contain_text(f"#{rank} ")
        assert page.locator("#grid .card").count() == N_ELITE + 1
        path = "static" if missing_requirements() else "render"  # rendered by projectM where it is installed
        assert f"of {N_ELITE}: score " in result and result.endswith(f"({path} path)")

        page.set_input_files("#upload-fg", str(bad))
        page.click("#upload-btn")
        expect(page.locator("#upload-result")).to_have_text(
            "rejected: 422: FG evil.milk: line 2 is not preset text: '<script>alert(1)</script>'"
        )
        browser.close()
