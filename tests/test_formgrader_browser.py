"""Manual grading in nbgrader's formgrader, in a real headless Chromium: a course graded by `grade` opens in the
formgrader, every submission's written answers appear with their points, a score typed into the page is saved
in the gradebook, and the submission's total on the formgrader's list follows."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.slow

# Screenshots land here; set FORMGRADER_SCREENSHOTS=docs/images to refresh the ones docs/grading.md shows.
SCREENSHOTS = os.environ.get("FORMGRADER_SCREENSHOTS")


def chrome() -> webdriver.Chrome:
    """Debian's chromium through its chromedriver (scripts/install-system-deps.sh installs both)."""
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not browser or not driver:
        pytest.fail("chromium and chromedriver are needed: run scripts/install-system-deps.sh")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1500"):
        options.add_argument(arg)  # no sandbox: the tests run as root in a container
    return webdriver.Chrome(service=Service(driver), options=options)


def wait(browser, condition, timeout: float = 60, what: str = ""):
    return WebDriverWait(browser, timeout, poll_frequency=0.2).until(condition, what)


def open_submission(browser, server, submission_id: str) -> None:
    """The formgrader's grading page of one submission, once its scripts have loaded the scores."""
    browser.get(server.page(f"formgrader/submissions/{submission_id}/"))
    wait(browser, lambda b: b.execute_script("return window.jQuery && jQuery.active === 0"), what="scores loaded")
    wait(
        browser,
        lambda b: all(
            i.get_attribute("placeholder") is not None for i in b.find_elements(By.CSS_SELECTOR, "input.score")
        ),
    )


def written_points(browser) -> dict[str, str]:
    """grade_id -> "/ points" text of every score box of the page whose cell is a student's written answer."""
    found = {}
    for box in browser.find_elements(By.CSS_SELECTOR, "input.score"):
        panel = box.find_element(By.XPATH, "ancestor::div[contains(@class, 'nbgrader_cell')]")
        if "Student's answer" in panel.find_element(By.CSS_SELECTOR, ".panel-heading").text:
            found[box.get_attribute("id")] = box.find_element(By.XPATH, "..").text.strip()
    return found


def enter_score(browser, grade_id: str, score: float) -> None:
    """Type a score as a TA does (the box, then Tab), and wait until the page says it is saved."""
    box = browser.find_element(By.ID, grade_id)
    box.clear()
    box.send_keys(f"{score:g}")
    box.send_keys(Keys.TAB)
    wait(browser, lambda b: b.execute_script("return jQuery.active === 0"), what="score saved")
    time.sleep(0.5)


def listed_scores(browser, server, homework: str, notebook: str) -> dict[str, str]:
    """The formgrader's list of one notebook's submissions: student -> overall score text."""
    browser.get(server.page(f"formgrader/gradebook/{homework}/{notebook}"))
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "tbody tr td.score"), what="the submissions list")
    browser.execute_script("$('.name-hidden').hide(); $('.name-shown').show();")  # "Show All Names"
    rows = {}
    for tr in browser.find_elements(By.CSS_SELECTOR, "tbody tr"):
        rows[tr.find_element(By.CSS_SELECTOR, "td.name").text.strip()] = tr.find_element(
            By.CSS_SELECTOR, "td.score"
        ).text
    return rows


def screenshot(browser, name: str, tmp_path: Path) -> Path:
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(folder / name))
    return folder / name


def test_formgrader_shows_written_answers_and_saves_a_score(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook
    from test_final_grades import COURSE_ID, TestCourse

    from autograder.grading import formgrader, roster

    course = TestCourse(tmp_path, monkeypatch)
    course.grade(["ann", "bo", "fay"])
    roster.sync_gradebook(roster.read(course.roster), course.db_url, COURSE_ID)  # names, as `grades` does
    browser = chrome()
    try:
        with formgrader.serve(course.course_dir, course.db_url, COURSE_ID) as server:
            for student in ("ann", "bo", "fay"):
                open_submission(browser, server, course.submission_id(student))
                assert written_points(browser) == {"p1_why": "/ 2.0", "p2_explain": "/ 3.0"}, student
            open_submission(browser, server, course.submission_id("ann"))
            before = listed_scores(browser, server, "hwt", "hwt")
            open_submission(browser, server, course.submission_id("ann"))
            enter_score(browser, "p1_why", 1.5)
            screenshot(browser, "formgrader-score.png", tmp_path)
            after = listed_scores(browser, server, "hwt", "hwt")
            screenshot(browser, "formgrader-list.png", tmp_path)
    finally:
        browser.quit()
    with Gradebook(course.db_url, COURSE_ID) as gb:
        grade = gb.find_grade("p1_why", "hwt", "hwt", "ann")
        assert (grade.manual_score, grade.needs_manual_grade) == (1.5, False)
    assert before["Lee, Ann"] == "5 / 10" and after["Lee, Ann"] == "6.5 / 10"
    assert after["Chen, Bo"] == before["Chen, Bo"]
