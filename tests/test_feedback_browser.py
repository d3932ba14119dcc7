"""The feedback page in a real browser (headless Chromium): HTML a submission wrote into its written answer and
its outputs does not act. The static checks of the same page: test_results.py."""

from __future__ import annotations

import html
import re
import time

import pytest
from selenium.webdriver.common.by import By
from test_formgrader_browser import chrome
from test_results import ATTACKS, HW3, executed_with, graded

from autograder.grading import feedback

pytestmark = pytest.mark.slow

TITLE = f"{HW3.id}: {HW3.title}: feedback for ann"
REAL_SUMMARY = f"Autograded: 3 / {HW3.autograded_total:g} points"


@pytest.fixture(scope="module")
def browser():
    driver = chrome()
    yield driver
    driver.quit()


def attacked_page() -> str:
    """The page of a submission whose written answer and every output carry all the attacks at once."""
    return feedback.render(graded(), HW3, executed_with("\n".join(ATTACKS)))


def load(browser, path, page: str):
    path.write_text(page, encoding="utf-8")
    browser.get(path.as_uri())
    time.sleep(1)  # an onerror handler or a script would have run by now


def test_injected_markup_does_not_act_in_a_browser(browser, tmp_path):
    load(browser, tmp_path / "feedback.html", attacked_page())
    assert browser.title == TITLE  # no script, no onerror handler changed it
    [summary] = browser.find_elements(By.CSS_SELECTOR, ".summary")
    assert summary.is_displayed() and summary.value_of_css_property("display") != "none"
    assert summary.text.splitlines()[0] == REAL_SUMMARY  # the real score, shown first
    assert "32 / 32" not in summary.text
    assert browser.find_elements(By.TAG_NAME, "iframe") == []
    assert browser.find_elements(By.TAG_NAME, "script") == []
    assert [i.get_attribute("onerror") for i in browser.find_elements(By.TAG_NAME, "img")] == []
    assert len(browser.find_elements(By.TAG_NAME, "style")) == 1  # the page's own, by nonce
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "<script>document.title='pwned'</script>" in body  # the attack is shown as the text it is


def test_the_same_markup_unescaped_would_act(browser, tmp_path):
    """The control: were the page to insert the submission's text as markup, this browser would show it."""
    page = attacked_page()
    for attack in ATTACKS:
        page = page.replace(html.escape(attack, quote=True), attack, 1)
    page = re.sub(r"<meta http-equiv='Content-Security-Policy'[^>]*>", "", page)  # and without its policy
    load(browser, tmp_path / "unsafe.html", page)
    assert browser.title in ("pwned", "1")
    assert browser.find_elements(By.TAG_NAME, "iframe")
    assert not browser.find_element(By.CSS_SELECTOR, ".summary").is_displayed()
