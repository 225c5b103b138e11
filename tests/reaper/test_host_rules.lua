-- The ReaScripts against what REAPER does that the plain cases do not show:
-- items that loop their source, drum items filled whole, muted items and
-- tracks, Continue next to another item, a project whose measures are
-- numbered from an offset. Run by tests/test_reaper.py under lua5.4 against
-- a real `midifill serve`.
local H = dofile((os.getenv("MIDIFILL_REPO") or ".") .. "/tests/reaper/harness.lua")
local fake, json, check = H.fake, H.json, H.check

local function near(a, b) return math.abs(a - b) < 1e-6 end
local function msg(P) return P.messages[1] and P.messages[1].msg or "" end

local function track_by_name(req, name)
  for _, t in ipairs(req and req.tracks or {}) do if t.name == name then return t end end
end

local function starts(track)
  local out = {}
  for _, n in ipairs(track and track.notes or {}) do out[#out + 1] = n[2] end
  table.sort(out)
  return table.concat(out, ",")
end

-- Runs an action that must refuse: the project is unchanged, no undo block,
-- no request sent, and the message contains every `expect`.
local function refused(label, P, action, ...)
  local snap = fake.snapshot()
  H.run(action)
  local same, where = H.deep_equal(snap, fake.snapshot())
  check(same, "%s: project changed at %s", label, where or "")
  check(#P.undo_blocks == 0 and P.undo_open == 0, "%s: an undo block was opened", label)
  check(#P.requests == 0, "%s: a request was sent", label)
  for _, expect in ipairs({ ... }) do
    check(msg(P):find(expect, 1, true), "%s: message %q lacks %q", label, msg(P), expect)
  end
end

-- 1. Looped items (R1). A drum item of 24 QN at QN 8 over an 8-QN looped
-- source: the context shows every pass, and not the note past the source end.
do
  local P = H.project({ ppq = 960 })
  local bass = fake.add_track("Bass")
  local drums = fake.add_track("Loop [drums]")
  local _, bt = fake.add_midi_item(bass, 0, 32, { selected = true })
  for q = 0, 31, 2 do fake.add_note(bt, q, 1, 40, 90) end
  local _, dt = fake.add_midi_item(drums, 8, 24, { loop = true, source_len = 8 })
  for q = 8, 14, 2 do fake.add_note(dt, q, 0.5, 36, 100, 9) end
  fake.add_note(dt, 18, 0.5, 38, 100, 9) -- past the source's end: REAPER never plays it
  fake.sort_notes(bt); fake.sort_notes(dt)
  fake.set_time_selection_qn(16, 20)
  H.run("Fill")
  check(msg(P) == "", "looped context: message %s", msg(P))
  local d = track_by_name(P.requests[1], "Loop [drums]")
  check(starts(d) == "8.0,10.0,12.0,14.0,16.0,18.0,20.0,22.0,24.0,26.0,28.0,30.0"
        or starts(d) == "8,10,12,14,16,18,20,22,24,26,28,30",
        "looped context: drum starts %s", starts(d))
  for _, n in ipairs(d and d.notes or {}) do check(n[1] == 36, "looped context: unplayed note %d sent", n[1]) end
end

-- The same item as the target: writing the source would change every pass,
-- and most of a selection over later passes would land past the source end.
for _, case in ipairs({ { "Fill", 4, 32 }, { "Fill", 8, 12 }, { "Variations", 8, 12 }, { "Continue", 24, 28 } }) do
  local action, a, b = case[1], case[2], case[3]
  local P = H.project({ ppq = 960 })
  local t = fake.add_track("Bass")
  local _, take = fake.add_midi_item(t, 8, 24, { selected = true, loop = true, source_len = 8 })
  for q = 8, 15 do fake.add_note(take, q, 0.5, 40 + q % 5, 90) end
  fake.set_time_selection_qn(a, b)
  refused(string.format("looped target %s %g-%g", action, a, b), P, action,
          "loops its source", "Loop source", "Glue")
end

-- Loop source on but nothing repeats (REAPER's default for new MIDI items):
-- the item is written as usual.
do
  local P = H.project({ ppq = 960 })
  local t = fake.add_track("Bass")
  local _, take = fake.add_midi_item(t, 0, 16, { selected = true, loop = true })
  for q = 0, 15 do fake.add_note(take, q, 0.5, 40, 90) end
  local before = H.copy_notes(take)
  fake.set_time_selection_qn(4, 8)
  H.run("Fill")
  check(msg(P) == "", "loop without repeats: message %s", msg(P))
  H.check_write("loop without repeats", before, take, 4 * 960, 8 * 960)
  H.check_undo("loop without repeats", P, 1)
end

-- ... and Continue lengthens such an item: its source grows with it.
do
  local P = H.project({ ppq = 960, settings = { continue_bars = 1 } })
  local t = fake.add_track("Bass")
  local item, take = fake.add_midi_item(t, 0, 8, { selected = true, loop = true })
  for q = 0, 5 do fake.add_note(take, q, 0.5, 40, 90) end
  H.run("Continue")
  check(msg(P) == "", "continue, loop without repeats: message %s", msg(P))
  check(near(fake.time_to_qn(item.pos + item.len), 12) and near(take.source_len, 12),
        "continue, loop without repeats: item and source not lengthened to QN 12")
end

-- 2. A drum item filled whole (R2): no notes are left outside the range, and
-- the item is still a drum part.
do
  local P = H.project({ ppq = 960 })
  local t = fake.add_track("Perc")
  local _, take = fake.add_midi_item(t, 0, 8, { selected = true })
  for q = 0, 7.5, 0.5 do fake.add_note(take, q, 0.25, 36 + (q * 2) % 3, 100, 9) end
  fake.sort_notes(take)
  H.run("Fill")
  check(msg(P) == "", "drum item whole: message %s", msg(P))
  local p = track_by_name(P.requests[1], "Perc")
  check(p and p.is_drum == true, "drum item whole: sent as pitched")
  check(p and #p.notes == 0, "drum item whole: notes in the range sent as context")
  for _, n in ipairs(take.notes) do check(n.chan == 9, "drum item whole: note written on channel %d", n.chan + 1) end
end

-- 3. Muted items and tracks (R3) are silent in REAPER, so they are no context.
do
  local P = H.project({ ppq = 960 })
  local lead = fake.add_track("Lead")
  local mtrack = fake.add_track("Muted track")
  local mixed = fake.add_track("Keys")
  local _, lt = fake.add_midi_item(lead, 0, 16, { selected = true })
  for q = 0, 15 do fake.add_note(lt, q, 0.5, 72, 90) end
  mtrack.muted = true
  local _, mt = fake.add_midi_item(mtrack, 0, 16)
  for q = 0, 15 do fake.add_note(mt, q, 1, 60, 80) end
  local _, k1 = fake.add_midi_item(mixed, 0, 8, { muted = true })
  local _, k2 = fake.add_midi_item(mixed, 8, 8)
  for q = 0, 7 do fake.add_note(k1, q, 1, 64, 80); fake.add_note(k2, q + 8, 1, 67, 80) end
  fake.set_time_selection_qn(4, 8)
  H.run("Fill")
  check(msg(P) == "", "muted: message %s", msg(P))
  local req = P.requests[1]
  check(req and not track_by_name(req, "Muted track"), "muted: a muted track was sent")
  check(starts(track_by_name(req, "Keys")):match("^8"), "muted: keys sent %s", starts(track_by_name(req, "Keys")))
end

-- 4. Continue next to another item on the same track (R4): the new or
-- lengthened item would play on top of it.
do
  local P = H.project({ ppq = 960 })
  local t = fake.add_track("Keys", true)
  local _, other = fake.add_midi_item(t, 16, 8)
  for q = 16, 23 do fake.add_note(other, q, 1, 60, 80) end
  fake.set_cursor_qn(0)
  fake.set_time_selection_qn(16, 20)
  refused("continue creates over an item", P, "Continue", "already", "Nothing was changed")
end
do
  local P = H.project({ ppq = 960, settings = { continue_bars = 2 } })
  local t = fake.add_track("Keys")
  local _, take = fake.add_midi_item(t, 0, 8, { selected = true })
  for q = 0, 5 do fake.add_note(take, q, 0.75, 60, 80) end
  local _, next_take = fake.add_midi_item(t, 12, 8)
  fake.add_note(next_take, 12, 1, 62, 80)
  refused("continue lengthens over an item", P, "Continue", "already", "Nothing was changed")
end

-- 5. Measures numbered from an offset (R5): the ruler's first measure is 5;
-- lengths and windows are counted in bars all the same.
do
  local P = H.project({ ppq = 960, measure_offset = 4, settings = { continue_bars = 2 } })
  local t = fake.add_track("Bass")
  local item, take = fake.add_midi_item(t, 0, 8, { selected = true })
  for q = 0, 5 do fake.add_note(take, q, 0.75, 40, 90) end
  H.run("Continue")
  check(msg(P) == "", "offset continue: message %s", msg(P))
  local req = P.requests[1]
  check(req and near(req.target.start, 8) and near(req.target["end"], 16),
        "offset continue: target %s", req and json.encode(req.target))
  check(near(fake.time_to_qn(item.pos + item.len), 16), "offset continue: item end %g",
        fake.time_to_qn(item.pos + item.len))
end
do
  local P = H.project({ ppq = 960, measure_offset = 4, settings = { bars_before = 1, bars_after = 1 },
    markers = { { qn = 0, bpm = 120, num = 4, den = 4 }, { qn = 32, bpm = 120, num = 3, den = 4 } } })
  local t = fake.add_track("Bass")
  local _, take = fake.add_midi_item(t, 16, 20, { selected = true })
  for q = 16, 35 do fake.add_note(take, q, 0.5, 40, 90) end
  fake.set_time_selection_qn(24, 28)
  H.run("Fill")
  check(msg(P) == "", "offset window: message %s", msg(P))
  local req = P.requests[1]
  -- one bar before bar 24-28 opens the window at 20; one after ends it at 32
  check(req and near(req.target.start, 4) and near(req.target["end"], 8),
        "offset window: target %s", req and json.encode(req.target))
  local last = -1
  for _, n in ipairs(track_by_name(req, "Bass") and track_by_name(req, "Bass").notes or {}) do last = math.max(last, n[2]) end
  check(near(last, 11), "offset window: last context note at %g, expected 11 (window 20-32)", last)
end

H.finish("test_host_rules")
