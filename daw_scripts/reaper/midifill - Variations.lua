-- @description midifill - Variations
-- @author midifill
-- @version 0.1.0
-- @noindex
-- @about
--   Generates K fills of the time selection (K set in midifill - Settings)
--   as new takes of each selected MIDI item. The original take is left as
--   it was; switch takes to audition the candidates.

local dir = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
dofile(dir .. "midifill_common.lua").run_action("variations")
