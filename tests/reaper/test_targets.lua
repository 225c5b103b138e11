-- Several selected items in one request: the midifill ReaScripts against a
-- real `midifill serve` (tests/test_reaper.py). REAPER's own behaviour is
-- stood in for by fake_reaper.lua; what is checked here is the scripts':
-- one request naming every item as a target, one undo point, nothing
-- outside any item's range changed, and Variations writing take k of every
-- item from the answer's variation k.
local H = dofile((os.getenv("MIDIFILL_REPO") or ".") .. "/tests/reaper/harness.lua")
local fake, json, check = H.fake, H.json, H.check

local function near(a, b) return math.abs(a - b) < 1e-6 end

-- a drum item (channel 10) and a bass item over bars 3-6 of a 4/4 song
local function band(opts)
  local P = H.project(opts)
  local drums = fake.add_track("Drums")
  local bass = fake.add_track("Bass [program=33]")
  local keys = fake.add_track("Keys")
  local di, dt = fake.add_midi_item(drums, 0, 32, { selected = true })
  local bi, bt = fake.add_midi_item(bass, 0, 32, { selected = true })
  local _, kt = fake.add_midi_item(keys, 0, 32)
  for q = 0, 31 do
    fake.add_note(dt, q, 0.25, q % 2 == 0 and 36 or 38, 100, 9)
    fake.add_note(dt, q + 0.5, 0.25, 42, 80, 9)
    fake.add_note(bt, q, 0.5, 40 + (q % 4) * 2, 90)
    fake.add_note(kt, q, 1, 64, 70); fake.add_note(kt, q, 1, 67, 70)
  end
  for _, t in ipairs({ dt, bt, kt }) do fake.sort_notes(t) end
  return P, { drums = { item = di, take = dt }, bass = { item = bi, take = bt }, keys = kt }
end

-- 1. Fill: both items in one request, written in one undo point.
do
  local P, parts = band({ ppq = 960 })
  fake.set_time_selection_qn(8, 24)
  local before_d, before_b = H.copy_notes(parts.drums.take), H.copy_notes(parts.bass.take)
  local keys_before = H.copy_notes(parts.keys)
  H.run("Fill")
  check(#P.messages == 0, "fill: message %s", P.messages[1] and P.messages[1].msg or "")
  check(#P.requests == 1, "fill: %d requests, expected one", #P.requests)
  H.check_undo("fill", P, 1)
  local req = P.requests[1] or {}
  check(req.target == nil, "fill: a single target sent beside the targets")
  local ts = req.targets or {}
  check(#ts == 2, "fill: %d targets", #ts)
  local ids = {}
  for _, tr in ipairs(req.tracks or {}) do ids[tr.name] = tr.id end
  check(ts[1] and ts[1].track == ids["Drums"] and ts[2] and ts[2].track == ids["Bass [program=33]"],
        "fill: targets in selection order %s", json.encode(ts))
  for _, t in ipairs(ts) do
    check(near(t["end"] - t.start, 16), "fill: target %s-%s", t.start, t["end"])
  end
  -- the targets' notes in range are not sent; the keys' notes are
  for _, tr in ipairs(req.tracks or {}) do
    for _, n in ipairs(tr.notes) do
      local inside = n[2] >= ts[1].start - 1e-6 and n[2] < ts[1]["end"] - 1e-6
      check(not (inside and tr.id ~= ids["Keys"]), "fill: a replaced note of %s was sent", tr.name)
    end
  end
  local resp = P.responses[1] or {}
  check(resp.order and resp.order[1] == 0 and resp.order[2] == 1,
        "fill: the engine's order %s", json.encode(resp.order))
  for label, part in pairs({ drums = parts.drums, bass = parts.bass }) do
    local lo, hi = H.ppq_range(part.take, 8, 24)
    H.check_write("fill " .. label, label == "drums" and before_d or before_b, part.take, lo, hi)
    local written = 0
    for _, n in ipairs(part.take.notes) do if n.s >= lo and n.s < hi then written = written + 1 end end
    check(written > 0, "fill %s: nothing written", label)
  end
  check(H.same_list(H.note_keys(keys_before), H.note_keys(parts.keys.notes)), "fill: keys changed")
end

-- 2. Variations: take k of each item is the answer's variation k of its target.
do
  local P, parts = band({ ppq = 480, settings = { variations = 2 } })
  fake.set_time_selection_qn(16, 24)
  local originals = { H.copy_notes(parts.drums.take), H.copy_notes(parts.bass.take) }
  H.run("Variations")
  check(#P.messages == 0, "variations: message %s", P.messages[1] and P.messages[1].msg or "")
  check(#P.requests == 1, "variations: %d requests", #P.requests)
  H.check_undo("variations", P, 1)
  local resp = P.responses[1] or { variations = {} }
  check(#resp.variations == 2, "variations: %d in the answer", #resp.variations)
  for i, part in ipairs({ parts.drums, parts.bass }) do
    local item, source = part.item, part.take
    check(#item.takes == 3, "variations: item %d has %d takes", i, #item.takes)
    check(H.same_list(H.note_keys(originals[i]), H.note_keys(source.notes)),
          "variations: item %d's original take changed", i)
    local lo, hi = H.ppq_range(source, 16, 24)
    for k = 1, 2 do
      local take  -- REAPER puts a duplicated take after the active one: found by name
      for _, tk in ipairs(item.takes) do
        if tk.name:find("midifill " .. k, 1, true) then take = tk end
      end
      check(take ~= nil, "variations: item %d has no take 'midifill %d'", i, k)
      if take then
        H.check_write(string.format("variations item %d take %d", i, k), originals[i], take, lo, hi)
      end
      local want, got = {}, {}
      local var = resp.variations[k]
      for _, n in ipairs(var and var.targets and var.targets[i].notes or {}) do
        want[#want + 1] = tostring(math.floor(n[1]))
      end
      for _, n in ipairs(take and take.notes or {}) do
        if n.s >= lo and n.s < hi then got[#got + 1] = tostring(n.pitch) end
      end
      table.sort(want); table.sort(got)
      check(#want > 0 and H.same_list(want, got),
            "variations: item %d take %d holds not variation %d's pitches (%d against %d)",
            i, k, k, #got, #want)
    end
  end
end

-- 3. Items over different bars (no time selection): each its own range.
do
  local P = H.project({ ppq = 960 })
  local a, b = fake.add_track("Lead"), fake.add_track("Pad")
  local ia, ta = fake.add_midi_item(a, 8, 8, { selected = true })
  local ib, tb = fake.add_midi_item(b, 20, 4, { selected = true })
  for q = 0, 7 do fake.add_note(ta, 8 + q, 0.5, 72, 90) end
  for q = 0, 3 do fake.add_note(tb, 20 + q, 1, 60, 70); fake.add_note(tb, 20 + q, 1, 64, 70) end
  fake.sort_notes(ta); fake.sort_notes(tb)
  H.run("Fill")
  check(#P.messages == 0, "ranges: message %s", P.messages[1] and P.messages[1].msg or "")
  local ts = P.requests[1] and P.requests[1].targets or {}
  check(#ts == 2 and near(ts[1]["end"] - ts[1].start, 8) and near(ts[2]["end"] - ts[2].start, 4)
        and near(ts[2].start - ts[1].start, 12), "ranges: targets %s", json.encode(ts))
  H.check_undo("ranges", P, 1)
  for _, n in ipairs(ta.notes) do check(n.s >= 0 and n.e <= 8 * 960, "ranges: lead note outside") end
  for _, n in ipairs(tb.notes) do check(n.s >= 0 and n.e <= 4 * 960, "ranges: pad note outside") end
  check(ia.selected and ib.selected, "ranges: the selection changed")
end

-- 4. More items than one request takes: refused before any request.
do
  local P = H.project({ ppq = 960 })
  for i = 1, 9 do
    local t = fake.add_track("Part " .. i)
    local _, tk = fake.add_midi_item(t, 0, 4, { selected = true })
    fake.add_note(tk, 0, 1, 60, 90)
  end
  local snap = fake.snapshot()
  H.run("Fill")
  local msg = P.messages[1] and P.messages[1].msg or ""
  check(msg:find("at most 8 items", 1, true) and msg:find("9 are selected", 1, true),
        "nine items: message %q", msg)
  check(#P.requests == 0 and #P.undo_blocks == 0, "nine items: a request or undo block")
  local same, where = H.deep_equal(snap, fake.snapshot())
  check(same, "nine items: project changed at %s", where or "")
end

-- 5. The server refuses the pair (over the bars of all targets together):
-- nothing is written, the message names the limit.
do
  local P = H.project({ ppq = 960 })
  local tracks = {}
  for i = 1, 3 do
    tracks[i] = fake.add_track("Long " .. i)
    local _, tk = fake.add_midi_item(tracks[i], 0, 4 * 60, { selected = true })
    fake.add_note(tk, 0, 1, 60 + i, 90)
  end
  local snap = fake.snapshot()
  H.run("Fill")
  local msg = P.messages[1] and P.messages[1].msg or ""
  check(msg:find("bars in all targets", 1, true), "too many bars: message %q", msg)
  local same, where = H.deep_equal(snap, fake.snapshot())
  check(same and #P.undo_blocks == 0, "too many bars: project changed at %s", where or "")
end

H.finish("test_targets.lua")
