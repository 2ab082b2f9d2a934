// Measures @octokit/webhooks verifyAndReceive (signature check, JSON parse, dispatch) on one delivery, in rounds.
// usage: node octokit-webhooks.mjs <payload-file> <secret> <seconds-per-round> <rounds>
import { readFileSync } from "node:fs";
import { Webhooks } from "@octokit/webhooks";

const [file, secret, secondsText, roundsText] = process.argv.slice(2);
const payload = readFileSync(file, "utf8");
const webhooks = new Webhooks({ secret });
let handled = 0;
webhooks.on("pull_request.closed", () => { handled++; });
const signature = await webhooks.sign(payload);

async function round(seconds) {
  let count = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  while (performance.now() < end) {
    await webhooks.verifyAndReceive({ id: "bench", name: "pull_request", payload, signature });
    count++;
  }
  return count / ((performance.now() - started) / 1000);
}

await round(1); // warm-up (JIT)
const rates = [];
for (let i = 0; i < Number(roundsText); i++) rates.push(await round(Number(secondsText)));
rates.sort((a, b) => a - b);
if (handled === 0) throw new Error("the handler never ran");
console.log(JSON.stringify({ rounds: rates, median: rates[Math.floor(rates.length / 2)] }));
