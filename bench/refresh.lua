-- wrk script: refresh token rotation, one fresh refresh token per request. The tokens in
-- REFRESH_FILE (one per line, at least one per connection) start the chains; each answer's new
-- refresh token goes back into the pool for the next request, so no token is used twice.
local pool = {}
for line in io.lines(os.getenv("REFRESH_FILE")) do pool[#pool + 1] = line end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
-- bench-client:bench-client-secret-with-plenty-of-entropy-0123456789
wrk.headers["Authorization"] = "Basic YmVuY2gtY2xpZW50OmJlbmNoLWNsaWVudC1zZWNyZXQtd2l0aC1wbGVudHktb2YtZW50cm9weS0wMTIzNDU2Nzg5"

request = function()
  local token = table.remove(pool)
  if token == nil then
    error("the refresh token pool ran dry: start with at least one token per connection")
  end
  return wrk.format(nil, nil, nil, "grant_type=refresh_token&refresh_token=" .. token)
end

local failures = 0
response = function(status, headers, body)
  local token = body:match('"refresh_token":"([^"]+)"')
  if status ~= 200 or token == nil then
    failures = failures + 1
    if failures == 1 then print("unexpected response: " .. status .. " " .. body) end
    return
  end
  pool[#pool + 1] = token
end

done = function(summary, latency, requests)
  io.write(string.format("p99_ms %.2f\n", latency:percentile(99) / 1000))
end
