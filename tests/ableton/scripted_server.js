// A scripted stand-in for `midifill serve`, for device tests that need a
// chosen answer (a note at a given pitch and beat), a set that changes while
// the server works, or replies lost on the way. It speaks docs/osc.md's
// address space the way bridge/server.py does: ack when every chunk is in,
// the ack again for a re-sent chunk 0 or a resend while working, the result
// chunk asked for once finished. Nothing goes over the network.
"use strict";

const { LiveSet, loadDevice } = require("./fake_live");

const CHUNK_CHARS = 6000;

/**
 * spec: the Live set. answer(request, set): the response object, computed
 * when the last chunk arrives. workMs: how long "generating" takes.
 * lose(address, args, n): true drops the n-th (from 1) reply with that address.
 */
function openScripted(spec, { answer, workMs = 50, lose = () => false } = {}) {
  const set = new LiveSet(spec);
  const sent = [];
  const replies = [];
  const jobs = new Map(); // id -> {parts, count, result: [chunks] | null}
  const counts = {};
  let device = null;
  const timers = new Set();

  function reply(address, ...args) {
    counts[address] = (counts[address] || 0) + 1;
    if (lose(address, args, counts[address])) return;
    const t = setTimeout(() => {
      timers.delete(t);
      replies.push({ address, args });
      device.message(address, ...args);
    }, 1);
    timers.add(t);
  }

  function sendResult(id, job, index) {
    reply("/midifill/result", id, index, job.result.length, job.result[index]);
  }

  function onOutlet(index, ...atoms) {
    if (index !== 0 || atoms[0] === "port") return;
    const [address, ...args] = atoms;
    sent.push({ address, args });
    if (address === "/midifill/ping") { reply("/midifill/pong", args[1], "0.0.0", "scripted"); return; }
    const id = args[0];
    if (address === "/midifill/request") {
      const [, , i, count, chunk] = args;
      let job = jobs.get(id);
      if (job && job.complete) {
        if (i === 0) {
          reply("/midifill/ack", id, 0);
          if (job.result) for (let k = 0; k < job.result.length; k++) sendResult(id, job, k);
        }
        return;
      }
      if (!job) { job = { parts: {}, count, result: null, complete: false }; jobs.set(id, job); }
      job.parts[i] = chunk;
      if (Object.keys(job.parts).length < job.count) return;
      job.complete = true;
      reply("/midifill/ack", id, 0);
      let text = "";
      for (let k = 0; k < job.count; k++) text += job.parts[k];
      const request = JSON.parse(text);
      const t = setTimeout(() => {
        timers.delete(t);
        const response = JSON.stringify(answer(request, set));
        job.result = [];
        for (let at = 0; at < response.length; at += CHUNK_CHARS) job.result.push(response.substr(at, CHUNK_CHARS));
        for (let k = 0; k < job.result.length; k++) sendResult(id, job, k);
      }, workMs);
      timers.add(t);
    } else if (address === "/midifill/resend") {
      const job = jobs.get(id);
      if (!job) reply("/midifill/error", id, "bad_chunk", "no result kept for this id");
      else if (!job.result) reply("/midifill/ack", id, 0);
      else sendResult(id, job, args[2]);
    } else if (address === "/midifill/cancel") {
      reply("/midifill/cancelled", id);
    }
  }

  device = loadDevice(set, { onOutlet });
  device.message("init");
  const close = () => { for (const t of timers) clearTimeout(t); timers.clear(); };
  return { set, device, sent, replies, close };
}

/** The request the device sent (its chunks joined), or null. */
function requestSent(sent) {
  const chunks = sent.filter((m) => m.address === "/midifill/request");
  if (!chunks.length) return null;
  const parts = {};
  for (const m of chunks) parts[m.args[2]] = m.args[4];
  let text = "";
  for (let k = 0; k < chunks[0].args[3]; k++) text += parts[k];
  return JSON.parse(text);
}

/** A one-variation response holding these notes ([pitch, start, duration, velocity]). */
const answerWith = (notes) => () => ({ variations: [{ notes }], model: "scripted", seed: 1 });

module.exports = { openScripted, requestSent, answerWith };
