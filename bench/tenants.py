"""Many realms on one server (see bench/run): creates COUNT realms through the admin API, each
with a client-credentials client whose secret the server generates, and issues one token in
each, so that every realm's settings, client, catalogue and keys have been loaded once. Four
callers at a time. Prints the creation latency and writes `client_id:secret` of the first and
the last realm to OUT (two lines), for the latency runs that follow.

    python3 bench/tenants.py BASE COUNT OUT
"""

import base64
import json
import statistics
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

BASE, COUNT, OUT = sys.argv[1], int(sys.argv[2]), sys.argv[3]
WORKERS = 4


class AdminToken:
    """The admin's access token, fetched again before it expires."""

    def __init__(self):
        self.lock = threading.Lock()
        self.value, self.until = None, 0.0

    def get(self):
        with self.lock:
            if time.monotonic() > self.until:
                body = post_form(BASE + "/realms/master/connect/token", {
                    "grant_type": "password", "client_id": "admin-cli",
                    "username": "admin", "password": "bench-admin-password",
                })
                self.value = body["access_token"]
                self.until = time.monotonic() + body["expires_in"] / 2
            return self.value


def post_form(url, fields, auth=None):
    request = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode())
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read().decode())


def admin(token, path, payload):
    request = urllib.request.Request(
        BASE + "/admin/api" + path,
        data=json.dumps(payload).encode(),
        headers={"Authorization": "Bearer " + token.get(), "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read().decode())


def tenant(token, i):
    """Creates realm org-i with a client, issues a token; returns (creation seconds, creds)."""
    name = "org-%d" % i
    started = time.perf_counter()
    admin(token, "/realms", {"name": name})
    created = time.perf_counter() - started
    client = admin(token, "/realms/%s/clients" % name, {
        "client_id": "svc", "grant_types": ["client_credentials"],
    })
    creds = "svc:" + client["client_secret"]
    answer = post_form(BASE + "/realms/%s/connect/token" % name,
                       {"grant_type": "client_credentials"}, auth=creds)
    assert answer.get("access_token"), answer
    return created, creds


def main():
    token = AdminToken()
    started = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(lambda i: tenant(token, i), range(1, COUNT + 1)))
    elapsed = time.perf_counter() - started
    created = sorted(r[0] for r in results)
    print("tenants %d in %.1f s (%.0f/s); creation p50 %.1f ms, p95 %.1f ms" % (
        COUNT, elapsed, COUNT / elapsed, 1000 * statistics.median(created),
        1000 * created[int(len(created) * 0.95)]))
    with open(OUT, "x") as out:
        out.write(results[0][1] + "\n" + results[-1][1] + "\n")


main()
