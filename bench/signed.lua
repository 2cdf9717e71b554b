-- wrk script: client-credentials requests that each use one pre-signed JWT from the file in
-- SIGNED_FILE (a line per request: both client assertions and DPoP proofs are single use).
-- SIGNED_KIND is `assertion` (private_key_jwt as the bench-key client) or `dpop`
-- (client_secret_basic as bench-client, with a DPoP proof).
local kind = os.getenv("SIGNED_KIND")
local lines = {}
for line in io.lines(os.getenv("SIGNED_FILE")) do lines[#lines + 1] = line end
local next_line = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
if kind == "dpop" then
  -- bench-client:bench-client-secret-with-plenty-of-entropy-0123456789
  wrk.headers["Authorization"] = "Basic YmVuY2gtY2xpZW50OmJlbmNoLWNsaWVudC1zZWNyZXQtd2l0aC1wbGVudHktb2YtZW50cm9weS0wMTIzNDU2Nzg5"
end

request = function()
  next_line = next_line % #lines + 1
  local jwt = lines[next_line]
  if kind == "dpop" then
    wrk.headers["DPoP"] = jwt
    return wrk.format(nil, nil, nil, "grant_type=client_credentials&scope=bench.read")
  end
  return wrk.format(nil, nil, nil,
    "grant_type=client_credentials&scope=bench.read&client_id=bench-key" ..
    "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer" ..
    "&client_assertion=" .. jwt)
end

local failures = 0
response = function(status, headers, body)
  if status ~= 200 then
    failures = failures + 1
    if failures == 1 then print("unexpected response: " .. status .. " " .. body) end
  end
end
