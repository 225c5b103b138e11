-- @description midifill - Settings
-- @author midifill
-- @version 0.1.0
-- @noindex
-- @about
--   Temperature, number of variations, density, key lock, harmony, context bars,
--   server host/port/token and the path of the `midifill` command.
--   Remembered between runs (ExtState section "midifill").

local dir = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local M = dofile(dir .. "midifill_common.lua")

-- Values travel one per line so that paths and keys may contain commas.
local SEP = "\n"

local function split(s)
  local out = {}
  for part in (s .. SEP):gmatch("(.-)" .. SEP) do out[#out + 1] = part end
  return out
end

local captions, values = {}, {}
local _, raw = M.load_settings()
for i, def in ipairs(M.SETTINGS) do
  captions[i] = def.caption
  values[i] = raw[def.key]
end

-- Ask until the answer is valid or the user cancels; a bad value is named
-- and the dialog comes back with what was typed, so nothing is lost.
while true do
  local ok, answer = reaper.GetUserInputs("midifill settings", #M.SETTINGS,
    table.concat(captions, ",") .. ",separator=\n,extrawidth=220", table.concat(values, SEP))
  if not ok then return end
  local parts = split(answer)
  local strings = {}
  for i, def in ipairs(M.SETTINGS) do
    strings[def.key] = (parts[i] or ""):gsub("^%s+", ""):gsub("%s+$", "")
    values[i] = strings[def.key]
  end
  local parsed, err = M.parse_settings(strings)
  if parsed then
    M.save_settings(strings)
    return
  end
  M.message("Not saved: " .. err)
end
