-- wrk script: the password grant (one argon2id verification per request) as bench-client.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
-- bench-client:bench-client-secret-with-plenty-of-entropy-0123456789
wrk.headers["Authorization"] = "Basic YmVuY2gtY2xpZW50OmJlbmNoLWNsaWVudC1zZWNyZXQtd2l0aC1wbGVudHktb2YtZW50cm9weS0wMTIzNDU2Nzg5"
wrk.body = "grant_type=password&username=bench-user&password=bench-user-password-0123&scope=bench.read"

local failures = 0
response = function(status, headers, body)
  if status ~= 200 then
    failures = failures + 1
    if failures == 1 then print("unexpected response: " .. status .. " " .. body) end
  end
end
