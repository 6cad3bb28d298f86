#!/usr/bin/env bash
# Creates (or updates) firegate's log-based metrics from deploy/metrics/*.yaml, then the alert
# policy and the dashboard. Rerunnable for the metrics; the policy and the dashboard are created
# once (delete the old ones first to replace them). The book's "Operating" page explains each.
#   PROJECT=my-project [SERVICE=firegate] [CHANNELS=projects/P/notificationChannels/ID] deploy/monitoring.sh
set -euo pipefail
cd "$(dirname "$0")"
: "${PROJECT:?set PROJECT to the Google Cloud project id}"
SERVICE=${SERVICE:-firegate}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() { echo "+ $*" >&2; "$@"; }

for file in metrics/*.yaml; do
  name=$(basename "$file" .yaml)
  # The files name the service "firegate"; another service name is put in its place.
  sed "s/service_name=\"firegate\"/service_name=\"$SERVICE\"/" "$file" >"$tmp/$name.yaml"
  if gcloud logging metrics describe "$name" --project "$PROJECT" >/dev/null 2>&1; then
    run gcloud logging metrics update "$name" --project "$PROJECT" --config-from-file "$tmp/$name.yaml"
  else
    run gcloud logging metrics create "$name" --project "$PROJECT" --config-from-file "$tmp/$name.yaml"
  fi
done
run gcloud monitoring policies create --project "$PROJECT" --policy-from-file alert-policy.json \
  ${CHANNELS:+--notification-channels "$CHANNELS"}
sed 's/service_name=\\"firegate\\"/service_name=\\"'"$SERVICE"'\\"/' dashboard.json >"$tmp/dashboard.json"
run gcloud monitoring dashboards create --project "$PROJECT" --config-from-file "$tmp/dashboard.json"
