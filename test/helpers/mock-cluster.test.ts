// The test peers themselves: librdkafka's mock cluster started by our launcher, driven by
// commands, and seen by a real client (kcat) through the recording proxy.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { connect } from "node:net";
import { test } from "node:test";
import type { TestContext } from "node:test";
import { promisify } from "node:util";
import { startMockCluster } from "./mock-cluster.ts";
import type { MockCluster } from "./mock-cluster.ts";
import { mockClusterBuilds } from "./mock-cluster.ts";
import { kcat, requirePeer } from "./peers.ts";
import { findAddresses, startRecordingProxy } from "./recording-proxy.ts";
import type { RecordingProxy } from "./recording-proxy.ts";

const execFileAsync = promisify(execFile);

interface KcatMetadata {
  brokers: { id: number; name: string }[];
  topics: { topic: string; partitions: { partition: number; leader: number }[] }[];
}

async function cluster(t: TestContext): Promise<MockCluster | undefined> {
  if (!(await requirePeer(t, "librdkafka mock cluster", mockClusterBuilds))) return undefined;
  const mock = await startMockCluster({ brokers: 3, topics: ["orders:4"] });
  t.after(() => mock.close());
  return mock;
}

async function proxyFor(t: TestContext, mock: MockCluster): Promise<RecordingProxy> {
  const proxy = await startRecordingProxy({ upstreams: mock.bootstrap });
  t.after(() => proxy.close());
  return proxy;
}

async function kcatMetadata(bootstrap: string): Promise<KcatMetadata> {
  const { stdout } = await execFileAsync("kcat", ["-b", bootstrap, "-L", "-J", "-m", "10"], {
    timeout: 20_000,
  });
  return JSON.parse(stdout) as KcatMetadata;
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

test("the mock cluster reports which librdkafka serves it", async (t) => {
  const mock = await cluster(t);
  if (!mock) return;
  assert.match(await mock.version(), /^\d+\.\d+\.\d+/);
  assert.deepEqual(
    mock.brokers.map((broker) => broker.id),
    [1, 2, 3],
  );
});

test("kcat sees the mock cluster's 3 brokers at the recording proxy's addresses", async (t) => {
  const mock = await cluster(t);
  if (!mock || !(await requirePeer(t, "kcat", kcat))) return;
  const proxy = await proxyFor(t, mock);

  const metadata = await kcatMetadata(proxy.bootstrap);

  const upstreamPorts = new Set(mock.brokers.map((broker) => broker.port));
  assert.equal(metadata.brokers.length, 3);
  for (const broker of metadata.brokers) {
    const [host, port] = broker.name.split(":");
    assert.equal(host, "127.0.0.1");
    assert.ok(!upstreamPorts.has(Number(port)), `broker ${broker.id} is advertised at its upstream port`);
  }
  assert.equal(new Set(metadata.brokers.map((broker) => broker.name)).size, 3);
  assert.deepEqual(proxy.errors, []);
});

test("the recording proxy pairs every response with its request and keeps the upstream's bytes", async (t) => {
  const mock = await cluster(t);
  if (!mock || !(await requirePeer(t, "kcat", kcat))) return;
  const proxy = await proxyFor(t, mock);

  await kcatMetadata(proxy.bootstrap);
  await proxy.close();

  const requests = proxy.frames.filter((frame) => frame.direction === "request");
  const responses = proxy.frames.filter((frame) => frame.direction === "response");
  assert.ok(
    requests.some((frame) => frame.apiKey === 18),
    "an ApiVersions request was recorded",
  );
  for (const response of responses) {
    const request = requests.find(
      (frame) => frame.connection === response.connection && frame.correlationId === response.correlationId,
    );
    assert.ok(request, `response ${response.correlationId} has a request`);
    assert.equal(response.apiKey, request.apiKey);
    assert.equal(response.apiVersion, request.apiVersion);
  }
  const metadata = responses.find((frame) => frame.apiKey === 3);
  assert.ok(metadata, "a Metadata response was recorded");
  const advertised = findAddresses(metadata.payload, metadata.apiKey, metadata.apiVersion).map(
    (spot) => spot.port,
  );
  assert.deepEqual(advertised.sort(), mock.brokers.map((broker) => broker.port).sort());
});

test("the mock cluster moves a partition leader on command", async (t) => {
  const mock = await cluster(t);
  if (!mock || !(await requirePeer(t, "kcat", kcat))) return;

  await mock.leader("orders", 0, 2);
  await mock.leader("orders", 1, 3);

  const orders = (await kcatMetadata(mock.bootstrap)).topics.find((topic) => topic.topic === "orders");
  const leaders = new Map(orders?.partitions.map((p) => [p.partition, p.leader]));
  assert.equal(leaders.get(0), 2);
  assert.equal(leaders.get(1), 3);
});

test("a broker taken down refuses connections until it is brought up", async (t) => {
  const mock = await cluster(t);
  if (!mock) return;
  const broker = mock.brokers[1];
  assert.ok(broker);

  await mock.down(broker.id);
  assert.equal(await canConnect(broker.host, broker.port), false);
  await mock.up(broker.id);
  assert.equal(await canConnect(broker.host, broker.port), true);
});

test("the mock cluster refuses a malformed command", async (t) => {
  const mock = await cluster(t);
  if (!mock) return;
  await assert.rejects(mock.command("leader orders zero 1"), /refused/);
  await mock.up(1);
});
