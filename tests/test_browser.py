"""
A person's first minutes with the plugin, in a real headless Chromium against a live NetBox, a real
`netbox hedgehog_scheduler` process and the Kubernetes API stand-in serving the shared samples; and a fabric's
NetBox inventory as NetBox's own pages show it.

Run with `python -m pytest -m browser tests/test_browser.py`. Screenshots land in artifacts/screenshots/.
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection
from users.models import User

from .inventory_fixtures import run_sync
from .scheduler_harness import drop_job_table

REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO / 'artifacts' / 'screenshots'
STANDIN_FIXTURES = REPO / 'k8s_standin' / 'fixtures'
NETBOX = str(Path(sys.executable).with_name('netbox'))
CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
STANDIN_TOKEN = 'browser-test-standin-token'
PASSWORD = 'correct-horse-battery-staple-1'
# A cold Django process takes several seconds on a busy machine; a sync of the samples a few more.
DEADLINE = 60

pytestmark = pytest.mark.browser


class Process:
    """A child process whose output goes to a file, stopped in teardown whatever happened."""

    def __init__(self, name, argv, env, workdir):
        self.name = name
        self.log_path = Path(workdir) / f'{name}.log'
        with open(self.log_path, 'wb') as log:
            self.process = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO, start_new_session=True
            )

    @property
    def log(self):
        return self.log_path.read_text(errors='replace')

    def stop(self, timeout=30):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)


def child_env(**extra):
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED='1')
    env.setdefault('NETBOX_CONFIGURATION', 'devtools.netbox_configuration')
    env.update(extra)
    return env


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix='hedgehog-browser-') as path:
        yield path


@pytest.fixture
def standin(workdir):
    """The Kubernetes API stand-in on a free port; yields its URL once it prints it."""
    process = Process(
        'k8s-standin',
        [sys.executable, '-m', 'k8s_standin', '--host', '127.0.0.1', '--port', '0', '--token', STANDIN_TOKEN,
         '--crds', str(STANDIN_FIXTURES / 'crds'), '--objects', str(STANDIN_FIXTURES / 'samples')],
        child_env(),
        workdir,
    )
    try:
        url = wait_for(lambda: (match := re.search(r'https?://\S+', process.log)) and match.group(0).rstrip('/'),
                       'the stand-in to print its URL', process)
        yield url
    finally:
        process.stop()


@pytest.fixture
def start_scheduler(transactional_db, workdir):
    """Starts `netbox hedgehog_scheduler` against the test database on demand; stops it in teardown."""
    started = []

    def start(**extra_env):
        process = Process(
            f'scheduler-{len(started)}',
            [NETBOX, 'hedgehog_scheduler'],
            child_env(
                HEDGEHOG_DB_NAME=connection.settings_dict['NAME'],
                # Quick heartbeats so that the leader is up within a few seconds of starting.
                NETBOX_CONFIGURATION='tests.scheduler_configuration',
                HEDGEHOG_PLUGIN_CONFIG=json.dumps({
                    'scheduler_poll_interval': 2, 'scheduler_heartbeat_interval': 1,
                    'scheduler_shutdown_grace_period': 5,
                }),
                **extra_env,
            ),
            workdir,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
    drop_job_table()


@pytest.fixture
def browser(workdir):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync',
                 '--window-size=1440,1000', f'--user-data-dir={Path(workdir) / "chromium-profile"}'):
        options.add_argument(flag)
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL', 'performance': 'ALL'})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(DEADLINE)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(condition, message, process=None, timeout=DEADLINE):
    """Poll a condition until it holds; a child that exits ends the wait, and its log explains the failure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        if process is not None and process.process.poll() is not None:
            break
        time.sleep(0.1)
    log = f'\n--- {process.name} log ---\n{process.log[-4000:]}' if process else ''
    raise AssertionError(f'Timed out waiting for {message}{log}')


class Page:
    """The browser, with the checks every page must pass: no console errors and no failed static files."""

    def __init__(self, driver, base_url):
        self.driver = driver
        self.base_url = base_url

    def open(self, path):
        self.driver.get(self.base_url + path)
        self.assert_clean()

    def wait(self, condition, message):
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait

        # HTMX swaps the live parts of the page every few seconds: an element found just before a swap goes stale.
        return WebDriverWait(
            self.driver, DEADLINE, poll_frequency=0.25, ignored_exceptions=(StaleElementReferenceException,)
        ).until(condition, message)

    def text(self, css):
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.by import By

        try:
            return self.driver.find_element(By.CSS_SELECTOR, css).text
        except StaleElementReferenceException:  # swapped by HTMX between finding and reading: read the new one
            return self.driver.find_element(By.CSS_SELECTOR, css).text

    def has(self, css):
        from selenium.webdriver.common.by import By

        return bool(self.driver.find_elements(By.CSS_SELECTOR, css))

    def assert_clean(self):
        errors = [entry for entry in self.driver.get_log('browser') if entry['level'] == 'SEVERE']
        assert not errors, f'browser console errors on {self.driver.current_url}: {errors}'
        # Only what NetBox itself serves counts: the closed network refuses any outside host by design.
        urls, failed = {}, []
        for entry in self.driver.get_log('performance'):
            message = json.loads(entry['message'])['message']
            params = message['params']
            if message['method'] == 'Network.requestWillBeSent':
                urls[params['requestId']] = params['request']['url']
            elif message['method'] == 'Network.responseReceived':
                response = params['response']
                if response['url'].startswith(self.base_url) and response['status'] >= 400:
                    failed.append((response['url'], response['status']))
            elif message['method'] == 'Network.loadingFailed' and not params.get('canceled'):
                url = urls.get(params['requestId'], '')
                if url.startswith(self.base_url):
                    failed.append((url, params.get('errorText')))
        assert not failed, f'failed requests on {self.driver.current_url}: {failed}'

    def screenshot(self, name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(SCREENSHOTS / f'{name}.png'))


def run_rows(page):
    from selenium.webdriver.common.by import By

    return page.driver.find_elements(By.CSS_SELECTOR, '#sync-runs tbody tr')


def log_in(page, username):
    from selenium.webdriver.common.by import By

    User.objects.create_user(username=username, password=PASSWORD, is_superuser=True)
    page.open('/login/')
    page.driver.find_element(By.ID, 'id_username').send_keys(username)
    page.driver.find_element(By.ID, 'id_password').send_keys(PASSWORD)
    page.driver.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    page.wait(lambda d: '/login/' not in d.current_url, 'the login to complete')


def create_fabric(page, server, token):
    """Fill in the fabric form as a person would; returns the new fabric's URL."""
    from selenium.webdriver.common.by import By

    driver = page.driver
    page.open('/plugins/hedgehog/fabrics/add/')
    driver.find_element(By.ID, 'id_name').send_keys('browser-fabric')
    driver.find_element(By.ID, 'id_kubernetes_server').send_keys(server)
    driver.find_element(By.ID, 'id_kubernetes_token').send_keys(token)
    if server.startswith('https://'):
        checkbox = driver.find_element(By.ID, 'id_kubernetes_skip_tls_verify')
        # The form's sticky footer covers the lower part of the window.
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", checkbox)
        checkbox.click()
    interval = driver.find_element(By.ID, 'id_sync_interval')
    interval.clear()
    interval.send_keys('300')
    driver.find_element(By.CSS_SELECTOR, 'button[name="_create"], form button[type="submit"].btn-primary').click()
    page.wait(lambda d: re.search(r'/fabrics/\d+/$', d.current_url), 'the new fabric page')
    page.assert_clean()
    assert token not in driver.page_source
    return driver.current_url


def follow_sync_and_sync_now(page, start_scheduler, **scheduler_env):
    """
    Never synced, no scheduler, banner shown; the scheduler starts and the page follows the fabric to "in sync" on
    its own (HTMX), then Sync now adds a run. Returns the running scheduler.
    """
    from selenium.webdriver.common.by import By

    assert 'Never synced' in page.text('#sync-status')
    assert 'scheduler is not running' in page.text('#hedgehog-scheduler-banner')
    page.driver.execute_script('window.hedgehogNotReloaded = true;')
    scheduler = start_scheduler(**scheduler_env)
    page.wait(lambda d: 'In sync' in page.text('#sync-status'), 'the fabric to reach "In sync"')
    page.wait(lambda d: len(run_rows(page)) == 1, 'the first run in the run history')
    assert page.driver.execute_script('return window.hedgehogNotReloaded === true;'), 'the page was reloaded'
    page.assert_clean()
    page.screenshot('fabric-detail')

    page.driver.find_element(By.ID, 'sync-now-button').click()
    page.wait(lambda d: 'queued; the scheduler will start it within a few seconds' in d.page_source,
              'the queued message')
    # The new run shows up while it runs; the fabric is back in sync once it has finished.
    page.wait(
        lambda d: len(run_rows(page)) == 2 and 'Running' not in run_rows(page)[0].text
        and 'In sync' in page.text('#sync-status'),
        'a second, finished run in the run history',
    )
    assert 'Manual' in run_rows(page)[0].text
    page.assert_clean()

    page.open('/plugins/hedgehog/fabrics/')
    assert 'browser-fabric' in page.text('table')
    assert 'In sync' in page.text('table')
    page.screenshot('fabric-list')
    return scheduler


def stop_scheduler_and_see_banner(page, scheduler, fabric_url):
    scheduler.stop()
    assert scheduler.process.returncode == 0, scheduler.log[-4000:]
    page.open(fabric_url.removeprefix(page.base_url))
    page.wait(lambda d: page.has('#hedgehog-scheduler-banner'), 'the scheduler banner')
    banner = page.text('#hedgehog-scheduler-banner')
    assert 'The Hedgehog scheduler is not running, so periodic sync has been stopped since' in banner
    assert 'netbox hedgehog_scheduler' in banner
    page.assert_clean()


@pytest.mark.django_db(transaction=True)
def test_sync_state_follows_the_scheduler(live_server, browser, start_scheduler):
    """The UI and the real scheduler process, with the mirroring step stubbed (tests.sync_stub): no cluster needed."""
    page = Page(browser, live_server.url)
    log_in(page, 'netops')
    fabric_url = create_fabric(page, 'https://fabric.invalid:6443', 'stub-token-never-shown')
    scheduler = follow_sync_and_sync_now(page, start_scheduler, HEDGEHOG_SYNC_STUB='1')
    page.open('/plugins/hedgehog/scheduler/')
    assert 'browser-fabric' in page.text('#scheduler-jobs')
    stop_scheduler_and_see_banner(page, scheduler, fabric_url)


@pytest.mark.django_db(transaction=True)
def test_first_minutes_with_a_fabric(live_server, browser, standin, start_scheduler):
    """The whole path: a fabric on the Kubernetes API stand-in, synced for real, and a mirrored switch."""
    from selenium.webdriver.common.by import By

    page = Page(browser, live_server.url)
    log_in(page, 'netops')
    fabric_url = create_fabric(page, standin, STANDIN_TOKEN)
    scheduler = follow_sync_and_sync_now(page, start_scheduler)

    page.open('/plugins/hedgehog/switches/')
    browser.find_element(By.CSS_SELECTOR, 'table tbody tr td a[href*="/switches/"]').click()
    page.wait(lambda d: re.search(r'/switches/\d+/$', d.current_url), 'a switch page')
    page.assert_clean()
    assert page.has('#spec-yaml')
    page.screenshot('switch-detail')

    stop_scheduler_and_see_banner(page, scheduler, fabric_url)


@pytest.mark.django_db(transaction=True)
def test_a_synced_switch_device_page_and_a_cable_trace(live_server, browser, inventory_standin, make_fabric, site,
                                                       trace_stylesheet):
    """A fabric's inventory, built by a real sync: a switch's Device page with its Hedgehog panel, and a trace."""
    from dcim.models import Device, Interface
    from selenium.webdriver.common.by import By

    fabric = make_fabric(inventory_standin, name='browser-fabric', inventory_sync=True, inventory_site=site)
    run_sync(fabric)
    page = Page(browser, live_server.url)
    log_in(page, 'netops')

    leaf = Device.objects.get(name='ds3000-03')
    page.open(leaf.get_absolute_url())
    panel = page.text('#hedgehog-device')
    assert 'browser-fabric' in panel and 'ds3000-03' in panel and 'Agent health' in panel
    switch_link = browser.find_element(By.CSS_SELECTOR, '#hedgehog-device a[href*="/plugins/hedgehog/switches/"]')
    assert switch_link.text == 'ds3000-03'
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", switch_link)
    page.screenshot('device-hedgehog-panel')

    # The leaf port server-7 is cabled to: its Trace button, and NetBox's trace reaching the server's NIC.
    leaf_port = Interface.objects.get(device=leaf, name='E1/1/1')
    page.open(leaf_port.get_absolute_url())
    browser.find_element(By.CSS_SELECTOR, 'a[title="Trace"]').click()
    page.wait(lambda d: d.current_url.endswith(f'/dcim/interfaces/{leaf_port.pk}/trace/'), 'the trace page')
    assert 'Trace Completed' in page.text('.trace-end')
    drawing = page.wait(
        lambda d: d.execute_script(
            "const svg = document.querySelector('object.rack_elevation');"
            "return svg && svg.contentDocument && svg.contentDocument.documentElement.textContent;"
        ),
        'the trace drawing',
    )
    for name in ('ds3000-03', 'E1/1/1', 'server-7--unbundled--ds3000-03', 'server-7', 'enp2s1'):
        assert name in drawing
    page.assert_clean()
    page.screenshot('cable-trace')
