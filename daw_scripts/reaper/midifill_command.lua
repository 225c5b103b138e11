-- @noindex
-- The command line the midifill actions run, and where the request file
-- goes, for the system REAPER runs on. Pure functions (the system, the
-- environment and the file check are arguments), so tests/reaper can build
-- the Windows line on any machine.
--
-- Windows: reaper.ExecProcess hands the line to CreateProcess, which finds a
-- bare `midifill` on PATH as the midifill.exe launcher that pipx or uv
-- installs, and the program splits its arguments by the CommandLineToArgvW
-- rules: inside double quotes a backslash is literal except in a run that
-- ends at a quote, so a trailing run is doubled. The request file goes to
-- %TEMP% (never /tmp). macOS and Linux: the line runs through /bin/sh, where
-- `\`, `$` and `` ` `` stay special inside double quotes, so they are escaped.

local C = {}

function C.is_windows(os_name)
  return (os_name or ""):match("^Win") ~= nil
end

function C.separator(windows) return windows and "\\" or "/" end

-- One argument, double-quoted for the system's parser; a double quote in the
-- value cannot be passed portably and is dropped.
function C.quote(s, windows)
  s = tostring(s):gsub('"', "")
  if windows then
    return '"' .. s:gsub("(\\+)$", "%1%1") .. '"'
  end
  return '"' .. s:gsub("[\\$`]", "\\%0") .. '"'
end

-- The folder for the request file, without a trailing separator: %TEMP% or
-- %TMP% on Windows (`fallback`, REAPER's resource folder, if neither is
-- set), $TMPDIR elsewhere, else /tmp.
function C.temp_dir(windows, getenv, fallback)
  for _, name in ipairs(windows and { "TEMP", "TMP" } or { "TMPDIR" }) do
    local d = getenv(name)
    if d and d ~= "" then
      return (d:gsub("[/\\]+$", ""))
    end
  end
  return windows and (fallback:gsub("[/\\]+$", "")) or "/tmp"
end

local function trim(s) return (s or ""):gsub("^%s+", ""):gsub("%s+$", "") end

-- The program part of the line. Empty means `midifill` (on PATH). A path to
-- the program itself (`exists(path)` is true: spaces and backslashes
-- allowed, e.g. C:\Users\Jo Doe\.local\bin\midifill.exe) is quoted here;
-- anything else is used as typed: already quoted, or a prefix such as
-- `python -m midifill.bridge.cli`.
function C.program(command, windows, exists)
  local c = trim(command)
  if c == "" then return "midifill" end
  if c:match('^"') then return c end
  if exists(c) then return C.quote(c, windows) end
  return c
end

-- The whole `midifill request` line for a request file.
function C.request_line(settings, in_path, windows, exists)
  local line = string.format("%s request --host %s --port %d --timeout %s",
    C.program(settings.command, windows, exists), C.quote(settings.host, windows),
    settings.port, tostring(settings.timeout))
  if settings.token ~= nil and settings.token ~= "" then
    line = line .. " --token " .. C.quote(settings.token, windows)
  end
  return line .. " " .. C.quote(in_path, windows)
end

function C.file_exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

return C
