-- wrk's script for bench/reservations.py --load-generator wrk: every request holds one unit
-- of a position drawn at random from those that had stock (RESERVE_INPUTS: a Lua file the
-- bench writes, returning each position's ReserveInput as JSON), under an idempotency key of
-- its own (RESERVE_RUN tells a warm-up's keys from the measured run's).
local inputs = dofile(os.getenv("RESERVE_INPUTS"))
local run = os.getenv("RESERVE_RUN") or "run"
local head = '{"query":"mutation($input: ReserveInput!, $key: String!) '
  .. '{ reserve(input: $input, idempotencyKey: $key) { id status } }",'
  .. '"variables":{"input":'

local threads = {}
local created = 0

function setup(thread)
  created = created + 1
  thread:set("number", created)
  table.insert(threads, thread)
end

function init(args)
  held, refused, other, sent = 0, 0, 0, 0
  math.randomseed(7 + number)
end

function request()
  sent = sent + 1
  local key = string.format("wrk-%s-%d-%d", run, number, sent)
  local body = head .. inputs[math.random(#inputs)] .. ',"key":"' .. key .. '"}}'
  return wrk.format("POST", nil, nil, body)
end

function response(status, headers, body)
  if status == 200 and body:find('"reserve":{', 1, true) then
    held = held + 1
  elseif body:find('"INSUFFICIENT_STOCK"', 1, true) then
    refused = refused + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local h, r, o = 0, 0, 0
  for _, thread in ipairs(threads) do
    h = h + thread:get("held")
    r = r + thread:get("refused")
    o = o + thread:get("other")
  end
  local errors = summary.errors
  io.write(string.format(
    "RESULT requests=%d micros=%d p50=%d p99=%d held=%d refused=%d other=%d errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    h, r, o, errors.connect + errors.read + errors.write + errors.status + errors.timeout
  ))
end
