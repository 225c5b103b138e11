-- Property test of the midifill ReaScripts over random projects, run by
-- tests/test_reaper.py under lua5.4 against a real `midifill serve`.
--
-- For every random clip and selection: every note outside the target range
-- is unchanged, every new note lies inside it, nothing else in the project
-- changes, exactly one undo block is opened and closed, sorting is restored;
-- with the server stopped (or the command missing) the project is unchanged
-- and no undo block is opened.
--
-- MIDIFILL_SEED, MIDIFILL_CASES (live), MIDIFILL_DEAD_CASES (server stopped)
-- and MIDIFILL_NOCMD_CASES (command missing) size the run.
local H = dofile((os.getenv("MIDIFILL_REPO") or ".") .. "/tests/reaper/harness.lua")
local fake, check = H.fake, H.check

local seed = tonumber(os.getenv("MIDIFILL_SEED")) or os.time()
math.randomseed(seed)
print("seed " .. seed)

local R = math.random
local function pick(list) return list[R(1, #list)] end

local SIGS = { { 4, 4 }, { 3, 4 }, { 6, 8 }, { 7, 8 }, { 2, 4 }, { 5, 4 } }

-- A tempo map with up to two tempo changes and up to two time signature
-- changes (on bar lines).
local function random_markers()
  local s0 = pick(SIGS)
  local markers = { { qn = 0, bpm = R(60, 180) + 0.0, num = s0[1], den = s0[2] } }
  local qn, sig = 0, s0
  for _ = 1, R(0, 2) do
    qn = qn + R(1, 6) * sig[1] * 4 / sig[2]
    sig = pick(SIGS)
    markers[#markers + 1] = { qn = qn, num = sig[1], den = sig[2] }
  end
  for _ = 1, R(0, 2) do markers[#markers + 1] = { qn = R(1, 160) / 4, bpm = R(50, 200) + 0.5 } end
  table.sort(markers, function(a, b) return a.qn < b.qn end)
  local merged = {}
  for _, m in ipairs(markers) do
    local last = merged[#merged]
    if last and math.abs(last.qn - m.qn) < 1e-9 then
      last.bpm = m.bpm or last.bpm
      if m.num then last.num, last.den = m.num, m.den end
    else
      merged[#merged + 1] = m
    end
  end
  for i, m in ipairs(merged) do m.bpm = m.bpm or merged[i - 1].bpm end
  return merged
end

local function random_take_notes(take, start_qn, len_qn, drum)
  for _ = 1, R(0, 30) do
    local ticks = R(0, math.floor(len_qn * take.ppq) - 1)
    local dur = R(1, 3 * take.ppq) / take.ppq
    fake.add_note(take, start_qn + ticks / take.ppq, dur, drum and R(35, 50) or R(30, 90),
                  R(1, 127), drum and 9 or R(0, 1))
  end
  fake.sort_notes(take)
end

-- A random project; returns it with the target item and its expected range.
local function random_case(action, opts)
  local P = H.project({ ppq = pick({ 960, 480, 96, 1000, 384 }), markers = random_markers(),
                        port = opts.port, timeout = opts.timeout,
                        settings = { variations = 2, command = opts.command } })
  local items = {}
  for ti = 1, R(1, 4) do
    local drum = R() < 0.25
    local tr = fake.add_track(drum and "Drums" or ("Part " .. ti))
    local qn = R(0, 12) / 2
    for _ = 1, R(1, 2) do
      local len = R(4, 32) / 2
      local item, take = fake.add_midi_item(tr, qn, len, { ppq = pick({ 960, 480, 96, 240 }) })
      random_take_notes(take, qn, len, drum)
      if R() < 0.3 then fake.add_program_change(take, qn, R(0, 127)) end
      items[#items + 1] = { item = item, a = qn, b = qn + len }
      qn = qn + len + R(0, 8) / 2
    end
  end
  local target = pick(items)
  target.item.selected = true
  local a, b
  if action == "Continue" then
    a = target.a + R(0, math.floor((target.b - target.a) * 4)) / 4
    b = a + R(2, 24) / 4
  elseif R() < 0.8 then
    -- may start before the item (and before the project start, clamped to 0
    -- as REAPER does), but always ends after it starts
    a = math.max(0, target.a + R(-8, math.floor((target.b - target.a) * 4)) / 4)
    b = a + R(2, 32) / 4
  end
  if a then fake.set_time_selection_qn(math.max(0, a), b); a = math.max(0, a) end
  if action ~= "Continue" then
    if a then a, b = math.max(a, target.a), math.min(b, target.b) else a, b = target.a, target.b end
  end
  return P, target, a, b
end

local function locate(item)
  for ti, tr in ipairs(fake.project.tracks) do
    for ii, it in ipairs(tr.items) do if it == item then return ti, ii end end
  end
end

-- Continue refuses to lengthen an item over another item of its track (both
-- would sound): true when [a, b) needs that.
local function continue_blocked(action, target, a, b)
  if action ~= "Continue" or b <= target.b + 1e-6 then return false end
  local lo, hi = math.min(a, target.a), math.max(b, target.b)
  for _, other in ipairs(target.item.track.items) do
    local oa = fake.time_to_qn(other.pos)
    local ob = fake.time_to_qn(other.pos + other.len)
    if other ~= target.item and oa < hi - 1e-6 and ob > lo + 1e-6 then return true end
  end
  return false
end

local live = { runs = 0, refused = 0, written = 0 }

local function live_case(n)
  local action = pick({ "Fill", "Fill", "Fill", "Variations", "Continue" })
  local P, target, a, b = random_case(action, {})
  local item = target.item
  local take = item.takes[item.active]
  local original = H.copy_notes(take)
  local before = fake.snapshot()
  H.run(action)
  local label = string.format("case %d (%s %.2f-%.2f)", n, action, a, b)
  live.runs = live.runs + 1
  if #P.messages > 0 then
    live.refused = live.refused + 1
    check(b - a <= 1e-9 or continue_blocked(action, target, a, b), "%s: refused: %s", label, P.messages[1].msg)
    local same, where = H.deep_equal(before, fake.snapshot())
    check(same, "%s: refused but changed %s", label, where or "")
    check(P.undo_open == 0, "%s: refused but opened an undo block", label)
    return
  end
  H.check_undo(label, P, 1)
  local lo, hi = H.ppq_range(take, a, b)
  local after = fake.snapshot()
  local ti, ii = locate(item)
  if action == "Variations" then
    check(H.same_list(H.note_keys(original), H.note_keys(take.notes)), "%s: original take changed", label)
    check(#item.takes == 3, "%s: %d takes", label, #item.takes)
    for _, tk in ipairs(item.takes) do
      if tk ~= take then
        H.check_write(label, original, tk, lo, hi)
        for _, nt in ipairs(tk.notes) do if nt.s >= lo and nt.s < hi then live.written = live.written + 1 end end
      end
    end
    before.tracks[ti].items[ii], after.tracks[ti].items[ii] = nil, nil
  else
    H.check_write(label, original, take, lo, hi)
    for _, nt in ipairs(take.notes) do if nt.s >= lo and nt.s < hi then live.written = live.written + 1 end end
    local bi, ai = before.tracks[ti].items[ii], after.tracks[ti].items[ii]
    bi.takes[item.active].notes, ai.takes[item.active].notes = nil, nil
    if action == "Continue" then
      check(math.abs(fake.time_to_qn(item.pos + item.len) - math.max(b, target.b)) < 1e-6,
            "%s: item not extended to cover the range", label)
      bi.len, ai.len = nil, nil
      for k in ipairs(bi.takes) do bi.takes[k].source_len, ai.takes[k].source_len = nil, nil end
    end
  end
  local same, where = H.deep_equal(before, after)
  check(same, "%s: something else changed: %s", label, where or "")
end

local function failing_case(n, opts, expect)
  local action = pick({ "Fill", "Variations", "Continue" })
  local P, target, a, b = random_case(action, opts)
  -- a selection beside the item is refused before any call, also untouched
  if b and b - a <= 1e-9 then expect = "does not overlap" end
  if continue_blocked(action, target, a, b) then expect = "already plays" end
  local before = fake.snapshot()
  H.run(action)
  local label = string.format("failing case %d (%s)", n, action)
  local same, where = H.deep_equal(before, fake.snapshot())
  check(same, "%s: project changed at %s", label, where or "")
  check(P.undo_open == 0 and #P.violations == 0, "%s: undo block opened or edit made", label)
  local msg = P.messages[1] and P.messages[1].msg or ""
  check(msg:find(expect, 1, true), "%s: message %q lacks %q", label, msg, expect)
end

local t0 = os.clock()
for n = 1, tonumber(os.getenv("MIDIFILL_CASES")) or 40 do live_case(n) end
for n = 1, tonumber(os.getenv("MIDIFILL_DEAD_CASES")) or 15 do
  failing_case(n, { port = os.getenv("MIDIFILL_DEAD_PORT"), timeout = "0.3" }, "midifill serve --port")
end
for n = 1, tonumber(os.getenv("MIDIFILL_NOCMD_CASES")) or 200 do
  failing_case(n, { command = "/nonexistent/dir/midifill" }, "midifill - Settings")
end
check(live.written > 0, "no live case wrote a note")
print(string.format("live runs %d, refused %d, notes written %d, lua cpu %.1fs",
                    live.runs, live.refused, live.written, os.clock() - t0))
H.finish("test_property")
