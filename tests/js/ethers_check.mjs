// ethers 6 against a running node: estimateGas of a failing system call, then one
// EpochRewarded event over WebSocket. Prints one JSON line with what it saw.
// usage: node ethers_check.mjs <ws url> <abi json path> <private key> <system address>
import { readFileSync } from "node:fs";
import { Contract, WebSocketProvider, Wallet } from "ethers";

const [wsUrl, abiPath, key, system] = process.argv.slice(2);
const provider = new WebSocketProvider(wsUrl);
const contract = new Contract(system, JSON.parse(readFileSync(abiPath, "utf8")),
                              new Wallet(key, provider));
const result = {};
try {
  await contract.registerValidator.estimateGas(999);
  result.estimate = { rejected: false };
} catch (error) {
  result.estimate = { rejected: true, code: error.code, reason: error.reason ?? null };
}
result.event = await new Promise((resolve) => {
  const timer = setTimeout(() => resolve(null), 60_000);
  contract.on("EpochRewarded", (epoch, netuid, account, role, score, totalScore, weight,
                                emission, reward, payload) => {
    clearTimeout(timer);
    resolve({ epoch: Number(epoch), netuid: Number(netuid), account,
              reward: reward.toString(), txHash: payload.log.transactionHash,
              block: payload.log.blockNumber });
  });
});
console.log(JSON.stringify(result));
await provider.destroy();
process.exit(0);
