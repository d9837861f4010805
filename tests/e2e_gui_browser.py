"""`snntb gui` driven in headless Chromium through Selenium (WebDriver).

Run by tests/e2e_gui_browser.sh.  Checks what a user does: change the
duration, save, reload and find it kept (and in the INI file the server
wrote); type an invalid value and see it marked and refused; see a run
without a model fail with the reason on the page; run the
shared Keras LeNet on 100 MNIST samples and watch progress and the final
accuracy (compared with the run's results.json); open the results and pick
two layers to see side by side.  Screenshots of each step go to --shots.
Exit status 77 (skipped) when the shared LeNet is absent, after the
settings checks.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

TIMEOUT = 900  # a LeNet run normalizes on 10000 samples; CI machines are slow


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def start_server(cli, wd):
    proc = subprocess.Popen([cli, "gui", "--port", "0", "--wd", wd],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    m = re.search(r"(http://127\.0\.0\.1:\d+/\?token=[0-9a-f]{32})", line)
    if not m:
        proc.kill()
        fail("snntb gui printed no URL: %r %r" % (line, proc.stderr.read()))
    return proc, m.group(1)


def browser(path, driver, wd):
    opts = webdriver.ChromeOptions()
    opts.binary_location = path
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1500,1100",
              "--user-data-dir=" + os.path.join(wd, "profile")):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(driver), options=opts)


def field(d, section, key):
    return d.find_element(By.ID, "in-%s-%s" % (section, key))


def type_into(d, section, key, value):
    f = field(d, section, key)
    f.clear()
    f.send_keys(value)


def wait_text(d, elem_id, pattern, timeout=30):
    WebDriverWait(d, timeout).until(
        lambda d: re.search(pattern, d.find_element(By.ID, elem_id).text))
    return d.find_element(By.ID, elem_id).text


def load(d, url):
    d.get(url)
    WebDriverWait(d, 30).until(lambda d: field(d, "simulation", "duration").get_attribute("value"))


def check_settings(d, url, wd, shot):
    load(d, url)
    shot("01_settings")
    tip = d.find_element(By.CSS_SELECTOR, "#row-simulation-duration .help").get_attribute("title")
    if "milliseconds" not in tip:
        fail("duration's tooltip is %r" % tip)
    type_into(d, "simulation", "duration", "77")
    d.find_element(By.ID, "save-settings").click()
    wait_text(d, "settings-status", "^saved")
    d.refresh()
    load(d, url)
    kept = field(d, "simulation", "duration").get_attribute("value")
    if kept != "77":
        fail("duration after reload is %r, not 77" % kept)
    with open(os.path.join(wd, ".snntb-gui.ini")) as f:
        ini = f.read()
    if not re.search(r"^duration = 77$", ini, re.M):
        fail("the settings file does not hold duration = 77:\n" + ini)
    print("duration 77 saved, kept after reload, and in .snntb-gui.ini")

    type_into(d, "simulation", "duration", "abc")
    WebDriverWait(d, 10).until(lambda d: "invalid" in d.find_element(
        By.ID, "row-simulation-duration").get_attribute("class"))
    err = d.find_element(By.CSS_SELECTOR, "#row-simulation-duration .err").text
    if "must be an integer" not in err:
        fail("invalid duration marked with %r" % err)
    d.find_element(By.ID, "save-settings").click()
    status = wait_text(d, "settings-status", "^not saved")
    shot("02_invalid_value")
    d.refresh()
    load(d, url)
    if field(d, "simulation", "duration").get_attribute("value") != "77":
        fail("the invalid duration replaced the saved one")
    print("invalid duration marked (%s) and refused (%s)" % (err, status))

    # The defaults name no model: the run fails, the page says why, and the
    # server keeps serving.
    d.find_element(By.ID, "tab-run").click()
    d.find_element(By.ID, "run-start").click()
    msg = wait_text(d, "run-error", "failed")
    if "filename_ann is not set" not in msg or d.find_element(By.ID, "run-state").text != "failed":
        fail("a run without a model shows %r" % msg)
    shot("03_failed_run")
    print("a run without a model is reported: %s" % msg)


def run_lenet(d, url, wd, model, data, shot):
    os.symlink(model, os.path.join(wd, "99.14.h5"))
    load(d, url)
    type_into(d, "paths", "dataset_path", data)
    type_into(d, "paths", "filename_ann", "99.14")
    type_into(d, "simulation", "duration", "200")
    type_into(d, "simulation", "num_to_test", "100")
    type_into(d, "simulation", "batch_size", "10")
    type_into(d, "output", "plot_vars", "{'all'}")
    d.find_element(By.ID, "tab-run").click()
    d.find_element(By.ID, "run-start").click()
    # The page shows the last run's end until this one has started.
    WebDriverWait(d, 120).until(
        lambda d: d.find_element(By.ID, "run-state").text.startswith("running")
        or "bad" in d.find_element(By.ID, "run-message").get_attribute("class"))
    if not d.find_element(By.ID, "run-state").text.startswith("running"):
        fail("the run did not start: " + d.find_element(By.ID, "run-message").text)
    seen, shot_taken, t0 = [], False, time.time()
    while time.time() - t0 < TIMEOUT:
        state = d.find_element(By.ID, "run-state").text
        row = (state, d.find_element(By.ID, "run-stage").text,
               d.find_element(By.ID, "run-count").text,
               d.find_element(By.ID, "run-accuracy").text)
        if not seen or seen[-1] != row:
            seen.append(row)
        if (state.startswith("running") and row[1] == "SNN" and not shot_taken
                and re.match(r"[1-9]\d* / 100", row[2])):
            shot("04_run_progress")
            shot_taken = True
        if state in ("done", "failed", "stopped"):
            break
        time.sleep(0.05)
    for row in seen:
        print("seen: state %-8s stage %-9s %-20s %s" % row)
    if seen[-1][0] != "done":
        fail("the run ended %r: %s" % (seen[-1][0], d.find_element(By.ID, "run-error").text))
    if not any(r[0] == "running" and re.match(r"\d+ / 100 samples", r[2]) for r in seen):
        fail("no progress was shown while running")
    shot("05_run_done")
    table = d.find_element(By.ID, "run-results-table").text
    m = re.search(r"SNN accuracy ([\d.]+) %", table)
    if not m:
        fail("no SNN accuracy in the results: %r" % table)
    with open(os.path.join(wd, "log/gui/test/results.json")) as f:
        res = json.load(f)
    want = "%.2f" % (100 * res["snn_top1"])
    if m.group(1) != want:
        fail("page shows SNN accuracy %s %%, results.json %s %%" % (m.group(1), want))
    if res["num_samples"] != 100 or res["snn_top1"] < 0.95:
        fail("LeNet on 100 samples: %r" % res)
    print("run done: SNN accuracy %s %% on the page and in results.json" % want)
    return want


def check_results(d, shot, snn_pct):
    d.find_element(By.ID, "tab-results").click()
    WebDriverWait(d, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#runrow-test .open-run"))
    row = d.find_element(By.ID, "runrow-test").text
    if "%s %%" % snn_pct not in row or " 100 " not in " %s " % row:
        fail("the past runs table shows %r, not 100 samples at %s %%" % (row, snn_pct))
    d.find_element(By.CSS_SELECTOR, "#runrow-test .open-run").click()
    WebDriverWait(d, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".layer-pick")) >= 2)
    picks = d.find_elements(By.CSS_SELECTOR, ".layer-pick")
    names = [p.get_attribute("value") for p in picks]
    # The first layer is shown; add a dense one.
    second = next(p for p in picks if "Dense" in p.get_attribute("value"))
    second.click()
    WebDriverWait(d, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#layer-columns .col")) == 2)
    WebDriverWait(d, 30).until(lambda d: d.execute_script(
        "return [...document.querySelectorAll('#layer-columns img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"))
    cols = d.find_elements(By.CSS_SELECTOR, "#layer-columns .col")
    shown = [(c.get_attribute("data-layer"), len(c.find_elements(By.TAG_NAME, "img"))) for c in cols]
    for layer, n in shown:
        if n != 4:
            fail("layer %s shows %d plots, not the 4 comparison plots" % (layer, n))
    d.set_window_size(1500, 2400)
    shot("06_results_two_layers")
    d.execute_script("window.scrollTo(0, 0)")
    shot("07_results_runs")
    print("results: run listed as %r; layers %s; shown side by side: %s" % (row, names, shown))


def main():
    ap = argparse.ArgumentParser()
    for a in ("cli", "shared", "browser", "driver", "wd", "shots"):
        ap.add_argument("--" + a, required=True)
    args = ap.parse_args()
    os.makedirs(args.shots, exist_ok=True)
    proc, url = start_server(args.cli, args.wd)
    d = browser(args.browser, args.driver, args.wd)

    def shot(name):
        path = os.path.join(args.shots, name + ".png")
        d.save_screenshot(path)
        print("screenshot " + path)

    try:
        check_settings(d, url, args.wd, shot)
        model = os.path.join(args.shared, "models/lenet5/keras/99.14.h5")
        data = os.path.join(args.shared, "data/mnist")
        if not (os.path.exists(model) and os.path.exists(os.path.join(data, "x_test.npz"))):
            print("skipping: the LeNet run needs %s and %s (settings checks passed)" % (model, data))
            return 77
        snn_pct = run_lenet(d, url, args.wd, model, data, shot)
        check_results(d, shot, snn_pct)
    finally:
        d.quit()
        proc.terminate()
        proc.wait(timeout=60)
    if proc.returncode != 0:
        fail("snntb gui exited with %d after SIGTERM: %s" % (proc.returncode, proc.stderr.read()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
