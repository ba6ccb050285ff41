// The link's HTTP endpoint with a bearer token: every route needs it, a wrong or missing one
// gets 401, and serving beyond loopback without one is refused.
import assert from "node:assert/strict";
import { test } from "node:test";
import { LinkHttpSecurityError, serveLinkHttp } from "../../src/link/link-http.ts";
import { startTestBroker } from "../broker/broker-helpers.ts";
import { startTestLink } from "./link-helpers.ts";

test("with a token, the link's HTTP routes answer 401 without it and 200 with it", async (t) => {
  const a = await startTestBroker();
  const b = await startTestBroker();
  t.after(async () => {
    await a.destroy();
    await b.destroy();
  });
  const link = await startTestLink({ name: "http-token", source: a.bootstrap, target: b.bootstrap });
  t.after(() => link.stop());
  const token = "a-test-token-0123456789";
  const server = await serveLinkHttp(link, 0, "127.0.0.1", token);
  t.after(() => server.close());
  const url = `http://127.0.0.1:${server.port}`;
  for (const path of ["/status", "/metrics", "/filters"]) {
    assert.equal((await fetch(url + path)).status, 401, `${path} without a token`);
    const wrong = await fetch(url + path, { headers: { authorization: "Bearer not-the-token-at-all" } });
    assert.equal(wrong.status, 401, `${path} with a wrong token`);
    const ok = await fetch(url + path, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200, `${path} with the token`);
  }
  const put = await fetch(`${url}/filters`, { method: "PUT", body: JSON.stringify({ topics: "x" }) });
  assert.equal(put.status, 401);
  assert.equal(link.filters.topics, ".*", "an unauthorised PUT changes nothing");
  await assert.rejects(serveLinkHttp(link, 0, "0.0.0.0"), LinkHttpSecurityError);
  await assert.rejects(serveLinkHttp(link, 0, "127.0.0.1", "short"), LinkHttpSecurityError);
});
