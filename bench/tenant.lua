-- wrk script: client-credentials token requests; the client's Basic credentials come from
-- the command line (-H "Authorization: Basic ..."), so one script serves every realm.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=client_credentials"

local failures = 0
response = function(status, headers, body)
  if status ~= 200 then
    failures = failures + 1
    if failures == 1 then print("unexpected response: " .. status .. " " .. body) end
  end
end
