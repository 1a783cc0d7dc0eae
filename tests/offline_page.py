"""A page of the report opened in Debian's headless Chromium, offline, with its errors and network requests."""

from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"


@contextmanager
def offline_page(path, extra_args=()):
    """Yield (page, errors, requests) for the HTML file ``path``: console errors and page exceptions, and every
    request other than ``file:`` and ``data:`` URLs; ``extra_args`` are more Chromium flags."""
    assert Path(CHROMIUM).is_file(), "Debian's chromium is needed: apt-get install chromium (.ci/run does it)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", *extra_args])
        page = browser.new_page()
        errors, requests = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
        page.goto(Path(path).as_uri())
        try:
            yield page, errors, requests
        finally:
            browser.close()
