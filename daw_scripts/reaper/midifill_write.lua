-- @noindex
-- Writes midifill's answers into takes. Runs inside the caller's undo block.
--
-- Boundary rule: the range [a, b) is compared with note *starts*, in the
-- take's own ticks. A note that starts inside the range is replaced; a note
-- that starts before it is kept as it is, even when it sounds on into the
-- range; a note that starts at or after b is kept. New notes start inside
-- the range and are cut so they end by b. Nothing else in the take changes.

local W = {}

local function round(x) return math.floor(x + 0.5) end

-- The channel new notes go on: the take's most used one, else 10 for a drum
-- target and 1 otherwise (0-based 9 and 0).
local function take_channel(take, is_drum)
  local counts, best, best_n = {}, nil, 0
  local _, count = reaper.MIDI_CountEvts(take)
  for i = 0, count - 1 do
    local ok, _, _, _, _, chan = reaper.MIDI_GetNote(take, i)
    if ok then
      counts[chan] = (counts[chan] or 0) + 1
      if counts[chan] > best_n then best, best_n = chan, counts[chan] end
    end
  end
  return best or (is_drum and 9 or 0)
end

local function valid_note(n)
  if type(n) ~= "table" or #n < 4 then return false end
  for i = 1, 4 do
    if type(n[i]) ~= "number" or n[i] ~= n[i] or math.abs(n[i]) == math.huge then return false end
  end
  return n[1] >= 0 and n[1] <= 127 and n[3] > 0
end

-- Replaces the notes that start in [a, b) (project QN) with `notes` (payload
-- timeline: project QN minus `origin`). Returns how many notes were written.
function W.write_range(take, a, b, origin, notes, is_drum)
  local lo = round(reaper.MIDI_GetPPQPosFromProjQN(take, a))
  local hi = round(reaper.MIDI_GetPPQPosFromProjQN(take, b))
  if hi <= lo then return 0 end
  local chan = take_channel(take, is_drum)
  local start_t, end_t = a - origin, b - origin

  -- Indexes stay valid while sorting is off; delete from the end anyway so
  -- each delete leaves the indexes still to visit untouched.
  reaper.MIDI_DisableSort(take)
  local _, count = reaper.MIDI_CountEvts(take)
  for i = count - 1, 0, -1 do
    local ok, _, _, s = reaper.MIDI_GetNote(take, i)
    if ok and s >= lo and s < hi then reaper.MIDI_DeleteNote(take, i) end
  end

  local written = 0
  for _, n in ipairs(notes) do
    -- the contract puts every note inside the target; check anyway, since a
    -- note outside it would be the one edit this script promises never to make
    -- (the tolerance covers the 6-decimal rounding of the request's target;
    -- the tick clamp below keeps the note inside the range regardless)
    if valid_note(n) and n[2] >= start_t - 1e-5 and n[2] < end_t + 1e-6 then
      local s = round(reaper.MIDI_GetPPQPosFromProjQN(take, origin + n[2]))
      local e = round(reaper.MIDI_GetPPQPosFromProjQN(take, origin + n[2] + n[3]))
      s = math.min(math.max(s, lo), hi - 1)
      e = math.min(e, hi)
      if e <= s then e = s + 1 end
      local vel = math.min(127, math.max(1, round(n[4])))
      reaper.MIDI_InsertNote(take, false, false, s, e, chan, math.floor(n[1]), vel, true)
      written = written + 1
    end
  end
  reaper.MIDI_Sort(take)
  return written
end

-- Adds a copy of `source` to its item (REAPER's "Take: Duplicate active
-- take", 40639, which acts on selected items) and returns the copy. The item
-- selection is restored afterwards.
local function duplicate_take(item, source)
  local before, selected = {}, {}
  for i = 0, reaper.CountTakes(item) - 1 do before[reaper.GetTake(item, i)] = true end
  for i = 0, reaper.CountSelectedMediaItems(0) - 1 do
    selected[#selected + 1] = reaper.GetSelectedMediaItem(0, i)
  end
  for _, it in ipairs(selected) do reaper.SetMediaItemSelected(it, false) end
  reaper.SetActiveTake(source)
  reaper.SetMediaItemSelected(item, true)
  reaper.Main_OnCommand(40639, 0)
  reaper.SetMediaItemSelected(item, false)
  for _, it in ipairs(selected) do reaper.SetMediaItemSelected(it, true) end
  for i = 0, reaper.CountTakes(item) - 1 do
    local t = reaper.GetTake(item, i)
    if not before[t] then return t end
  end
  error("REAPER did not duplicate the take")
end

local function target_is_drum(job)
  for _, t in ipairs(job.request.tracks) do
    if t.id == job.track_id then return t.is_drum end
  end
  return false
end

-- The notes of one variation for this job: a request of several targets
-- answers each variation with one list per target, in the request's order.
local function job_notes(var, job)
  if type(var.targets) == "table" then
    local t = var.targets[job.index]
    return type(t) == "table" and t.notes or {}
  end
  return var.notes or {}
end

function W.apply(jobs, mode)
  for _, job in ipairs(jobs) do
    local is_drum = target_is_drum(job)
    local item = job.item
    if job.create then
      item = reaper.CreateNewMIDIItemInProj(job.track, job.a, job.b, true)
    elseif job.extend then
      reaper.MIDI_SetItemExtents(item, job.extend[1], job.extend[2])
    end
    local variations = job.response.variations
    if mode == "variations" then
      local source, first = reaper.GetActiveTake(item), nil
      local _, base = reaper.GetSetMediaItemTakeInfo_String(source, "P_NAME", "", false)
      for k, var in ipairs(variations) do
        local take = duplicate_take(item, source)
        W.write_range(take, job.a, job.b, job.origin, job_notes(var, job), is_drum)
        local name = string.format("%s midifill %d", base or "", k):gsub("^%s+", "")
        reaper.GetSetMediaItemTakeInfo_String(take, "P_NAME", name, true)
        first = first or take
      end
      if first then reaper.SetActiveTake(first) end
    else
      W.write_range(reaper.GetActiveTake(item), job.a, job.b, job.origin,
                    job_notes(variations[1], job), is_drum)
    end
  end
end

return W
