"""
Listing benchmark: `python -m bench.listing_bench` (environment as for the tests, see README.md; no database).

Serves the synthetic fabric of bench.sync_bench (12,597 mirrored objects) from the Kubernetes API stand-in in a
process of its own and lists every mirrored kind, page by page, as a sync does. Measures, over --repeat rounds
each (the median for what waits on the network; the fastest round for decoding, which only computes, because on a
shared machine the fastest round is the one least disturbed by other processes):

1. the listing through the plugin's client (netbox_hedgehog.kube.client: deadline, byte cap, orjson);
2. the stand-in's share: the same pages fetched over one keep-alive connection and not decoded;
3. decoding the same pages as the client does (orjson), and, as the baseline, with the standard json module;
4. the same listing as the client did before (the kubernetes client's generated method, then json.loads).

Prints a table of numbers and PASS/FAIL against the targets; exits 1 if any target fails.
"""

import argparse
import http.client
import json
import os
import re
import statistics
import sys
import time
from urllib.parse import quote, urlsplit

from bench.sync_bench import TOKEN, Standin

TARGET_LISTING_SECONDS = 0.5
# A real API server answers such a list from its cache in well under a second; the stand-in must not be what a
# listing measures.
TARGET_STANDIN_SECONDS = 0.1
CONTINUE = re.compile(rb'"continue":"([^"]*)"')

os.environ.setdefault('NETBOX_CONFIGURATION', 'devtools.netbox_configuration')
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'netbox.settings')


def timed(function, repeat, summary=statistics.median):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return summary(times), result


def list_with_the_client(settings, page_size):
    from netbox_hedgehog.kube.client import fabric_api
    from netbox_hedgehog.sync.listing import list_kinds

    with fabric_api(None, settings) as api:
        listings, error = list_kinds(api, 'default', page_size)
    if error:
        raise RuntimeError(error)
    return sum(len(listing.items) for listing in listings)


def list_as_before(settings, page_size):
    """The previous client path: the generated (pydantic-validated) method, the body read whole, json.loads."""
    from kubernetes import client as k8s

    from netbox_hedgehog.kinds import KINDS

    configuration = k8s.Configuration()
    configuration.host = settings.server
    configuration.retries = False
    configuration.api_key = {'authorization': settings.token}
    configuration.api_key_prefix = {'authorization': 'Bearer'}
    total = 0
    with k8s.ApiClient(configuration) as api_client:
        api = k8s.CustomObjectsApi(api_client)
        for info in KINDS:
            token = None
            while True:
                response = api.list_namespaced_custom_object(
                    info.group, info.version, 'default', info.plural, limit=page_size, _continue=token,
                    _preload_content=False, _request_timeout=(5, 30),
                )
                body = json.loads(response.data)
                response.release_conn()
                total += len(body['items'])
                token = body['metadata'].get('continue')
                if not token:
                    break
    return total


def fetch_raw_pages(url, page_size):
    """Every page's bytes over one keep-alive connection, decoding none of them."""
    from netbox_hedgehog.kinds import KINDS

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    pages = []
    try:
        for info in KINDS:
            token = None
            while True:
                query = f'limit={page_size}' + (f'&continue={quote(token)}' if token else '')
                connection.request(
                    'GET', f'/apis/{info.group}/{info.version}/namespaces/default/{info.plural}?{query}',
                    headers={'Authorization': f'Bearer {TOKEN}', 'Accept': 'application/json'},
                )
                body = connection.getresponse().read()
                pages.append(body)
                # The stand-in writes metadata before items: the token is read without decoding the page.
                token = CONTINUE.search(body, 0, 4096)
                token = token and token.group(1).decode()
                if not token:
                    break
    finally:
        connection.close()
    return pages


def verdict(ok):
    return 'PASS' if ok else 'FAIL'


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m bench.listing_bench', description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', default='switches=200,connections=4000,vpcs=2000,attachments=4000',
                        help='synthetic fabric sizes, as the stand-in takes them')
    parser.add_argument('--page-size', type=int, default=500)
    parser.add_argument('--repeat', type=int, default=9, help='rounds per measure')
    args = parser.parse_args(argv)

    import django

    django.setup()
    from netbox_hedgehog.kube.client import ConnectionSettings

    standin = Standin(args.sizes)
    try:
        settings = ConnectionSettings(server=standin.url, token=TOKEN)
        list_with_the_client(settings, args.page_size)  # warm up: the stand-in builds its list snapshots
        client_seconds, objects = timed(lambda: list_with_the_client(settings, args.page_size), args.repeat)
        raw_seconds, pages = timed(lambda: fetch_raw_pages(standin.url, args.page_size), args.repeat)
        baseline_seconds, baseline_objects = timed(
            lambda: list_as_before(settings, args.page_size), args.repeat
        )
    finally:
        standin.stop()
    from netbox_hedgehog.kube.decode import decode_list

    decode_seconds, _ = timed(lambda: [decode_list(page) for page in pages], args.repeat, min)
    json_seconds, _ = timed(lambda: [json.loads(page) for page in pages], args.repeat, min)
    if baseline_objects != objects:
        raise RuntimeError(f'the baseline listed {baseline_objects} objects, the client {objects}')

    megabytes = sum(len(page) for page in pages) / 1e6
    decode_speedup = json_seconds / decode_seconds
    rows = [
        ('objects listed', f'{objects}', '', ''),
        ('pages / bytes', f'{len(pages)} / {megabytes:.1f} MB', '', ''),
        ('listing through the client', f'{client_seconds:.3f} s', f'<= {TARGET_LISTING_SECONDS} s',
         verdict(client_seconds <= TARGET_LISTING_SECONDS)),
        ("  the stand-in's share (raw pages, not decoded)", f'{raw_seconds:.3f} s', f'<= {TARGET_STANDIN_SECONDS} s',
         verdict(raw_seconds <= TARGET_STANDIN_SECONDS)),
        ('  decoding as the client does', f'{decode_seconds:.3f} s', '', ''),
        ('baseline: decoding with the json module', f'{json_seconds:.3f} s', '', ''),
        ('  speedup of decoding', f'{decode_speedup:.1f}x', '', ''),
        ('baseline: previous client path (generated method, json)', f'{baseline_seconds:.3f} s', '', ''),
        ('  speedup of the listing', f'{baseline_seconds / client_seconds:.1f}x', '', ''),
    ]
    width = max(len(row[0]) for row in rows)
    print()
    print(f'{"measure":<{width}}  {"value":>16}  {"target":>10}  result')
    for name, value, target, result in rows:
        print(f'{name:<{width}}  {value:>16}  {target:>10}  {result}')
    failed = [row[0] for row in rows if row[3] == 'FAIL']
    print()
    print('FAIL: ' + ', '.join(failed) if failed else 'PASS: every target met')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
