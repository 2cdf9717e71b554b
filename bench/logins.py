"""Times interactive sign-ins against a running Tessera (see bench/logins): one user per TOTP
login, since each code is accepted once; codes computed here as an authenticator app would."""

import base64
import hashlib
import hmac
import json
import os
import re
import statistics
import struct
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

BASE, COUNT = sys.argv[1], int(sys.argv[2])
REALM = BASE + "/realms/bench"
CLIENT = ("bench-web", "bench-web-secret-with-plenty-of-entropy-0123456789")
REDIRECT = "http://127.0.0.1:9/cb"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def browser():
    return urllib.request.build_opener(
        NoRedirect, urllib.request.HTTPCookieProcessor(CookieJar())
    )


def call(opener, url, data=None, headers=None):
    """(status, location, body) without following redirects."""
    body = None if data is None else urllib.parse.urlencode(data).encode()
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with opener.open(request) as response:
            return response.status, None, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location"), error.read().decode()


def absolute(location):
    return location if location.startswith("http") else BASE + location


def field(page, name):
    return re.search(r'name="%s" value="([^"]*)"' % name, page).group(1)


def follow(opener, status, location, body):
    """Follows redirects within the server; stops at a page or the client's redirect URI."""
    while status in (302, 303) and not location.startswith(REDIRECT):
        status, location, body = call(opener, absolute(location))
    return status, location, body


def totp(secret, at):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = mac[-1] & 15
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return "%06d" % (value % 1_000_000)


def admin_token():
    opener = browser()
    status, _, body = call(
        opener,
        BASE + "/realms/master/connect/token",
        {"grant_type": "password", "client_id": "admin-cli",
         "username": "admin", "password": "bench-admin-password"},
    )
    assert status == 200, body
    return json.loads(body)["access_token"]


def admin(token, method, path, payload):
    request = urllib.request.Request(
        BASE + "/admin/api" + path,
        data=json.dumps(payload).encode(),
        method=method,
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read().decode())


def login(username, password, secret):
    opener = browser()
    verifier = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()
    ).rstrip(b"=").decode()
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": CLIENT[0], "redirect_uri": REDIRECT,
        "scope": "openid profile", "state": "s", "nonce": "n",
        "code_challenge": challenge, "code_challenge_method": "S256",
    })
    started = time.perf_counter()
    status, location, page = follow(opener, *call(opener, REALM + "/connect/authorize?" + query))
    status, location, page = follow(opener, *call(opener, REALM + "/login", {
        "csrf": field(page, "csrf"), "interaction": field(page, "interaction"),
        "username": username, "password": password,
    }))
    if secret is not None:
        assert 'name="code"' in page, page[:400]
        status, location, page = follow(opener, *call(opener, REALM + "/second-factor", {
            "csrf": field(page, "csrf"), "interaction": field(page, "interaction"),
            "code": totp(secret, time.time()),
        }))
    assert location and location.startswith(REDIRECT), (status, location, page[:400])
    code = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)["code"][0]
    auth = base64.b64encode(("%s:%s" % CLIENT).encode()).decode()
    status, _, body = call(opener, REALM + "/connect/token", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }, {"Authorization": "Basic " + auth})
    assert status == 200, body
    elapsed = time.perf_counter() - started
    claims = json.loads(base64.urlsafe_b64decode(
        json.loads(body)["id_token"].split(".")[1] + "=="))
    return elapsed, claims["acr"]


def report(name, times):
    times = sorted(t * 1000 for t in times)
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print("%-40s median %7.1f ms   p95 %7.1f ms   (%d logins)"
          % (name, statistics.median(times), p95, len(times)))
    print("BENCH %s median_ms=%.1f p95_ms=%.1f n=%d"
          % (name.split()[0], statistics.median(times), p95, len(times)))


token = admin_token()
secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
password_times, totp_times = [], []
for n in range(COUNT):
    for kind in ("pwd", "otp"):
        username = "%s-%d" % (kind, n)
        user = admin(token, "POST", "/realms/bench/users",
                     {"username": username, "password": "bench-password-%d" % n})
        if kind == "otp":
            admin(token, "POST", "/realms/bench/users/%s/credentials/totp" % user["id"],
                  {"secret": secret})
            elapsed, acr = login(username, "bench-password-%d" % n, secret)
            assert acr == "2", acr
            totp_times.append(elapsed)
        else:
            elapsed, acr = login(username, "bench-password-%d" % n, None)
            assert acr == "1", acr
            password_times.append(elapsed)

report("password login (code flow, 1 core)", password_times)
report("password+totp login (code flow, 1 core)", totp_times)
