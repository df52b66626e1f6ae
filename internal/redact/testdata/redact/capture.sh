#!/bin/bash
# Records what the real credential programs print when they fail, for
# TestRedactRealLines (redact_test.go), whose table holds the lines verbatim.
# Each program runs in a network namespace that has only loopback (unshare -n),
# against standin.go or a closed port. Needs root (for unshare), Go and the
# Go module proxy. Output: one "=== scenario (stream)" block per run.
#
#   sudo ./capture.sh [bin-dir]
set -u
here=$(cd "$(dirname "$0")" && pwd)
BIN=${1:-/tmp/realprogs}
W=$(mktemp -d)
mkdir -p "$BIN"
GOBIN=$BIN go install github.com/awslabs/amazon-ecr-credential-helper/ecr-login/cli/docker-credential-ecr-login@v0.12.0
GOBIN=$BIN go install github.com/GoogleCloudPlatform/docker-credential-gcr/v2@v2.2.1
GOBIN=$W go install github.com/docker/docker-credential-helpers/pass/cmd@v0.9.13 && mv "$W/cmd" "$BIN/docker-credential-pass"
# Its go.mod has replace directives, so go install refuses it: build a copy.
if [ ! -x "$BIN/ecr-credential-provider" ]; then
	src=$(go mod download -json k8s.io/cloud-provider-aws@v1.37.1 | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
	cp -r "$src" "$W/cpa" && chmod -R u+w "$W/cpa"
	(cd "$W/cpa" && GOFLAGS=-mod=mod go build -o "$BIN/ecr-credential-provider" ./cmd/ecr-credential-provider)
fi
(cd "$here" && go build -o "$W/standin" standin.go)
openssl genrsa 2048 2>/dev/null | python3 -c '
import json, sys
json.dump({"type": "external_account", "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q",
  "subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "token_url": "http://127.0.0.1:18081/token",
  "credential_source": {"file": sys.argv[1] + "/webtoken"}}, open(sys.argv[1] + "/ext.json", "w"))
json.dump({"type": "service_account", "project_id": "nodecred-test", "private_key_id": "0123456789abcdef0123456789abcdef01234567",
  "private_key": sys.stdin.read(), "client_email": "puller@nodecred-test.iam.gserviceaccount.com", "client_id": "1",
  "token_uri": "http://127.0.0.1:18081/token"}, open(sys.argv[1] + "/sa.json", "w"))
json.dump({"type": "authorized_user", "client_id": "1.apps.googleusercontent.com", "client_secret": "fake",
  "refresh_token": "1//0gFAKE"}, open(sys.argv[1] + "/user.json", "w"))' "$W"
printf %s 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImZha2UifQ.eyJhdWQiOiJzdHMuYW1hem9uYXdzLmNvbSIsInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDprdWJlLXN5c3RlbTpub2RlY3JlZCJ9.ZmFrZXNpZ25hdHVyZWZha2VzaWduYXR1cmU' > "$W/webtoken"
# ecr-login logs to ~/.ecr/log/ecr-login.log; a directory in its place sends
# the log to stderr, as on a node whose home is not writable.
mkdir -p "$W/ecrcache/log/ecr-login.log" "$W/home" "$W/gcloud"
enc=$(printf registry.example.com | base64 | tr '+/' '-_')
mkdir -p "$W/pass/.password-store/docker-credential-helpers/$enc" "$W/pass2/.password-store/docker-credential-helpers"
touch "$W/pass/.password-store/docker-credential-helpers/$enc/robot.gpg"
echo x > "$W/pass2/.password-store/docker-credential-helpers/$enc"
export W BIN
unshare -n bash -s <<'SCRIPT'
ip link set lo up
run() { # name stdin mode|- env... -- program args...
	local name=$1 in=$2 mode=$3 pid=; shift 3
	local env=(); while [ "$1" != -- ]; do env+=("$1"); shift; done; shift
	if [ "$mode" != - ]; then "$W/standin" "127.0.0.1:${mode%%@*}" "${mode#*@}" 2>>"$W/standin.log" & pid=$!; sleep 0.3; fi
	printf %s "$in" | env -i HOME=$W/home PATH=/usr/bin:/bin "${env[@]}" "$@" >"$W/out" 2>"$W/err"
	echo "=== $name (stdout)"; cat "$W/out"; echo "=== $name (stderr)"; cat "$W/err"
	[ -n "$pid" ] && kill $pid && wait $pid 2>/dev/null
}
ECR=123456789012.dkr.ecr.us-east-1.amazonaws.com
AWS=(AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1 AWS_ECR_CACHE_DIR=$W/ecrcache)
KEYS=(AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY)
E=$BIN/docker-credential-ecr-login
for m in ecr403 ecr400 ecr500 ecrbadtoken; do
	run "ecr-login $m" $ECR 18080@$m "${AWS[@]}" "${KEYS[@]}" AWS_ENDPOINT_URL_ECR=http://127.0.0.1:18080 -- $E get
done
# A cache of its own: ecr-login would answer later runs from it.
run "ecr-login ecrok" $ECR 18080@ecrok "${AWS[@]}" AWS_ECR_CACHE_DIR=$W/okcache "${KEYS[@]}" AWS_ENDPOINT_URL_ECR=http://127.0.0.1:18080 -- $E get
run "ecr-login session token, headers in standin.log" $ECR 18080@ecr403 "${AWS[@]}" AWS_ACCESS_KEY_ID=ASIAIOSFODNN7EXAMPLE \
	AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY AWS_ENDPOINT_URL_ECR=http://127.0.0.1:18080 \
	AWS_SESSION_TOKEN=IQoJb3JpZ2luX2VjEFAKEFAKEsessionTOKENforTESTSonly0123456789abcdefghijKLMNOPqrstuvWXYZ/+== -- $E get
run "ecr-login no credentials" $ECR - "${AWS[@]}" AWS_ENDPOINT_URL_ECR=http://127.0.0.1:1 -- $E get
run "ecr-login not ECR" registry.example.com - "${AWS[@]}" "${KEYS[@]}" -- $E get
run "ecr-login refused" $ECR - "${AWS[@]}" "${KEYS[@]}" AWS_ENDPOINT_URL_ECR=http://127.0.0.1:1 -- $E get
run "ecr-login missing profile" $ECR - "${AWS[@]}" AWS_PROFILE=missing -- $E get
run "ecr-login web identity, body in standin.log" $ECR 18080@sts403 "${AWS[@]}" AWS_WEB_IDENTITY_TOKEN_FILE=$W/webtoken \
	AWS_ROLE_ARN=arn:aws:iam::123456789012:role/nodecred AWS_ENDPOINT_URL_STS=http://127.0.0.1:18080 AWS_ENDPOINT_URL_ECR=http://127.0.0.1:1 -- $E get

P=$BIN/ecr-credential-provider
req() { printf '{"apiVersion":"credentialprovider.kubelet.k8s.io/%s","kind":"CredentialProviderRequest","image":"%s"%s}' "$@"; }
for m in ecr403 ecr400 ecrbadtoken ecrok; do
	run "ecr-credential-provider $m" "$(req v1 $ECR/app:1.0)" 18080@$m "${AWS[@]}" "${KEYS[@]}" AWS_ENDPOINT_URL_ECR=http://127.0.0.1:18080 -- $P
done
run "ecr-credential-provider refused" "$(req v1 $ECR/app:1.0)" - "${AWS[@]}" "${KEYS[@]}" AWS_ENDPOINT_URL_ECR=http://127.0.0.1:1 -- $P
run "ecr-credential-provider STS" "$(req v1 $ECR/app:1.0 ",\"serviceAccountToken\":\"$(cat $W/webtoken)\",\"serviceAccountAnnotations\":{\"eks.amazonaws.com/ecr-role-arn\":\"arn:aws:iam::123456789012:role/nodecred\"}")" \
	18080@sts403 "${AWS[@]}" AWS_ENDPOINT_URL_STS=http://127.0.0.1:18080 AWS_ENDPOINT_URL_ECR=http://127.0.0.1:1 -- $P
run "ecr-credential-provider cut short" '{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":' - "${AWS[@]}" -- $P
run "ecr-credential-provider apiVersion" "$(req v1beta9 x)" - "${AWS[@]}" -- $P
run "ecr-credential-provider empty image" "$(req v1 '')" - "${AWS[@]}" -- $P
run "ecr-credential-provider bad reference" "$(req v1 'UPPER CASE/bad ref')" - "${AWS[@]}" -- $P
run "ecr-credential-provider no credentials" "$(req v1 $ECR/app:1.0)" - AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1 AWS_ENDPOINT_URL_ECR=http://127.0.0.1:1 -- $P

G=$BIN/docker-credential-gcr
GC=(CLOUDSDK_CONFIG=$W/gcloud CLOUDSDK_CORE_DISABLE_PROMPTS=1 CLOUDSDK_CORE_CHECK_GCE_METADATA=false GCE_METADATA_IP=127.0.0.1:1 GCE_METADATA_ROOT=127.0.0.1:1)
for m in oauth400 oauth401 oauth400tok oauth200bad; do
	run "gcr external account $m, body in standin.log" us-docker.pkg.dev 18081@$m "${GC[@]}" GCE_METADATA_HOST=127.0.0.1:1 GOOGLE_APPLICATION_CREDENTIALS=$W/ext.json -- $G get
done
run "gcr service account (self-signed JWT)" us-docker.pkg.dev - "${GC[@]}" GCE_METADATA_HOST=127.0.0.1:1 GOOGLE_APPLICATION_CREDENTIALS=$W/sa.json -- $G get
run "gcr authorized user (no network)" us-docker.pkg.dev - "${GC[@]}" GCE_METADATA_HOST=127.0.0.1:1 GOOGLE_APPLICATION_CREDENTIALS=$W/user.json -- $G get
for m in meta404 meta200bad; do
	run "gcr metadata $m" gcr.io 18081@$m "${GC[@]}" GCE_METADATA_HOST=127.0.0.1:18081 -- $G get
done
run "gcr metadata refused" gcr.io - "${GC[@]}" GCE_METADATA_HOST=127.0.0.1:1 -- $G get
run "gcr missing file" europe-west1-docker.pkg.dev - "${GC[@]}" GOOGLE_APPLICATION_CREDENTIALS=$W/missing.json -- $G get
mkdir -p $W/home/.config/gcloud && echo '{"TokenSources":["gcloud"]}' > $W/home/.config/gcloud/docker_credential_gcr_config.json
run "gcr gcloud without an account" gcr.io - "${GC[@]}" GCE_METADATA_HOST=127.0.0.1:1 -- $G get
rm $W/home/.config/gcloud/docker_credential_gcr_config.json

S=$BIN/docker-credential-pass
run "pass no entry" registry.example.com - -- $S get
run "pass no pass program" registry.example.com - HOME=$W/pass PATH=$W/nopath -- $S get
run "pass entry not a directory" registry.example.com - HOME=$W/pass2 -- $S get
run "pass empty server URL" "" - -- $S get
echo "=== standin.log (requests as the programs sent them)"; cat "$W/standin.log"
SCRIPT
rm -rf "$W"
