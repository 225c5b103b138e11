-- Scenario tests of the midifill ReaScripts, run by tests/test_reaper.py
-- under lua5.4 against a real `midifill serve`.
local H = dofile((os.getenv("MIDIFILL_REPO") or ".") .. "/tests/reaper/harness.lua")
local fake, json, check = H.fake, H.json, H.check

local function near(a, b) return math.abs(a - b) < 1e-6 end

local function track_by_name(req, pattern)
  for _, t in ipairs(req.tracks) do if t.name:find(pattern, 1, true) then return t end end
end

-- 1. Fill, 960 PPQ, a tempo change inside the window, a time selection that
-- cuts through notes, programs and drum detection.
do
  local P = H.project({ ppq = 960, markers = {
    { qn = 0, bpm = 120, num = 4, den = 4 }, { qn = 14, bpm = 87.5 } } })
  local bass = fake.add_track("Bass")
  local kit = fake.add_track("Kit")                 -- channel 10, no tag
  local perc = fake.add_track("Shaker [drums]")     -- tag, channel 1
  local keys = fake.add_track("Keys on 10 [nodrums] [program=4]")
  local item, take = fake.add_midi_item(bass, 8, 16, { selected = true })
  for q = 8, 23 do fake.add_note(take, q + 0.25, 0.5, 40 + q % 7, 80 + q) end
  fake.add_note(take, 11.5, 1.5, 33, 70)   -- starts before the range, sounds into it
  fake.add_note(take, 15.5, 1.0, 35, 71)   -- starts inside, sounds past the end
  fake.add_program_change(take, 20, 38)    -- later program change: must lose
  local early = fake.add_midi_item(bass, 0, 4)
  fake.add_program_change(early.takes[1], 1, 33)
  local _, kt = fake.add_midi_item(kit, 0, 32)
  for q = 0, 31 do fake.add_note(kt, q, 0.25, 36 + q % 3, 100, 9) end
  local _, pt = fake.add_midi_item(perc, 4, 16)
  for q = 4, 19, 0.5 do fake.add_note(pt, q, 0.125, 70, 60, 0) end
  local _, ktk = fake.add_midi_item(keys, 8, 8)
  for q = 8, 15 do fake.add_note(ktk, q, 1, 60, 90, 9) end
  for _, t in ipairs({ take, kt, pt, ktk }) do fake.sort_notes(t) end
  fake.set_time_selection_qn(12, 16)
  local before = H.copy_notes(take)
  local snap = fake.snapshot()

  H.run("Fill")
  check(#P.messages == 0, "fill: unexpected message %s", P.messages[1] and P.messages[1].msg or "")
  local lo, hi = H.ppq_range(take, 12, 16)
  check(lo == 4 * 960 and hi == 8 * 960, "fill: range in ticks %d-%d", lo, hi)
  H.check_write("fill", before, take, lo, hi)
  H.check_undo("fill", P, 1)
  check(P.undo_blocks[1] == "midifill: fill", "fill: undo block named %s", tostring(P.undo_blocks[1]))
  -- the crossing note that starts before the range is kept as it was
  local kept = false
  for _, n in ipairs(take.notes) do if n.pitch == 33 and n.s == 3.5 * 960 then kept = n.e == 5 * 960 end end
  check(kept, "fill: note crossing into the range was not kept unchanged")
  local written = 0
  for _, n in ipairs(take.notes) do if n.s >= lo and n.s < hi then written = written + 1 end end
  check(written > 0, "fill: the server wrote no notes")
  -- nothing but the target take changed
  local after = fake.snapshot()
  snap.tracks[1].items[1].takes[1].notes, after.tracks[1].items[1].takes[1].notes = nil, nil
  local same, where = H.deep_equal(snap, after)
  check(same, "fill: something besides the target notes changed: %s", tostring(where))

  local req = P.requests[1]
  check(req and req.mode == "fill", "fill: no fill request sent")
  if req then
    -- window: 8 bars before bar 3 clamps to bar 0; the timeline starts there
    check(near(req.target.start, 12) and near(req.target["end"], 16), "fill: target %s-%s",
          req.target.start, req.target["end"])
    check(req.tempo == 120, "fill: tempo at the window start %s", req.tempo)
    check(req.time_signature[1] == 4 and req.time_signature[2] == 4, "fill: time signature")
    local b, k, s, kk = track_by_name(req, "Bass"), track_by_name(req, "Kit"),
      track_by_name(req, "Shaker"), track_by_name(req, "Keys")
    check(b and b.program == 33 and not b.is_drum, "fill: bass program/drum")
    check(k and k.is_drum, "fill: channel 10 track not a drum track")
    check(s and s.is_drum, "fill: [drums] tag ignored")
    check(kk and not kk.is_drum and kk.program == 4, "fill: [nodrums]/[program=4] ignored")
    check(req.target.track == b.id, "fill: target track id")
    -- Harmony never set: left out, so the engine uses its own default
    check(req.controls.harmony == nil, "fill: harmony sent unset: %s", tostring(req.controls.harmony))
    for _, n in ipairs(b.notes) do
      check(not (n[2] >= 12 and n[2] < 16), "fill: a note inside the target was sent as context")
    end
  end
end

-- 2. Two selected items at different resolutions (96 and 480 PPQ), a 3/4
-- then 7/8 project whose window starts mid-song: positions shift to a bar line.
do
  local P = H.project({ ppq = 480, markers = {
    { qn = 0, bpm = 100, num = 3, den = 4 }, { qn = 30, bpm = 140, num = 7, den = 8 } } })
  local a = fake.add_track("Lead")
  local b = fake.add_track("Pad")
  local ia, ta = fake.add_midi_item(a, 33.5, 14, { selected = true, ppq = 96 })
  local ib, tb = fake.add_midi_item(b, 33.5, 14, { selected = true })
  for q = 33.5, 46, 0.5 do fake.add_note(ta, q, 0.5, 72, 90); fake.add_note(tb, q, 1.0, 60, 70) end
  fake.sort_notes(ta); fake.sort_notes(tb)
  fake.set_time_selection_qn(40.5, 44)
  local before_a, before_b = H.copy_notes(ta), H.copy_notes(tb)
  H.run("Fill")
  check(#P.messages == 0, "two items: message %s", P.messages[1] and P.messages[1].msg or "")
  H.check_undo("two items", P, 1)
  check(#P.requests == 1, "two items: %d requests, expected one for both", #P.requests)
  local lo, hi = H.ppq_range(ta, 40.5, 44)
  check(lo == 7 * 96 and hi == math.floor(10.5 * 96 + 0.5), "two items: ticks at 96 PPQ %d-%d", lo, hi)
  H.check_write("96 ppq", before_a, ta, lo, hi)
  lo, hi = H.ppq_range(tb, 40.5, 44)
  H.check_write("480 ppq", before_b, tb, lo, hi)
  local req = P.requests[1]
  if req then
    -- 3/4 bars end at 30; 7/8 bars (3.5 QN) from 30: 40.5 is bar 3 of 7/8,
    -- 8 bars before it is 3/4 bar 5 (QN 15), the timeline origin
    local ts = req.targets or {}
    check(#ts == 2 and ts[1].track ~= ts[2].track, "two items: targets %s", json.encode(ts))
    for _, t in ipairs(ts) do
      check(near(t.start, 40.5 - 15) and near(t["end"], 44 - 15),
            "two items: shifted target %s-%s", t.start, t["end"])
    end
    check(req.time_signature[1] == 3 and req.time_signature[2] == 4, "two items: first signature")
    local sigs = req.time_signatures or {}
    check(#sigs == 2 and near(sigs[2][1], 15) and sigs[2][2] == 7 and sigs[2][3] == 8,
          "two items: time_signatures %s", json.encode(sigs))
    check(req.tempo == 100, "two items: tempo %s", req.tempo)
  end
end

-- 3. No selected item: the item under the edit cursor on the selected
-- track; no time selection: the whole item.
do
  local P = H.project({ ppq = 960 })
  local t = fake.add_track("Piano", true)
  fake.add_midi_item(t, 0, 4)
  local item, take = fake.add_midi_item(t, 8, 8)
  for q = 8, 15 do fake.add_note(take, q, 0.5, 60 + q, 90) end
  fake.set_cursor_qn(10)
  H.run("Fill")
  check(#P.messages == 0, "cursor item: message %s", P.messages[1] and P.messages[1].msg or "")
  local req = P.requests[1]
  check(req and near(req.target.start, 8) and near(req.target["end"], 16), "cursor item: whole item")
  H.check_undo("cursor item", P, 1)
  for _, n in ipairs(take.notes) do check(n.s >= 0 and n.e <= 8 * 960, "cursor item: note outside item") end
end

-- 3b. A triplet-grid selection far into the song: the target is rounded to
-- 6 decimals in the request, the notes still land inside the range.
do
  local P = H.project({ ppq = 960 })
  local t = fake.add_track("Lead")
  local _, take = fake.add_midi_item(t, 64, 16, { selected = true })
  for q = 64, 79, 1 / 3 do fake.add_note(take, q, 0.3, 60 + math.floor(q) % 12, 90) end
  fake.sort_notes(take)
  local before = H.copy_notes(take)
  fake.set_time_selection_qn(68 + 1 / 3, 71 + 2 / 3)
  H.run("Fill")
  check(#P.messages == 0, "triplets: message %s", P.messages[1] and P.messages[1].msg or "")
  local lo, hi = H.ppq_range(take, 68 + 1 / 3, 71 + 2 / 3)
  check(lo == 4160 and hi == 7360, "triplets: ticks %d-%d", lo, hi)
  H.check_write("triplets", before, take, lo, hi)
  H.check_undo("triplets", P, 1)
  local req = P.requests[1]
  check(req and near(req.target.start, 68 + 1 / 3 - 36), "triplets: target start %s",
        req and req.target.start)
end

-- 4. Continue without a time selection: the next bars after the last note,
-- extending the item; with no item, a new one on the selected track.
do
  local P = H.project({ ppq = 960, settings = { continue_bars = 2 } })
  local t = fake.add_track("Bass", true)
  local item, take = fake.add_midi_item(t, 0, 8, { selected = true })
  for q = 0, 5 do fake.add_note(take, q, 0.75, 40, 90) end
  fake.sort_notes(take)
  local before = H.copy_notes(take)
  H.run("Continue")
  check(#P.messages == 0, "continue: message %s", P.messages[1] and P.messages[1].msg or "")
  local req = P.requests[1]
  check(req and req.mode == "continue" and near(req.target.start, 8) and near(req.target["end"], 16),
        "continue: target after the last note")
  check(near(fake.time_to_qn(item.pos + item.len), 16), "continue: item not extended to QN 16")
  H.check_write("continue", before, take, 8 * 960, 16 * 960)
  H.check_undo("continue", P, 1)

  P.undo_blocks = {}
  item.selected = false
  local other = fake.add_track("Empty", true)
  t.selected = false
  fake.set_time_selection_qn(16, 20)
  H.run("Continue")
  check(#P.messages == 0, "continue new: message %s", P.messages[1] and P.messages[1].msg or "")
  check(#other.items == 1, "continue: no item created on the selected track")
  if other.items[1] then
    check(near(fake.time_to_qn(other.items[1].pos), 16), "continue: new item position")
    H.check_write("continue new", {}, other.items[1].takes[1], 0, 4 * 960)
  end
  H.check_undo("continue new", P, 1)
end

-- 5. Variations: K new takes; the original take stays bit-for-bit.
do
  local P = H.project({ ppq = 960, settings = { variations = 3 } })
  local t = fake.add_track("Lead")
  local item, take = fake.add_midi_item(t, 0, 16, { selected = true })
  for q = 0, 15, 0.5 do fake.add_note(take, q, 0.4, 64 + (q * 2) % 5, 90) end
  fake.sort_notes(take)
  local original = H.copy_notes(take)
  fake.set_time_selection_qn(4, 8)
  H.run("Variations")
  check(#P.messages == 0, "variations: message %s", P.messages[1] and P.messages[1].msg or "")
  check(#item.takes == 4, "variations: %d takes, expected 4", #item.takes)
  check(H.same_list(H.note_keys(original), H.note_keys(take.notes)), "variations: original take changed")
  check(item.takes[item.active] ~= take, "variations: a variation should be the active take")
  check(P.requests[1] and P.requests[1].controls.variations == 3, "variations: K not sent")
  for i, tk in ipairs(item.takes) do
    if tk ~= take then
      H.check_write("variation " .. i, original, tk, 4 * 960, 8 * 960)
      check(tk.name:find("midifill"), "variation %d: take name %s", i, tk.name)
    end
  end
  H.check_undo("variations", P, 1)
end

-- 6. Failures leave the project untouched and say what to do.
local function untouched(label, setup, expect)
  local P = H.project(setup.opts)
  local t = fake.add_track("Lead", false)
  local _, take = fake.add_midi_item(t, 0, 8, { selected = setup.selected ~= false })
  for q = 0, 7 do fake.add_note(take, q, 0.5, 60, 90) end
  fake.set_time_selection_qn(2, 6)
  local snap = fake.snapshot()
  H.run(setup.action or "Fill")
  local same, where = H.deep_equal(snap, fake.snapshot())
  check(same, "%s: project changed at %s", label, where or "")
  check(#P.undo_blocks == 0 and P.undo_open == 0, "%s: an undo block was opened", label)
  local msg = P.messages[1] and P.messages[1].msg or ""
  check(msg:find(expect, 1, true), "%s: message %q lacks %q", label, msg, expect)
end

untouched("server stopped", { opts = { port = os.getenv("MIDIFILL_DEAD_PORT"), timeout = "0.5" } },
          "midifill serve --port")
untouched("server stopped, variations", { action = "Variations",
          opts = { port = os.getenv("MIDIFILL_DEAD_PORT"), timeout = "0.5" } }, "midifill serve")
untouched("no command", { opts = { settings = { command = "/nonexistent/midifill" } } },
          "midifill - Settings")
untouched("nothing selected", { selected = false }, "Select a MIDI item")
untouched("engine rejects", { opts = { settings = { key = "C nonsense" } } }, "controls.key")

-- 7. Settings: saved when valid, named and asked again when not, kept on cancel.
do
  local P = H.project({})
  local M = dofile(H.script_dir .. "midifill_common.lua")
  local function answer(over)
    local vals = {}
    for i, def in ipairs(M.SETTINGS) do vals[i] = over[def.key] or def.default end
    return table.concat(vals, "\n")
  end
  P.inputs = { answer({ temperature = "9" }), answer({ temperature = "0.8", key = "e minor",
               density = "6", port = "9100", command = "/opt/my dir/midifill" }) }
  H.run("Settings")
  check(P.input_prompts == 2, "settings: asked %s times", tostring(P.input_prompts))
  check(P.messages[1] and P.messages[1].msg:find("Temperature", 1, true), "settings: bad value not named")
  local s = M.load_settings()
  check(s.temperature == 0.8 and s.key == "E minor" and s.density == 6 and s.port == 9100,
        "settings: not saved %s", json.encode(s))
  check(s.command == "/opt/my dir/midifill", "settings: command %s", s.command)
  P.inputs = { false }
  H.run("Settings")
  check(M.load_settings().port == 9100, "settings: cancel changed a value")
end

-- 8. Harmony: set in the Settings dialog (a value outside 0-1 named and asked
-- again), stored in ExtState, and sent as controls.harmony to the real
-- server, which must accept it; 0 (off) is sent as 0, not left out.
do
  local M = dofile(H.script_dir .. "midifill_common.lua")
  -- What the user types: the dialog's current values (the test server's
  -- command and port among them) with `over` changed
  local function answer(over)
    local _, raw = M.load_settings()
    local vals = {}
    for i, def in ipairs(M.SETTINGS) do vals[i] = over[def.key] or raw[def.key] end
    return table.concat(vals, "\n")
  end
  local function fill_project()
    local t = fake.add_track("Lead")
    local keys = fake.add_track("Keys")
    local item, take = fake.add_midi_item(t, 0, 16, { selected = true })
    for q = 0, 15 do fake.add_note(take, q, 0.5, 60 + q % 5, 90) end
    local _, kt = fake.add_midi_item(keys, 0, 16)
    for q = 0, 15, 4 do fake.add_note(kt, q, 4, 48, 80); fake.add_note(kt, q, 4, 55, 80) end
    fake.sort_notes(take); fake.sort_notes(kt)
    fake.set_time_selection_qn(4, 8)
    return take
  end

  for _, case in ipairs({ { typed = "0.25", want = 0.25 }, { typed = "0", want = 0 } }) do
    local P = H.project({ ppq = 960 })
    local take = fill_project()
    P.inputs = { answer({ harmony = "1.5" }), answer({ harmony = case.typed }) }
    H.run("Settings")
    check(P.input_prompts == 2, "harmony %s: asked %s times", case.typed, tostring(P.input_prompts))
    local msg = P.messages[1] and P.messages[1].msg or ""
    check(msg:find("Harmony", 1, true) and msg:find("0 to 1", 1, true),
          "harmony %s: 1.5 not refused by name: %s", case.typed, msg)
    check(fake.reaper.GetExtState("midifill", "harmony") == case.typed,
          "harmony %s: ExtState holds %q", case.typed, fake.reaper.GetExtState("midifill", "harmony"))
    check(M.load_settings().harmony == case.want, "harmony %s: loaded as %s", case.typed,
          tostring(M.load_settings().harmony))

    P.messages = {}
    local before = H.copy_notes(take)
    H.run("Fill")
    check(#P.messages == 0, "harmony %s: the server refused: %s", case.typed,
          P.messages[1] and P.messages[1].msg or "")
    local req = P.requests[1]
    check(req and req.controls.harmony == case.want, "harmony %s: request sent harmony %s",
          case.typed, req and tostring(req.controls.harmony))
    local lo, hi = H.ppq_range(take, 4, 8)
    H.check_write("harmony " .. case.typed, before, take, lo, hi)
    H.check_undo("harmony " .. case.typed, P, 1)
  end

  -- Emptied again: back to the engine's default, nothing sent
  local P = H.project({ ppq = 960, settings = { harmony = "0.7" } })
  fill_project()
  P.inputs = { answer({ harmony = "" }) }
  H.run("Settings")
  H.run("Fill")
  check(#P.messages == 0, "harmony emptied: message %s", P.messages[1] and P.messages[1].msg or "")
  local req = P.requests[1]
  check(req and req.controls.harmony == nil, "harmony emptied: still sent %s",
        req and tostring(req.controls.harmony))
end

H.finish("test_actions")
