-- @noindex
-- Reads the project into midifill requests (the JSON contract of docs/contract.md).
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

-- The bar holding qn: its start and end in QN. The measure number that
-- TimeMap_QNToMeasures also returns is the ruler's, which starts from the
-- project's measure offset, so bars are counted here by walking bar lines.
local function bar_at(qn)
  local _, qs, qe = reaper.TimeMap_QNToMeasures(0, qn)
  return qs, qe
end

-- The start of the bar `n` bars after (n < 0: before) the bar holding qn,
-- never before the project start.
local function bar_start(qn, n)
  local qs, qe = bar_at(qn)
  for _ = 1, n do qs, qe = bar_at(qe + EPS) end
  for _ = 1, -n do
    if qs <= EPS then break end
    qs, qe = bar_at(qs - EPS)
  end
  return qs
end

local function signature_at(qn)
  local num, den = reaper.TimeMap_GetTimeSigAtTime(0, reaper.TimeMap2_QNToTime(0, qn + EPS))
  return num, den
end

-- Item helpers ------------------------------------------------------------------

function C.item_range(item)
  local pos = reaper.GetMediaItemInfo_Value(item, "D_POSITION")
  local len = reaper.GetMediaItemInfo_Value(item, "D_LENGTH")
  return time_to_qn(pos), time_to_qn(pos + len)
end
local item_range = C.item_range

local function midi_take(item)
  local take = item and reaper.GetActiveTake(item)
  if take and reaper.TakeIsMIDI(take) then return take end
end

-- One pass of the take's source in QN when the item loops it (B_LOOPSRC),
-- else nil. An in-project MIDI source is beat-based, so its length is in QN.
local function loop_length(item, take)
  if reaper.GetMediaItemInfo_Value(item, "B_LOOPSRC") < 0.5 then return nil end
  local len, in_qn = reaper.GetMediaSourceLength(reaper.GetMediaItemTake_Source(take))
  if not in_qn then  -- seconds: measure them from where the source starts
    local s0 = reaper.MIDI_GetProjQNFromPPQPos(take, 0)
    len = reaper.TimeMap2_timeToQN(0, reaper.TimeMap2_QNToTime(0, s0) + len) - s0
  end
  if len and len > EPS then return len end
end

-- True when REAPER plays the item's source more than once (or wraps it
-- around), so that an edit in one pass would sound in every pass. (A
-- Continue that lengthens an item resizes its source with
-- MIDI_SetItemExtents, so only the item as it is now matters.)
function C.repeats(item, take)
  local loop = loop_length(item, take)
  if not loop then return false end
  local _, b = C.item_range(item)
  local s0 = snap(reaper.MIDI_GetProjQNFromPPQPos(take, 0))
  return b - s0 > loop + EPS
end

-- Every note of a take as REAPER plays it, as {pitch, start_qn, end_qn, vel,
-- chan}: without muted notes or notes outside the item's bounds, and for an
-- item that loops its source, each pass of the source's notes (a note past
-- the source's end is never played).
function C.take_notes(take, item_a, item_b)
  local out = {}
  local loop = loop_length(reaper.GetMediaItemTake_Item(take), take)
  local s0 = loop and snap(reaper.MIDI_GetProjQNFromPPQPos(take, 0))
  local _, count = reaper.MIDI_CountEvts(take)
  for i = 0, count - 1 do
    local ok, _, muted, s, e, chan, pitch, vel = reaper.MIDI_GetNote(take, i)
    if ok and not muted then
      local qs = snap(reaper.MIDI_GetProjQNFromPPQPos(take, s))
      local qe = snap(reaper.MIDI_GetProjQNFromPPQPos(take, e))
      if not loop then
        if qs >= item_a - EPS and qs < item_b - EPS then
          out[#out + 1] = { pitch, qs, math.min(qe, item_b), vel, chan }
        end
      elseif qs >= s0 - EPS and qs < s0 + loop - EPS then
        -- each pass k starts k loops later; a note is cut where its pass ends
        local k = math.ceil((item_a - qs) / loop - EPS)
        while qs + k * loop < item_b - EPS do
          local pass_end = s0 + (k + 1) * loop
          out[#out + 1] = { pitch, qs + k * loop, math.min(qe + k * loop, pass_end, item_b), vel, chan }
          k = k + 1
        end
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
  local qs, qe = bar_at(qn)
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
  return start, bar_start(start, bars)
end

-- The request ---------------------------------------------------------------

local function track_id(track)
  return "track" .. math.floor(reaper.GetMediaTrackInfo_Value(track, "IP_TRACKNUMBER"))
end

-- REAPER does not play a muted track or a muted item. The targets' own
-- tracks and items still count: they are the parts being written.
-- `targets`: a list of {track, item, a, b} (project QN), the parts written.
local function is_target_track(track, targets)
  for _, t in ipairs(targets) do if t.track == track then return true end end
  return false
end
local function silent_track(track, targets)
  return not is_target_track(track, targets) and reaper.GetMediaTrackInfo_Value(track, "B_MUTE") > 0.5
end
local function silent_item(item, targets)
  for _, t in ipairs(targets) do if t.item == item then return false end end
  return reaper.GetMediaItemInfo_Value(item, "B_MUTE") > 0.5
end
-- A note of `track` starting at qs is rewritten by one of the targets.
local function replaced(track, qs, targets)
  for _, t in ipairs(targets) do
    if t.track == track and qs >= t.a - EPS and qs < t.b - EPS then return true end
  end
  return false
end

-- One track's part of the payload, or nil when it has no notes in the window
-- and is not a target. Notes of a target track inside its range are left
-- out: they are what gets rewritten. Drum detection counts them all the
-- same, so an item filled whole is still known by its channel.
local function track_payload(track, w0, w1, origin, targets)
  if silent_track(track, targets) then return nil end
  local target = is_target_track(track, targets)
  local notes, on_ten, total = json.array({}), 0, 0
  for i = 0, reaper.CountTrackMediaItems(track) - 1 do
    local item = reaper.GetTrackMediaItem(track, i)
    local take = midi_take(item)
    local ia, ib = item_range(item)
    if take and ia < w1 and ib > w0 and not silent_item(item, targets) then
      for _, n in ipairs(C.take_notes(take, ia, ib)) do
        local pitch, qs, qe, vel, chan = n[1], n[2], n[3], n[4], n[5]
        if qs >= w0 - EPS and qs < w1 - EPS then
          total = total + 1
          if chan == 9 then on_ten = on_ten + 1 end
          if not (target and replaced(track, qs, targets)) then
            local dur = math.max(math.min(qe, w1) - qs, 1 / 128)
            notes[#notes + 1] = json.array({ pitch, r6(qs - origin), r6(dur), math.max(1, vel) })
          end
        end
      end
    end
  end
  if #notes == 0 and not target then return nil end
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
function C.build_request(mode, track, a, b, settings, variations, target_item)
  return C.build_targets_request(mode, { { track = track, item = target_item, a = a, b = b } },
                                 settings, variations)
end

-- The one request for writing every target {track, item, a, b} (project
-- QN), in one timeline from `bars_before` bars before the earliest target to
-- `bars_after` bars after the latest: one target as `target`, several as
-- `targets` (the engine writes each hearing the ones written before it).
function C.build_targets_request(mode, targets, settings, variations)
  local w0, w1 = math.huge, -math.huge
  for _, t in ipairs(targets) do
    w0 = math.min(w0, bar_start(t.a, -settings.bars_before))
    w1 = math.max(w1, bar_start(math.max(t.a, t.b - EPS), settings.bars_after + 1))
  end
  local origin = w0

  local sigs, prev = json.array({}), nil
  local qs = w0
  while qs < w1 - EPS do
    local n, d = signature_at(qs)
    if not prev or prev[1] ~= n or prev[2] ~= d then
      prev = { n, d }
      sigs[#sigs + 1] = json.array({ r6(qs - origin), n, d })
    end
    local _, qe = bar_at(qs + EPS)
    qs = qe
  end
  local _, _, tempo = reaper.TimeMap_GetTimeSigAtTime(0, reaper.TimeMap2_QNToTime(0, w0))

  local tracks = json.array({})
  for t = 0, reaper.CountTracks(0) - 1 do
    local tr = reaper.GetTrack(0, t)
    local payload = track_payload(tr, w0, w1, origin, targets)
    if payload then tracks[#tracks + 1] = payload end
  end

  local request = {
    mode = mode,
    time_signature = json.array({ sigs[1][2], sigs[1][3] }),
    tempo = tempo + 0.0,
    tracks = tracks,
    controls = { seed = math.random(1, 2147483646) },
  }
  local spans = json.array({})
  for _, t in ipairs(targets) do
    spans[#spans + 1] = { track = track_id(t.track), start = r6(t.a - origin),
                          ["end"] = r6(t.b - origin) }
  end
  if #spans == 1 then request.target = spans[1] else request.targets = spans end
  -- Each control of the settings that is set (midifill_common.lua,
  -- settings.controls); one left empty is left out: the engine's default.
  for name, v in pairs(settings.controls or {}) do request.controls[name] = v end
  request.controls.variations = variations or 1
  if #sigs > 1 then request.time_signatures = sigs end
  return request, origin
end

local function item_label(item)
  local take = reaper.GetActiveTake(item)
  local _, name = reaper.GetSetMediaItemTakeInfo_String(take, "P_NAME", "", false)
  local _, track = reaper.GetTrackName(reaper.GetMediaItem_Track(item))
  local a = item_range(item)
  return string.format("'%s' (track '%s', at QN %g)", name ~= "" and name or "MIDI item", track, r6(a))
end

local function looped_message(item, take)
  return string.format(
    "The item %s loops its source: REAPER plays the same %g QN of MIDI again and again, so " ..
    "notes written in one pass would sound in every pass, and notes past the source's end " ..
    "would never sound.\n\nUn-loop it (Item properties: untick 'Loop source') or glue it " ..
    "(Item: Glue items) so that each pass holds its own notes, then run this action again. " ..
    "Nothing was changed.", item_label(item), r6(loop_length(item, take)))
end

-- Another item on `track` that plays somewhere in [a, b) (QN), or nil.
local function item_over(track, a, b, except)
  for i = 0, reaper.CountTrackMediaItems(track) - 1 do
    local other = reaper.GetTrackMediaItem(track, i)
    local oa, ob = item_range(other)
    if other ~= except and oa < b - EPS and ob > a + EPS then return other end
  end
end

local function overlap_message(other, a, b)
  return string.format(
    "midifill - Continue would write QN %g-%g, where the item %s already plays; both would " ..
    "sound at once.\n\nSelect that item and use midifill - Fill to rewrite its bars, or move it, " ..
    "or set a time selection that ends before it. Nothing was changed.", r6(a), r6(b), item_label(other))
end

-- The most items one action writes: the engine's limit of targets in one
-- request (docs/osc.md, Limits).
C.MAX_TARGETS = 8

-- Plans an action: a list of jobs {item, track, a, b, origin, request, index,
-- track_id, extend = {a, b} | nil, create = true | nil}, or nil and a
-- message. Every job shares one request (job.request), of which it is
-- target number job.index.
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
      b = bar_start(a, settings.continue_bars)
    end
    local other = item_over(track, a, b)
    if other then return nil, overlap_message(other, a, b) end
    local request, origin = C.build_request("continue", track, a, b, settings, 1)
    return { { track = track, a = a, b = b, origin = origin, request = request, create = true,
               index = 1, track_id = track_id(track) } }
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
      local take = midi_take(item)
      if C.repeats(item, take) then return nil, looped_message(item, take) end
      local other = extend and item_over(track, extend[1], extend[2], item)
      if other then return nil, overlap_message(other, a, b) end
      jobs[#jobs + 1] = { item = item, track = track, a = a, b = b, extend = extend }
    end
  end
  if #jobs == 0 then
    return nil, "The time selection does not overlap the selected item(s). " ..
      "Select the bars to write (or clear the time selection to use the whole item)."
  end
  if #jobs > C.MAX_TARGETS then
    return nil, string.format("midifill writes at most %d items in one go (%d are selected), " ..
      "so that each part is written hearing the others. Select fewer items and run this " ..
      "action again. Nothing was changed.", C.MAX_TARGETS, #jobs)
  end
  -- one request for all: job i is the request's target i
  local request, origin = C.build_targets_request(engine_mode, jobs, settings, variations)
  for i, job in ipairs(jobs) do
    job.request, job.origin, job.index = request, origin, i
    job.track_id = track_id(job.track)
  end
  return jobs
end

return C
