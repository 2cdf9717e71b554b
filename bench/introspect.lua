-- wrk script: introspection of one access token (TOKEN is set by bench/run).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic YmVuY2gtY2xpZW50OmJlbmNoLWNsaWVudC1zZWNyZXQtd2l0aC1wbGVudHktb2YtZW50cm9weS0wMTIzNDU2Nzg5"
wrk.body = "token=" .. os.getenv("TOKEN")
