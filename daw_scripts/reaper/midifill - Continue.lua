-- @description midifill - Continue
-- @author midifill
-- @version 0.1.0
-- @noindex
-- @about
--   Writes the time selection that follows the selected item's material
--   (without a time selection: the next bars after its last note, as many
--   as set in midifill - Settings), extending the item as needed. With no
--   item selected it creates one on the selected track.

local dir = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
dofile(dir .. "midifill_common.lua").run_action("continue")
