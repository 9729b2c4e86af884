#!/usr/bin/env python3
"""Directory sign-in walked in a real browser (headless Chromium through Selenium) against a running
`custody serve` whose directory settings point at the test domain controller: a wrong domain
password is refused on the sign-in page, the right one signs the domain user in with the role its
groups give (shown in the header), and sign-out ends the session.

Environment: CUSTODY_URL, DIR_USER, DIR_PASSWORD, DIR_ROLE, SHOTS (a directory). Exits 1 with a
message on failure. Passwords are never printed."""
import os, sys
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

E = os.environ
URL, SHOTS = E["CUSTODY_URL"], E["SHOTS"]
os.makedirs(SHOTS, exist_ok=True)
opts = webdriver.ChromeOptions()
for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800", "--ignore-certificate-errors"]:
    opts.add_argument(a)
opts.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"), options=opts)

def shot(name):
    driver.save_screenshot(os.path.join(SHOTS, name + ".png"))

def fail(msg):
    shot("directory-failure")
    print("FAILED: " + msg, file=sys.stderr)
    driver.quit()
    sys.exit(1)

def path():
    return driver.current_url.split("://", 1)[1].split("/", 1)[1].split("?")[0]

def sign_in(user, password):
    driver.get(URL + "/login")
    for k, v in {"username": user, "password": password}.items():
        el = driver.find_element(By.NAME, k)
        el.clear()
        el.send_keys(v)
    button = driver.find_element(By.XPATH, "//button[normalize-space()='Sign in']")
    button.click()
    def gone(_):
        try:
            button.is_enabled()
            return False
        except WebDriverException:
            return True
    WebDriverWait(driver, 60).until(gone)
    WebDriverWait(driver, 60).until(lambda d: d.execute_script("return document.readyState") == "complete")

try:
    sign_in(E["DIR_USER"], E["DIR_PASSWORD"] + "-wrong")
    if path() != "login": fail("a wrong domain password should stay on /login, got " + path())
    errors = driver.find_elements(By.CSS_SELECTOR, "p.field-error")
    if not errors or not errors[0].text: fail("a wrong domain password should say why on the page")
    shot("directory-refused")
    sign_in(E["DIR_USER"], E["DIR_PASSWORD"])
    if path() != "home": fail("a domain user should land on the start page, got " + path())
    header = driver.find_element(By.TAG_NAME, "header").text
    if E["DIR_USER"] not in header or "(" + E["DIR_ROLE"] + ")" not in header:
        fail("the header should name the domain user and the role its groups give: " + header)
    if E["DIR_PASSWORD"] in driver.page_source: fail("the page must not carry the domain password")
    shot("directory-signed-in")
    driver.get(URL + "/users")
    if path() == "users" and "Users" in driver.find_element(By.TAG_NAME, "h1").text:
        fail("a password user should not see the users page")
    print("ok")
finally:
    try:
        driver.quit()
    except Exception:
        pass
