"use strict";
// The explorer page: hash routes, each drawn from the node's public JSON-RPC, redrawn when
// the head moves (polling eth_blockNumber).
const RPC = "/";
const POLL_MS = 1000;
const WEI = 10n ** 18n;
let rpcId = 0, abi = null, head = -1, drawing = false;
const sortState = { key: "score", desc: true };

async function rpc(method, ...params) {
  const response = await fetch(RPC, { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: ++rpcId, method, params }) });
  const body = await response.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "onclick") node.addEventListener("click", v); else node.setAttribute(k, v);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}
const link = (href, text) => h("a", { href }, text);
const mdt = (raw) => {
  const v = BigInt(raw || 0);
  return `${v / WEI}.${(v % WEI).toString().padStart(18, "0").slice(0, 4)} MDT`;
};
const short = (hex) => (hex && hex.length > 14 ? `${hex.slice(0, 8)}…${hex.slice(-6)}` : hex);
const ppb = (v) => (Number(v) / 1e9).toFixed(4);  // scores are parts per billion on chain
const u16 = (v) => (Number(v) / 65535).toFixed(3);  // the four components are u16 fixed point
const card = (label, value) => h("div", { class: "card" }, label, h("b", {}, value));
function table(headers, rows, attrs = {}) {
  return h("table", attrs, h("thead", {}, h("tr", {}, headers)), h("tbody", {}, rows));
}

async function overview() {
  const [info, subnets, latest] = await Promise.all([rpc("mt_nodeInfo"), rpc("mt_getSubnets"),
    rpc("eth_getBlockByNumber", "latest", false)]);
  const number = parseInt(latest.number, 16);
  const recent = await Promise.all([...Array(Math.min(8, number + 1)).keys()].map(
    (k) => rpc("eth_getBlockByNumber", "0x" + (number - k).toString(16), false)));
  const blockTime = recent.length > 1 ? (parseInt(recent[0].timestamp, 16)
    - parseInt(recent.at(-1).timestamp, 16)) / (recent.length - 1) : 0;
  const emission = BigInt(info.minerEmissionPerBlock);
  return [h("h1", {}, "Network"),
    h("div", { class: "cards" }, card("head block", number), card("block time", `${blockTime.toFixed(2)} s`),
      card("chain id", info.chainId), card("supply", mdt(info.supply.total))),
    h("h2", {}, "Subnets"),
    table(["netuid", "name", "task", "weight", "miner emission / block", "miners", "validators", "tempo"].map((t) => h("th", {}, t)),
      subnets.map((s) => h("tr", {}, h("td", {}, link(`#/subnet/${s.netuid}`, s.netuid)), h("td", {}, s.name),
        h("td", {}, s.taskType), h("td", {}, s.subnetWeightFloat.toFixed(3)),
        h("td", {}, mdt(emission * BigInt(s.subnetWeight) / 1000000000n)), h("td", {}, s.miners),
        h("td", {}, s.validators), h("td", {}, s.params.tempo)))),
    h("h2", {}, "Latest blocks"),
    table(["block", "hash", "txs", "gas used"].map((t) => h("th", {}, t)), recent.map((b) => h("tr", {},
      h("td", {}, link(`#/block/${parseInt(b.number, 16)}`, parseInt(b.number, 16))), h("td", { class: "mono" }, short(b.hash)),
      h("td", {}, b.transactions.length), h("td", {}, parseInt(b.gasUsed, 16)))))];
}

function rewardTotals(rewards) {
  const totals = {};
  for (const r of rewards) totals[r.address.toLowerCase()] = (totals[r.address.toLowerCase()] || 0n) + BigInt(r.reward);
  return totals;
}

async function subnet(netuid) {
  const [s, graph, rewards, epoch] = await Promise.all([rpc("mt_getSubnet", netuid), rpc("mt_getMetagraph", netuid),
    rpc("mt_getRewards", { netuid, limit: 1000 }), rpc("mt_getEpochInfo", netuid)]);
  const totals = rewardTotals(rewards.rewards);
  const rows = graph.uids.map((uid) => ({ uid, address: graph.addresses[uid], role: graph.roles[uid],
    stake: BigInt(graph.stakes[uid]), score: graph.scores[uid], accuracy: graph.accuracy[uid],
    latency: graph.latency[uid], availability: graph.availability[uid], consistency: graph.consistency[uid],
    reward: totals[graph.addresses[uid].toLowerCase()] || 0n, endpoint: graph.endpoints[uid] }));
  rows.sort((a, b) => {
    const d = a[sortState.key] < b[sortState.key] ? -1 : a[sortState.key] > b[sortState.key] ? 1 : 0;
    return sortState.desc ? -d : d;
  });
  const sortable = (key, label) => h("th", { class: "sortable", "data-sort": key, onclick: () => {
    sortState.desc = sortState.key === key ? !sortState.desc : true; sortState.key = key; draw(true); } },
    label + (sortState.key === key ? (sortState.desc ? " ▼" : " ▲") : ""));
  const headers = [h("th", {}, "uid"), h("th", {}, "role"), h("th", {}, "address"), sortable("stake", "stake"),
    sortable("score", "score"), h("th", {}, "accuracy"), h("th", {}, "latency"), h("th", {}, "availability"),
    h("th", {}, "consistency"), sortable("reward", "rewards"), h("th", {}, "endpoint")];
  const body = rows.map((r) => h("tr", { "data-uid": r.uid, "data-role": r.role, "data-address": r.address },
    h("td", {}, link(`#/neuron/${netuid}/${r.uid}`, r.uid)), h("td", {}, r.role), h("td", { class: "mono" }, short(r.address)),
    h("td", {}, mdt(r.stake)), h("td", { class: "score", "data-value": r.score, title: r.score }, ppb(r.score)),
    h("td", {}, u16(r.accuracy)), h("td", {}, u16(r.latency)), h("td", {}, u16(r.availability)), h("td", {}, u16(r.consistency)),
    h("td", { class: "reward", "data-value": r.reward.toString() }, mdt(r.reward)),
    h("td", { class: "mono" }, r.endpoint ? `${r.endpoint.protocol}://${r.endpoint.host}:${r.endpoint.port}` : "—")));
  return [h("h1", {}, `Subnet ${netuid}: ${s.name}`),
    h("div", { class: "cards" }, card("task", s.taskType), card("min score", ppb(s.params.minScore)),
      card("epoch", epoch.epoch), card("blocks to next epoch", epoch.blocksRemaining),
      card("last epoch", epoch.lastEpoch ? epoch.lastEpoch.epoch : "—"), link(`#/epochs/${netuid}`, "epochs →")),
    h("h2", {}, "Metagraph"), table(headers, body, { id: "metagraph", "data-epoch": epoch.lastEpoch ? epoch.lastEpoch.epoch : "" })];
}

async function neuron(netuid, uid) {
  const n = await rpc("mt_getNeuron", netuid, uid);
  const rewards = (await rpc("mt_getRewards", { netuid, address: n.address, limit: 500 })).rewards;
  const byEpoch = [...rewards].sort((a, b) => a.epoch - b.epoch);
  const scores = byEpoch.map((r) => [r.epoch, Number(r.score) / 1e9]);
  const paid = byEpoch.map((r) => [r.epoch, Number(BigInt(r.reward) * 10000n / WEI) / 10000]);
  // what each validator last wrote about this miner: its weight and the four components
  const feedback = n.role === "miner" ? (await rpc("mt_getWeights", netuid, null, uid)).rows
    .filter((row) => row.uids.length) : [];
  return [h("h1", {}, `${n.role} ${uid} on subnet `, link(`#/subnet/${netuid}`, netuid)),
    h("p", { class: "mono" }, n.address),
    h("div", { class: "cards" }, card("stake", mdt(n.stake)), card("score", n.score === undefined ? "—" : ppb(n.score)),
      card("total rewards", mdt(rewards.reduce((t, r) => t + BigInt(r.reward), 0n))), card("epochs paid", rewards.length)),
    h("h2", {}, "Score by epoch"), h("div", { id: "score-chart" }, lineChart(scores, { label: "score" })),
    h("h2", {}, "Reward by epoch (MDT)"), h("div", { id: "reward-chart" }, lineChart(paid, { label: "reward", color: "#1f9d55" })),
    h("h2", {}, "Feedback by validator"), table(["validator", "at block", "weight", "accuracy", "latency", "availability", "consistency"]
      .map((t) => h("th", {}, t)), feedback.map((w) => h("tr", {}, h("td", {}, link(`#/neuron/${netuid}/${w.uid}`, w.uid)),
        h("td", {}, w.block), h("td", {}, u16(w.weights[0])), h("td", {}, u16(w.accuracy[0])), h("td", {}, u16(w.latency[0])),
        h("td", {}, u16(w.availability[0])), h("td", {}, u16(w.consistency[0])))), { id: "feedback" }),
    h("h2", {}, "Payouts"), table(["epoch", "score", "reward"].map((t) => h("th", {}, t)),
      rewards.map((r) => h("tr", {}, h("td", {}, r.epoch), h("td", {}, ppb(r.score)), h("td", {}, mdt(r.reward)))))];
}

async function epochs(netuid) {
  const [info, rewards] = await Promise.all([rpc("mt_getEpochInfo", netuid), rpc("mt_getRewards", { netuid, limit: 1000 })]);
  const groups = {};
  for (const r of rewards.rewards) {
    const g = groups[r.epoch] ||= { epoch: r.epoch, block: r.block, miners: 0n, validators: 0n, count: 0 };
    g[r.role === "miner" ? "miners" : "validators"] += BigInt(r.reward); g.count += 1;
  }
  const last = info.lastEpoch;
  return [h("h1", {}, `Epochs of subnet `, link(`#/subnet/${netuid}`, netuid)),
    h("div", { class: "cards" }, card("current epoch", info.epoch), card("next close at block", info.nextEpochBlock),
      card("epoch emission", mdt(info.epochEmission)), card("last epoch dust", last ? last.dust : "—")),
    table(["epoch", "closed at block", "paid to miners", "paid to validators", "payouts"].map((t) => h("th", {}, t)),
      Object.values(groups).sort((a, b) => b.epoch - a.epoch).map((g) => h("tr", {}, h("td", {}, g.epoch),
        h("td", {}, link(`#/block/${g.block}`, g.block)), h("td", {}, mdt(g.miners)), h("td", {}, mdt(g.validators)), h("td", {}, g.count))))];
}

function logRows(logs) {
  return table(["log", "tx", "event", "arguments"].map((t) => h("th", {}, t)), logs.map((log) => {
    const decoded = decodeLog(abi, log);
    return h("tr", { class: "log" }, h("td", {}, parseInt(log.logIndex, 16)), h("td", { class: "mono" }, link(`#/tx/${log.transactionHash}`, short(log.transactionHash))),
      h("td", {}, decoded ? decoded.name : short(log.topics[0])), h("td", { class: "mono" }, decoded ? JSON.stringify(decoded.args) : log.data));
  }));
}

async function block(number) {
  const tag = "0x" + Number(number).toString(16);
  const [b, logs] = await Promise.all([rpc("eth_getBlockByNumber", tag, true), rpc("eth_getLogs", { fromBlock: tag, toBlock: tag })]);
  if (!b) return [h("p", { class: "error" }, `block ${number} does not exist yet`)];
  return [h("h1", {}, `Block ${number}`), h("p", { class: "mono" }, b.hash),
    h("div", { class: "cards" }, card("time", new Date(parseInt(b.timestamp, 16) * 1000).toISOString()),
      card("transactions", b.transactions.length), card("gas used", parseInt(b.gasUsed, 16))),
    h("h2", {}, "Transactions"), table(["#", "hash", "from", "call"].map((t) => h("th", {}, t)), b.transactions.map((tx) => {
      const call = tx.to.toLowerCase() === abi.system.toLowerCase() ? decodeCall(abi, tx.input) : null;
      return h("tr", {}, h("td", {}, parseInt(tx.transactionIndex, 16)), h("td", { class: "mono" }, link(`#/tx/${tx.hash}`, short(tx.hash))),
        h("td", { class: "mono" }, short(tx.from)), h("td", {}, call ? call.name : `transfer ${mdt(tx.value)}`));
    })), h("h2", {}, "Logs (end-block logs carry the block's pseudo transaction hash)"), logRows(logs)];
}

async function transaction(hash) {
  const [tx, receipt] = await Promise.all([rpc("eth_getTransactionByHash", hash), rpc("eth_getTransactionReceipt", hash)]);
  if (!tx) {
    const logs = await rpc("eth_getLogs", { fromBlock: "earliest", toBlock: "latest", topics: [] }).catch(() => []);
    const pseudo = logs.filter((l) => l.transactionHash === hash);
    return pseudo.length ? [h("h1", {}, "End-block logs"), logRows(pseudo)] : [h("p", { class: "error" }, `no transaction ${hash}`)];
  }
  const call = decodeCall(abi, tx.input);
  return [h("h1", {}, "Transaction"), h("p", { class: "mono" }, tx.hash),
    h("div", { class: "cards" }, card("status", receipt ? (receipt.status === "0x1" ? "success" : "failed") : "pending"),
      card("block", tx.blockNumber ? parseInt(tx.blockNumber, 16) : "—"), card("from", short(tx.from)), card("value", mdt(tx.value))),
    call ? [h("h2", {}, `System call ${call.name}`), h("pre", { class: "mono" }, JSON.stringify(call.args, null, 2))] : null,
    receipt && receipt.error ? h("p", { class: "error" }, `${receipt.error.code}: ${receipt.error.message}`) : null,
    receipt ? [h("h2", {}, "Logs"), logRows(receipt.logs)] : null];
}

async function search(query) {
  const q = query.trim();
  if (/^\d+$/.test(q)) return (location.hash = `#/block/${q}`);
  if (/^\d+\/\d+$/.test(q)) return (location.hash = `#/neuron/${q}`);
  if (/^0x[0-9a-fA-F]{64}$/.test(q)) {
    const byHash = await rpc("eth_getBlockByHash", q, false);
    return (location.hash = byHash ? `#/block/${parseInt(byHash.number, 16)}` : `#/tx/${q}`);
  }
  if (/^0x[0-9a-fA-F]{40}$/.test(q)) {
    for (const s of await rpc("mt_getSubnets")) {
      const graph = await rpc("mt_getMetagraph", s.netuid);
      const uid = graph.addresses.findIndex((a) => a.toLowerCase() === q.toLowerCase());
      if (uid >= 0) return (location.hash = `#/neuron/${s.netuid}/${uid}`);
    }
  }
  document.getElementById("view").replaceChildren(h("p", { class: "error" }, `nothing found for ${q}`));
}

const ROUTES = [[/^#\/subnet\/(\d+)$/, (m) => subnet(+m[1])], [/^#\/neuron\/(\d+)\/(\d+)$/, (m) => neuron(+m[1], +m[2])],
  [/^#\/epochs\/(\d+)$/, (m) => epochs(+m[1])], [/^#\/block\/(\d+)$/, (m) => block(+m[1])],
  [/^#\/tx\/(0x[0-9a-fA-F]{64})$/, (m) => transaction(m[1])], [/^.*$/, () => overview()]];

async function draw(force) {
  if (drawing && !force) return;
  drawing = true;
  const view = document.getElementById("view");
  try {
    abi ||= await (await fetch("/explorer/abi.json")).json();
    const route = location.hash || "#/";
    for (const [pattern, render] of ROUTES) {
      const m = route.match(pattern);
      if (m) { const content = await render(m); if (route === (location.hash || "#/")) view.replaceChildren(...[content].flat(3).filter(Boolean)); break; }
    }
    view.dataset.head = head;
  } catch (error) {
    view.replaceChildren(h("p", { class: "error" }, String(error.message || error)));
  } finally { drawing = false; }
}

async function poll() {
  try {
    const number = parseInt(await rpc("eth_blockNumber"), 16);
    document.getElementById("live").textContent = `block ${number}`;
    if (number !== head) { head = number; await draw(false); }
  } catch (error) {
    document.getElementById("live").textContent = "node unreachable";
  }
  setTimeout(poll, POLL_MS);
}

window.addEventListener("hashchange", () => draw(true));
document.getElementById("search").addEventListener("submit", (event) => {
  event.preventDefault(); search(document.getElementById("query").value);
});
poll();
