-- @description midifill: fill, continue and audition variations of MIDI from the selection
-- @author midifill
-- @version 0.1.0
-- @about
--   # midifill for REAPER
--   Actions that ask a running `midifill serve` (a MIDI Transformer) to write
--   notes into the selected MIDI items, given every other track:
--   Fill (rewrite the time selection), Continue (write what follows),
--   Variations (K candidates as new takes) and Settings.
--   Needs the `midifill` command installed and `midifill serve` running.
-- @provides
--   [main] midifill - Continue.lua
--   [main] midifill - Variations.lua
--   [main] midifill - Settings.lua
--   [nomain] midifill_common.lua
--   [nomain] midifill_context.lua
--   [nomain] midifill_write.lua
--   [nomain] midifill_json.lua
--   [nomain] midifill_command.lua

-- Fill: for each selected MIDI item (or the item under the edit cursor on the
-- selected track), rewrite the time selection (the whole item when there is
-- none) given all other tracks and the rest of the item.
local dir = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
dofile(dir .. "midifill_common.lua").run_action("fill")
