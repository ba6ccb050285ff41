// The demo's dashboard in a real browser: Debian's headless Chromium, driven by playwright-core,
// opens what `ferry demo` serves, sees every cluster and link, sees lag move, pauses a link.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { chromium, type Page } from "playwright-core";
import { commandRuns, requirePeer, type PeerCheck } from "../helpers/peers.ts";

const FERRY = new URL("../../bin/ferry", import.meta.url).pathname;
const CHROMIUM = process.env.FERRY_CHROMIUM ?? "/usr/bin/chromium";

const chromiumPeer: PeerCheck = () =>
  existsSync(CHROMIUM)
    ? commandRuns(CHROMIUM, ["--version"])()
    : `${CHROMIUM} is not installed (apt-get install chromium)`;

/** Waits until the text of the first element matching `selector` satisfies `ok`. */
async function waitForText(
  page: Page,
  selector: string,
  ok: (text: string) => boolean,
  timeoutMs = 15_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = (await page.locator(selector).first().textContent()) ?? "";
    if (ok(text)) return text;
    if (Date.now() > deadline) throw new Error(`timed out waiting on ${selector}; last text '${text}'`);
    await page.waitForTimeout(200);
  }
}

async function numberIn(page: Page, selector: string): Promise<number> {
  const text = (await page.locator(selector).textContent()) ?? "";
  const m = /([\d.]+)(k|M)?/.exec(text);
  if (m === null) throw new Error(`no number in '${text}' (${selector})`);
  return Number(m[1]) * (m[2] === "k" ? 1_000 : m[2] === "M" ? 1_000_000 : 1);
}

test("the demo's dashboard shows the topology, live lag, and pauses and resumes a link", async (t) => {
  if (!(await requirePeer(t, "chromium", chromiumPeer))) return;
  const out = await mkdtemp(join(tmpdir(), "ferry-dashboard-"));
  const demo = spawn(FERRY, ["demo", "--port", "0", "--data-dir", join(out, "data"), "--no-outages"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  demo.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let text = "";
      demo.stdout.on("data", (d: Buffer) => {
        text += d.toString();
        const m = /Dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(text);
        if (m?.[1] !== undefined) resolve(m[1]);
      });
      demo.once("exit", (code) => reject(new Error(`demo exited with ${code}: ${stderr}`)));
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(url);

    for (const cluster of ["edge1", "edge2", "core", "dr"]) {
      await page.locator(`[data-node="${cluster}"]`).waitFor();
    }
    for (const link of ["edge1-to-core", "edge2-to-core", "core-to-dr"]) {
      await page.locator(`[data-edge="${link}"]`).waitFor();
      await page.locator(`[data-testid="link-${link}"]`).waitFor();
    }
    const stateSelector = '[data-link-state="edge1-to-core"]';
    await waitForText(page, stateSelector, (t) => t === "running");
    await page.locator('[data-testid="partition-table"]').waitFor();

    // Paused, the link falls behind the edge's workload: its lag climbs from one look to the next.
    await page.locator('button[data-link="edge1-to-core"]').click();
    await waitForText(page, stateSelector, (t) => t === "paused");
    const lagSelector = 'b[data-field="lag"][data-link="edge1-to-core"]';
    await waitForText(page, lagSelector, (t) => t !== "" && t !== "0");
    const lagBefore = await numberIn(page, lagSelector);
    await page.waitForTimeout(2_500);
    const lagAfter = await numberIn(page, lagSelector);
    assert.ok(lagAfter > lagBefore, `lag should grow while paused: ${lagBefore} then ${lagAfter}`);
    const edgeLabel = await page.locator('[data-edge-label="edge1-to-core"]').textContent();
    assert.match(edgeLabel ?? "", /lag [1-9]/);

    await page.waitForTimeout(1_500); // let the charts draw a few seconds of history
    const screenshot = join(out, "dashboard.png");
    await page.screenshot({ path: screenshot, fullPage: true });
    process.stderr.write(`\n# dashboard screenshot: ${screenshot}\n`);

    await page.locator('button[data-link="edge1-to-core"]').click();
    await waitForText(page, stateSelector, (t) => t === "running");
    await waitForText(page, lagSelector, (t) => t === "0");
  } finally {
    await browser.close();
    demo.kill("SIGTERM");
    const [code] = demo.exitCode === null ? ((await once(demo, "exit")) as [number | null]) : [demo.exitCode];
    assert.equal(code, 0, `demo should stop cleanly on SIGTERM: ${stderr}`);
    if (process.env.FERRY_KEEP_TEST_OUTPUT === undefined)
      await rm(join(out, "data"), { recursive: true, force: true });
  }
});
