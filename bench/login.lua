-- wrk script: POST /api/auth/login continuously for one registered user (bench/run.py).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BENCH_LOGIN_BODY")
