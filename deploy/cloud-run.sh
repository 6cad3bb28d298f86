#!/usr/bin/env bash
# Deploys firegate to Cloud Run from this checkout, keyless (--signer iam): a service account of
# its own with only the roles it uses, zero minimum instances, secrets from Secret Manager.
# Rerunnable. The book's "Deploying on Cloud Run" page explains each step.
#   PROJECT=my-project ORIGINS=https://app.example.com deploy/cloud-run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${PROJECT:?set PROJECT to the Google Cloud project id}"
REGION=${REGION:-asia-northeast3} SERVICE=${SERVICE:-firegate}
ORIGINS=${ORIGINS:-https://app.example.com}  # browser origins allowed to call the API
FIREBASE_AUTH=${FIREBASE_AUTH:-off}          # or mirror / graduate (the Firebase Auth bridge)
# Comma-separated VARIABLE=secret pairs, each secret created beforehand, e.g. the admin page's
#   firegate admin hash-password | gcloud secrets create firegate-admin-hash --data-file=-
#   SECRETS=FIREGATE_ADMIN_PASSWORD_HASH=firegate-admin-hash (graduate: FIREGATE_FIREBASE_API_KEY)
SECRETS=${SECRETS:-}
EXTRA=${EXTRA:-}  # more settings, |-separated (values may hold @): FIREGATE_MAIL_URL=firestore:firegate_mail|…
settings="FIREGATE_SIGNER=iam|FIREGATE_CORS_ORIGINS=$ORIGINS|FIREGATE_TRUSTED_PROXY_HOPS=1"
settings+="|FIREGATE_FIREBASE_AUTH=$FIREBASE_AUTH${EXTRA:+|$EXTRA}"
SA=$SERVICE@$PROJECT.iam.gserviceaccount.com
run() { echo "+ $*" >&2; "$@"; }

run gcloud services enable run.googleapis.com cloudbuild.googleapis.com \
  artifactregistry.googleapis.com firestore.googleapis.com iamcredentials.googleapis.com \
  secretmanager.googleapis.com --project "$PROJECT"
gcloud iam service-accounts describe "$SA" --project "$PROJECT" >/dev/null 2>&1 ||
  run gcloud iam service-accounts create "$SERVICE" --project "$PROJECT" --display-name "$SERVICE"
# Accounts in Firestore; custom tokens signed as itself (signBlob on this one account only).
run gcloud projects add-iam-policy-binding "$PROJECT" --condition None --quiet \
  --member "serviceAccount:$SA" --role roles/datastore.user >/dev/null
run gcloud iam service-accounts add-iam-policy-binding "$SA" --project "$PROJECT" --quiet \
  --member "serviceAccount:$SA" --role roles/iam.serviceAccountTokenCreator >/dev/null
[ "$FIREBASE_AUTH" = off ] || run gcloud projects add-iam-policy-binding "$PROJECT" \
  --condition None --quiet --member "serviceAccount:$SA" --role roles/firebaseauth.admin >/dev/null
secrets=()  # each secret readable by this account, no other
for pair in ${SECRETS//,/ }; do
  run gcloud secrets add-iam-policy-binding "${pair#*=}" --project "$PROJECT" --quiet \
    --member "serviceAccount:$SA" --role roles/secretmanager.secretAccessor >/dev/null
  secrets+=("$pair:latest")
done
# Failure records and audit entries expire through Firestore TTL policies.
run gcloud firestore fields ttls update expire_at --collection-group firegate_lockouts \
  --enable-ttl --project "$PROJECT" --async --quiet
run gcloud firestore fields ttls update expires_at --collection-group firegate_audit \
  --enable-ttl --project "$PROJECT" --async --quiet
# 256 MiB at 1 vCPU needs the first-generation execution environment.
run gcloud run deploy "$SERVICE" --source . --region "$REGION" --project "$PROJECT" --quiet \
  --service-account "$SA" --allow-unauthenticated --execution-environment gen1 \
  --min-instances 0 --max-instances 10 --cpu 1 --memory 256Mi \
  --set-env-vars "^|^$settings" \
  ${secrets[@]+--set-secrets "$(IFS=,; echo "${secrets[*]}")"}
run gcloud run services logs read "$SERVICE" --region "$REGION" --project "$PROJECT" --limit 20
