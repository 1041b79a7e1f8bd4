"use strict";
// Decodes system calls and events with the node's /explorer/abi.json (selectors and topics
// precomputed there). Handles the types the system contract uses: uintN, address, bool,
// string, bytes and uintN[].
(function () {
  const word = (hex, i) => hex.slice(i * 64, i * 64 + 64);
  const big = (w) => BigInt("0x" + (w || "0"));
  function value(type, hex, i) {
    const w = word(hex, i);
    if (type === "address") return "0x" + w.slice(24);
    if (type === "bool") return big(w) !== 0n;
    if (/^u?int\d*$/.test(type)) return big(w).toString();
    const offset = Number(big(w)) / 32;
    const length = Number(big(word(hex, offset)));
    if (type.endsWith("[]")) {
      const inner = type.slice(0, -2);
      return Array.from({ length }, (_, k) => value(inner, hex.slice((offset + 1) * 64), k));
    }
    const bytes = hex.slice((offset + 1) * 64, (offset + 1) * 64 + 2 * length);
    if (type === "string") {
      const raw = new Uint8Array(bytes.match(/../g)?.map((b) => parseInt(b, 16)) || []);
      return new TextDecoder().decode(raw);
    }
    return "0x" + bytes;
  }
  function decodeArgs(inputs, hex) {
    const out = {};
    inputs.forEach((input, i) => { out[input.name] = value(input.type, hex, i); });
    return out;
  }
  window.decodeCall = function (abi, input) {
    const call = abi.calls[input.slice(0, 10)];
    return call ? { name: call.name, args: decodeArgs(call.inputs, input.slice(10)) } : null;
  };
  window.decodeLog = function (abi, log) {
    const event = abi.events[log.topics[0]];
    if (!event) return null;
    const args = {};
    const plain = event.inputs.filter((i) => !i.indexed);
    Object.assign(args, decodeArgs(plain, log.data.slice(2)));
    event.inputs.filter((i) => i.indexed).forEach((input, k) => {
      args[input.name] = value(input.type, log.topics[k + 1].slice(2), 0);
    });
    return { name: event.name, args };
  };
})();
