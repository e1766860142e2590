// Browser test of the web page: headless Chromium uploads an audio file on the page served at
// BASE_URL and checks that the emotion shown is the one the HTTP API gives for the same file.
// Usage: node tools/browser_test.mjs BASE_URL AUDIO_FILE [SCREENSHOT.png] [EXPECTED_EMOTION]
// Needs playwright-core (npm) and Debian's chromium; tools/browser_test.sh sets both up.
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { chromium } from "playwright-core";

const [baseUrl, audioFile, screenshot, expected] = process.argv.slice(2);
if (!baseUrl || !audioFile) {
  console.error("usage: node browser_test.mjs BASE_URL AUDIO_FILE [SCREENSHOT.png] [EXPECTED_EMOTION]");
  process.exit(2);
}

// What the API says for the same bytes: the page must show exactly this.
const bytes = await readFile(audioFile);
const api = await fetch(`${baseUrl}/v1/predict?name=${encodeURIComponent(basename(audioFile))}`, {
  method: "POST",
  body: bytes,
});
if (!api.ok) throw new Error(`API answered ${api.status}: ${await api.text()}`);
const truth = await api.json();

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--no-first-run", "--mute-audio"],
});
let failures = 0;
try {
  const page = await browser.newPage({ viewport: { width: 900, height: 1100 } });
  page.on("pageerror", (e) => { console.error(`page error: ${e.message}`); failures++; });
  await page.goto(baseUrl, { waitUntil: "load" });
  await page.setInputFiles("#file", audioFile);
  await page.waitForFunction(() => document.querySelector("#status").textContent.startsWith("Done"),
    null, { timeout: 20000 });
  // Let the waveform and spectrogram finish drawing before the screenshot.
  await page.waitForTimeout(500);
  const shown = (await page.textContent("#emotion")).trim();
  const markedUncertain = await page.isVisible("#uncertain");
  const bars = await page.$$eval(".bar-row", (rows) => rows.map((r) => r.dataset.label));
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });

  const check = (ok, what) => { console.log(`${ok ? "ok  " : "FAIL"} ${what}`); if (!ok) failures++; };
  const truthShown = truth.no_speech ? "no speech" : truth.too_short ? "too little speech" : truth.emotion;
  check(shown === truthShown, `page shows "${shown}", API says "${truthShown}"`);
  check(markedUncertain === truth.uncertain,
    `uncertain mark ${markedUncertain ? "shown" : "hidden"}, API says uncertain = ${truth.uncertain}`);
  check(bars.length === Object.keys(truth.probabilities).length,
    `${bars.length} probability bars for ${Object.keys(truth.probabilities).length} labels`);
  if (expected) check(shown === expected, `shown emotion "${shown}" is the expected "${expected}"`);
} finally {
  await browser.close();
}
console.log(failures === 0 ? "browser test passed" : `browser test FAILED (${failures})`);
process.exit(failures === 0 ? 0 : 1);
