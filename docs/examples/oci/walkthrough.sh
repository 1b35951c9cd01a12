#!/bin/sh
# The OCI-image pipeline of docs/oci-walkthrough.md against a running Provenant
# (`npm start`; PROVENANT_URL defaults to http://127.0.0.1:8080). A server that
# requires credentials takes an admin token (only admins define gates)
# in PROVENANT_API_TOKEN (as `provenant verify --store` does).
# test/cdevents/ociWalkthrough.int.test.ts runs the same steps with the same files.
set -eu
URL="${PROVENANT_URL:-http://127.0.0.1:8080}"
DIR="$(dirname "$0")"
CE='content-type: application/cloudevents+json'
UNIT='pkg:oci/shop-api@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08?repository_url=registry.example.com%2Fshop%2Fshop-api'
AUTH="authorization: Bearer ${PROVENANT_API_TOKEN:-}"
# Without a token the header is left out (curl drops a header given with no value).
[ -n "${PROVENANT_API_TOKEN:-}" ] || AUTH="authorization:"
ENCODED="$(node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$UNIT")"

curl --fail-with-body -sS -X PUT "$URL/v1/gates/release-gate" -H "$AUTH" -H 'content-type: application/json' --data @"$DIR/01-gate.json"; echo
curl --fail-with-body -sS -X PUT "$URL/v1/stages/release" -H "$AUTH" -H 'content-type: application/json' --data @"$DIR/02-stage.json"; echo
for step in 03-build 04-test 05-scan 06-sign; do
  curl -sS -X POST "$URL/v1/events" -H "$AUTH" -H "$CE" --data @"$DIR/$step.json" -w ' → %{http_code}\n'
done
sleep 1 # the chain binder records the test receipt if it arrived before the binding
curl --fail-with-body -sS -H "$AUTH" "$URL/v1/units/$ENCODED"; echo
