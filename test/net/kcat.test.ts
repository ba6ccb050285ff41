// librdkafka (through kcat) as the client: a program nobody here wrote must be able to frame,
// negotiate versions with and read metadata from a server built on src/net/server.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { kcat, requirePeer } from "../helpers/peers.ts";
import { FAKE_TOPIC, startFakeBroker } from "./fake-broker.ts";

const execFileAsync = promisify(execFile);

test("kcat -L lists the fake broker and its topic", async (t) => {
  if (!(await requirePeer(t, "kcat", kcat))) return;
  const errors: Error[] = [];
  const broker = await startFakeBroker({ onError: (e) => errors.push(e) });
  t.after(() => broker.close());
  // Async exec: the server runs on this process's event loop, so a sync spawn would deadlock.
  const { stdout } = await execFileAsync("kcat", ["-L", "-b", `127.0.0.1:${broker.port}`, "-m", "10"], {
    timeout: 20_000,
  });
  assert.match(stdout, /1 brokers:/);
  assert.match(stdout, new RegExp(`broker 1 at 127\\.0\\.0\\.1:${broker.port}`));
  assert.match(stdout, new RegExp(`topic "${FAKE_TOPIC}" with 1 partitions:`));
  assert.match(stdout, /partition 0, leader 1, replicas: 1, isrs: 1/);
  assert.deepEqual(errors, []);
});
