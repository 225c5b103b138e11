-- The command lines and request-file paths of daw_scripts/reaper/
-- midifill_command.lua, for Windows and for macOS/Linux, built here on any
-- machine. Prints one JSON array: each case's system, its line and the
-- arguments the program must receive; tests/test_reaper_paths.py splits each
-- line as that system does (CommandLineToArgvW's rules; /bin/sh) and compares.

local repo = os.getenv("MIDIFILL_REPO") or "."
local C = dofile(repo .. "/daw_scripts/reaper/midifill_command.lua")
local json = dofile(repo .. "/daw_scripts/reaper/midifill_json.lua")

local function env(t) return function(name) return t[name] end end
local function never() return false end
local function always() return true end

local cases = {}
local function case(name, windows, settings, temp, exists, program_args)
  local path = temp .. C.separator(windows) .. "midifill-1-000001-request.json"
  local line = C.request_line(settings, path, windows, exists)
  local args = { "request", "--host", settings.host, "--port", tostring(settings.port),
                 "--timeout", tostring(settings.timeout) }
  if settings.token and settings.token ~= "" then
    args[#args + 1] = "--token"; args[#args + 1] = settings.token
  end
  args[#args + 1] = path
  cases[#cases + 1] = { name = name, windows = windows, line = line, temp = temp,
                        program = program_args, args = args }
end

local base = { host = "127.0.0.1", port = 9000, timeout = 20, token = "" }
local function with(t)
  local s = {}
  for k, v in pairs(base) do s[k] = v end
  for k, v in pairs(t) do s[k] = v end
  return s
end

-- Windows: %TEMP% with a space and a trailing backslash; a bare `midifill`
-- (the .exe launcher found on PATH)
case("windows, TEMP with a space", true, with({ command = "" }),
     C.temp_dir(true, env({ TEMP = "C:\\Users\\Jo Doe\\AppData\\Local\\Temp\\" }), "C:\\R"),
     never, { "midifill" })
-- the full path of the launcher, with spaces, typed without quotes
local exe = "C:\\Users\\Jo Doe\\.local\\bin\\midifill.exe"
case("windows, full .exe path", true, with({ command = exe, token = "s3cr\\t\\" }),
     C.temp_dir(true, env({ TMP = "D:\\tmp" }), "C:\\R"), always, { exe })
-- neither TEMP nor TMP: REAPER's resource folder, never /tmp
case("windows, no TEMP", true, with({ command = "midifill" }),
     C.temp_dir(true, env({ TMPDIR = "/tmp" }), "C:\\Users\\Jo\\AppData\\Roaming\\REAPER\\"),
     never, { "midifill" })
-- macOS / Linux: $TMPDIR with a space; a token the shell must not expand
case("posix, TMPDIR with a space", false, with({ command = "midifill", token = "a$HOME`x`\\b" }),
     C.temp_dir(false, env({ TMPDIR = "/var/folders/x y/T/" })), never, { "midifill" })
case("posix, no TMPDIR", false, with({ command = "python3 -m midifill.bridge.cli" }),
     C.temp_dir(false, env({})), never, { "python3", "-m", "midifill.bridge.cli" })
case("posix, path with a space", false, with({ command = "/Users/Jo Doe/.local/bin/midifill" }),
     C.temp_dir(false, env({ TMPDIR = "/tmp" })), always, { "/Users/Jo Doe/.local/bin/midifill" })

print(json.encode(cases))
