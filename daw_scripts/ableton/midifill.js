// midifill.js: the logic of the midifill Max for Live device.
//
// Runs in Max's classic [js] object, which is ES5 (no let, arrow functions,
// classes or template strings). It reads the selected clip and its neighbours
// through the Live API, sends the request to `midifill serve` as OSC through
// outlet 0 (wired to [udpsend 127.0.0.1 9000]) and receives the answers from
// [udpreceive <reply port>] as Max messages (the OSC address is the selector).
// The address space is docs/osc.md; the request is docs/contract.md.
//
// Time: Live counts clip time in beats (quarter notes), as the request does.
// The payload timeline starts on a bar line: clip time (Session) or song time
// (Arrangement) is shifted by `shift` beats on the way out and back.

autowatch = 1;
inlets = 1;
outlets = 2; // 0: OSC to [udpsend]; 1: "set <text>" to the status line

var REPLY_PORT = (typeof jsarguments !== "undefined" && jsarguments.length > 1)
    ? parseInt(jsarguments[1], 10) : 9001;
var CHUNK_CHARS = 6000;     // docs/osc.md: chunks of at most 6,000 characters
// Recovery from lost datagrams, as the reference client (docs/osc.md):
var TICK_MS = 100;          // how often the job looks at what it has heard
var FIRST_RESEND_MS = 250;  // chunks again if nothing came back (then 0.5 s, 1 s, ...)
var POLL_MS = 1000;         // once acked: /midifill/resend 0 after this much silence
var MISSING_MS = 100;       // a result chunk not there this long after the last one
var EPS = 1e-6;

// The request's controls the device shows: written by `python -m midifill.bridge.faces`
// from the control table (model/generation/controls.py); edit the table, not
// this block. `menu` holds a live.menu's items, "auto" first.
// BEGIN CONTROLS
var CONTROLS = [
    {"name": "temperature", "kind": "number", "lo": 0.1, "hi": 2.0, "integer": false, "auto": false, "off": false, "start": 1.0, "choices": [], "menu": []},
    {"name": "variations", "kind": "number", "lo": 1, "hi": 8, "integer": true, "auto": false, "off": false, "start": 3, "choices": [], "menu": []},
    {"name": "pitch_range", "kind": "range", "lo": 0, "hi": 127, "integer": false, "auto": true, "off": true, "start": null, "choices": [], "menu": ["auto", "off", "28-60", "36-72", "48-84", "60-96"]},
    {"name": "key", "kind": "key", "lo": null, "hi": null, "integer": false, "auto": false, "off": true, "start": null, "choices": [], "menu": []},
    {"name": "max_polyphony", "kind": "number", "lo": 1, "hi": 32, "integer": true, "auto": true, "off": true, "start": null, "choices": [], "menu": ["auto", "off", "1", "2", "3", "4", "6", "8"]},
    {"name": "density", "kind": "number", "lo": 0, "hi": 16, "integer": false, "auto": true, "off": false, "start": null, "choices": [], "menu": ["auto", "0", "2", "4", "8", "16"]},
    {"name": "harmony", "kind": "number", "lo": 0, "hi": 1, "integer": false, "auto": true, "off": true, "start": null, "choices": [], "menu": ["auto", "off", "0.2", "0.4", "0.6", "0.8", "1"]},
    {"name": "kit", "kind": "keys", "lo": 0, "hi": 127, "integer": false, "auto": true, "off": true, "start": null, "choices": [], "menu": ["auto", "off", "36,38,42,46,49"]},
    {"name": "groove", "kind": "switch", "lo": null, "hi": null, "integer": false, "auto": true, "off": true, "start": null, "choices": [], "menu": ["auto", "on", "off"]},
    {"name": "durations", "kind": "state", "lo": null, "hi": null, "integer": false, "auto": true, "off": true, "start": null, "choices": [], "menu": ["auto", "off"]},
    {"name": "feel", "kind": "choice", "lo": null, "hi": null, "integer": false, "auto": true, "off": true, "start": null, "choices": ["straight", "triplet", "swing", "loose"], "menu": ["auto", "off", "straight", "triplet", "swing", "loose"]}
];
// END CONTROLS

var settings = {
    port: 9000, temperature: 1.0, variations: 3, keyLock: 0, together: 0,
    controls: {},            // set by the menus; a control not here is left out
    ackTimeoutMs: 4000,      // no answer at all: the server acks at once from its receive thread
    silenceTimeoutMs: 10000  // once it answered: it answers every poll while it works
};
var ready = false; // set by live.thisdevice: the Live API is unusable before
var job = null;    // the request in flight, or null
var counter = 0;

// ---------------------------------------------------------------- messages in

function init() {
    ready = true;
    status("Ready. Select a MIDI clip and press Fill.");
    ping();
}

// Buttons arrive as [prepend fill] etc.; a live.text may also send 0 on
// release, which must not press again.
function fill(v) { if (v !== 0) start("fill"); }
function cont(v) { if (v !== 0) start("continue"); } // "continue" is reserved in JS
function vary(v) { if (v !== 0) start("variations"); }

function temperature(v) { settings.temperature = Math.max(0.05, Number(v)); }
function numvariations(v) { settings.variations = clampInt(v, 1, 8); }
function keylock(v) { settings.keyLock = Number(v) ? 1 : 0; }
// This device's Together switch. The device that is pressed reads every
// device's switch through the Live API (joinedTracks), its own included.
function together(v) { settings.together = Number(v) ? 1 : 0; }

// A menu of the device ([prepend menu NAME], one per control of CONTROLS
// with menu items): the item chosen, by index, as control() reads it.
function menu(name, index) {
    var def = controlDef(name);
    if (def && def.menu.length) control(name, def.menu[clampInt(index, 0, def.menu.length - 1)]);
}

// A control's value as the request spells it: "auto" leaves it out (the
// engine follows the part: a state of its own, no number stands for it),
// "off" switches it off, anything else is a value held to the control's
// range. A value that cannot be read leaves it out, rather than a guess.
function control(name, value) {
    var def = controlDef(name);
    if (!def) return;
    var v = controlValue(def, String(value).replace(/^\s+|\s+$/g, "").toLowerCase());
    if (v === undefined) delete settings.controls[name];
    else settings.controls[name] = v;
}

function controlDef(name) {
    for (var i = 0; i < CONTROLS.length; i++) if (CONTROLS[i].name === name) return CONTROLS[i];
    return null;
}

function controlValue(def, s) {
    if (s === "auto" && def.auto) return undefined;
    if (s === "off" && def.off) return "off";
    var m, x, i, keys;
    if (def.kind === "number") {
        x = Number(s);
        if (s === "" || !isFinite(x)) return undefined;
        x = Math.min(def.hi, Math.max(def.lo, x));
        return def.integer ? Math.round(x) : x;
    }
    if (def.kind === "range") {
        m = /^(\d+)\s*-\s*(\d+)$/.exec(s);
        if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) > def.hi) return undefined;
        return [Number(m[1]), Number(m[2])];
    }
    if (def.kind === "keys") {
        keys = s.split(/[\s,]+/);
        for (i = 0; i < keys.length; i++) {
            keys[i] = Number(keys[i]);
            if (keys[i] !== Math.round(keys[i]) || keys[i] < def.lo || keys[i] > def.hi) return undefined;
        }
        return keys;
    }
    if (def.kind === "switch") return s === "on" ? true : undefined;
    if (def.kind === "choice") return def.choices.indexOf(s) >= 0 ? s : undefined;
    return undefined;
}
function acktimeout(ms) { settings.ackTimeoutMs = Number(ms); }
function silencetimeout(ms) { settings.silenceTimeoutMs = Number(ms); }
function port(v) {
    settings.port = clampInt(v, 1, 65535);
    outlet(0, "port", settings.port);
}

function ping() {
    var id = newId("ping");
    outlet(0, "/midifill/ping", REPLY_PORT, id);
}

function cancel(v) {
    if (v === 0) return;
    if (!job) { status("Nothing to cancel."); return; }
    outlet(0, "/midifill/cancel", job.id, REPLY_PORT);
    finish("Cancelled.");
}

// Replies from [udpreceive]: the OSC address arrives as the message name.
function anything() {
    var args = Array.prototype.slice.call(arguments);
    var address = messagename;
    if (address === "/midifill/pong") {
        if (!job) status("Connected to midifill (" + args[2] + "). Select a MIDI clip and press Fill.");
        return;
    }
    if (!job || String(args[0]) !== job.id) return; // not ours, or too late
    job.heardAt = now();
    if (address === "/midifill/ack") {
        if (!job.acked) { // the ack that answers a poll says nothing new
            status(Number(args[1]) > 0 ? "Queued (" + args[1] + " ahead)..." : "Generating...");
        }
        job.acked = true;
    } else if (address === "/midifill/progress") {
        status("Generating... " + Math.round(Number(args[1]) * 100) + "%");
    } else if (address === "/midifill/result") {
        receiveChunk(Number(args[1]), Number(args[2]), args.slice(3).join(" "));
    } else if (address === "/midifill/error") {
        finish("Error (" + args[1] + "): " + args.slice(2).join(" "));
    } else if (address === "/midifill/cancelled") {
        finish("Cancelled by the server.");
    }
}

// ------------------------------------------------------------------ requests

function start(kind) {
    if (!ready) { status("Waiting for Live to load the device..."); return; }
    if (job) { status("Still working on the last request (press Cancel to stop it)."); return; }
    var plan;
    try {
        plan = readSelection(kind);
    } catch (e) {
        status("Error: " + (e && e.message ? e.message : e));
        return;
    }
    var text = asciiJSON(plan.request);
    var parts = [];
    for (var at = 0; at < Math.max(1, text.length); at += CHUNK_CHARS) parts.push(text.substr(at, CHUNK_CHARS));
    var t = now();
    job = { id: newId("m4l"), plan: plan, parts: parts, chunks: {}, count: -1, sentAt: t,
            acked: false, heardAt: t, sendDelay: FIRST_RESEND_MS, nextSendAt: t + FIRST_RESEND_MS,
            polledAt: t, lastChunkAt: 0, askedAt: 0, ticker: null };
    sendChunks();
    status("Sent " + plan.label + " to midifill on port " + settings.port + "...");
    var id = job.id;
    job.ticker = new Task(function () { if (job && job.id === id) tick(); }, this);
    job.ticker.schedule(TICK_MS);
}

function sendChunks() {
    for (var i = 0; i < job.parts.length; i++) {
        outlet(0, "/midifill/request", job.id, REPLY_PORT, i, job.parts.length, job.parts[i]);
    }
}

// Runs every TICK_MS while a job is in flight: sends again what may have been
// lost, and gives up once the server has been silent for its whole timeout.
function tick() {
    var t = now(), quiet = t - job.heardAt;
    if (!job.acked && job.count < 0) {
        if (quiet >= settings.ackTimeoutMs) {
            finish("No answer from a midifill server on port " + settings.port +
                   ". Start it with: midifill serve --port " + settings.port + " Nothing was changed.");
            return;
        }
        if (t >= job.nextSendAt) {
            sendChunks();
            job.sendDelay *= 2;
            job.nextSendAt = t + job.sendDelay;
        }
    } else {
        if (quiet >= settings.silenceTimeoutMs) {
            finish("The midifill server stopped answering (port " + settings.port + "). Nothing was changed.");
            return;
        }
        if (job.count < 0) {
            if (t - Math.max(job.heardAt, job.polledAt) >= POLL_MS) {
                outlet(0, "/midifill/resend", job.id, REPLY_PORT, 0);
                job.polledAt = t;
            }
        } else if (t - Math.max(job.lastChunkAt, job.askedAt) >= MISSING_MS) {
            var missing = missingChunks();
            for (var i = 0; i < missing.length; i++) outlet(0, "/midifill/resend", job.id, REPLY_PORT, missing[i]);
            job.askedAt = t;
        }
    }
    job.ticker.schedule(TICK_MS);
}

function receiveChunk(index, count, chunk) {
    job.count = count;
    job.chunks[index] = chunk;
    job.lastChunkAt = now();
    if (missingChunks().length) return; // tick() asks for the rest
    var text = "";
    for (var i = 0; i < count; i++) text += job.chunks[i];
    var response;
    try {
        response = JSON.parse(text);
    } catch (e) {
        finish("Error: the server's answer is not valid JSON.");
        return;
    }
    var seconds = (new Date().getTime() - job.sentAt) / 1000;
    var outcome;
    try {
        outcome = writeResult(job.plan, response);
    } catch (e2) {
        finish("Error while writing notes: " + (e2 && e2.message ? e2.message : e2));
        return;
    }
    finish(outcome.written ? outcome.text + " in " + seconds.toFixed(1) + " s." : outcome.text);
}

function missingChunks() {
    var out = [];
    for (var i = 0; i < job.count; i++) if (job.chunks[i] === undefined) out.push(i);
    return out;
}

function finish(message) {
    if (job && job.ticker) job.ticker.cancel();
    job = null;
    status(message);
}

function status(text) {
    outlet(1, "set", text);
    post("midifill: " + text + "\n");
}

// --------------------------------------------------------- reading the set

function readSelection(kind) {
    var song = api("live_set");
    var view = api("live_set view");
    var clip = selectedClip(view);
    var c = clipInfo(clip);
    // The clip's own time signature, which may differ from the Song's.
    var sig = [num(clip, "signature_numerator"), num(clip, "signature_denominator")];
    var bar = sig[0] * 4 / sig[1];
    var own = readNotes(clip, Math.min(c.start_marker, c.loop_start), Math.max(c.end_marker, c.loop_end));

    var tgt = { start: c.loop_start, end: c.loop_end }; // clip time
    if (c.isArrangement && num(song, "loop")) {
        // The arrangement loop brace is the "selected time range" Live exposes.
        var from = num(song, "loop_start") - c.start_time + c.start_marker;
        var to = from + num(song, "loop_length");
        if (from < c.loop_end - EPS && to > c.loop_start + EPS) {
            tgt = { start: Math.max(from, c.loop_start), end: Math.min(to, c.loop_end) };
        }
    }
    // shift maps clip time to payload time; payload beat 0 is a bar line.
    var shift, origin;
    if (c.isArrangement) {
        origin = floorTo(Math.min(c.start_time, c.start_time + tgt.start - c.start_marker), bar);
        shift = c.start_time - c.start_marker - origin;
    } else {
        origin = floorTo(Math.min(0, c.loop_start, c.start_marker), bar);
        shift = -origin;
    }
    var mode = kind === "continue" ? "continue" : "fill";
    var extend = false;
    if (kind === "continue") {
        var last = -1;
        for (var i = 0; i < own.length; i++) {
            if (own[i].start_time >= tgt.start - EPS && own[i].start_time < tgt.end - EPS && !own[i].mute) {
                last = Math.max(last, own[i].start_time + own[i].duration);
            }
        }
        if (last < 0) {
            mode = "fill"; // nothing to continue from: write the whole region
        } else {
            var after = ceilTo(last + shift, bar) - shift;
            if (after < tgt.end - EPS) {
                tgt = { start: after, end: tgt.end };
            } else {
                tgt = { start: tgt.end, end: tgt.end + (tgt.end - tgt.start) };
                extend = true; // the clip grows to hold the continuation
                refuseToExtend(clip, c, tgt);
            }
        }
    }
    var windowEnd = Math.max(c.end_marker, c.loop_end, tgt.end) + shift;
    if (c.isArrangement) windowEnd = Math.max(windowEnd, c.end_time - origin);
    var trackIndex = c.trackIndex;
    var tracks = [];
    var ownTrack = trackEntry(trackIndex);
    for (i = 0; i < own.length; i++) {
        var n = own[i], p = n.start_time + shift;
        if (n.mute || p < -EPS || p >= windowEnd - EPS) continue;
        if (n.start_time >= tgt.start - EPS && n.start_time < tgt.end - EPS) continue; // replaced
        ownTrack.notes.push(noteList(n.pitch, p, n.duration, n.velocity));
    }
    tracks.push(ownTrack);
    var trackCount = song.getcount("tracks");
    var parts = [{ clip: c, target: tgt, shift: shift,
                   noteSpan: [Math.min(c.start_marker, c.loop_start), Math.max(c.end_marker, c.loop_end, tgt.end)] }];
    var joined = {}, skipped = [];
    if (kind !== "continue") {
        var range = [tgt.start + shift, tgt.end + shift]; // payload time
        var marked = joinedTracks(trackCount, trackIndex);
        for (var m = 0; m < marked.length; m++) {
            var part = joinedPart(marked[m], c, range, shift, origin, windowEnd);
            if (!part) { skipped.push(str(api("live_set tracks " + marked[m]), "name")); continue; }
            joined[marked[m]] = true;
            parts.push(part);
            tracks.push(part.entry);
        }
    }
    for (var t = 0; t < trackCount; t++) {
        if (t === trackIndex || joined[t]) continue;
        var track = api("live_set tracks " + t);
        if (!num(track, "has_midi_input")) continue;
        var entry = trackEntry(t);
        if (c.isArrangement) {
            var songFrom = origin, songTo = origin + windowEnd;
            var clipCount = track.getcount("arrangement_clips");
            for (var k = 0; k < clipCount; k++) {
                var other = api("live_set tracks " + t + " arrangement_clips " + k);
                var o = clipInfo(other);
                if (o.start_time >= songTo || o.end_time <= songFrom || !o.isMidi) continue;
                addPlayed(entry.notes, other, o, o.end_time - o.start_time, o.start_time - origin, windowEnd);
            }
        } else {
            var slot = api("live_set tracks " + t + " clip_slots " + c.slotIndex);
            if (slot.id == 0 || !num(slot, "has_clip")) continue;
            var sclip = api("live_set tracks " + t + " clip_slots " + c.slotIndex + " clip");
            var s = clipInfo(sclip);
            if (!s.isMidi) continue;
            // A launched clip plays from its start marker, as the selected one does.
            addPlayed(entry.notes, sclip, s, windowEnd, c.start_marker + shift, windowEnd);
        }
        if (entry.notes.length) tracks.push(entry);
    }
    var controls = {
        temperature: settings.temperature, top_p: 0.95,
        seed: Math.floor(Math.random() * 2147483647),
        variations: kind === "variations" ? settings.variations : 1
    };
    for (var name in settings.controls) {  // the menus' choices; "auto" is not here
        if (settings.controls.hasOwnProperty(name)) controls[name] = settings.controls[name];
    }
    var key = settings.keyLock ? songKey(song) : null;
    if (key) controls.key = key;
    var request = {
        mode: mode,
        time_signature: sig,
        tempo: num(song, "tempo"),
        tracks: tracks,
        target: { track: ownTrack.id, start: round6(tgt.start + shift), end: round6(tgt.end + shift) },
        controls: controls
    };
    if (parts.length > 1) { // several targets: docs/contract.md, "Several targets"
        request.targets = [];
        for (var q = 0; q < parts.length; q++) {
            request.targets.push({ track: tracks[q].id, start: round6(parts[q].target.start + parts[q].shift),
                                   end: round6(parts[q].target.end + parts[q].shift) });
        }
        delete request.target;
    }
    var labels = { fill: "a fill", "continue": "a continuation", variations: controls.variations + " variations" };
    if (parts.length > 1) labels[kind] += " of " + parts.length + " clips";
    if (skipped.length) labels[kind] += " (no clip to fill on " + skipped.join(", ") + ")";
    return { kind: kind, request: request, clip: c, target: tgt, shift: shift, extend: extend, parts: parts,
             noteSpan: parts[0].noteSpan,
             view: { detail: idOf(view, "detail_clip"), slot: idOf(view, "highlighted_clip_slot") },
             label: labels[kind] };
}

// Continue on a full loop lengthens the clip. An Arrangement clip keeps its
// end_time whatever its loop_end and end_marker say, so the new notes would
// never play; a Session clip may hold notes after its loop end, which the
// new section would replace. Both are refused before anything is sent.
function refuseToExtend(clip, c, tgt) {
    if (c.isArrangement) {
        throw new Error("the loop of this Arrangement clip is full, and Live does not let a device " +
                        "lengthen an Arrangement clip. Drag the clip's end further, or put the loop " +
                        "brace over the bars to write, then press Continue again.");
    }
    var hidden = readNotes(clip, tgt.start, tgt.end);
    if (hidden.length) {
        var first = hidden[0].start_time;
        for (var i = 1; i < hidden.length; i++) first = Math.min(first, hidden[i].start_time);
        throw new Error("the clip holds notes after its loop end (from beat " + round6(first) +
                        ") that Continue would replace. Move the loop end past them, or delete " +
                        "them, then press Continue again.");
    }
}

// Tracks that join a Fill or Variations: each other MIDI track that carries a
// midifill device whose Together switch is on. Live lets a device read
// another device's automatable parameters (Device.parameters), so the
// switch is found by its name on a Max MIDI effect at the track's top level.
function joinedTracks(trackCount, ownIndex) {
    var out = [];
    for (var t = 0; t < trackCount; t++) {
        if (t === ownIndex || !num(api("live_set tracks " + t), "has_midi_input")) continue;
        if (togetherOn("live_set tracks " + t)) out.push(t);
    }
    return out;
}

function togetherOn(trackPath) {
    var count = api(trackPath).getcount("devices");
    for (var d = 0; d < count; d++) {
        var devicePath = trackPath + " devices " + d;
        if (str(api(devicePath), "class_name") !== "MxDeviceMidiEffect") continue;
        var params = api(devicePath).getcount("parameters");
        for (var p = 0; p < params; p++) {
            var param = api(devicePath + " parameters " + p);
            if (/^(midifill )?together$/i.test(str(param, "name")) && num(param, "value") >= 0.5) return true;
        }
    }
    return false;
}

// The clip of a joined track that plays with the selected one: in Session,
// its clip in the same scene (launched together, each from its start
// marker); in Arrangement, its clip under the start of the target. Its
// target is the selected one's range (payload time), within the part of the
// clip that plays once from its start marker. Null when it has none there.
function joinedPart(index, c, range, shift, origin, windowEnd) {
    var trackPath = "live_set tracks " + index, clip = null, k;
    if (c.isArrangement) {
        var track = api(trackPath), count = track.getcount("arrangement_clips");
        for (k = 0; k < count && !clip; k++) {
            var a = api(trackPath + " arrangement_clips " + k);
            var at = range[0] + origin;
            if (num(a, "start_time") <= at + EPS && num(a, "end_time") > at + EPS) clip = a;
        }
    } else {
        var slot = api(trackPath + " clip_slots " + c.slotIndex);
        if (slot.id != 0 && num(slot, "has_clip")) clip = api(trackPath + " clip_slots " + c.slotIndex + " clip");
    }
    if (!clip || !num(clip, "is_midi_clip")) return null;
    var o = clipInfo(clip);
    var oShift = c.isArrangement ? o.start_time - o.start_marker - origin : c.start_marker + shift - o.start_marker;
    var firstEnd = o.looping ? o.loop_end : o.end_marker;
    var tgt = { start: Math.max(range[0] - oShift, o.start_marker), end: Math.min(range[1] - oShift, firstEnd) };
    if (c.isArrangement) tgt.end = Math.min(tgt.end, o.end_time - o.start_time + o.start_marker);
    if (tgt.end - tgt.start < EPS) return null;
    var entry = trackEntry(index);
    var notes = readNotes(clip, Math.min(o.start_marker, o.loop_start), Math.max(o.end_marker, o.loop_end));
    for (k = 0; k < notes.length; k++) {
        var n = notes[k], p = n.start_time + oShift;
        if (n.mute || p < -EPS || p >= windowEnd - EPS) continue;
        if (n.start_time >= tgt.start - EPS && n.start_time < tgt.end - EPS) continue; // replaced
        entry.notes.push(noteList(n.pitch, p, n.duration, n.velocity));
    }
    return { clip: o, target: tgt, shift: oShift, entry: entry,
             noteSpan: [Math.min(o.start_marker, o.loop_start), Math.max(o.end_marker, o.loop_end)] };
}

function selectedClip(view) {
    var id = idOf(view, "detail_clip");
    if (!id) {
        var slotId = idOf(view, "highlighted_clip_slot");
        if (slotId) {
            var slot = api("id " + slotId);
            if (num(slot, "has_clip")) id = idOf(slot, "clip");
        }
    }
    if (!id) throw new Error("select a MIDI clip first (click it so it shows in the clip view)");
    var clip = api("id " + id);
    if (!num(clip, "is_midi_clip")) throw new Error("the selected clip is an audio clip; select a MIDI clip");
    return clip;
}

function clipInfo(clip) {
    var path = String(clip.unquotedpath || clip.path).replace(/"/g, "");
    var trackMatch = /tracks (\d+)/.exec(path);
    var slotMatch = /clip_slots (\d+)/.exec(path);
    if (!trackMatch) throw new Error("the selected clip is not on a regular track");
    var info = {
        id: Number(clip.id), path: path, isMidi: !!num(clip, "is_midi_clip"),
        isArrangement: !slotMatch, trackIndex: Number(trackMatch[1]),
        slotIndex: slotMatch ? Number(slotMatch[1]) : -1,
        looping: !!num(clip, "looping"), name: str(clip, "name"),
        loop_start: num(clip, "loop_start"), loop_end: num(clip, "loop_end"),
        start_marker: num(clip, "start_marker"), end_marker: num(clip, "end_marker"),
        start_time: 0, end_time: 0
    };
    if (info.isArrangement) {
        info.start_time = num(clip, "start_time");
        info.end_time = num(clip, "end_time");
    }
    return info;
}

// Notes as they sound: from the start marker, then the loop region again and
// again while the clip plays. `at` is where play position 0 lands in payload time.
function addPlayed(out, clip, c, length, at, windowEnd) {
    var notes = readNotes(clip, Math.min(c.start_marker, c.loop_start), Math.max(c.end_marker, c.loop_end));
    var firstEnd = c.looping ? c.loop_end : c.end_marker;
    var loopLen = c.loop_end - c.loop_start;
    function put(n, playPos) {
        var p = at + playPos;
        if (playPos < -EPS || playPos >= length - EPS || p < -EPS || p >= windowEnd - EPS) return;
        out.push(noteList(n.pitch, p, n.duration, n.velocity));
    }
    var i, n;
    for (i = 0; i < notes.length; i++) {
        n = notes[i];
        if (!n.mute && n.start_time >= c.start_marker - EPS && n.start_time < firstEnd - EPS) {
            put(n, n.start_time - c.start_marker);
        }
    }
    if (!c.looping || loopLen <= EPS) return;
    for (var base = firstEnd - c.start_marker; base < length - EPS; base += loopLen) {
        for (i = 0; i < notes.length; i++) {
            n = notes[i];
            if (!n.mute && n.start_time >= c.loop_start - EPS && n.start_time < c.loop_end - EPS) {
                put(n, base + n.start_time - c.loop_start);
            }
        }
    }
}

function trackEntry(index) {
    var track = api("live_set tracks " + index);
    var drum = hasDrumRack("live_set tracks " + index, 0);
    var name = str(track, "name");
    return { id: "t" + (index + 1), name: name, program: drum ? 0 : guessProgram(name),
             is_drum: drum, notes: [] };
}

// A Drum Rack among the devices at `path`, or inside the chains of a rack
// there (an Instrument Rack may hold one). Racks nest; 8 levels is plenty.
function hasDrumRack(path, depth) {
    var holder = api(path);
    var count = holder.getcount("devices");
    for (var d = 0; d < count; d++) {
        var devicePath = path + " devices " + d;
        var device = api(devicePath);
        if (num(device, "can_have_drum_pads")) return true;
        if (depth < 8 && num(device, "can_have_chains")) {
            var chains = device.getcount("chains");
            for (var c = 0; c < chains; c++) {
                if (hasDrumRack(devicePath + " chains " + c, depth + 1)) return true;
            }
        }
    }
    return false;
}

// Live has no General MIDI program; a name hint helps the model pick a role.
function guessProgram(name) {
    var hints = [[/bass/i, 33], [/guitar|gtr/i, 25], [/organ/i, 16], [/string|pad/i, 48],
                 [/brass|horn/i, 61], [/lead|synth/i, 80], [/flute/i, 73]];
    for (var i = 0; i < hints.length; i++) if (hints[i][0].test(name)) return hints[i][1];
    return 0;
}

// Live 12's scale (root_note, scale_name) as the key control. Scales the
// engine knows pass as they are; others fall back to major or minor.
function songKey(song) {
    var names = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"];
    var known = ["major", "minor", "harmonic minor", "melodic minor", "dorian", "phrygian",
                 "lydian", "mixolydian", "locrian", "major pentatonic", "minor pentatonic"];
    var scale = str(song, "scale_name").toLowerCase();
    var root = num(song, "root_note");
    if (!scale || isNaN(root)) return null;
    if (scale === "minor blues") scale = "blues";
    if (known.indexOf(scale) < 0 && scale !== "blues") {
        if (/minor|aeolian|dorian|phrygian|locrian/.test(scale)) scale = "minor";
        else if (/major|ionian|lydian|mixolydian/.test(scale)) scale = "major";
        else return null;
    }
    return names[((root % 12) + 12) % 12] + " " + scale;
}

// ------------------------------------------------------------ writing notes

// Returns {written, text}: what the status line says.
function writeResult(plan, response) {
    var variations = response.variations || [];
    if (!variations.length) throw new Error("the server sent no variation");
    var c = plan.clip;
    var clip = api("id " + c.id);
    // Live answers a deleted object with id 0 and ignores whatever is asked of
    // it, so without this check the status would count notes nobody wrote.
    if (Number(clip.id) !== c.id) {
        return { written: false, text: "Nothing was written: the clip " + (c.name ? "'" + c.name + "' " : "") +
                 "was deleted while midifill worked." };
    }
    if (plan.kind !== "variations") {
        var count = replaceRange(clip, plan, notesOf(variations[0], 0));
        var clips = 1;
        for (var i = 1; i < plan.parts.length; i++) {
            var other = api("id " + plan.parts[i].clip.id);
            if (Number(other.id) !== plan.parts[i].clip.id) continue; // deleted meanwhile
            count += replaceRange(other, plan.parts[i], notesOf(variations[0], i));
            clips++;
        }
        if (plan.extend) {
            clip.set("end_marker", Math.max(c.end_marker, plan.target.end));
            clip.set("loop_end", plan.target.end);
        }
        return { written: true, text: (plan.kind === "continue" ? "Continued with " : "Filled ") + plural(count, "note") +
                 (plan.parts.length > 1 ? " in " + plural(clips, "clip") : "") };
    }
    var made = c.isArrangement ? arrangementCopies(plan, variations) : sessionCopies(plan, variations);
    restoreSelection(plan);
    return { written: true, text: "Wrote " + plural(made, "variation") + " beside the original" };
}

// A variation's notes for target i (a request of several targets answers
// each in the request's order).
function notesOf(variation, i) {
    if (variation.targets) return (variation.targets[i] && variation.targets[i].notes) || [];
    return i === 0 ? variation.notes || [] : [];
}

// Only the target range changes: notes that start outside it stay as they are.
// `plan` is the request's plan or one of its parts: {target, shift, noteSpan}.
function replaceRange(clip, plan, notes) {
    var t = plan.target;
    clip.call("remove_notes_extended", 0, 128, t.start, t.end - t.start);
    var out = [];
    for (var i = 0; i < notes.length; i++) {
        var pitch = Math.round(notes[i][0]);
        var start = notes[i][1] - plan.shift;
        if (start < t.start - EPS || start >= t.end - EPS || pitch < 0 || pitch > 127) continue;
        start = Math.max(start, t.start);
        out.push({ pitch: pitch, start_time: start,
                   duration: Math.max(0.001, Math.min(notes[i][2], t.end - start)),
                   velocity: clampInt(notes[i][3], 1, 127), mute: 0, order: i });
    }
    out = fitToKept(out, readNotes(clip, plan.noteSpan[0], plan.noteSpan[1]));
    if (out.length) clip.call("add_new_notes", { notes: out });
    return out.length;
}

// Live never lets two notes of one pitch overlap: a note that starts while an
// earlier one of its pitch sounds shortens that one, and a note at the same
// start replaces it. So that no kept note changes, a new note that would start
// while a kept note of its pitch still sounds is left out, and every new note
// ends where the next note of its pitch starts (then Live has nothing to cut).
function fitToKept(out, kept) {
    var byPitch = {}, lastOf = {}, fit = [];
    var i, k;
    for (i = 0; i < kept.length; i++) (byPitch[kept[i].pitch] = byPitch[kept[i].pitch] || []).push(kept[i]);
    out.sort(function (a, b) { return a.start_time - b.start_time || a.pitch - b.pitch || a.order - b.order; });
    for (i = 0; i < out.length; i++) {
        var n = out[i], others = byPitch[n.pitch] || [], end = n.start_time + n.duration, under = false;
        for (k = 0; k < others.length; k++) {
            var o = others[k];
            if (o.start_time <= n.start_time + EPS && o.start_time + o.duration > n.start_time + EPS) under = true;
            else if (o.start_time > n.start_time) end = Math.min(end, o.start_time);
        }
        var prev = lastOf[n.pitch];
        if (under || (prev && prev.start_time > n.start_time - EPS)) continue; // same start: the first stays
        if (prev) prev.duration = Math.min(prev.duration, n.start_time - prev.start_time);
        n.duration = end - n.start_time;
        delete n.order;
        fit.push(n);
        lastOf[n.pitch] = n;
    }
    return fit;
}

// Takes in step: variation v of every clip goes into one scene (the next
// scene below the originals whose slots are empty on every track filled; a
// new scene when none is left), so launching that scene plays take v.
function sessionCopies(plan, variations) {
    var song = api("live_set"), parts = plan.parts;
    var row = plan.clip.slotIndex;
    for (var v = 0; v < variations.length; v++) {
        do { row++; } while (row < song.getcount("scenes") && rowTaken(parts, row));
        if (row >= song.getcount("scenes")) {
            song.call("create_scene", -1);
            row = song.getcount("scenes") - 1;
        }
        for (var i = 0; i < parts.length; i++) {
            var c = parts[i].clip, trackPath = "live_set tracks " + c.trackIndex;
            var dest = api(trackPath + " clip_slots " + row);
            api(trackPath + " clip_slots " + c.slotIndex).call("duplicate_clip_to", "id " + dest.id);
            var copy = api(trackPath + " clip_slots " + row + " clip");
            replaceRange(copy, parts[i], notesOf(variations[v], i));
            copy.set("name", (c.name || "clip") + " v" + (v + 1));
        }
    }
    return variations.length;
}

function rowTaken(parts, row) {
    for (var i = 0; i < parts.length; i++) {
        if (num(api("live_set tracks " + parts[i].clip.trackIndex + " clip_slots " + row), "has_clip")) return true;
    }
    return false;
}

// Each take after the last clip of every track filled, on a bar line; with
// several clips, take v of each keeps its place against the others.
function arrangementCopies(plan, variations) {
    var parts = plan.parts, song = api("live_set"), i, k;
    var bar = num(song, "signature_numerator") * 4 / num(song, "signature_denominator");
    var first = parts[0].clip.start_time;
    for (i = 1; i < parts.length; i++) first = Math.min(first, parts[i].clip.start_time);
    for (var v = 0; v < variations.length; v++) {
        var end = 0;
        for (i = 0; i < parts.length; i++) {
            var trackPath = "live_set tracks " + parts[i].clip.trackIndex, track = api(trackPath);
            end = Math.max(end, parts[i].clip.end_time);
            var count = track.getcount("arrangement_clips");
            for (k = 0; k < count; k++) end = Math.max(end, num(api(trackPath + " arrangement_clips " + k), "end_time"));
        }
        var base = ceilTo(end, bar);
        for (i = 0; i < parts.length; i++) {
            var c = parts[i].clip, path = "live_set tracks " + c.trackIndex;
            var at = parts.length > 1 ? base + c.start_time - floorTo(first, bar) : base;
            api(path).call("duplicate_clip_to_arrangement", "id " + c.id, at);
            var copy = arrangementClipAt(path, at);
            if (!copy) throw new Error("Live did not create the copy at beat " + at);
            replaceRange(copy, parts[i], notesOf(variations[v], i));
            copy.set("name", (c.name || "clip") + " v" + (v + 1));
        }
    }
    return variations.length;
}

function arrangementClipAt(trackPath, at) {
    var track = api(trackPath);
    var count = track.getcount("arrangement_clips");
    for (var k = 0; k < count; k++) {
        var clip = api(trackPath + " arrangement_clips " + k);
        if (Math.abs(num(clip, "start_time") - at) < 1e-4) return clip;
    }
    return null;
}

function restoreSelection(plan) {
    var view = api("live_set view");
    if (plan.view.slot) view.set("highlighted_clip_slot", "id " + plan.view.slot);
    view.set("detail_clip", "id " + plan.clip.id);
}

// ------------------------------------------------------------------ helpers

function api(path) { return new LiveAPI(path); }

function readNotes(clip, from, to) {
    var raw = clip.call("get_notes_extended", 0, 128, from, Math.max(to - from, EPS));
    var parsed = typeof raw === "string" ? JSON.parse(raw) : raw;
    return (parsed && parsed.notes) ? parsed.notes : [];
}

function num(obj, prop) {
    var v = obj.get(prop);
    return Number(Array.isArray(v) ? v[v.length - 1] : v);
}

function str(obj, prop) {
    var v = obj.get(prop);
    return Array.isArray(v) ? v.join(" ") : (v === undefined || v === null ? "" : String(v));
}

function idOf(obj, prop) {
    var v = obj.get(prop); // ["id", n]; id 0 means nothing
    var id = Number(Array.isArray(v) ? v[v.length - 1] : v);
    return id > 0 ? id : 0;
}

function noteList(pitch, start, duration, velocity) {
    return [clampInt(pitch, 0, 127), round6(start), round6(Math.max(duration, 0.001)), clampInt(velocity, 1, 127)];
}

function asciiJSON(value) {
    return JSON.stringify(value).replace(/[\u007f-\uffff]/g, function (ch) {
        return "\\u" + ("0000" + ch.charCodeAt(0).toString(16)).slice(-4);
    });
}

function newId(prefix) {
    counter++;
    return prefix + "-" + new Date().getTime().toString(36) + "-" + counter;
}

function floorTo(x, step) { return Math.floor(x / step + EPS) * step; }
function ceilTo(x, step) { return Math.ceil(x / step - EPS) * step; }
function now() { return new Date().getTime(); }
function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
function round6(x) { return Math.round(x * 1e6) / 1e6; }
function clampInt(v, lo, hi) { return Math.max(lo, Math.min(hi, Math.round(Number(v)))); }
