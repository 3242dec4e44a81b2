"""The test page in a real browser (headless Chromium driven by Selenium): stimuli decode, a trial is
rated and submitted, the saved ratings match the sliders, and a reload resumes at the first unrated trial.

Skipped only when Chromium or Selenium is missing and SNN_REQUIRE_BROWSER is unset; CI sets it.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    if not CHROMIUM or not CHROMEDRIVER:
        return "chromium and chromium-driver are not installed (bash scripts/install_system_deps.sh)"
    return None


@pytest.fixture
def browser():
    missing = _missing()
    if missing:
        if os.environ.get("SNN_REQUIRE_BROWSER"):
            pytest.fail(f"SNN_REQUIRE_BROWSER is set but {missing}")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--autoplay-policy=no-user-gesture-required", "--mute-audio"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_script_timeout(20)
    yield driver
    driver.quit()


def wait_for(driver, script: str, timeout_s: float = 20):
    """Waits until the JavaScript expression `script` is truthy; returns its value."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout_s, poll_frequency=0.1).until(lambda d: d.execute_script(f"return {script}"))


def log_in(driver, url: str, name: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(url)
    driver.find_element(By.ID, "listener").send_keys(name)
    driver.find_element(By.ID, "start").click()
    wait_for(driver, "!document.getElementById('training').hidden || !document.getElementById('trial').hidden")


def set_slider(driver, index: int, value: int) -> None:
    driver.execute_script(
        "const s = document.getElementById(arguments[0]); s.value = arguments[1];"
        "s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change'));", f"slider-{index}", value)


def test_a_listener_trains_rates_submits_and_resumes(browser, server, small_test):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    log_in(browser, server.url, "ana")
    assert browser.find_element(By.ID, "trial").get_attribute("hidden")  # a new listener starts with training
    rows = browser.find_elements(By.CSS_SELECTOR, "#training-clips .clip")
    assert len(rows) == 2 and len(rows[0].find_elements(By.TAG_NAME, "button")) == 5  # reference + 4 conditions
    rows[0].find_elements(By.TAG_NAME, "button")[1].click()
    wait_for(browser, "window.mushra.decoded >= 5 && window.mushra.voices.length === 5")
    browser.find_element(By.ID, "begin").click()

    # every stimulus of the trial is fetched from the server and decoded to the clip's length and rate
    wait_for(browser, "window.mushra.decoded >= 11")  # 5 training + 6 for this trial (reference and 5 slots)
    trial = browser.execute_script("return window.mushra.trials[0]")
    for url in [trial["reference"], *trial["stimuli"]]:
        duration, rate = browser.execute_script(
            "const b = window.mushra.buffers.get(arguments[0]); return [b.duration, b.sampleRate];", url)
        assert duration == pytest.approx(0.6, abs=0.01) and rate > 0
    assert browser.find_element(By.ID, "trial-title").text == "Trial 1 of 2"

    # switching keeps all voices running together; only the selected one is audible
    browser.find_element(By.ID, "play-reference").click()
    browser.find_element(By.ID, "play-2").click()
    assert wait_for(browser, "window.mushra.active") == trial["stimuli"][2]
    assert browser.execute_script("return window.mushra.voices.length") == 6

    submit = browser.find_element(By.ID, "submit")
    ActionChains(browser).click(browser.find_element(By.ID, "slider-0")).perform()  # a real click
    for index, value in ((1, 100), (2, 35), (3, 0), (4, 72)):
        set_slider(browser, index, value)
        assert not submit.is_enabled() or index == 4
    clicked = [int(browser.find_element(By.ID, f"slider-{i}").get_attribute("value")) for i in range(5)]
    wait_for(browser, "window.mushra.saves >= 5")
    submit.click()
    wait_for(browser, "document.getElementById('trial-title').textContent === 'Trial 2 of 2'")

    record = json.loads((small_test.results_dir / "ana.json").read_text())
    first = record["trials"][0]
    assert first["submitted"] and first["scores"] == dict(zip(first["order"], clicked))

    set_slider(browser, 3, 64)  # half-rate the second trial, then close and come back
    wait_for(browser, "window.mushra.saves >= 7")
    log_in(browser, server.url, "ana")
    assert browser.find_element(By.ID, "trial-title").text == "Trial 2 of 2"
    assert browser.find_element(By.ID, "slider-3").get_attribute("value") == "64"
    assert browser.execute_script("return window.mushra.scores") == [None, None, None, 64, None]
    assert browser.execute_script("return window.mushra.errors") == []
