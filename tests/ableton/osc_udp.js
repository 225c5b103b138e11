// Stand-ins for Max's [udpsend] and [udpreceive]: a small OSC 1.0 codec and a
// UDP socket that carries the device's outlet messages to a real server and
// hands the replies back to the device as Max messages.
"use strict";

const dgram = require("dgram");

function pad4(n) { return (n + 3) & ~3; }

function oscString(s) {
  const raw = Buffer.from(String(s), "utf8");
  const out = Buffer.alloc(pad4(raw.length + 1));
  raw.copy(out);
  return out;
}

/**
 * Encode as [udpsend] does with Max atoms: whole numbers are ints, others
 * floats. With floats = true every number goes as a float: Max does not
 * document that js hands whole numbers to udpsend as int atoms.
 */
function encode(address, args, floats = false) {
  let tags = ",";
  const parts = [];
  for (const a of args) {
    if (typeof a === "number" && Number.isInteger(a) && !floats) {
      tags += "i";
      const b = Buffer.alloc(4); b.writeInt32BE(a); parts.push(b);
    } else if (typeof a === "number") {
      tags += "f";
      const b = Buffer.alloc(4); b.writeFloatBE(a); parts.push(b);
    } else {
      tags += "s";
      parts.push(oscString(a));
    }
  }
  return Buffer.concat([oscString(address), oscString(tags), ...parts]);
}

function readString(buf, at) {
  const end = buf.indexOf(0, at);
  if (end < 0) throw new Error("OSC string without a terminator");
  return [buf.toString("utf8", at, end), pad4(end + 1)];
}

function decode(buf) {
  let [address, at] = readString(buf, 0);
  let tags;
  [tags, at] = readString(buf, at);
  if (!tags.startsWith(",")) throw new Error("OSC message without type tags");
  const args = [];
  for (const t of tags.slice(1)) {
    if (t === "i") { args.push(buf.readInt32BE(at)); at += 4; }
    else if (t === "f") { args.push(buf.readFloatBE(at)); at += 4; }
    else if (t === "d") { args.push(buf.readDoubleBE(at)); at += 8; }
    else if (t === "h") { args.push(Number(buf.readBigInt64BE(at))); at += 8; }
    else if (t === "s") { let s; [s, at] = readString(buf, at); args.push(s); }
    else if (t === "T") args.push(1);
    else if (t === "F") args.push(0);
    else throw new Error(`OSC type ${t} not handled`);
  }
  return { address, args };
}

/**
 * A reply socket bound like [udpreceive <port>] (port 0: any free port) plus a
 * sender like [udpsend 127.0.0.1 <serverPort>]. Records traffic both ways.
 */
async function openLink(serverPort, { floats = false } = {}) {
  const sock = dgram.createSocket("udp4");
  await new Promise((resolve, reject) => {
    sock.once("error", reject);
    sock.bind(0, "127.0.0.1", resolve);
  });
  const link = {
    replyPort: sock.address().port, serverPort, sent: [], received: [], device: null,
    // Wire as the patcher does: js outlet 0 -> [udpsend]; [udpreceive] -> js.
    onOutlet(index, ...atoms) {
      if (index !== 0) return;
      if (atoms[0] === "port") { link.serverPort = Number(atoms[1]); return; }
      link.sent.push({ address: atoms[0], args: atoms.slice(1) });
      sock.send(encode(atoms[0], atoms.slice(1), floats), link.serverPort, "127.0.0.1");
    },
    close() { return new Promise((resolve) => sock.close(resolve)); },
  };
  sock.on("message", (buf) => {
    const msg = decode(buf);
    link.received.push(msg);
    if (link.device) link.device.message(msg.address, ...msg.args);
  });
  return link;
}

/** The JSON a client sent or got, reassembled from its chunks. */
function reassemble(messages, address, id, argsBefore) {
  const parts = messages.filter((m) => m.address === address && (id === undefined || m.args[0] === id));
  const chunks = new Map();
  for (const m of parts) chunks.set(m.args[argsBefore], m.args[argsBefore + 2]);
  const count = parts.length ? parts[0].args[argsBefore + 1] : 0;
  let text = "";
  for (let i = 0; i < count; i++) text += chunks.get(i);
  return count ? JSON.parse(text) : null;
}

module.exports = { encode, decode, openLink, reassemble };
