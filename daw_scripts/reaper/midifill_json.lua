-- @noindex
-- A small JSON encoder/decoder for the midifill ReaScripts.
-- REAPER's Lua has no JSON library and users should not have to install
-- one, so this covers exactly what the request contract needs: objects,
-- arrays, strings, numbers, booleans and null.

local json = {}

-- null is a marked value so that it survives inside arrays (nil would not).
-- Marks, not identities, tell null and arrays apart, so values made by one
-- copy of this module encode right in another (each script loads its own).
json.null = setmetatable({}, { __jsonnull = true, __tostring = function() return "null" end })

function json.is_null(v)
  local mt = type(v) == "table" and getmetatable(v)
  return mt and mt.__jsonnull == true or false
end

local ARRAY = { __jsontype = "array" }

-- Mark a table as an array so that an empty one encodes as [] and not {}.
function json.array(t)
  return setmetatable(t or {}, ARRAY)
end

local escapes = {
  ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t',
}

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function encode_number(x)
  if x ~= x or x == math.huge or x == -math.huge then
    error("json: cannot encode " .. tostring(x), 0)
  end
  if math.type(x) == "integer" then return tostring(x) end
  if x == math.floor(x) and math.abs(x) < 2^53 then
    return string.format("%.1f", x)
  end
  -- 17 significant digits round-trip any double exactly.
  local s = string.format("%.17g", x)
  local short = string.format("%.10g", x)
  if tonumber(short) == x then s = short end
  return s
end

local function is_array(t)
  local mt = getmetatable(t)
  if mt and mt.__jsontype == "array" then return true end
  if next(t) == nil then return false end
  local n = 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 then return false end
    n = n + 1
  end
  return n == #t
end

local encode_value

local function encode_table(t, out, depth)
  if depth > 64 then error("json: nesting too deep", 0) end
  if is_array(t) then
    out[#out + 1] = "["
    for i = 1, #t do
      if i > 1 then out[#out + 1] = "," end
      encode_value(t[i], out, depth + 1)
    end
    out[#out + 1] = "]"
  else
    -- sorted keys make the output deterministic (easier to test and diff)
    local keys = {}
    for k in pairs(t) do
      if type(k) ~= "string" then error("json: object key is not a string: " .. tostring(k), 0) end
      keys[#keys + 1] = k
    end
    table.sort(keys)
    out[#out + 1] = "{"
    for i, k in ipairs(keys) do
      if i > 1 then out[#out + 1] = "," end
      out[#out + 1] = encode_string(k)
      out[#out + 1] = ":"
      encode_value(t[k], out, depth + 1)
    end
    out[#out + 1] = "}"
  end
end

encode_value = function(v, out, depth)
  local tv = type(v)
  if v == nil or json.is_null(v) then out[#out + 1] = "null"
  elseif tv == "boolean" then out[#out + 1] = tostring(v)
  elseif tv == "number" then out[#out + 1] = encode_number(v)
  elseif tv == "string" then out[#out + 1] = encode_string(v)
  elseif tv == "table" then encode_table(v, out, depth)
  else error("json: cannot encode a " .. tv, 0) end
end

function json.encode(v)
  local out = {}
  encode_value(v, out, 0)
  return table.concat(out)
end

-- Decoder -----------------------------------------------------------------

local function decode_error(s, i, what)
  local line = select(2, s:sub(1, i):gsub("\n", "")) + 1
  error(string.format("json: %s at character %d (line %d)", what, i, line), 0)
end

local function skip_ws(s, i)
  return s:find("[^ \t\r\n]", i) or #s + 1
end

local function utf8_char(code)
  return utf8.char(code)
end

local decode_value

local function decode_string(s, i)
  -- s:sub(i, i) == '"'
  local parts, j = {}, i + 1
  while true do
    local k = s:find('["\\]', j)
    if not k then decode_error(s, i, "unterminated string") end
    parts[#parts + 1] = s:sub(j, k - 1)
    if s:sub(k, k) == '"' then return table.concat(parts), k + 1 end
    local c = s:sub(k + 1, k + 1)
    local simple = ({ b = "\b", f = "\f", n = "\n", r = "\r", t = "\t",
                      ['"'] = '"', ["\\"] = "\\", ["/"] = "/" })[c]
    if simple then
      parts[#parts + 1] = simple
      j = k + 2
    elseif c == "u" then
      local hex = s:match("^%x%x%x%x", k + 2)
      if not hex then decode_error(s, k, "bad \\u escape") end
      local code = tonumber(hex, 16)
      j = k + 6
      if code >= 0xD800 and code <= 0xDBFF then
        local lo = s:match("^\\u(%x%x%x%x)", j)
        if lo then
          code = 0x10000 + (code - 0xD800) * 0x400 + (tonumber(lo, 16) - 0xDC00)
          j = j + 6
        end
      end
      parts[#parts + 1] = utf8_char(code)
    else
      decode_error(s, k, "bad escape")
    end
  end
end

local function decode_number(s, i)
  local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
  local v = num and tonumber(num)
  if not v then decode_error(s, i, "bad number") end
  return v, i + #num
end

local literals = { ["true"] = true, ["false"] = false }

decode_value = function(s, i, depth)
  if depth > 64 then decode_error(s, i, "nesting too deep") end
  i = skip_ws(s, i)
  local c = s:sub(i, i)
  if c == "{" then
    local obj = {}
    i = skip_ws(s, i + 1)
    if s:sub(i, i) == "}" then return obj, i + 1 end
    while true do
      i = skip_ws(s, i)
      if s:sub(i, i) ~= '"' then decode_error(s, i, "expected a key") end
      local key
      key, i = decode_string(s, i)
      i = skip_ws(s, i)
      if s:sub(i, i) ~= ":" then decode_error(s, i, "expected ':'") end
      local v
      v, i = decode_value(s, i + 1, depth + 1)
      obj[key] = v
      i = skip_ws(s, i)
      local d = s:sub(i, i)
      if d == "}" then return obj, i + 1 end
      if d ~= "," then decode_error(s, i, "expected ',' or '}'") end
      i = i + 1
    end
  elseif c == "[" then
    local arr = json.array({})
    i = skip_ws(s, i + 1)
    if s:sub(i, i) == "]" then return arr, i + 1 end
    while true do
      local v
      v, i = decode_value(s, i, depth + 1)
      arr[#arr + 1] = v
      i = skip_ws(s, i)
      local d = s:sub(i, i)
      if d == "]" then return arr, i + 1 end
      if d ~= "," then decode_error(s, i, "expected ',' or ']'") end
      i = i + 1
    end
  elseif c == '"' then
    return decode_string(s, i)
  elseif c == "-" or c:match("%d") then
    return decode_number(s, i)
  else
    for word, v in pairs(literals) do
      if s:sub(i, i + #word - 1) == word then return v, i + #word end
    end
    if s:sub(i, i + 3) == "null" then return json.null, i + 4 end
    decode_error(s, i, c == "" and "unexpected end of input" or "unexpected '" .. c .. "'")
  end
end

-- Returns the decoded value, or nil and a message naming the problem.
function json.decode(s)
  if type(s) ~= "string" then return nil, "json: input is not a string" end
  local ok, v, i = pcall(decode_value, s, 1, 0)
  if not ok then return nil, v end
  i = skip_ws(s, i)
  if i <= #s then return nil, "json: trailing characters at character " .. i end
  return v
end

return json
