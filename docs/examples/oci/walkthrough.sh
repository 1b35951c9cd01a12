#!/bin/sh
# The OCI-image pipeline of docs/oci-walkthrough.md against a running Provenant
# (`provenant serve`; PROVENANT_URL defaults to http://127.0.0.1:8080).
# test/cdevents/ociWalkthrough.int.test.ts runs the same steps with the same files.
set -eu
URL="${PROVENANT_URL:-http://127.0.0.1:8080}"
DIR="$(dirname "$0")"
CE='content-type: application/cloudevents+json'
UNIT='pkg:oci/shop-api@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08?repository_url=registry.example.com%2Fshop%2Fshop-api'
ENCODED="$(node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$UNIT")"

curl -fsS -X PUT "$URL/v1/gates/release-gate" -H 'content-type: application/json' --data @"$DIR/01-gate.json"; echo
curl -fsS -X PUT "$URL/v1/stages/release" -H 'content-type: application/json' --data @"$DIR/02-stage.json"; echo
for step in 03-build 04-test 05-scan 06-sign; do
  curl -sS -X POST "$URL/v1/events" -H "$CE" --data @"$DIR/$step.json" -w ' → %{http_code}\n'
done
sleep 1 # the chain binder records the test receipt if it arrived before the binding
curl -fsS "$URL/v1/units/$ENCODED"; echo
