-- @noindex
-- Shared code of the midifill ReaScripts: settings (ExtState), the call to
-- `midifill request` through reaper.ExecProcess, messages, and the action
-- runner that asks first and writes after, inside one undo block.
--
-- Loaded by each action script with dofile() relative to its own path, so
-- the scripts work when copied anywhere as long as they stay together.

local M = {}

local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
M.dir = here
M.json = dofile(here .. "midifill_json.lua")
local json = M.json

M.VERSION = "0.1.0"
M.SECTION = "midifill"   -- ExtState section

-- Settings ------------------------------------------------------------------

-- Every setting: key, caption in the dialog (no commas: GetUserInputs
-- splits captions on them), default (as a string), parser.
-- A parser returns the value, or nil and a message naming the problem.
local function number_in(lo, hi, integer)
  return function(s)
    local v = tonumber(s)
    if not v or v ~= v then return nil, "expected a number" end
    if integer and v ~= math.floor(v) then return nil, "expected a whole number" end
    if v < lo or v > hi then return nil, string.format("expected %s to %s", lo, hi) end
    return integer and math.tointeger(v) or v
  end
end

local function optional(parse)
  return function(s)
    if s == "" or s:lower() == "none" then return json.null end
    return parse(s)
  end
end

-- Only the shape is checked here; the server knows the scales (major,
-- minor, dorian, minor pentatonic, ...) and names an unknown one.
local function parse_key(s)
  local tonic, scale = s:match("^%s*([A-Ga-g][#b]?)%s*(.-)%s*$")
  if not tonic or not scale:match("^[%a%s]*$") then
    return nil, "expected a tonic A-G (with # or b) and a scale, e.g. 'E minor' or 'Bb dorian'"
  end
  scale = scale:lower():gsub("%s+", " ")
  return tonic:sub(1, 1):upper() .. tonic:sub(2) .. " " .. (scale ~= "" and scale or "major")
end

local function non_empty(s)
  if s:match("^%s*$") then return nil, "must not be empty" end
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- The request's controls: written by `python -m midifill.bridge.faces` from the
-- control table (model/generation/controls.py); edit the table, not this
-- block. A key is also the control's name in the request; "" (empty) leaves
-- it out of the request, so the engine uses its default ("auto" where it
-- follows the part); "auto" and "off" are sent as typed.
-- BEGIN CONTROLS
M.CONTROLS = {
  { key = "temperature", caption = "Temperature 0-5 (empty=1.0)", default = "", kind = "number", auto = false, off = false, lo = 0, hi = 5, integer = false },
  { key = "variations", caption = "Variations 1-8 (empty=1)", default = "3", kind = "number", auto = false, off = false, lo = 1, hi = 8, integer = true },
  { key = "candidates", caption = "Candidates 1-16 (empty=auto)", default = "", kind = "number", auto = true, off = false, lo = 1, hi = 16, integer = true },
  { key = "pitch_range", caption = "Pitch range low-high e.g. 40-90 (empty=auto off)", default = "", kind = "range", auto = true, off = true, lo = 0, hi = 127, integer = false },
  { key = "key", caption = "Key e.g. E minor (empty=off)", default = "", kind = "key", auto = false, off = true },
  { key = "max_polyphony", caption = "Max polyphony 1-32 (empty=auto off)", default = "", kind = "number", auto = true, off = true, lo = 1, hi = 32, integer = true },
  { key = "density", caption = "Density 0-64 (empty=auto)", default = "", kind = "number", auto = true, off = false, lo = 0, hi = 64, integer = false },
  { key = "harmony", caption = "Harmony 0-1 (empty=auto off)", default = "", kind = "number", auto = true, off = true, lo = 0, hi = 1, integer = false },
  { key = "kit", caption = "Kit drum keys e.g. 36 38 42 (empty=auto off)", default = "", kind = "keys", auto = true, off = true, lo = 0, hi = 127, integer = false },
  { key = "groove", caption = "Groove on (empty=auto off)", default = "", kind = "switch", auto = true, off = true },
  { key = "groove_lean", caption = "Groove lean 0-1 (empty=auto off)", default = "", kind = "number", auto = true, off = true, lo = 0, hi = 1, integer = false },
  { key = "line_lean", caption = "Line lean 0-1 (empty=auto off)", default = "", kind = "number", auto = true, off = true, lo = 0, hi = 1, integer = false },
  { key = "durations", caption = "Durations (empty=auto off)", default = "", kind = "state", auto = true, off = true },
  { key = "feel", caption = "Feel straight/triplet/swing/loose (empty=auto off)", default = "", kind = "choice", auto = true, off = true, choices = { "straight", "triplet", "swing", "loose" } },
}
-- END CONTROLS

local function one_of(words)
  return function(s)
    local w = s:lower()
    for _, x in ipairs(words) do if w == x then return w end end
    return nil, "expected " .. table.concat(words, " or ")
  end
end

-- The parser of a control of M.CONTROLS, by its kind; "auto" and "off" are
-- words of their own where the control has them, never a number.
local function control_parser(def)
  local value
  if def.kind == "number" then
    value = number_in(def.lo, def.hi, def.integer)
  elseif def.kind == "range" then
    value = function(s)
      local a, b = s:match("^%s*(%d+)%s*%-%s*(%d+)%s*$")
      a, b = tonumber(a), tonumber(b)
      if not a then return nil, "expected low-high e.g. 40-90" end
      if a > b or a < def.lo or b > def.hi then
        return nil, string.format("expected low <= high within %s to %s", def.lo, def.hi)
      end
      return json.array({ math.tointeger(a), math.tointeger(b) })
    end
  elseif def.kind == "keys" then
    value = function(s)
      local keys = json.array({})
      for k in s:gmatch("[^%s,]+") do
        local v = math.tointeger(tonumber(k))
        if not v or v < def.lo or v > def.hi then
          return nil, string.format("expected drum keys %s to %s e.g. 36 38 42", def.lo, def.hi)
        end
        keys[#keys + 1] = v
      end
      if #keys == 0 then return nil, "expected drum keys e.g. 36 38 42" end
      return keys
    end
  elseif def.kind == "key" then
    value = parse_key
  elseif def.kind == "switch" then
    value = function(s)
      if s:lower() == "on" then return true end
      return nil, "expected on, off or auto"
    end
  elseif def.kind == "choice" then
    value = one_of(def.choices)
  else
    value = function() return nil, "expected auto or off" end
  end
  return function(s)
    local w = s:lower()
    if w == "" or w == "none" then return json.null end
    if (def.auto and w == "auto") or (def.off and w == "off") then return w end
    return value(s)
  end
end

M.SETTINGS = {}
for _, def in ipairs(M.CONTROLS) do
  M.SETTINGS[#M.SETTINGS + 1] = { key = def.key, caption = def.caption, default = def.default,
                                  parse = control_parser(def), control = true }
end
for _, def in ipairs({
  { key = "host",          caption = "Server host",                  default = "127.0.0.1", parse = non_empty },
  { key = "port",          caption = "Server port",                  default = "9000",      parse = number_in(1, 65535, true) },
  { key = "command",       caption = "midifill command",             default = "midifill",  parse = non_empty },
  { key = "timeout",       caption = "Server silence timeout in seconds",             default = "10",        parse = number_in(0.1, 600) },
  { key = "bars_before",   caption = "Context bars before",          default = "8",         parse = number_in(0, 64, true) },
  { key = "bars_after",    caption = "Context bars after",           default = "4",         parse = number_in(0, 64, true) },
  { key = "continue_bars", caption = "Continue: bars to write",      default = "4",         parse = number_in(1, 64, true) },
  { key = "token",         caption = "Server token (empty=none)",    default = "",          parse = function(s) return s end },
}) do M.SETTINGS[#M.SETTINGS + 1] = def end

-- The settings as typed values; a stored value that no longer parses falls
-- back to its default so a bad ExtState can never block the actions.
function M.load_settings()
  local s, raw = {}, {}
  for _, def in ipairs(M.SETTINGS) do
    local stored = reaper.GetExtState(M.SECTION, def.key)
    local v = stored ~= "" and def.parse(stored) or nil
    if v == nil then v, stored = def.parse(def.default), def.default end
    s[def.key], raw[def.key] = v, stored
  end
  s.controls = M.request_controls(s)
  return s, raw
end

-- The request's controls among typed settings: those set (not empty).
function M.request_controls(settings)
  local out = {}
  for _, def in ipairs(M.CONTROLS) do
    local v = settings[def.key]
    if v ~= nil and not json.is_null(v) then out[def.key] = v end
  end
  return out
end

-- Parses strings (by key); returns the typed settings or nil and a message.
function M.parse_settings(strings)
  local out = {}
  for _, def in ipairs(M.SETTINGS) do
    local v, err = def.parse(strings[def.key] or def.default)
    if v == nil then return nil, def.caption .. ": " .. err end
    out[def.key] = v
  end
  out.controls = M.request_controls(out)
  return out
end

function M.save_settings(strings)
  for _, def in ipairs(M.SETTINGS) do
    reaper.SetExtState(M.SECTION, def.key, strings[def.key], true)
  end
end

-- Messages --------------------------------------------------------------------

function M.message(text, title)
  reaper.ShowMessageBox(text, title or "midifill", 0)
end

-- Transport -------------------------------------------------------------------

-- Paths and the command line for this system: midifill_command.lua
local command = dofile(here .. "midifill_command.lua")
M.command = command
local is_windows = command.is_windows(reaper.GetOS())
local sep = command.separator(is_windows)

local function temp_dir()
  return command.temp_dir(is_windows, os.getenv, reaper.GetResourcePath())
end

local function trim(s) return (s or ""):gsub("^%s+", ""):gsub("%s+$", "") end

-- The command line that runs `midifill request` on the request file. The
-- request travels as a file because ExecProcess cannot feed stdin; the
-- response comes back on stdout, which ExecProcess returns, so no shell and
-- no redirect are needed on any system. `settings.command` may be empty
-- (`midifill` on PATH), a path to the program (quoted here, spaces and all),
-- or a whole prefix such as `python -m midifill.bridge.cli`.
function M.request_command(settings, in_path)
  return command.request_line(settings, in_path, is_windows, command.file_exists)
end

function M.server_hint(settings)
  return string.format(
    "No midifill server answered on %s:%d.\n\nStart it in a terminal with:\n\n" ..
    "    midifill serve --port %d\n\nand run this action again. Nothing was changed.",
    settings.host, settings.port, settings.port)
end

-- `midifill request` prints one JSON line on stdout (the response, or
-- {"error": ...}); ExecProcess may mix stderr in, so take the last line
-- that decodes to a JSON object.
local function last_json_object(output)
  local found
  for line in (output .. "\n"):gmatch("([^\r\n]*)[\r\n]") do
    if line:match("^%s*{") then
      local v = json.decode(line)
      if type(v) == "table" then found = v end
    end
  end
  return found
end

-- Sends one request; returns the decoded response or nil and a message for
-- the user. Never touches the project.
function M.call_server(request, settings)
  local path = string.format("%s%smidifill-%d-%06d-request.json", temp_dir(), sep, os.time(),
                             math.random(0, 999999))
  local f, ferr = io.open(path, "wb")
  if not f then return nil, "Cannot write the request file: " .. tostring(ferr) end
  f:write(json.encode(request))
  f:close()

  -- Timeout 0 (wait for the exit) is what REAPER recommends for large
  -- output; `midifill request` gives up by itself when the server is silent.
  local ret = reaper.ExecProcess(M.request_command(settings, path), 0)
  os.remove(path)

  local code, output = nil, ""
  if ret then
    code, output = ret:match("^(%-?%d+)\n?(.*)$")
    code = tonumber(code)
  end
  output = trim(output)
  local answer = last_json_object(output)
  local err = type(answer) == "table" and type(answer.error) == "table" and answer.error
  if code == 3 then return nil, M.server_hint(settings) end
  if code == 2 or code == 4 then
    local why = err and (tostring(err.code) .. ": " .. tostring(err.message)) or output
    return nil, "midifill could not answer:\n\n" .. (why ~= "" and why or "(no message)")
      .. "\n\nNothing was changed."
  end
  if code ~= 0 then
    return nil, string.format(
      "Could not run the midifill command:\n\n    %s\n\n%s\n\nSet the full path of `midifill` " ..
      "in the action 'midifill - Settings'. Nothing was changed.",
      settings.command, output ~= "" and output or ("exit code " .. tostring(code)))
  end
  if type(answer) ~= "table" or type(answer.variations) ~= "table" or #answer.variations == 0 then
    return nil, "midifill's answer has no variations:\n\n" .. output:sub(1, 300) ..
      "\n\nNothing was changed."
  end
  return answer
end

-- The action runner -------------------------------------------------------------

-- Plans every target, asks the server for all of them in one request (each
-- part written hearing the ones before it), and only then writes, all in
-- one undo block: a failed request leaves the project untouched.
function M.run_action(mode)
  local context = dofile(here .. "midifill_context.lua")
  local writer = dofile(here .. "midifill_write.lua")
  local settings = M.load_settings()
  local jobs, err = context.plan(mode, settings)
  if not jobs then M.message(err); return false end
  local answers = {}  -- the jobs share their request: it is sent once
  for _, job in ipairs(jobs) do
    local response = answers[job.request]
    if not response then
      local cerr
      response, cerr = M.call_server(job.request, settings)
      if not response then M.message(cerr); return false end
      answers[job.request] = response
    end
    job.response = response
  end
  reaper.Undo_BeginBlock()
  reaper.PreventUIRefresh(1)
  local ok, werr = pcall(writer.apply, jobs, mode)
  reaper.PreventUIRefresh(-1)
  reaper.UpdateArrange()
  reaper.Undo_EndBlock("midifill: " .. mode, -1)
  if not ok then M.message("midifill could not write the notes: " .. tostring(werr)); return false end
  return true
end

return M
