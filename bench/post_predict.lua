-- wrk script: POST one binary PBRequest (predict.proto) on kept-alive connections.
-- BENCH_BODY: path of the serialized request (bench/run.py writes it); BENCH_PATH: URL path.
local path = os.getenv("BENCH_BODY")
if path == nil then error("BENCH_BODY is not set") end
local f = assert(io.open(path, "rb"))
local body = f:read("*all")
f:close()

wrk.method = "POST"
wrk.path = os.getenv("BENCH_PATH") or "/api/predict/bench"
wrk.body = body
wrk.headers["Content-Type"] = "application/x-protobuf"
wrk.headers["Connection"] = "keep-alive"
