#!/usr/bin/env python3
"""The console walked in a real browser (headless Chromium through Selenium) against a running
`custody serve`: sign in with the forced change, add a resource and two accounts on the test sshd,
set its reset configuration through the form, reveal a password and see it hidden again, reset
it remotely and see the task succeed, verify, change it locally with the generator, load the
administration pages, and find the audit rows; the main pages at 1280x800 and at phone width, saved as screenshots.

Environment: CUSTODY_URL, INITIAL_PASSWORD, ADMIN_PASSWORD, SSH_PORT, LOGIN_USER,
LOGIN_PASSWORD, TARGET_USER, TARGET_PASSWORD, SHOTS (a directory). Exits 1 with a message on failure.
Passwords are never printed."""
import os, sys
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

E = os.environ
URL, SHOTS = E["CUSTODY_URL"], E["SHOTS"]
os.makedirs(SHOTS, exist_ok=True)

opts = webdriver.ChromeOptions()
for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800", "--ignore-certificate-errors"]:
    opts.add_argument(a)
opts.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"), options=opts)
wait = WebDriverWait(driver, 30)

def fail(msg):
    shot("failure")
    print("FAILED: " + msg, file=sys.stderr)
    driver.quit()
    sys.exit(1)

def shot(name):
    driver.save_screenshot(os.path.join(SHOTS, name + ".png"))

def fill(fields, submit_text):
    for k, v in fields.items():
        el = driver.find_element(By.NAME, k)
        if el.tag_name == "select":
            for o in el.find_elements(By.TAG_NAME, "option"):
                if o.text == v:
                    o.click()
        else:
            el.clear()
            el.send_keys(v)
    click(driver.find_element(By.XPATH, f"//button[normalize-space()='{submit_text}']"))

def click(element):
    """Clicks and waits for the next page to replace this one (a loaded machine is slow)."""
    element.click()
    def gone(_):
        try:
            element.is_enabled()
            return False
        except WebDriverException:  # stale, or "does not belong to the document"
            return True
    WebDriverWait(driver, 60).until(gone)
    WebDriverWait(driver, 60).until(lambda d: d.execute_script("return document.readyState") == "complete")

def task_end():
    """Waits for the task page (which reloads itself every 2 s) to show an end state; returns it.
    A read racing the reload ("stale", "does not belong to the document") is tried again."""
    WebDriverWait(driver, 90, ignored_exceptions=[StaleElementReferenceException, WebDriverException]).until(
        lambda d: d.find_element(By.ID, "task-state").text in ("succeeded", "failed"))
    return WebDriverWait(driver, 10, ignored_exceptions=[StaleElementReferenceException, WebDriverException]).until(
        lambda d: d.find_element(By.ID, "task-state").text)

def path():
    return driver.current_url.split("://", 1)[1].split("/", 1)[1].split("?")[0]

try:
    # 1. Sign in; the first sign-in must change the password.
    driver.get(URL + "/resources")
    # The redirect may still be on its way on a loaded machine: wait for it, boundedly.
    try:
        WebDriverWait(driver, 30).until(lambda d: path() == "login")
    except WebDriverException:
        pass
    if path() != "login": fail("an anonymous visit should land on /login, got " + path())
    fill({"username": "admin", "password": E["INITIAL_PASSWORD"]}, "Sign in")
    if path() != "password": fail("the first sign-in should ask for a new password")
    shot("password-change")
    fill({"currentPassword": E["INITIAL_PASSWORD"], "newPassword": E["ADMIN_PASSWORD"], "confirmPassword": E["ADMIN_PASSWORD"]}, "Change password")
    if path() != "home": fail("after the change the console should show the start page, got " + path())
    items = driver.find_elements(By.CSS_SELECTOR, "ul.attention li")
    if len(items) < 5 or "out of sync" not in items[0].text: fail("the start page should list what needs attention")
    if not driver.find_elements(By.ID, "all-clear"): fail("an empty vault needs no attention")
    shot("home")
    driver.get(URL + "/resources")

    # 2. A resource and its accounts on the test sshd.
    click(driver.find_element(By.LINK_TEXT, "New resource"))
    fill({"name": "browser-ssh", "dnsName": "127.0.0.1", "type": "Linux", "description": "added from the browser"}, "Add resource")
    rid = path().split("/")[1]
    fill({"loginName": E["LOGIN_USER"], "password": E["LOGIN_PASSWORD"]}, "Add account")
    driver.get(URL + "/resources/" + rid)
    fill({"loginName": E["TARGET_USER"], "password": E["TARGET_PASSWORD"], "description": "rotated by the browser test"}, "Add account")
    account = path()
    shot("account")
    # How Custody reaches the target: the reset-configuration form (a bad port first: the error by the form).
    driver.get(URL + f"/resources/{rid}/reset-config")
    fill({"mode": "agentless", "protocol": "ssh", "port": "99999", "loginAccount": E["LOGIN_USER"], "elevation": "sudo"}, "Save configuration")
    if "port" not in driver.find_element(By.CLASS_NAME, "field-error").text: fail("a bad port should be refused by the form")
    fill({"port": E["SSH_PORT"]}, "Save configuration")
    if "Saved." not in driver.find_element(By.TAG_NAME, "main").text: fail("the reset configuration was not saved")
    shot("reset-config")
    driver.get(URL + "/" + account)

    # 3. Reveal, then hidden again by the page's script.
    click(driver.find_element(By.ID, "reveal"))
    secret = wait.until(lambda d: d.find_element(By.ID, "password"))
    if secret.text != E["TARGET_PASSWORD"]: fail("the revealed password is not the stored one")
    shot("revealed")
    hide = int(secret.get_attribute("data-hide-after"))
    WebDriverWait(driver, hide + 10).until(lambda d: d.find_element(By.ID, "password").text != E["TARGET_PASSWORD"])

    # 4. A remote reset, followed on the task page until it succeeds; then a verify.
    for button in ["reset", "verify"]:
        driver.get(URL + "/" + account)
        click(driver.find_element(By.ID, button))
        if not path().startswith("tasks/"): fail(button + " should open the task page")
        state = task_end()
        shot("task-" + button)
        if state != "succeeded":
            fail(button + " did not succeed: " + driver.find_element(By.TAG_NAME, "main").text[:300])

    # 5. A local change with the generator: the field is filled with a password of the policy.
    driver.get(URL + "/" + account)
    driver.find_element(By.ID, "generate").click()
    field = driver.find_element(By.ID, "newPassword")
    WebDriverWait(driver, 10).until(lambda d: len(field.get_attribute("value")) >= 8)
    generated = field.get_attribute("value")
    driver.find_element(By.CSS_SELECTOR, "input[name=mode][value=local]").click()
    click(driver.find_element(By.ID, "change"))
    if "Password changed in the vault." not in driver.find_element(By.TAG_NAME, "main").text: fail("the local change was not confirmed")
    click(driver.find_element(By.ID, "reveal"))
    if driver.find_element(By.ID, "password").text != generated: fail("the vault does not hold the generated password")
    # Put the target's password back in step with the vault for the rest of the run.
    driver.get(URL + "/" + account)
    click(driver.find_element(By.ID, "reset"))
    if task_end() != "succeeded": fail("the reset after the local change failed")

    # 5b. The history card: how each version came, and the old passwords with a reason.
    driver.get(URL + "/" + account)
    rows = driver.find_elements(By.CSS_SELECTOR, "#history-table tbody tr")
    hows = [r.find_elements(By.TAG_NAME, "td")[1].text for r in rows]
    if hows[:3] != ["remote reset", "local", "remote reset"]: fail("the history does not say how each version came: " + repr(hows))
    driver.find_element(By.ID, "history-reason").send_keys("browser check of the history")
    click(driver.find_element(By.ID, "reveal-history"))
    driver.execute_script("document.getElementById('history').scrollIntoView()")
    shot("history")
    shown = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "#history-table code.history-secret")]
    if generated not in shown or E["TARGET_PASSWORD"] not in shown: fail("the revealed history lacks the old passwords")

    # 6. The administration pages load and are screenshotted.
    for page in ["groups", "integrity", "agents", "listeners", "users", "tokens"]:
        driver.get(URL + "/" + page)
        if driver.find_elements(By.CLASS_NAME, "field-error") or "403" in driver.title: fail("/" + page + " did not load")
        shot(page)

    # 7. The audit rows.
    driver.get(URL + "/audit")
    text = driver.find_element(By.ID, "audit").text
    for op in ["retrieve_password", "create_resource", "create_account"]:
        if op not in text: fail("the audit viewer lacks " + op)
    if "reset" not in text: fail("the audit viewer lacks the reset")
    shot("audit")

    # 7b. The reports page: figures, server-drawn SVG charts, the accounts falling short, printable to PDF.
    driver.get(URL + "/reports")
    figures = {li.text.split("\n", 1)[-1].strip(): li.find_element(By.CLASS_NAME, "count").text
               for li in driver.find_elements(By.CSS_SELECTOR, "#figures li")}
    if int(figures.get("accounts", "0")) < 2: fail("the reports page does not count the accounts: " + repr(figures))
    charts = driver.find_elements(By.CSS_SELECTOR, "svg.chart")
    if len(charts) < 6: fail("the reports page lacks its charts: %d" % len(charts))
    if not driver.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar"): fail("the charts draw no bars")
    if driver.find_elements(By.CSS_SELECTOR, "svg script"): fail("a chart carries a script")
    if not driver.find_elements(By.CSS_SELECTOR, "#falling-short tbody tr td a"): fail("no account falls short, yet none was ever rotated by hand")
    for name in ["inventory", "compliance", "expiry", "activity"]:
        if not driver.find_elements(By.CSS_SELECTOR, f"a[href='/reports/{name}.csv']"): fail("no CSV link for " + name)
    shot("reports")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    if driver.find_element(By.CSS_SELECTOR, "header.top").is_displayed(): fail("the printed reports page shows the navigation")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    import base64
    pdf = base64.b64decode(driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": True})["data"])
    if not pdf.startswith(b"%PDF"): fail("the reports page does not print to PDF")
    with open(os.path.join(SHOTS, "reports.pdf"), "wb") as f: f.write(pdf)

    # 8. Phone width: nothing wider than the screen except inside scrolling tables.
    driver.set_window_size(390, 844)
    for name, page in [("resources", "/resources"), ("account", "/" + account), ("audit", "/audit"), ("groups", "/groups"), ("reports", "/reports"),
                       ("reset-config", f"/resources/{rid}/reset-config")]:
        driver.get(URL + page)
        over = driver.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")
        shot("phone-" + name)
        if over: fail(page + " is wider than a phone screen")
    driver.quit()
    print("ok")
except SystemExit:
    raise
except Exception as e:
    fail(f"{type(e).__name__}: {str(e)[:300]}")
