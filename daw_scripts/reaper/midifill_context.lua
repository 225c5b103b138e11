-- @noindex
-- Reads the project into midifill requests (DESIGN.md's JSON contract).
--
-- For every target item it finds the range to write (in project QN), a
-- context window of whole bars around it, and every track's notes in that
-- window. The payload timeline starts on the bar line that opens the
-- window: all positions are shifted by that bar's QN (`origin`), and the
-- writer shifts the answer back.

local json = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "midifill_json.lua")

local C = {}

local EPS = 1e-6

-- QN from seconds lands a hair off the grid (15.9999999); snapping keeps a
-- bar line on its bar.
local function snap(qn) return math.floor(qn / EPS + 0.5) * EPS end
local function r6(x) return math.floor(x * 1e6 + 0.5) / 1e6 end

local function time_to_qn(t) return snap(reaper.TimeMap2_timeToQN(0, t)) end

-- 0-based index of the measure holding qn, its start and end in QN.
local function measure_at(qn)
  local num, qs, qe = reaper.TimeMap_QNToMeasures(0, qn)
  return num - 1, qs, qe
end

local function measure_info(idx)
  local _, qs, qe, n, d, tempo = reaper.TimeMap_GetMeasureInfo(0, idx)
  return qs, qe, n, d, tempo
end

-- Item helpers ------------------------------------------------------------------

local function item_range(item)
  local pos = reaper.GetMediaItemInfo_Value(item, "D_POSITION")
  local len = reaper.GetMediaItemInfo_Value(item, "D_LENGTH")
  return time_to_qn(pos), time_to_qn(pos + len)
end

local function midi_take(item)
  local take = item and reaper.GetActiveTake(item)
  if take and reaper.TakeIsMIDI(take) then return take end
end

-- Every note of a take as {pitch, start_qn, end_qn, vel, chan}, skipping
-- muted notes and notes outside the item's visible bounds.
function C.take_notes(take, item_a, item_b)
  local out = {}
  local _, count = reaper.MIDI_CountEvts(take)
  for i = 0, count - 1 do
    local ok, _, muted, s, e, chan, pitch, vel = reaper.MIDI_GetNote(take, i)
    if ok and not muted then
      local qs = snap(reaper.MIDI_GetProjQNFromPPQPos(take, s))
      local qe = snap(reaper.MIDI_GetProjQNFromPPQPos(take, e))
      if qs >= item_a - EPS and qs < item_b - EPS then
        out[#out + 1] = { pitch, qs, math.min(qe, item_b), vel, chan }
      end
    end
  end
  return out
end

-- The first program change on the track (earliest in the project), or nil.
local function first_program(track)
  local best_qn, program
  for i = 0, reaper.CountTrackMediaItems(track) - 1 do
    local take = midi_take(reaper.GetTrackMediaItem(track, i))
    if take then
      local _, _, cc_count = reaper.MIDI_CountEvts(take)
      for j = 0, cc_count - 1 do
        local ok, _, _, ppq, chanmsg, _, msg2 = reaper.MIDI_GetCC(take, j)
        if ok and chanmsg == 0xC0 then
          local qn = reaper.MIDI_GetProjQNFromPPQPos(take, ppq)
          if not best_qn or qn < best_qn then best_qn, program = qn, msg2 end
        end
      end
    end
  end
  return program
end

-- Name tags (case-insensitive): [drums] marks a drum track, [nodrums] a
-- pitched one even when its notes are on channel 10, [program=N] (0-127)
-- sets the program. Returns is_drum (or nil: decide by channel), program.
function C.name_tags(name)
  local lower = name:lower()
  local drum
  if lower:find("%[%s*no%s*drums?%s*%]") or lower:find("%[%s*not%s*drums?%s*%]") then
    drum = false
  elseif lower:find("%[%s*drums?%s*%]") then
    drum = true
  end
  local program = tonumber(lower:match("%[%s*program%s*=%s*(%d+)%s*%]"))
  if program and program > 127 then program = nil end
  return drum, program
end

-- Targets ---------------------------------------------------------------------

-- The selected MIDI items, or else the MIDI item under the edit cursor on
-- each selected track.
function C.target_items()
  local items = {}
  for i = 0, reaper.CountSelectedMediaItems(0) - 1 do
    local item = reaper.GetSelectedMediaItem(0, i)
    if midi_take(item) then items[#items + 1] = item end
  end
  if #items > 0 then return items end
  local cursor = time_to_qn(reaper.GetCursorPosition())
  for t = 0, reaper.CountSelectedTracks(0) - 1 do
    local track = reaper.GetSelectedTrack(0, t)
    for i = 0, reaper.CountTrackMediaItems(track) - 1 do
      local item = reaper.GetTrackMediaItem(track, i)
      local a, b = item_range(item)
      if midi_take(item) and a <= cursor + EPS and cursor < b - EPS then
        items[#items + 1] = item
        break
      end
    end
  end
  return items
end

local function time_selection()
  local s, e = reaper.GetSet_LoopTimeRange(false, false, 0, 0, false)
  if e - s > 1e-9 then return time_to_qn(s), time_to_qn(e) end
end

-- The bar line at or after qn.
local function bar_at_or_after(qn)
  local _, qs, qe = measure_at(qn)
  if qn <= qs + EPS then return qs end
  return qe
end

-- Continue without a time selection: `bars` whole bars from the first bar
-- line at or after the end of the item's last note (or the item start).
local function continue_range(item, bars)
  local a, b = item_range(item)
  local last = a
  local take = midi_take(item)
  if take then
    for _, n in ipairs(C.take_notes(take, a, b)) do last = math.max(last, n[3]) end
  end
  local start = bar_at_or_after(last)
  local idx = measure_at(start)
  return start, (measure_info(idx + bars))
end

-- The request ---------------------------------------------------------------

local function track_id(track)
  return "track" .. math.floor(reaper.GetMediaTrackInfo_Value(track, "IP_TRACKNUMBER"))
end

-- One track's part of the payload, or nil when it has no notes in the window
-- and is not the target. Notes of the target track inside the range are
-- left out: they are what gets rewritten.
local function track_payload(track, w0, w1, origin, target_track, a, b)
  local notes, on_ten, total = json.array({}), 0, 0
  for i = 0, reaper.CountTrackMediaItems(track) - 1 do
    local item = reaper.GetTrackMediaItem(track, i)
    local take = midi_take(item)
    local ia, ib = item_range(item)
    if take and ia < w1 and ib > w0 then
      for _, n in ipairs(C.take_notes(take, ia, ib)) do
        local pitch, qs, qe, vel, chan = n[1], n[2], n[3], n[4], n[5]
        local replaced = track == target_track and qs >= a - EPS and qs < b - EPS
        if qs >= w0 - EPS and qs < w1 - EPS and not replaced then
          local dur = math.max(math.min(qe, w1) - qs, 1 / 128)
          notes[#notes + 1] = json.array({ pitch, r6(qs - origin), r6(dur), math.max(1, vel) })
          total = total + 1
          if chan == 9 then on_ten = on_ten + 1 end
        end
      end
    end
  end
  if #notes == 0 and track ~= target_track then return nil end
  local _, name = reaper.GetSetMediaTrackInfo_String(track, "P_NAME", "", false)
  local drum, program = C.name_tags(name or "")
  if drum == nil then drum = total > 0 and on_ten * 2 >= total end
  program = program or first_program(track) or 0
  table.sort(notes, function(x, y)
    if x[2] ~= y[2] then return x[2] < y[2] end
    return x[1] < y[1]
  end)
  return { id = track_id(track), name = name or "", program = math.floor(program),
           is_drum = drum, notes = notes }
end

-- The request for writing [a, b) (project QN) on `track`.
function C.build_request(mode, track, a, b, settings, variations)
  local i0 = measure_at(a)
  local i1 = measure_at(math.max(a, b - EPS))
  local first = math.max(0, i0 - settings.bars_before)
  local last = i1 + settings.bars_after
  local w0 = measure_info(first)
  local _, w1 = measure_info(last)
  local origin = w0

  local sigs, prev = json.array({}), nil
  for idx = first, last do
    local qs, _, n, d = measure_info(idx)
    if not prev or prev[1] ~= n or prev[2] ~= d then
      prev = { n, d }
      sigs[#sigs + 1] = json.array({ r6(qs - origin), n, d })
    end
  end
  local _, _, tempo = reaper.TimeMap_GetTimeSigAtTime(0, reaper.TimeMap2_QNToTime(0, w0))

  local tracks = json.array({})
  for t = 0, reaper.CountTracks(0) - 1 do
    local tr = reaper.GetTrack(0, t)
    local payload = track_payload(tr, w0, w1, origin, track, a, b)
    if payload then tracks[#tracks + 1] = payload end
  end

  local request = {
    mode = mode,
    time_signature = json.array({ sigs[1][2], sigs[1][3] }),
    tempo = tempo + 0.0,
    tracks = tracks,
    target = { track = track_id(track), start = r6(a - origin), ["end"] = r6(b - origin) },
    controls = {
      temperature = settings.temperature,
      top_p = 0.95,
      seed = math.random(1, 2147483646),
      variations = variations or 1,
      key = settings.key,
      density = settings.density,
    },
  }
  if #sigs > 1 then request.time_signatures = sigs end
  return request, origin
end

-- Plans an action: a list of jobs {item, track, a, b, origin, request,
-- extend = {a, b} | nil, create = true | nil}, or nil and a message.
function C.plan(mode, settings)
  local ts_a, ts_b = time_selection()
  local items = C.target_items()
  local jobs = {}
  local engine_mode = mode == "variations" and "fill" or mode
  local variations = mode == "variations" and settings.variations or 1

  if mode == "continue" and #items == 0 then
    local track = reaper.GetSelectedTrack(0, 0)
    if not track then
      return nil, "Select a MIDI item, or a track to write a new item on, then run midifill - Continue."
    end
    local a, b = ts_a, ts_b
    if not a then
      a = bar_at_or_after(time_to_qn(reaper.GetCursorPosition()))
      b = measure_info(measure_at(a) + settings.continue_bars)
    end
    local request, origin = C.build_request("continue", track, a, b, settings, 1)
    return { { track = track, a = a, b = b, origin = origin, request = request, create = true } }
  end

  if #items == 0 then
    return nil, "Select a MIDI item (or put the edit cursor over one on a selected track), " ..
      "then run this action again."
  end

  for _, item in ipairs(items) do
    local ia, ib = item_range(item)
    local a, b, extend
    if mode == "continue" then
      if ts_a then a, b = ts_a, ts_b else a, b = continue_range(item, settings.continue_bars) end
      if a < ia - EPS or b > ib + EPS then extend = { math.min(a, ia), math.max(b, ib) } end
    elseif ts_a then
      a, b = math.max(ts_a, ia), math.min(ts_b, ib)
    else
      a, b = ia, ib
    end
    if b - a > EPS then
      local track = reaper.GetMediaItem_Track(item)
      local request, origin = C.build_request(engine_mode, track, a, b, settings, variations)
      jobs[#jobs + 1] = { item = item, track = track, a = a, b = b, origin = origin,
                          request = request, extend = extend }
    end
  end
  if #jobs == 0 then
    return nil, "The time selection does not overlap the selected item(s). " ..
      "Select the bars to write (or clear the time selection to use the whole item)."
  end
  return jobs
end

return C
