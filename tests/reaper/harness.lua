-- Shared by the Lua test drivers: builds projects in the fake REAPER, runs
-- the real action scripts in it, and judges what they did.
--
-- Environment (set by tests/test_reaper.py):
--   MIDIFILL_CMD        the `midifill` command prefix the scripts call
--   MIDIFILL_PORT       port of a running `midifill serve`
--   MIDIFILL_DEAD_PORT  a port where nothing listens
--   MIDIFILL_REPO       repository root (default: the current directory)

local H = {}

H.repo = os.getenv("MIDIFILL_REPO") or "."
package.path = H.repo .. "/tests/reaper/?.lua;" .. package.path
H.fake = require("fake_reaper")
H.json = dofile(H.repo .. "/daw_scripts/reaper/midifill_json.lua")
H.script_dir = H.repo .. "/daw_scripts/reaper/"

local fake = H.fake
local real_exec = fake.reaper.ExecProcess
H.failures = 0
H.checks = 0

function H.check(cond, what, ...)
  H.checks = H.checks + 1
  if not cond then
    H.failures = H.failures + 1
    io.stderr:write("FAIL: " .. string.format(what, ...) .. "\n")
  end
  return cond
end

function H.finish(name)
  print(string.format("%s: %d checks, %d failures", name, H.checks, H.failures))
  os.exit(H.failures == 0 and 0 or 1)
end

-- A new project with the fake `reaper` installed and the settings that
-- point the scripts at the test server.
function H.project(opts)
  opts = opts or {}
  local P = fake.new_project(opts)
  _G.reaper = fake.reaper
  local settings = {
    command = os.getenv("MIDIFILL_CMD") or "midifill",
    port = opts.port or os.getenv("MIDIFILL_PORT") or "9000",
    timeout = opts.timeout or "20",
  }
  for k, v in pairs(opts.settings or {}) do settings[k] = v end
  for k, v in pairs(settings) do fake.reaper.SetExtState("midifill", k, tostring(v), true) end
  -- Keep every request the scripts send, read from the file named on the
  -- command line before the real command runs.
  -- The answers come back as they are: the last line of output that holds
  -- a JSON object, in P.responses (one per request).
  P.requests, P.responses = {}, {}
  fake.reaper.ExecProcess = function(cmd, timeout)
    local path = cmd:match('"([^"]*%-request%.json)"%s*$')
    local f = path and io.open(path, "rb")
    if f then
      P.requests[#P.requests + 1] = H.json.decode(f:read("a"))
      f:close()
    end
    local out = real_exec(cmd, timeout)
    local answer
    for line in ((out or "") .. "\n"):gmatch("([^\r\n]*)[\r\n]") do
      if line:match("^%s*{") then answer = H.json.decode(line) or answer end
    end
    P.responses[#P.responses + 1] = answer or false
    return out
  end
  return P
end

function H.run(action)
  dofile(H.script_dir .. "midifill - " .. action .. ".lua")
end

-- Notes of a take as sortable strings, for multiset comparisons.
local function note_key(n)
  return string.format("%d|%d|%d|%d|%d|%s|%s", n.s, n.e, n.chan, n.pitch, n.vel,
                       tostring(n.muted), tostring(n.sel))
end

function H.note_keys(notes, keep)
  local out = {}
  for _, n in ipairs(notes) do
    if not keep or keep(n) then out[#out + 1] = note_key(n) end
  end
  table.sort(out)
  return out
end

function H.same_list(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

-- Deep equality of two snapshots; returns true or the first differing path.
function H.deep_equal(a, b, path)
  path = path or "project"
  if type(a) ~= type(b) then return false, path end
  if type(a) ~= "table" then
    if a == b then return true end
    return false, path .. " (" .. tostring(a) .. " ~= " .. tostring(b) .. ")"
  end
  for k, v in pairs(a) do
    local ok, where = H.deep_equal(v, b[k], path .. "." .. tostring(k))
    if not ok then return false, where end
  end
  for k in pairs(b) do
    if a[k] == nil then return false, path .. "." .. tostring(k) .. " added" end
  end
  return true
end

-- The PPQ bounds of [a, b) in a take, as the writer computes them.
function H.ppq_range(take, a, b)
  local lo = math.floor(fake.reaper.MIDI_GetPPQPosFromProjQN(take, a) + 0.5)
  local hi = math.floor(fake.reaper.MIDI_GetPPQPosFromProjQN(take, b) + 0.5)
  return lo, hi
end

-- Checks the promises of one writing action on one take: notes outside
-- [lo, hi) unchanged, new notes inside, sorting restored, one undo block.
function H.check_write(label, before_notes, take, lo, hi)
  local outside = function(n) return n.s < lo or n.s >= hi end
  H.check(H.same_list(H.note_keys(before_notes, outside), H.note_keys(take.notes, outside)),
          "%s: notes outside the range changed", label)
  for _, n in ipairs(take.notes) do
    if not outside(n) then
      H.check(n.e <= hi and n.e > n.s, "%s: new note %d-%d leaves the range %d-%d",
              label, n.s, n.e, lo, hi)
    end
  end
  H.check(not take.sort_disabled, "%s: sorting left disabled", label)
end

function H.check_undo(label, P, expected_blocks)
  H.check(#P.undo_blocks == expected_blocks, "%s: %d undo blocks closed, expected %d",
          label, #P.undo_blocks, expected_blocks)
  H.check(P.undo_depth == 0, "%s: undo block left open", label)
  H.check(#P.violations == 0, "%s: %s", label, P.violations[1] or "")
end

function H.copy_notes(take)
  local out = {}
  for i, n in ipairs(take.notes) do
    out[i] = { s = n.s, e = n.e, chan = n.chan, pitch = n.pitch, vel = n.vel,
               muted = n.muted, sel = n.sel }
  end
  return out
end

return H
