#!/usr/bin/env python3
"""The access-control workflow in a real browser (headless Chromium through Selenium) against a
running `custody serve`: a password user finds the password under access control and asks for
it; an approver sees the badge, opens the requests page and approves; the user checks the
password out, reads it, and checks it in (the server then resets it on the test sshd).

Environment: CUSTODY_URL, ACCOUNT_PATH (/resources/R/accounts/A), HOLDER, HOLDER_PASSWORD,
APPROVER, APPROVER_PASSWORD (both first passwords, changed here to NEW_PASSWORD), TARGET_PASSWORD,
SHOTS (a directory). Exits 1 with a message on failure. Passwords are never printed."""
import os, sys
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

E = os.environ
URL, SHOTS, ACCOUNT = E["CUSTODY_URL"], E["SHOTS"], E["ACCOUNT_PATH"]
os.makedirs(SHOTS, exist_ok=True)

opts = webdriver.ChromeOptions()
for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--ignore-certificate-errors"]:
    opts.add_argument(a)
opts.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"), options=opts)

def shot(name):
    driver.save_screenshot(os.path.join(SHOTS, name + ".png"))

def fail(msg):
    shot("access-failure")
    print("FAILED: " + msg, file=sys.stderr)
    driver.quit()
    sys.exit(1)

def click(element):
    """Clicks and waits for the next page to replace this one."""
    element.click()
    def gone(_):
        try:
            element.is_enabled()
            return False
        except WebDriverException:
            return True
    WebDriverWait(driver, 60).until(gone)
    WebDriverWait(driver, 60).until(lambda d: d.execute_script("return document.readyState") == "complete")

def fill(fields, button_id=None, text=None):
    for k, v in fields.items():
        el = driver.find_element(By.NAME, k)
        el.clear()
        el.send_keys(v)
    if button_id:
        click(driver.find_element(By.ID, button_id))
    else:
        click(driver.find_element(By.XPATH, f"//button[normalize-space()='{text}']"))

def path():
    return driver.current_url.split("://", 1)[1].split("/", 1)[1].split("?")[0]

def main_text():
    return driver.find_element(By.TAG_NAME, "main").text

def sign_in(user, first):
    driver.delete_all_cookies()
    driver.get(URL + "/login")
    fill({"username": user, "password": first}, text="Sign in")
    if path() == "password":
        fill({"currentPassword": first, "newPassword": E["NEW_PASSWORD"], "confirmPassword": E["NEW_PASSWORD"]}, text="Change password")
    if path() in ("login", "password"):
        fail("could not sign in as " + user)

try:
    # 1. The holder finds the password under access control and asks for it.
    sign_in(E["HOLDER"], E["HOLDER_PASSWORD"])
    driver.get(URL + ACCOUNT)
    if not driver.find_elements(By.ID, "access-control"): fail("the account page shows no access-control card")
    click(driver.find_element(By.ID, "reveal"))
    errors = driver.find_elements(By.ID, "reveal-error")
    if not errors or "access control" not in errors[0].text: fail("a gated password should be refused in words")
    fill({"reason": "browser patch window", "minutes": "30"}, button_id="request-access")
    if "Access requested" not in main_text(): fail("the request was not confirmed: " + main_text()[:200])
    shot("access-requested")

    # 2. The approver sees the badge and approves on the requests page.
    sign_in(E["APPROVER"], E["APPROVER_PASSWORD"])
    badge = driver.find_elements(By.ID, "awaiting-approval")
    if not badge or badge[0].text != "1": fail("the approver should see one request waiting")
    driver.get(URL + "/access-requests")
    rows = driver.find_elements(By.CSS_SELECTOR, "#awaiting tbody tr")
    if len(rows) != 1 or "browser patch window" not in rows[0].text: fail("the request is not on the approvals page")
    shot("access-approvals")
    rows[0].find_element(By.NAME, "comment").send_keys("approved in the browser")
    click(rows[0].find_element(By.CSS_SELECTOR, "button.approve"))
    if "Access approved" not in main_text(): fail("the approval was not confirmed: " + main_text()[:200])

    # 3. The holder checks out, reads the password, and checks it in.
    sign_in(E["HOLDER"], E["NEW_PASSWORD"])
    driver.get(URL + ACCOUNT)
    click(driver.find_element(By.ID, "checkout"))
    if "Checked out" not in main_text(): fail("the checkout was not confirmed")
    if not driver.find_elements(By.CSS_SELECTOR, "#access-control .holder"): fail("the card should name the holder and the time left")
    click(driver.find_element(By.ID, "reveal"))
    if driver.find_element(By.ID, "password").text != E["TARGET_PASSWORD"]: fail("the holder should see the password")
    shot("access-checked-out")
    driver.get(URL + ACCOUNT)
    click(driver.find_element(By.ID, "checkin"))
    if "being reset" not in main_text(): fail("the check-in should say the password is being reset: " + main_text()[:200])
    shot("access-checked-in")
    driver.quit()
    print("ok")
except SystemExit:
    raise
except Exception as e:
    fail(f"{type(e).__name__}: {str(e)[:300]}")
