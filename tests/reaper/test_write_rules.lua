-- The boundary rule of daw_scripts/reaper/midifill_write.lua, case by case
-- at its edges (docs/reaper.md, Boundary rule): the range [a, b) is compared
-- with note starts in the take's ticks; a note starting at a is replaced, one
-- starting before a is kept even when it sounds into the range, one starting
-- at b is kept; new notes start inside and end by b; nothing else changes.
-- Needs no server: run by tests/test_reaper.py under lua5.4.
local H = dofile((os.getenv("MIDIFILL_REPO") or ".") .. "/tests/reaper/harness.lua")
local fake, check = H.fake, H.check
local W = dofile(H.repo .. "/daw_scripts/reaper/midifill_write.lua")

local PPQ = 960

-- notes of a take as "start-end:pitch/vel/chan" in ticks, sorted
local function notes_of(take)
  local out = {}
  for _, n in ipairs(take.notes) do
    out[#out + 1] = string.format("%d-%d:%d/%d/%d", n.s, n.e, n.pitch, n.vel, n.chan)
  end
  table.sort(out)
  return table.concat(out, " ")
end

local function with_take(build)
  H.project({ ppq = PPQ })
  local tr = fake.add_track("Bass", true)
  local _, take = fake.add_midi_item(tr, 0, 16, { ppq = PPQ })
  build(take)
  reaper.Undo_BeginBlock()
  return take
end

-- 1. The old notes: replaced from a on, kept before a and from b on.
do
  local take = with_take(function(t)
    fake.add_note(t, 3.5, 2.0, 40, 90, 2)   -- before a, sounding into the range: kept
    fake.add_note(t, 4.0, 0.5, 41, 90, 2)   -- at a: replaced
    fake.add_note(t, 7.75, 1.0, 42, 90, 2)  -- inside, sounding past b: replaced
    fake.add_note(t, 8.0, 0.5, 43, 90, 2)   -- at b: kept
    fake.add_note(t, 1.0, 0.5, 44, 90, 5)   -- far before: kept
  end)
  local n = W.write_range(take, 4, 8, 0, {}, false)
  check(n == 0, "nothing written, got %s", tostring(n))
  check(notes_of(take) == "3360-5280:40/90/2 7680-8160:43/90/2 960-1440:44/90/5",
        "old notes: %s", notes_of(take))
end

-- 2. New notes: inside [a, b), cut to end by b, on the take's most used
-- channel, velocity held to 1-127; a note outside the range (which the
-- contract never sends) or of no length is not written. A start at b within
-- the request's 6-decimal rounding is held inside, one tick before b.
do
  local take = with_take(function(t)
    fake.add_note(t, 0, 1, 50, 90, 3)
    fake.add_note(t, 1, 1, 51, 90, 3)
    fake.add_note(t, 2, 1, 52, 90, 6)
    fake.add_note(t, 12, 1, 53, 90, 3)
  end)
  local notes = {
    { 60, 4.0, 1.0, 100 },      -- at a
    { 61, 7.5, 2.0, 0 },        -- runs past b: cut at b; velocity 0 -> 1
    { 62, 5.0, 0.0, 90 },       -- no length: not written
    { 66, 5.0, 0.25, 300 },     -- velocity 300 -> 127
    { 63, 3.99, 1.0, 90 },      -- starts before a: not written
    { 64, 8.0, 1.0, 90 },       -- at b (rounding): held one tick before b
    { 67, 8.01, 1.0, 90 },      -- past b: not written
    { 65, 6.0004, 0.5, 90.6 },  -- rounds to the nearest tick and velocity
    { 200, 6.0, 1.0, 90 },      -- not a MIDI pitch: not written
  }
  local n = W.write_range(take, 4, 8, 0, notes, false)
  check(n == 5, "5 notes written, got %s", tostring(n))
  check(notes_of(take) == "0-960:50/90/3 11520-12480:53/90/3 1920-2880:52/90/6 " ..
        "3840-4800:60/100/3 4800-5040:66/127/3 5760-6240:65/91/3 7200-7680:61/1/3 " ..
        "7679-7680:64/90/3 960-1920:51/90/3", "new notes: %s", notes_of(take))
  check(#fake.project.violations == 0, "REAPER API misuse: %s",
        table.concat(fake.project.violations, "; "))
end

-- 3. The payload's origin: notes come in payload beats (project QN - origin).
do
  local take = with_take(function(t) fake.add_note(t, 9, 1, 50, 90, 0) end)
  local n = W.write_range(take, 8, 12, 8, { { 70, 0.0, 1.0, 90 }, { 71, 3.5, 1.0, 90 },
                                            { 72, 4.01, 1.0, 90 } }, false)
  check(n == 2, "2 notes written at the origin, got %s", tostring(n))
  check(notes_of(take) == "11040-11520:71/90/0 7680-8640:70/90/0", "origin: %s", notes_of(take))
end

-- 4. An empty drum take writes on channel 10, a pitched one on channel 1;
-- an empty range writes nothing.
do
  local take = with_take(function() end)
  W.write_range(take, 0, 4, 0, { { 36, 0.0, 0.25, 100 } }, true)
  check(notes_of(take) == "0-240:36/100/9", "drums: %s", notes_of(take))
  take = with_take(function() end)
  W.write_range(take, 0, 4, 0, { { 36, 0.0, 0.25, 100 } }, false)
  check(notes_of(take) == "0-240:36/100/0", "pitched: %s", notes_of(take))
  check(W.write_range(take, 4, 4, 0, { { 40, 4.0, 1.0, 90 } }, false) == 0, "empty range")
end

H.finish("test_write_rules")
