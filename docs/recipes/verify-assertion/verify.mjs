#!/usr/bin/env node
// Verify the e-government gateway's X-Mesh-Assertion the way an agency must
// (docs/gateway-assertion.md), with `jose` against the gateway's JWKS.
//
//   node verify.mjs --jwks http://127.0.0.1:8000/.well-known/jwks.json \
//        --agency education --method GET --path /graduates/900115300122/diplomas \
//        [--query 'year=2024'] [--body-file body.bin] [--request-id <X-Request-Id>] \
//        [--now <unix seconds>] (--assertion <jwt> | --assertion-file <file> | the JWT on stdin)
//
// Prints the verified claims as JSON on stdout and exits 0, or prints
// {"ok": false, "reason": "..."} on stderr and exits 1 (2: wrong usage).
// Replays (the same assertion twice) are the agency's to refuse: remember each accepted
// assertion (its jti + nonce) until its exp; this stateless recipe cannot.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createRemoteJWKSet, jwtVerify, errors } from "jose";

const ISSUER = "egov-gateway";
const ALGORITHMS = ["EdDSA", "ES256"];
const CLOCK_SKEW_S = 5;
const MAX_LIFETIME_S = 60;

function fail(reason, code = 1) {
  process.stderr.write(JSON.stringify({ ok: false, reason }) + "\n");
  process.exit(code);
}

function b64urlSha256(bytes) {
  return createHash("sha256").update(bytes).digest("base64url");
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      jwks: { type: "string" },
      agency: { type: "string" },
      method: { type: "string" },
      path: { type: "string" },
      query: { type: "string", default: "" },
      "body-file": { type: "string" },
      "request-id": { type: "string" },
      assertion: { type: "string" },
      "assertion-file": { type: "string" },
      now: { type: "string" },
    },
    strict: true,
  }));
} catch (e) {
  fail(`usage: ${e.message}`, 2);
}
for (const name of ["jwks", "agency", "method", "path"]) {
  if (!args[name]) fail(`usage: --${name} is required`, 2);
}

let token = args.assertion;
if (!token && args["assertion-file"]) token = readFileSync(args["assertion-file"], "utf8");
if (!token && !process.stdin.isTTY) token = readFileSync(0, "utf8");
token = (token || "").trim();
if (!token) fail("usage: give the assertion (--assertion, --assertion-file or stdin)", 2);

const body = args["body-file"] ? readFileSync(args["body-file"]) : Buffer.alloc(0);
const query = args.query.startsWith("?") ? args.query.slice(1) : args.query;
const currentDate = args.now ? new Date(Number(args.now) * 1000) : undefined;

// one JWKS client per process: keys are cached, an unknown kid refetches (key rotation)
const jwks = createRemoteJWKSet(new URL(args.jwks), { cooldownDuration: 5_000 });

let claims;
try {
  ({ payload: claims } = await jwtVerify(token, jwks, {
    issuer: ISSUER,
    audience: args.agency,
    algorithms: ALGORITHMS,
    clockTolerance: CLOCK_SKEW_S,
    maxTokenAge: `${MAX_LIFETIME_S + CLOCK_SKEW_S}s`,
    requiredClaims: ["iss", "aud", "sub", "iat", "exp", "jti", "htm", "htu", "htq", "bdh", "nonce"],
    currentDate,
  }));
} catch (e) {
  if (e instanceof errors.JWTExpired) fail("assertion expired");
  if (e instanceof errors.JWTClaimValidationFailed) fail(`claim ${e.claim}: ${e.message}`);
  if (e instanceof errors.JWKSNoMatchingKey) fail("signed by a key the gateway does not publish");
  if (e instanceof errors.JWSSignatureVerificationFailed) fail("signature does not verify");
  fail(`assertion rejected: ${e.code || e.name}: ${e.message}`);
}

if (claims.exp - claims.iat > MAX_LIFETIME_S) fail("assertion lives longer than 60 s");
if (claims.htm !== args.method.toUpperCase()) fail("issued for another method (htm)");
if (claims.htu !== args.path) fail("issued for another path (htu)");
if (args["request-id"] !== undefined && claims.jti !== args["request-id"]) {
  fail("jti does not match X-Request-Id");
}
// the query and the body: an assertion cannot be reused with other ones
if (claims.htq !== query) fail("issued for another query string (htq)");
if (claims.bdh !== b64urlSha256(body)) fail("issued for another body (bdh)");

process.stdout.write(JSON.stringify(claims) + "\n");
