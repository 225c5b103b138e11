-- A stand-in for REAPER's `reaper` table, so the real midifill ReaScripts
-- run under a stock Lua 5.4. It keeps one project in memory: a tempo map
-- (tempo and time-signature markers), tracks, items, takes with notes and
-- CCs in PPQ ticks, a time selection, the edit cursor, ExtState and undo
-- blocks. Only API names the scripts use are implemented, with REAPER's
-- argument orders and return values (see REAPER's ReaScript help).
--
-- It also keeps what REAPER does that a script can get wrong: an item may
-- loop its MIDI source (B_LOOPSRC), playing the source's notes again in every
-- pass and nothing past the source's end; items and tracks may be muted
-- (B_MUTE); the ruler may number measures from a project offset, which
-- TimeMap_QNToMeasures reports.
--
-- Besides the API it records what a test needs to judge a run: undo blocks
-- opened and closed, edits made outside an undo block, notes inserted while
-- sorting was enabled, message boxes, and every ExecProcess command line.

local fake = {}

local P -- the current project

local function round(x) return math.floor(x + 0.5) end

-- Tempo map ------------------------------------------------------------------
-- markers: { {qn=0, bpm=120, num=4, den=4}, {qn=16, bpm=90}, {qn=32, bpm=90, num=3, den=4} }
-- A marker with num/den changes the time signature; it must sit on a bar line.

local function qn_to_time(qn)
  local m, t = P.markers, 0.0
  for i = 1, #m do
    local nxt = m[i + 1]
    if not nxt or qn <= nxt.qn then
      return t + (qn - m[i].qn) * 60.0 / m[i].bpm
    end
    t = t + (nxt.qn - m[i].qn) * 60.0 / m[i].bpm
  end
end

local function time_to_qn(time)
  local m, t = P.markers, 0.0
  for i = 1, #m do
    local nxt = m[i + 1]
    local seg = nxt and (nxt.qn - m[i].qn) * 60.0 / m[i].bpm or math.huge
    if time <= t + seg or not nxt then
      return m[i].qn + (time - t) * m[i].bpm / 60.0
    end
    t = t + seg
  end
end

local function marker_at_qn(qn)
  local found = P.markers[1]
  for _, mk in ipairs(P.markers) do
    if mk.qn <= qn + 1e-9 then found = mk end
  end
  return found
end

-- Measures are built from bar 0 on demand: {start, end_, num, den}.
local function measure(idx)
  local ms = P.measures
  while #ms <= idx do
    local start = #ms == 0 and 0.0 or ms[#ms].end_
    local num, den = 4, 4
    for _, mk in ipairs(P.markers) do
      if mk.num and mk.qn <= start + 1e-9 then num, den = mk.num, mk.den end
    end
    ms[#ms + 1] = { start = start, end_ = start + num * 4.0 / den, num = num, den = den }
  end
  return ms[idx + 1]
end

local function measure_index_at_qn(qn)
  local i = 0
  while measure(i).end_ <= qn + 1e-12 do i = i + 1 end
  return i
end

-- Project building (test helpers, not REAPER API) -----------------------------

function fake.new_project(opts)
  opts = opts or {}
  P = {
    markers = opts.markers or { { qn = 0, bpm = 120, num = 4, den = 4 } },
    measures = {},
    default_ppq = opts.ppq or 960,
    measure_offset = opts.measure_offset or 0, -- Project settings: the first measure shows as 1 + offset
    tracks = {},
    loop = { 0.0, 0.0 },
    cursor = 0.0,
    ext = {},
    undo_depth = 0, undo_blocks = {}, undo_open = 0,
    violations = {}, messages = {}, exec_log = {}, inputs = {},
  }
  for _, mk in ipairs(P.markers) do
    if mk.num then
      local i = measure_index_at_qn(mk.qn)
      if math.abs(measure(i).start - mk.qn) > 1e-9 and mk.qn > 0 then
        error("fake_reaper: time signature marker off a bar line at QN " .. mk.qn)
      end
    end
  end
  P.measures = {}
  fake.project = P
  return P
end

function fake.add_track(name, selected)
  local tr = { name = name or "", items = {}, selected = selected or false, muted = false }
  P.tracks[#P.tracks + 1] = tr
  return tr
end

-- source_len: the MIDI source's length in QN (what one loop pass plays).
local function new_take(item, ppq, source_len)
  return { item = item, ppq = ppq or P.default_ppq, notes = {}, ccs = {}, name = "",
           sort_disabled = false, source_len = source_len }
end

function fake.add_midi_item(track, start_qn, len_qn, opts)
  opts = opts or {}
  local pos = qn_to_time(start_qn)
  -- opts.loop: the item loops its source (B_LOOPSRC); opts.source_len: the
  -- source's length in QN (default: the item's); opts.muted: B_MUTE.
  local item = { track = track, pos = pos, len = qn_to_time(start_qn + len_qn) - pos,
                 takes = {}, active = 1, selected = opts.selected or false,
                 loop = opts.loop or false, muted = opts.muted or false }
  item.takes[1] = new_take(item, opts.ppq, opts.source_len or len_qn)
  track.items[#track.items + 1] = item
  return item, item.takes[1]
end

-- A note by QN; stored in the take's ticks like REAPER does (integers).
function fake.add_note(take, start_qn, len_qn, pitch, vel, chan)
  local base = time_to_qn(take.item.pos)
  local s = round((start_qn - base) * take.ppq)
  local e = round((start_qn + len_qn - base) * take.ppq)
  take.notes[#take.notes + 1] = { sel = false, muted = false, s = s, e = e,
                                  chan = chan or 0, pitch = pitch, vel = vel or 96 }
end

function fake.add_program_change(take, qn, program, chan)
  local base = time_to_qn(take.item.pos)
  take.ccs[#take.ccs + 1] = { sel = false, muted = false, ppq = round((qn - base) * take.ppq),
                              chanmsg = 0xC0, chan = chan or 0, msg2 = program, msg3 = 0 }
end

function fake.set_time_selection_qn(a, b) P.loop = { qn_to_time(a), qn_to_time(b) } end
function fake.set_cursor_qn(qn) P.cursor = qn_to_time(qn) end
function fake.qn_to_time(qn) return qn_to_time(qn) end
function fake.time_to_qn(t) return time_to_qn(t) end
function fake.sort_notes(take) table.sort(take.notes, fake.note_less) end

function fake.note_less(a, b)
  if a.s ~= b.s then return a.s < b.s end
  if a.chan ~= b.chan then return a.chan < b.chan end
  if a.pitch ~= b.pitch then return a.pitch < b.pitch end
  return a.e < b.e
end

-- A deep, comparable copy of everything the scripts may touch (without the
-- back links and the fake's own bookkeeping of sorting).
local NOT_STATE = { item = true, track = true, unsorted = true, sort_disabled = true }
function fake.snapshot()
  local function copy(v)
    if type(v) ~= "table" then return v end
    local c = {}
    for k, x in pairs(v) do
      if not NOT_STATE[k] then c[k] = copy(x) end
    end
    return c
  end
  return copy({ tracks = P.tracks, loop = P.loop, cursor = P.cursor, markers = P.markers })
end

local function mutate(what)
  if P.undo_depth == 0 then
    P.violations[#P.violations + 1] = what .. " outside an undo block"
  end
end

local function note_count(take) return #take.notes end

-- The API ---------------------------------------------------------------------

local R = {}
fake.reaper = R

function R.GetOS() return package.config:sub(1, 1) == "\\" and "Win64" or "Other" end
function R.time_precise() return os.clock() end
function R.ShowConsoleMsg(s) io.stderr:write(s) end
function R.PreventUIRefresh(_) end
function R.UpdateArrange() end
function R.GetResourcePath() return os.getenv("TMPDIR") or "/tmp" end

-- ExtState: the section/key store that persists settings between runs.
function R.GetExtState(section, key) return P.ext[section .. "\0" .. key] or "" end
function R.HasExtState(section, key) return P.ext[section .. "\0" .. key] ~= nil end
function R.SetExtState(section, key, value, _persist) P.ext[section .. "\0" .. key] = tostring(value) end
function R.DeleteExtState(section, key, _persist) P.ext[section .. "\0" .. key] = nil end

function R.ShowMessageBox(msg, title, _type)
  P.messages[#P.messages + 1] = { msg = msg, title = title }
  return 1
end

-- Answers come from fake.project.inputs (a queue of csv strings, or false to cancel).
function R.GetUserInputs(title, n, captions, defaults)
  P.input_prompts = (P.input_prompts or 0) + 1
  local answer = table.remove(P.inputs, 1)
  if answer == nil or answer == false then return false, defaults end
  return true, answer
end

-- Runs the command line for real; returns "exitcode\noutput" as REAPER does.
function R.ExecProcess(cmdline, _timeout_ms)
  P.exec_log[#P.exec_log + 1] = cmdline
  local f = io.popen(cmdline .. " 2>&1", "r")
  if not f then return nil end
  local out = f:read("a")
  local _, _, code = f:close()
  return tostring(code or 0) .. "\n" .. out
end

function R.Undo_BeginBlock()
  P.undo_depth = P.undo_depth + 1
  P.undo_open = P.undo_open + 1
end

function R.Undo_EndBlock(desc, _flags)
  if P.undo_depth == 0 then
    P.violations[#P.violations + 1] = "Undo_EndBlock without Undo_BeginBlock"
    return
  end
  P.undo_depth = P.undo_depth - 1
  P.undo_blocks[#P.undo_blocks + 1] = desc
end

-- Time map
function R.TimeMap2_timeToQN(_proj, t) return time_to_qn(t) end
function R.TimeMap2_QNToTime(_proj, qn) return qn_to_time(qn) end
function R.TimeMap_timeToQN(t) return time_to_qn(t) end
function R.TimeMap_QNToTime(qn) return qn_to_time(qn) end

-- Returns the 1-based measure number and the QN of its start and end.
-- The measure number is the one the ruler shows: 1 for the first measure,
-- plus the project's measure offset.
function R.TimeMap_QNToMeasures(_proj, qn)
  local i = measure_index_at_qn(qn)
  local m = measure(i)
  return i + 1 + P.measure_offset, m.start, m.end_
end

-- measure is 0-based; returns the measure start in seconds, QN start/end, sig, tempo.
function R.TimeMap_GetMeasureInfo(_proj, idx)
  local m = measure(math.max(0, idx))
  return qn_to_time(m.start), m.start, m.end_, m.num, m.den, marker_at_qn(m.start).bpm
end

function R.TimeMap_GetTimeSigAtTime(_proj, t)
  local qn = time_to_qn(t)
  local m = measure(measure_index_at_qn(qn))
  return m.num, m.den, marker_at_qn(qn).bpm
end

function R.GetSet_LoopTimeRange(isSet, _isLoop, s, e, _seek)
  if isSet then P.loop = { s, e } end
  return P.loop[1], P.loop[2]
end
function R.GetCursorPosition() return P.cursor end

-- Tracks
function R.CountTracks(_proj) return #P.tracks end
function R.GetTrack(_proj, i) return P.tracks[i + 1] end
function R.CountSelectedTracks(_proj)
  local n = 0
  for _, t in ipairs(P.tracks) do if t.selected then n = n + 1 end end
  return n
end
function R.GetSelectedTrack(_proj, idx)
  local n = -1
  for _, t in ipairs(P.tracks) do
    if t.selected then n = n + 1; if n == idx then return t end end
  end
end
function R.GetMediaTrackInfo_Value(track, parm)
  if parm == "IP_TRACKNUMBER" then
    for i, t in ipairs(P.tracks) do if t == track then return i end end
  end
  if parm == "B_MUTE" then return track.muted and 1 or 0 end
  error("fake_reaper: GetMediaTrackInfo_Value " .. tostring(parm) .. " not implemented")
end
function R.GetSetMediaTrackInfo_String(track, parm, value, set)
  assert(parm == "P_NAME", "fake_reaper: only P_NAME")
  if set then track.name = value end
  return true, track.name
end
function R.GetTrackName(track)
  if track.name ~= "" then return true, track.name end
  return true, "Track " .. R.GetMediaTrackInfo_Value(track, "IP_TRACKNUMBER")
end
function R.CountTrackMediaItems(track) return #track.items end
function R.GetTrackMediaItem(track, i) return track.items[i + 1] end

-- Items
local function all_items()
  local list = {}
  for _, t in ipairs(P.tracks) do for _, it in ipairs(t.items) do list[#list + 1] = it end end
  return list
end
function R.CountMediaItems(_proj) return #all_items() end
function R.GetMediaItem(_proj, i) return all_items()[i + 1] end
function R.CountSelectedMediaItems(_proj)
  local n = 0
  for _, it in ipairs(all_items()) do if it.selected then n = n + 1 end end
  return n
end
function R.GetSelectedMediaItem(_proj, idx)
  local n = -1
  for _, it in ipairs(all_items()) do
    if it.selected then n = n + 1; if n == idx then return it end end
  end
end
function R.IsMediaItemSelected(item) return item.selected end
function R.SetMediaItemSelected(item, sel) item.selected = sel and true or false end
function R.SelectAllMediaItems(_proj, sel) for _, it in ipairs(all_items()) do it.selected = sel end end
function R.GetMediaItem_Track(item) return item.track end
function R.GetMediaItemInfo_Value(item, parm)
  if parm == "D_POSITION" then return item.pos end
  if parm == "D_LENGTH" then return item.len end
  if parm == "B_LOOPSRC" then return item.loop and 1 or 0 end
  if parm == "B_MUTE" then return item.muted and 1 or 0 end
  error("fake_reaper: GetMediaItemInfo_Value " .. tostring(parm) .. " not implemented")
end
function R.CountTakes(item) return #item.takes end
function R.GetTake(item, i) return item.takes[i + 1] end
function R.GetMediaItemTake(item, i) return item.takes[i + 1] end
function R.GetActiveTake(item) return item.takes[item.active] end
function R.SetActiveTake(take)
  for i, t in ipairs(take.item.takes) do if t == take then take.item.active = i end end
end
function R.GetMediaItemTake_Item(take) return take.item end
function R.GetMediaItemTake_Track(take) return take.item.track end
-- A take's source; an in-project MIDI source is beat-based, so its length
-- comes in QN (lengthIsQN true).
function R.GetMediaItemTake_Source(take) return { take = take } end
function R.GetMediaSourceLength(source) return source.take.source_len, true end
function R.TakeIsMIDI(take) return take ~= nil and take.ppq ~= nil end
function R.GetSetMediaItemTakeInfo_String(take, parm, value, set)
  assert(parm == "P_NAME", "fake_reaper: only P_NAME")
  if set then mutate("set take name"); take.name = value end
  return true, take.name
end

function R.CreateNewMIDIItemInProj(track, starttime, endtime, qn_in)
  mutate("CreateNewMIDIItemInProj")
  if qn_in then starttime, endtime = qn_to_time(starttime), qn_to_time(endtime) end
  -- New MIDI items loop their source by default (a REAPER preference); the
  -- source is as long as the item, so nothing repeats.
  local item = { track = track, pos = starttime, len = endtime - starttime, takes = {},
                 active = 1, selected = false, loop = true, muted = false }
  item.takes[1] = new_take(item, nil, time_to_qn(endtime) - time_to_qn(starttime))
  track.items[#track.items + 1] = item
  return item
end

-- Extends or trims the item; events keep their place in the project.
function R.MIDI_SetItemExtents(item, start_qn, end_qn)
  mutate("MIDI_SetItemExtents")
  local old_qn = time_to_qn(item.pos)
  for _, take in ipairs(item.takes) do
    local shift = round((old_qn - start_qn) * take.ppq)
    for _, n in ipairs(take.notes) do n.s, n.e = n.s + shift, n.e + shift end
    for _, c in ipairs(take.ccs) do c.ppq = c.ppq + shift end
    take.source_len = end_qn - start_qn -- the MIDI source is resized with the item
  end
  item.pos = qn_to_time(start_qn)
  item.len = qn_to_time(end_qn) - item.pos
  return true
end

-- 40639 "Take: Duplicate active take": on every selected item, a copy of the
-- active take is added and becomes the active take.
function R.Main_OnCommand(cmd, _flag)
  if cmd ~= 40639 then error("fake_reaper: Main_OnCommand " .. cmd .. " not implemented") end
  mutate("Main_OnCommand 40639")
  for _, item in ipairs(all_items()) do
    if item.selected then
      local src = item.takes[item.active]
      local t = new_take(item, src.ppq, src.source_len)
      t.name = src.name
      for i, n in ipairs(src.notes) do t.notes[i] = { sel = n.sel, muted = n.muted, s = n.s, e = n.e,
        chan = n.chan, pitch = n.pitch, vel = n.vel } end
      for i, c in ipairs(src.ccs) do t.ccs[i] = { sel = c.sel, muted = c.muted, ppq = c.ppq,
        chanmsg = c.chanmsg, chan = c.chan, msg2 = c.msg2, msg3 = c.msg3 } end
      table.insert(item.takes, item.active + 1, t)
      item.active = item.active + 1
    end
  end
end

-- MIDI
function R.MIDI_GetPPQPosFromProjQN(take, qn) return (qn - time_to_qn(take.item.pos)) * take.ppq end
function R.MIDI_GetProjQNFromPPQPos(take, ppq) return time_to_qn(take.item.pos) + ppq / take.ppq end
function R.MIDI_GetPPQPosFromProjTime(take, t) return R.MIDI_GetPPQPosFromProjQN(take, time_to_qn(t)) end
function R.MIDI_GetProjTimeFromPPQPos(take, ppq) return qn_to_time(R.MIDI_GetProjQNFromPPQPos(take, ppq)) end

function R.MIDI_CountEvts(take) return 1, note_count(take), #take.ccs, 0 end

function R.MIDI_GetNote(take, i)
  local n = take.notes[i + 1]
  if not n then return false, false, false, 0, 0, 0, 0, 0 end
  return true, n.sel, n.muted, n.s, n.e, n.chan, n.pitch, n.vel
end

function R.MIDI_GetCC(take, i)
  local c = take.ccs[i + 1]
  if not c then return false, false, false, 0, 0, 0, 0, 0 end
  return true, c.sel, c.muted, c.ppq, c.chanmsg, c.chan, c.msg2, c.msg3
end

function R.MIDI_InsertNote(take, sel, muted, s, e, chan, pitch, vel, no_sort)
  mutate("MIDI_InsertNote")
  if not take.sort_disabled and not no_sort then
    P.violations[#P.violations + 1] = "MIDI_InsertNote with sorting enabled"
  end
  s, e = round(s), round(e)
  if e <= s or pitch < 0 or pitch > 127 or vel < 1 or vel > 127 or chan < 0 or chan > 15 then
    P.violations[#P.violations + 1] = string.format("bad note inserted %d %d %d %d", s, e, pitch, vel)
  end
  take.notes[#take.notes + 1] = { sel = sel, muted = muted, s = s, e = e, chan = chan,
                                  pitch = pitch, vel = vel }
  take.unsorted = true
  if not take.sort_disabled and not no_sort then fake.sort_notes(take); take.unsorted = false end
  return true
end

function R.MIDI_DeleteNote(take, i)
  mutate("MIDI_DeleteNote")
  if not take.notes[i + 1] then return false end
  table.remove(take.notes, i + 1)
  return true
end

function R.MIDI_DisableSort(take) take.sort_disabled = true end

-- REAPER sorts every event of the take here, so indexes change.
function R.MIDI_Sort(take)
  fake.sort_notes(take)
  take.unsorted = false
  take.sort_disabled = false
end

return fake
