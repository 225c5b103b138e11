-- The ReaScripts' own JSON module: round trips, escapes, errors.
local repo = os.getenv("MIDIFILL_REPO") or "."
local json = dofile(repo .. "/daw_scripts/reaper/midifill_json.lua")
local checks, failures = 0, 0
local function check(cond, what)
  checks = checks + 1
  if not cond then failures = failures + 1; io.stderr:write("FAIL: " .. what .. "\n") end
end

local function same(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local value = {
  mode = "fill", tempo = 97.5, seed = 2147483646, tiny = 1e-7, neg = -3.25,
  name = 'quote " backslash \\ tab \t newline \n ctrl \1 é ♪',
  notes = json.array({ json.array({ 40, 0.0, 0.5, 96 }), json.array({ 43, 1.0 / 3, 0.25, 90 }) }),
  empty = json.array({}), obj = {}, flag = true, off = false, none = json.null,
}
local text = json.encode(value)
local back = json.decode(text)
check(same(back, value), "round trip: " .. text)
check(text:find('"empty":[]', 1, true) ~= nil, "empty array encodes as []")
check(text:find('"obj":{}', 1, true) ~= nil, "empty object encodes as {}")
check(back.notes[2][2] == 1.0 / 3, "a double survives exactly")
check(json.encode(0.1) == "0.1" and json.encode(3) == "3" and json.encode(2.0) == "2.0", "numbers")
check(json.decode('"\\u00e9\\ud83c\\udfb5"') == "é🎵", "unicode escapes and surrogate pairs")
check(json.decode(' {"a" : [1, 2e3, -0.5E-2], "b": null} ').a[2] == 2000, "spaces and exponents")
check(json.decode('[]') and #json.decode('[]') == 0, "empty array decodes")
check(same(json.decode('[1,[2,[3,{"x":[]}]]]'), { 1, { 2, { 3, { x = {} } } } }), "nesting")

for _, bad in ipairs({ '', '{', '{"a":}', '[1,]', '"open', '{"a" 1}', 'nul', '[1] x', '{1:2}' }) do
  local v, err = json.decode(bad)
  check(v == nil and type(err) == "string" and err:find("json:", 1, true) ~= nil,
        "bad input " .. bad .. " gives a message: " .. tostring(err))
end
check(not pcall(json.encode, 0 / 0), "NaN is refused")
check(not pcall(json.encode, { [true] = 1 }), "non-string keys are refused")

-- settings parsing (the Settings dialog and ExtState share it)
_G.reaper = { GetOS = function() return "Other" end }
local M = dofile(repo .. "/daw_scripts/reaper/midifill_common.lua")
local ok = M.parse_settings({ temperature = "0.7", key = "f# dorian", density = "", port = "9001" })
check(ok and ok.temperature == 0.7 and ok.key == "F# dorian" and json.is_null(ok.density), "settings parse")
for key, bad in pairs({ temperature = "hot", variations = "0", port = "70000", key = "H minor",
                        host = " ", bars_before = "2.5" }) do
  local v, err = M.parse_settings({ [key] = bad })
  check(v == nil and type(err) == "string", "settings: bad " .. key .. " refused")
end

-- harmony: empty leaves the engine's default; 0 (off) is a value, not "empty";
-- outside 0-1 or not a number is refused with the setting named
local h = M.parse_settings({ harmony = "0.35" })
check(h and h.harmony == 0.35, "settings: harmony 0.35 parsed")
h = M.parse_settings({ harmony = "0" })
check(h and h.harmony == 0, "settings: harmony 0 (off) parsed as 0")
h = M.parse_settings({})
check(h and json.is_null(h.harmony), "settings: harmony defaults to empty (the engine's default)")
for _, bad in ipairs({ "1.5", "-0.1", "strong", "nan" }) do
  local v, err = M.parse_settings({ harmony = bad })
  check(v == nil and type(err) == "string" and err:find("Harmony", 1, true) ~= nil
        and (err:find("0 to 1", 1, true) or err:find("a number", 1, true)) ~= nil,
        "settings: harmony " .. bad .. " refused, named: " .. tostring(err))
end

local C = dofile(repo .. "/daw_scripts/reaper/midifill_context.lua")
local function tags(name) local d, p = C.name_tags(name); return tostring(d) .. "/" .. tostring(p) end
check(tags("Kick [Drums]") == "true/nil", "[drums] tag")
check(tags("Toms [drum] [program=3]") == "true/3", "[drum] and [program=N]")
check(tags("Marimba on ch10 [nodrums]") == "false/nil", "[nodrums] override")
check(tags("Bass [program=200]") == "nil/nil", "program out of range ignored")
check(tags("Drum bus") == "nil/nil", "a plain name is no tag")

print(string.format("test_json: %d checks, %d failures", checks, failures))
os.exit(failures == 0 and 0 or 1)
