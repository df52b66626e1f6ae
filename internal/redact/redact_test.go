/*
   Copyright The nodecred Authors.

   Licensed under the Apache License, Version 2.0 (the "License");
   you may not use this file except in compliance with the License.
   You may obtain a copy of the License at

       http://www.apache.org/licenses/LICENSE-2.0

   Unless required by applicable law or agreed to in writing, software
   distributed under the License is distributed on an "AS IS" BASIS,
   WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
   See the License for the specific language governing permissions and
   limitations under the License.
*/

package redact

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// realLines are the output of the real programs in failure scenarios,
// copied verbatim from testdata/redact/capture.sh, which runs them in a
// network namespace with only loopback against testdata/redact/standin.go
// (ECR and STS answering AWS-style JSON and XML errors, an OAuth token
// endpoint, a GCE metadata server) or a closed port:
// docker-credential-ecr-login v0.12.0 (its log file unwritable, so its
// logrus lines go to stderr), ecr-credential-provider from
// k8s.io/cloud-provider-aws v1.37.1 (klog on stderr), docker-credential-gcr
// v2.2.1 and docker-credential-pass from docker-credential-helpers v0.9.13
// (errors on stdout, as the helper protocol has it). A rerun differs only in
// times, process IDs, temporary paths and signatures. The secrets in the
// lines are fakes the scenarios fed in: the stand-in answered with them (an
// ECR token, an OAuth error body holding tokens), the programs sent them
// (request headers and bodies, as an SDK debug log would show them), or
// answered with them on success (an answer a failing caller could quote).
// The error chains keep every word ("authorization token: operation
// error", "invalid token: expected two parts").
var realLines = []struct{ name, in, want string }{
	{
		name: "ecr-login v0.12.0, any failure, stdout",
		in:   "credentials not found in native keychain\n",
		want: "credentials not found in native keychain",
	},
	{
		name: "ecr-login v0.12.0, ECR 403 AccessDeniedException, stderr",
		in:   "time=\"2026-11-27T04:59:59Z\" level=error msg=\"Error retrieving credentials\" error=\"ecr: Failed to get authorization token: operation error ECR: GetAuthorizationToken, https response error StatusCode: 403, RequestID: 3f6b1c2e-9a7d-4c1b-8f0e-2d5a6b7c8d9e, api error AccessDeniedException: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action\"\n",
		want: "time=\"2026-11-27T04:59:59Z\" level=error msg=\"Error retrieving credentials\" error=\"ecr: Failed to get authorization token: operation error ECR: GetAuthorizationToken, https response error StatusCode: 403, RequestID: 3f6b1c2e-9a7d-4c1b-8f0e-2d5a6b7c8d9e, api error AccessDeniedException: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action\"",
	},
	{
		name: "ecr-login v0.12.0, ECR 400 UnrecognizedClientException, stderr",
		in:   "time=\"2026-11-27T04:59:59Z\" level=error msg=\"Error retrieving credentials\" error=\"ecr: Failed to get authorization token: operation error ECR: GetAuthorizationToken, https response error StatusCode: 400, RequestID: 0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f, api error UnrecognizedClientException: The security token included in the request is invalid.\"\n",
		want: "time=\"2026-11-27T04:59:59Z\" level=error msg=\"Error retrieving credentials\" error=\"ecr: Failed to get authorization token: operation error ECR: GetAuthorizationToken, https response error StatusCode: 400, RequestID: 0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f, api error UnrecognizedClientException: The security token included in the request is invalid.\"",
	},
	{
		name: "ecr-login v0.12.0, ECR 500 with an HTML body, stderr",
		in:   "time=\"2026-11-27T04:59:59Z\" level=error msg=\"Error retrieving credentials\" error=\"ecr: Failed to get authorization token: operation error ECR: GetAuthorizationToken, exceeded maximum number of attempts, 1, https response error StatusCode: 500, RequestID: , deserialization failed, failed to decode response body, invalid character '<' looking for beginning of value\"\n",
		want: "time=\"2026-11-27T04:59:59Z\" level=error msg=\"Error retrieving credentials\" error=\"ecr: Failed to get authorization token: operation error ECR: GetAuthorizationToken, exceeded maximum number of attempts, 1, https response error StatusCode: 500, RequestID: , deserialization failed, failed to decode response body, invalid character '<' looking for beginning of value\"",
	},
	{
		name: "ecr-login v0.12.0, ECR token not AWS:password, stderr",
		in:   "time=\"2026-11-27T05:00:00Z\" level=error msg=\"Error retrieving credentials\" error=\"invalid token: expected two parts, got 1\"\n",
		want: "time=\"2026-11-27T05:00:00Z\" level=error msg=\"Error retrieving credentials\" error=\"invalid token: expected two parts, got 1\"",
	},
	{
		name: "ecr-login v0.12.0, no credentials and IMDS off, stderr",
		in:   "time=\"2026-11-27T05:00:00Z\" level=error msg=\"Error retrieving credentials\" error=\"ecr: Failed to get authorization token: operation error ECR: GetAuthorizationToken, get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found, operation error ec2imds: GetMetadata, access disabled to EC2 IMDS via client option, or \\\"AWS_EC2_METADATA_DISABLED\\\" environment variable\"\n",
		want: "time=\"2026-11-27T05:00:00Z\" level=error msg=\"Error retrieving credentials\" error=\"ecr: Failed to get authorization token: operation error ECR: GetAuthorizationToken, get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found, operation error ec2imds: GetMetadata, access disabled to EC2 IMDS via client option, or \\\"AWS_EC2_METADATA_DISABLED\\\" environment variable\"",
	},
	{
		name: "ecr-login v0.12.0, host not ECR, stderr",
		in:   "time=\"2026-11-27T05:00:00Z\" level=error msg=\"Error parsing the serverURL\" error=\"docker-credential-ecr-login can only be used with Amazon Elastic Container Registry.\" serverURL=registry.example.com\n",
		want: "time=\"2026-11-27T05:00:00Z\" level=error msg=\"Error parsing the serverURL\" error=\"docker-credential-ecr-login can only be used with Amazon Elastic Container Registry.\" serverURL=registry.example.com",
	},
	{
		name: "ecr-login v0.12.0, endpoint refused, stderr",
		in:   "time=\"2026-11-27T05:00:00Z\" level=error msg=\"Error retrieving credentials\" error=\"Post \\\"http://127.0.0.1:1/\\\": dial tcp 127.0.0.1:1: connect: connection refused\"\n",
		want: "time=\"2026-11-27T05:00:00Z\" level=error msg=\"Error retrieving credentials\" error=\"Post \\\"http://127.0.0.1:1/\\\": dial tcp 127.0.0.1:1: connect: connection refused\"",
	},
	{
		name: "ecr-login v0.12.0, web identity refused by STS, stderr",
		in:   "time=\"2026-11-27T05:00:09Z\" level=error msg=\"Error retrieving credentials\" error=\"ecr: Failed to get authorization token: operation error ECR: GetAuthorizationToken, get identity: get credentials: failed to refresh cached credentials, failed to retrieve credentials, operation error STS: AssumeRoleWithWebIdentity, exceeded maximum number of attempts, 1, https response error StatusCode: 400, RequestID: 7a1b2c3d-0000-4000-8000-000000000001, InvalidIdentityToken: Incorrect token audience\"\n",
		want: "time=\"2026-11-27T05:00:09Z\" level=error msg=\"Error retrieving credentials\" error=\"ecr: Failed to get authorization token: operation error ECR: GetAuthorizationToken, get identity: get credentials: failed to refresh cached credentials, failed to retrieve credentials, operation error STS: AssumeRoleWithWebIdentity, exceeded maximum number of attempts, 1, https response error StatusCode: 400, RequestID: 7a1b2c3d-0000-4000-8000-000000000001, InvalidIdentityToken: Incorrect token audience\"",
	},
	{
		name: "ecr-login v0.12.0, AWS_PROFILE missing: panic, stderr",
		in:   "panic: failed to get shared config profile, missing\n\ngoroutine 1 [running]:\ngithub.com/awslabs/amazon-ecr-credential-helper/ecr-login/api.DefaultClientFactory.NewClientFromRegion({}, {0x3efa3f5a3bdd?, 0x0?})\n\t/root/go/pkg/mod/github.com/awslabs/amazon-ecr-credential-helper/ecr-login@v0.12.0/api/factory.go:84 +0x2a6\ngithub.com/awslabs/amazon-ecr-credential-helper/ecr-login.ECRHelper.Get({{0x96f660?, 0xd3f000?}, 0xd14f20?}, {0x3efa3f5508d0, 0x2c})\n\t/root/go/pkg/mod/github.com/awslabs/amazon-ecr-credential-helper/ecr-login@v0.12.0/ecr.go:128 +0x104\ngithub.com/docker/docker-credential-helpers/credentials.Get({0x96ca90, 0x3efa3f5221b0}, {0x966120?, 0x3efa3f50e018?}, {0x966080, 0x3efa3f50e020})\n\t/root/go/pkg/mod/github.com/docker/docker-credential-helpers@v0.9.5/credentials/credentials.go:154 +0x1fd\ngithub.com/docker/docker-credential-helpers/credentials.HandleCommand({0x96ca90?, 0x3efa3f5221b0?}, {0x7ffedc3e8f48, 0x3}, {0x966120?, 0x3efa3f50e018?}, {0x966080?, 0x3efa3f50e020?})\n\t/root/go/pkg/mod/github.com/docker/docker-credential-helpers@v0.9.5/credentials/credentials.go:96 +0x97\ngithub.com/docker/docker-credential-helpers/credentials.Serve({0x96ca90, 0x3efa3f5221b0})\n\t/root/go/pkg/mod/github.com/docker/docker-credential-helpers@v0.9.5/credentials/credentials.go:80 +0x325\nmain.main()\n\t/root/go/pkg/mod/github.com/awslabs/amazon-ecr-credential-helper/ecr-login@v0.12.0/cli/docker-credential-ecr-login/main.go:52 +0x155\n",
		want: "panic: failed to get shared config profile, missing goroutine 1 [running]: github.com/awslabs/amazon-ecr-credential-helper/ecr-login/api.DefaultClientFactory.NewClientFromRegion({}, {0x3efa3f5a3bdd?, 0x0?}) /root/go/pkg/mod/github.com/awslabs/amazon-ecr-credential-helper/ecr-login@v0.12.0/api/factory.go:84 +0x2a6 github.com/awslabs/amazon-ecr-credential-helper/ecr-login.ECRHelper.Get({{0x96f660?, 0xd3f000?}, 0xd14f20?}, {0x3efa3f5508d0, 0x2c}) /root/go/pkg/mod/github.com/awslabs/amazon-ecr-credential-hel…",
	},
	{
		name: "ecr-login v0.12.0, answer quoted back (stdout)",
		in:   "{\"ServerURL\":\"123456789012.dkr.ecr.us-east-1.amazonaws.com\",\"Username\":\"AWS\",\"Secret\":\"eyJwYXlsb2FkIjoiZmFrZS1lY3ItdG9rZW4tZm9yLXRlc3RzLW9ubHkiLCJkYXRha2V5IjoiQVFFQkFIaHdtMFlhSVNKZUVodE5SWDZkYVgzNkZBbFhNMG52NElVbjcxMFZzd0FBIiwidmVyc2lvbiI6IjIiLCJ0eXBlIjoiREFUQV9LRVkiLCJleHBpcmF0aW9uIjoxNzk1Nzk4ODAwfQ==\"}\n",
		want: "{\"ServerURL\":\"123456789012.dkr.ecr.us-east-1.amazonaws.com\",\"Username\":\"AWS\",\"Secret\":\"<redacted>\"}",
	},
	{
		name: "ecr-login v0.12.0, its signed ECR request headers as an SDK log shows them",
		in:   "Accept-Encoding: gzip\r\nAmz-Sdk-Invocation-Id: d99eaa44-8442-4d3c-a4d8-334575c81543\r\nAmz-Sdk-Request: attempt=1; max=1\r\nAuthorization: AWS4-HMAC-SHA256 Credential=ASIAIOSFODNN7EXAMPLE/20261127/us-east-1/ecr/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=97ff5255b35b7e8d857a2cf0ea030f64d8d6cd0d4fbf7eaac34f881c04beca36\r\nContent-Length: 32\r\nContent-Type: application/x-amz-json-1.1\r\nUser-Agent: aws-sdk-go-v2/1.41.2 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/ecr#1.55.3 m/g\r\nX-Amz-Date: 20261127T051004Z\r\nX-Amz-Security-Token: IQoJb3JpZ2luX2VjEFAKEFAKEsessionTOKENforTESTSonly0123456789abcdefghijKLMNOPqrstuvWXYZ/+==\r\nX-Amz-Target: AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken\r\n",
		want: "Accept-Encoding: gzip Amz-Sdk-Invocation-Id: d99eaa44-8442-4d3c-a4d8-334575c81543 Amz-Sdk-Request: attempt=1; max=1 Authorization: AWS4-HMAC-SHA256 <redacted> SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=<redacted> Content-Length: 32 Content-Type: application/x-amz-json-1.1 User-Agent: aws-sdk-go-v2/1.41.2 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/ecr#1.55.3 m/g X-Amz-Date: 20261127T0510…",
	},
	{
		name: "ecr-login v0.12.0, its STS request body as an SDK log shows it",
		in:   "Action=AssumeRoleWithWebIdentity&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fnodecred&RoleSessionName=1795755609137399272&Version=2011-06-15&WebIdentityToken=eyJhbGciOiJSUzI1NiIsImtpZCI6ImZha2UifQ.eyJhdWQiOiJzdHMuYW1hem9uYXdzLmNvbSIsInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDprdWJlLXN5c3RlbTpub2RlY3JlZCJ9.ZmFrZXNpZ25hdHVyZWZha2VzaWduYXR1cmU\n",
		want: "Action=AssumeRoleWithWebIdentity&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fnodecred&RoleSessionName=1795755609137399272&Version=2011-06-15&WebIdentityToken=<redacted>",
	},
	{
		name: "ecr-credential-provider v1.37.1, ECR 403, stderr",
		in:   "I1127 05:08:17.554314   30481 main.go:167] Getting creds for private image 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0\nE1127 05:08:17.556757   30481 main.go:361] Error running credential provider plugin: operation error ECR: GetAuthorizationToken, https response error StatusCode: 403, RequestID: 3f6b1c2e-9a7d-4c1b-8f0e-2d5a6b7c8d9e, api error AccessDeniedException: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action\n",
		want: "I1127 05:08:17.554314 30481 main.go:167] Getting creds for private image 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0 E1127 05:08:17.556757 30481 main.go:361] Error running credential provider plugin: operation error ECR: GetAuthorizationToken, https response error StatusCode: 403, RequestID: 3f6b1c2e-9a7d-4c1b-8f0e-2d5a6b7c8d9e, api error AccessDeniedException: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based…",
	},
	{
		name: "ecr-credential-provider v1.37.1, ECR 400, stderr",
		in:   "I1127 05:08:17.906365   30513 main.go:167] Getting creds for private image 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0\nE1127 05:08:17.909424   30513 main.go:361] Error running credential provider plugin: operation error ECR: GetAuthorizationToken, https response error StatusCode: 400, RequestID: 0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f, api error UnrecognizedClientException: The security token included in the request is invalid.\n",
		want: "I1127 05:08:17.906365 30513 main.go:167] Getting creds for private image 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0 E1127 05:08:17.909424 30513 main.go:361] Error running credential provider plugin: operation error ECR: GetAuthorizationToken, https response error StatusCode: 400, RequestID: 0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f, api error UnrecognizedClientException: The security token included in the request is invalid.",
	},
	{
		name: "ecr-credential-provider v1.37.1, ECR token not AWS:password, stderr",
		in:   "I1127 05:08:18.244199   30535 main.go:167] Getting creds for private image 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0\nE1127 05:08:18.246414   30535 main.go:361] Error running credential provider plugin: error parsing username and password from authorization token\n",
		want: "I1127 05:08:18.244199 30535 main.go:167] Getting creds for private image 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0 E1127 05:08:18.246414 30535 main.go:361] Error running credential provider plugin: error parsing username and password from authorization token",
	},
	{
		name: "ecr-credential-provider v1.37.1, endpoint refused, stderr",
		in:   "I1127 05:08:18.266698   30544 main.go:167] Getting creds for private image 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0\nE1127 05:08:18.268225   30544 main.go:361] Error running credential provider plugin: operation error ECR: GetAuthorizationToken, exceeded maximum number of attempts, 1, https response error StatusCode: 0, RequestID: , request send failed, Post \"http://127.0.0.1:1/\": dial tcp 127.0.0.1:1: connect: connection refused\n",
		want: "I1127 05:08:18.266698 30544 main.go:167] Getting creds for private image 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0 E1127 05:08:18.268225 30544 main.go:361] Error running credential provider plugin: operation error ECR: GetAuthorizationToken, exceeded maximum number of attempts, 1, https response error StatusCode: 0, RequestID: , request send failed, Post \"http://127.0.0.1:1/\": dial tcp 127.0.0.1:1: connect: connection refused",
	},
	{
		name: "ecr-credential-provider v1.37.1, service account token refused by STS, stderr",
		in:   "I1127 05:08:18.588684   30559 main.go:167] Getting creds for private image 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0\nE1127 05:08:18.593306   30559 main.go:361] Error running credential provider plugin: operation error ECR: GetAuthorizationToken, get identity: get credentials: failed to assume role: operation error STS: AssumeRoleWithWebIdentity, https response error StatusCode: 400, RequestID: 7a1b2c3d-0000-4000-8000-000000000001, InvalidIdentityToken: Incorrect token audience\n",
		want: "I1127 05:08:18.588684 30559 main.go:167] Getting creds for private image 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0 E1127 05:08:18.593306 30559 main.go:361] Error running credential provider plugin: operation error ECR: GetAuthorizationToken, get identity: get credentials: failed to assume role: operation error STS: AssumeRoleWithWebIdentity, https response error StatusCode: 400, RequestID: 7a1b2c3d-0000-4000-8000-000000000001, InvalidIdentityToken: Incorrect token audience",
	},
	{
		name: "ecr-credential-provider v1.37.1, request cut short, stderr",
		in:   "E1127 05:08:18.620385   30568 main.go:361] Error running credential provider plugin: couldn't get version/kind; json parse error: unexpected end of JSON input\n",
		want: "E1127 05:08:18.620385 30568 main.go:361] Error running credential provider plugin: couldn't get version/kind; json parse error: unexpected end of JSON input",
	},
	{
		name: "ecr-credential-provider v1.37.1, unknown apiVersion, stderr",
		in:   "E1127 05:08:18.647435   30576 main.go:361] Error running credential provider plugin: group version credentialprovider.kubelet.k8s.io/v1beta9 is not supported\n",
		want: "E1127 05:08:18.647435 30576 main.go:361] Error running credential provider plugin: group version credentialprovider.kubelet.k8s.io/v1beta9 is not supported",
	},
	{
		name: "ecr-credential-provider v1.37.1, empty image, stderr",
		in:   "E1127 05:08:18.667760   30585 main.go:361] Error running credential provider plugin: image in plugin request was empty\n",
		want: "E1127 05:08:18.667760 30585 main.go:361] Error running credential provider plugin: image in plugin request was empty",
	},
	{
		name: "ecr-credential-provider v1.37.1, bad image reference, stderr",
		in:   "E1127 05:08:18.687529   30593 main.go:361] Error running credential provider plugin: error parsing image reference https://UPPER CASE/bad ref: parse \"https://UPPER CASE/bad ref\": invalid character \" \" in host name\n",
		want: "E1127 05:08:18.687529 30593 main.go:361] Error running credential provider plugin: error parsing image reference https://UPPER CASE/bad ref: parse \"https://UPPER CASE/bad ref\": invalid character \" \" in host name",
	},
	{
		name: "ecr-credential-provider v1.37.1, no credentials and IMDS off, stderr",
		in:   "I1127 05:08:18.720164   30602 main.go:167] Getting creds for private image 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0\nE1127 05:08:18.721191   30602 main.go:361] Error running credential provider plugin: operation error ECR: GetAuthorizationToken, get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found, operation error ec2imds: GetMetadata, access disabled to EC2 IMDS via client option, or \"AWS_EC2_METADATA_DISABLED\" environment variable\n",
		want: "I1127 05:08:18.720164 30602 main.go:167] Getting creds for private image 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0 E1127 05:08:18.721191 30602 main.go:361] Error running credential provider plugin: operation error ECR: GetAuthorizationToken, get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found, operation error ec2imds: GetMetadata, access disabled to EC2 IMDS via client option, or \"AWS_EC2_METADATA_DISABLED\" environment variable",
	},
	{
		name: "ecr-credential-provider v1.37.1, answer quoted back (stdout)",
		in:   "{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"cacheKeyType\":\"Registry\",\"cacheDuration\":\"589h25m44s\",\"auth\":{\"123456789012.dkr.ecr.us-east-1.amazonaws.com\":{\"username\":\"AWS\",\"password\":\"eyJwYXlsb2FkIjoiZmFrZS1lY3ItdG9rZW4tZm9yLXRlc3RzLW9ubHkiLCJkYXRha2V5IjoiQVFFQkFIaHdtMFlhSVNKZUVodE5SWDZkYVgzNkZBbFhNMG52NElVbjcxMFZzd0FBIiwidmVyc2lvbiI6IjIiLCJ0eXBlIjoiREFUQV9LRVkiLCJleHBpcmF0aW9uIjoxNzk1Nzk4ODAwfQ==\"}}}\n",
		want: "{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"cacheKeyType\":\"Registry\",\"cacheDuration\":\"589h25m44s\",\"auth\":<redacted>",
	},
	{
		name: "ecr-credential-provider v1.37.1, info line, stderr",
		in:   "I1127 05:08:32.866918   31341 main.go:167] Getting creds for private image 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0\n",
		want: "I1127 05:08:32.866918 31341 main.go:167] Getting creds for private image 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0",
	},
	{
		name: "docker-credential-gcr v2.2.1, STS 400 invalid_grant, stdout",
		in:   "docker-credential-gcr/helper: could not retrieve GCR's access token: credentials: status code 400: {\"error\":\"invalid_grant\",\"error_description\":\"Invalid JWT Signature.\"}\n",
		want: "docker-credential-gcr/helper: could not retrieve GCR's access token: credentials: status code 400: {\"error\":\"invalid_grant\",\"error_description\":\"Invalid JWT Signature.\"}",
	},
	{
		name: "docker-credential-gcr v2.2.1, STS 401 invalid_client, stdout",
		in:   "docker-credential-gcr/helper: could not retrieve GCR's access token: credentials: status code 401: {\"error\":\"invalid_client\",\"error_description\":\"The OAuth client was not found.\"}\n",
		want: "docker-credential-gcr/helper: could not retrieve GCR's access token: credentials: status code 401: {\"error\":\"invalid_client\",\"error_description\":\"The OAuth client was not found.\"}",
	},
	{
		name: "docker-credential-gcr v2.2.1, STS 400 whose body holds tokens, stdout",
		in:   "docker-credential-gcr/helper: could not retrieve GCR's access token: credentials: status code 400: {\"error\":\"invalid_request\",\"error_description\":\"token exchange rejected\",\"access_token\":\"ya29.c.FAKEaccess-token_0123456789abcdefFAKE\",\"refresh_token\":\"1//0gFAKErefreshTOKEN-0123456789\"}\n",
		want: "docker-credential-gcr/helper: could not retrieve GCR's access token: credentials: status code 400: {\"error\":\"invalid_request\",\"error_description\":\"token exchange rejected\",\"access_token\":\"<redacted>\",\"refresh_token\":\"<redacted>\"}",
	},
	{
		name: "docker-credential-gcr v2.2.1, STS answer malformed, stdout",
		in:   "docker-credential-gcr/helper: could not retrieve GCR's access token: credentials: failed to unmarshal response body from Secure Token Server: json: cannot unmarshal string into Go struct field TokenResponse.expires_in of type int\n",
		want: "docker-credential-gcr/helper: could not retrieve GCR's access token: credentials: failed to unmarshal response body from Secure Token Server: json: cannot unmarshal string into Go struct field TokenResponse.expires_in of type int",
	},
	{
		name: "docker-credential-gcr v2.2.1, metadata 404, stdout",
		in:   "docker-credential-gcr/helper: could not retrieve GCR's access token: credentials: cannot fetch token: metadata: GCE metadata \"instance/service-accounts/default/token?scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fdevstorage.read_write\" not defined\n",
		want: "docker-credential-gcr/helper: could not retrieve GCR's access token: credentials: cannot fetch token: metadata: GCE metadata \"instance/service-accounts/default/token?scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fdevstorage.read_write\" not defined",
	},
	{
		name: "docker-credential-gcr v2.2.1, metadata refused, stdout",
		in:   "docker-credential-gcr/helper: could not retrieve GCR's access token: credentials: cannot fetch token: Get \"http://127.0.0.1:1/computeMetadata/v1/instance/service-accounts/default/token?scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fdevstorage.read_write\": dial tcp 127.0.0.1:1: connect: connection refused\n",
		want: "docker-credential-gcr/helper: could not retrieve GCR's access token: credentials: cannot fetch token: Get \"http://127.0.0.1:1/computeMetadata/v1/instance/service-accounts/default/token?scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fdevstorage.read_write\": dial tcp 127.0.0.1:1: connect: connection refused",
	},
	{
		name: "docker-credential-gcr v2.2.1, metadata token cut short, stdout",
		in:   "docker-credential-gcr/helper: could not retrieve GCR's access token: credentials: invalid token JSON from metadata: unexpected EOF\n",
		want: "docker-credential-gcr/helper: could not retrieve GCR's access token: credentials: invalid token JSON from metadata: unexpected EOF",
	},
	{
		name: "docker-credential-gcr v2.2.1, credentials file missing, stdout",
		in:   "docker-credential-gcr/helper: could not retrieve GCR's access token: docker-credential-gcr/helper: failed to detect default credentials: open /tmp/cap/missing.json: no such file or directory\n",
		want: "docker-credential-gcr/helper: could not retrieve GCR's access token: docker-credential-gcr/helper: failed to detect default credentials: open /tmp/cap/missing.json: no such file or directory",
	},
	{
		name: "docker-credential-gcr v2.2.1, gcloud without an account, stdout",
		in:   "docker-credential-gcr/helper: could not retrieve GCR's access token: docker-credential-gcr/helper: `gcloud config config-helper` failed: exit status 1\n",
		want: "docker-credential-gcr/helper: could not retrieve GCR's access token: docker-credential-gcr/helper: `gcloud config config-helper` failed: exit status 1",
	},
	{
		name: "docker-credential-gcr v2.2.1, no network for oauth2.googleapis.com, stdout",
		in:   "docker-credential-gcr/helper: could not retrieve GCR's access token: Post \"https://oauth2.googleapis.com/token\": dial tcp: lookup oauth2.googleapis.com on 10.255.255.53:53: dial udp 10.255.255.53:53: connect: network is unreachable\n",
		want: "docker-credential-gcr/helper: could not retrieve GCR's access token: Post \"https://oauth2.googleapis.com/token\": dial tcp: lookup oauth2.googleapis.com on 10.255.255.53:53: dial udp 10.255.255.53:53: connect: network is unreachable",
	},
	{
		name: "docker-credential-gcr v2.2.1, answer quoted back (stdout)",
		in:   "{\"ServerURL\":\"us-docker.pkg.dev\",\"Username\":\"_dcgcr_2_2_1_token\",\"Secret\":\"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6IjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1NjcifQ.eyJpc3MiOiJwdWxsZXJAbm9kZWNyZWQtdGVzdC5pYW0uZ3NlcnZpY2VhY2NvdW50LmNvbSIsInNjb3BlIjoiaHR0cHM6Ly93d3cuZ29vZ2xlYXBpcy5jb20vYXV0aC9kZXZzdG9yYWdlLnJlYWRfd3JpdGUiLCJleHAiOjE3OTU3NTkyMzEsImlhdCI6MTc5NTc1NTYzMSwiYXVkIjoiIiwic3ViIjoicHVsbGVyQG5vZGVjcmVkLXRlc3QuaWFtLmdzZXJ2aWNlYWNjb3VudC5jb20ifQ.GTZGQ4TJX0IJc_taie5wIQU7kSvSzLrT7OLZ_9CZ_Ok8IZ0bxkT_RPTGY7mtt1HijQQOijwddpNn8KB6dd-2l-vRJhyQbkJ6kkfPHTsmV4lbrwgKhoQD-IOI4Z5PWRTv5DsV6gMqJBOER4dbrhYEZgs7MMb55GT5dunqdCh5QWW6Ah4TDrBtcMqRFSKMRrRvMVVUFwCKI-1gR-ZlEYc6SfnCtZAWG12rpmkrFLj4EzIDbMbKD_BiLY7H7w9Yd4NVICt6HmYJtWN55wzUyoXtCRRWjuCAmqDjnEZ3UY1TNrg8zu5jFUhU0jVtgfT6XR_45T9ERPV7PB1jbOnHp2b2ug\"}\n",
		want: "{\"ServerURL\":\"us-docker.pkg.dev\",\"Username\":\"_dcgcr_2_2_1_token\",\"Secret\":\"<redacted>\"}",
	},
	{
		name: "docker-credential-gcr v2.2.1, its STS request body as a log shows it",
		in:   "audience=%2F%2Fiam.googleapis.com%2Fprojects%2F1%2Flocations%2Fglobal%2FworkloadIdentityPools%2Fp%2Fproviders%2Fq&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fdevstorage.read_write&subject_token=eyJhbGciOiJSUzI1NiIsImtpZCI6ImZha2UifQ.eyJhdWQiOiJzdHMuYW1hem9uYXdzLmNvbSIsInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDprdWJlLXN5c3RlbTpub2RlY3JlZCJ9.ZmFrZXNpZ25hdHVyZWZha2VzaWduYXR1cmU&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt\n",
		want: "audience=%2F%2Fiam.googleapis.com%2Fprojects%2F1%2Flocations%2Fglobal%2FworkloadIdentityPools%2Fp%2Fproviders%2Fq&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fdevstorage.read_write&subject_token=<redacted>&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt",
	},
	{
		name: "docker-credential-pass v0.9.13, no pass program, stdout",
		in:   "pass not initialized: exec: \"pass\": executable file not found in $PATH: \n",
		want: "pass not initialized: exec: \"pass\": executable file not found in $PATH:",
	},
	{
		name: "docker-credential-pass v0.9.13, store entry not a directory, stdout",
		in:   "open /tmp/cap/phome2/.password-store/docker-credential-helpers/cmVnaXN0cnkuZXhhbXBsZS5jb20=: not a directory\n",
		want: "open /tmp/cap/phome2/.<redacted>: not a directory",
	},
	{
		name: "docker-credential-pass v0.9.13, empty server URL, stdout",
		in:   "no credentials server URL\n",
		want: "no credentials server URL",
	},
	{
		name: "docker-credential-pass v0.9.13, no entry, stdout",
		in:   "credentials not found in native keychain\n",
		want: "credentials not found in native keychain",
	},
}

// fakeSecrets are the secrets the captures carry; no 12 bytes of one may
// survive.
var fakeSecrets = []string{
	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	"IQoJb3JpZ2luX2VjEFAKEFAKEsessionTOKENforTESTSonly0123456789abcdefghijKLMNOPqrstuvWXYZ/+==",
	"97ff5255b35b7e8d857a2cf0ea030f64d8d6cd0d4fbf7eaac34f881c04beca36",
	"eyJhbGciOiJSUzI1NiIsImtpZCI6ImZha2UifQ.eyJhdWQiOiJzdHMuYW1hem9uYXdzLmNvbSIsInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDprdWJlLXN5c3RlbTpub2RlY3JlZCJ9.ZmFrZXNpZ25hdHVyZWZha2VzaWduYXR1cmU",
	"eyJwYXlsb2FkIjoiZmFrZS1lY3ItdG9rZW4tZm9yLXRlc3RzLW9ubHkiLCJkYXRha2V5IjoiQVFFQkFIaHdtMFlhSVNKZUVodE5SWDZkYVgzNkZBbFhNMG52NElVbjcxMFZzd0FBIiwidmVyc2lvbiI6IjIiLCJ0eXBlIjoiREFUQV9LRVkiLCJleHBpcmF0aW9uIjoxNzk1Nzk4ODAwfQ==",
	"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6IjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1NjcifQ.",
	"ya29.c.FAKEaccess-token_0123456789abcdefFAKE",
	"1//0gFAKErefreshTOKEN-0123456789",
}

func TestRedactRealLines(t *testing.T) {
	for _, c := range realLines {
		got := String(c.in)
		if got != c.want {
			t.Errorf("%s:\n in: %q\ngot: %q\nwant %q", c.name, c.in, got, c.want)
		}
		for _, sec := range fakeSecrets {
			for i := 0; i+12 <= len(sec); i++ {
				if strings.Contains(got, sec[i:i+12]) {
					t.Errorf("%s: %q shows %q of a secret", c.name, got, sec[i:i+12])
					break
				}
			}
		}
	}
}

func TestRedactSecretNamedKeys(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		// An 8-character password once survived redaction.
		{"login failed: password=hunter22", "login failed: password=<redacted>"},
		{"login failed\npassword: hunter22", "login failed password: <redacted>"},
		{"GET /v2/\r\nAuthorization: Bearer abc.def\r\n", "GET /v2/ Authorization: Bearer <redacted>"},
		{"password: hunter22", "password: <redacted>"},
		{"PASSWORD=hunter22 Passwd=hunter22 --password=hunter22", "PASSWORD=<redacted> Passwd=<redacted> --password=<redacted>"},
		{`{"ServerURL":"r.example.com","Username":"u","Secret":"s3cr3t"}`, `{"ServerURL":"r.example.com","Username":"u","Secret":"<redacted>"}`},
		{`{"password" : "correct horse battery staple", "user": "bob"}`, `{"password" : "<redacted>", "user": "bob"}`},
		{"auths:\n  token: abc\n  user: bob\n", "auths: token: <redacted> user: bob"},
		{"GET /v2/token?service=registry&access_token=abc.def&scope=repo:app:pull", "GET /v2/token?service=registry&access_token=<redacted>&scope=repo:app:pull"},
		{"client_secret=cs-123 client_id=764086051850", "client_secret=<redacted> client_id=764086051850"},
		{"X-Amz-Security-Token: FwoGZXIvYXdzEJr\r\nX-Amz-Target: AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
			"X-Amz-Security-Token: <redacted> X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"},
		{"Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic <redacted>"},
		{"authorization: bearer abc.def", "authorization: bearer <redacted>"},
		{`"Authorization": "Bearer abc"`, `"Authorization": "<redacted>"`},
		{`{"authorizationToken":"QVdTOmFiYw==","proxyEndpoint":"https://1.dkr.ecr.us-east-1.amazonaws.com"}`,
			`{"authorizationToken":"<redacted>","proxyEndpoint":"https://1.dkr.ecr.us-east-1.amazonaws.com"}`},
		{"aws_secret_access_key = abc/def+ghi", "aws_secret_access_key = <redacted>"},
		{"AWS_SECRET_ACCESS_KEY=x AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY=<redacted> AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE"},
		{`"private_key": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n", "client_email": "a@b.iam.gserviceaccount.com"`,
			`"private_key": "<redacted>", "client_email": "a@b.iam.gserviceaccount.com"`},
		{`{"auths":{"r.example.com":{"auth":"dXNlcjpwYXNz","identitytoken":"it-1"}}}`, `{"auths":{"r.example.com":{"auth":"<redacted>","identitytoken":"<redacted>"}}}`},
		{`"token":{"value":"abc def"},"expires_in":3600`, `"token":<redacted>"expires_in":3600`},
		// Go's %v of an http.Header and of url.Values, %+v of a struct.
		{"map[Authorization:[Basic dXNlcjpwYXNz] Content-Type:[application/json]]", "map[Authorization:[Basic <redacted> Content-Type:[application/json]]"},
		{"map[access_token:[abc def] scope:[repo]]", "map[access_token:<redacted> scope:[repo]]"},
		{"{Username:bob Password:hunter22}", "{Username:bob Password:<redacted>"},
		// Go's %q of JSON, and logfmt.
		{`error="{\"password\":\"p\\\"w\",\"user\":\"u\"}"`, `error="{\"password\":\"<redacted>\",\"user\":\"u\"}"`},
		{`level=error password="a b" user=bob`, `level=error password="<redacted>" user=bob`},
		{"password: 'it''s mine' user: bob", "password: '<redacted>' user: bob"},
		{"proxy https://user:pa55word@proxy.example.com:3128/ refused", "proxy https://user:<redacted>@proxy.example.com:3128/ refused"},
		{"cookie: session=abc; Path=/", "cookie: <redacted> Path=/"},
		{"https://b.blob.core.windows.net/c?sv=2024&sig=abc%2Bdef&se=1 X-Amz-Signature=0a1b", "https://b.blob.core.windows.net/c?sv=2024&sig=<redacted>&se=1 X-Amz-Signature=<redacted>"},
		{"sending Bearer abc123XYZ to registry", "sending Bearer <redacted> to registry"},
		{"unclosed password=\"abc def", "unclosed password=\"<redacted>"},
		// Not keys: a path's last segment, keys merely starting with token.
		{`Post "https://oauth2.googleapis.com/token": dial tcp: lookup oauth2.googleapis.com: no such host`,
			`Post "https://oauth2.googleapis.com/token": dial tcp: lookup oauth2.googleapis.com: no such host`},
		{"token_uri: https://oauth2.googleapis.com/token token_type=Bearer expires_in=3600", "token_uri: https://oauth2.googleapis.com/token token_type=Bearer expires_in=3600"},
		{"Basic authentication failed", "Basic authentication failed"},
	} {
		if got := String(c.in); got != c.want {
			t.Errorf("String(%q)\n = %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestRedactTokenShapes(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"bad token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln rejected", "bad token <redacted> rejected"},
		{"cut eyJhbGciOiJIUzI1", "cut <redacted>"},
		{"ya29.a0AfB_byDqL3x9Zk2Vw8Ht5Qp1Nm7Rs4Tu6Yv0Wx3Ez9Ab2Cd5 expired", "ya29.<redacted> expired"},
		{"refresh 1//0gLmZ8xQ2vT5nR7kW3yH9pJ4sD6fA1cE0bU-L9Ir failed", "refresh <redacted> failed"},
		{"key AIzaSyA1B2C3D4E5F6G7H8I9J0K1L2M3N4O5P6Q7", "key <redacted>"},
		{"ecr QVdTOmV5SndZWGxzYjJGa0lqb2k= here", "ecr <redacted> here"},
		{"blob dGhpcyBpcyBhIGxvbmcgYmFzZTY0IGJsb2IgZm9yIHRlc3Rz==", "blob <redacted>"},
		{"invalid token: ghp_R7f9k2LmQ4xZ8vN1cT6wY3bH5jD0sA2eU9oP", "invalid token: <redacted>"},
		{"secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY here", "secret <redacted> here"},
		{"hex 8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4 here", "hex <redacted> here"},
		{"pat ghp_R7f9k2LmQ4xZ8vN1cT6wY3bH5jD0sA2eU9oP here", "pat <redacted> here"},
		{"store/cmVnaXN0cnkuZXhhbXBsZS5jb20=/robot", "<redacted>=/robot"},
		// Identifiers stay.
		{"key AKIAIOSFODNN7EXAMPLE ASIAY34FZKBOKMUTVV7A", "key AKIAIOSFODNN7EXAMPLE ASIAY34FZKBOKMUTVV7A"},
		{"RequestID: 3f6b1c2e-9a7d-4c1b-8f0e-2d5a6b7c8d9e", "RequestID: 3f6b1c2e-9a7d-4c1b-8f0e-2d5a6b7c8d9e"},
		{"pull r.example.com/app@sha256:8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4 failed", "pull r.example.com/app@sha256:8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4 failed"},
		{"/var/lib/containerd/io.containerd.content.v1.content/blobs/sha256/8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4",
			"/var/lib/containerd/io.containerd.content.v1.content/blobs/sha256/8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4"},
	} {
		if got := String(c.in); got != c.want {
			t.Errorf("String(%q)\n = %q\nwant %q", c.in, got, c.want)
		}
	}
}

// TestRedactRandomTokens holds randomLooking to the rates its comment gives.
func TestRedactRandomTokens(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		alphabet string
		n, max   int // at most max misses in 1000 of length n
	}{
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 27, 5},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40, 0},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 40, 1},
		{"abcdefghijklmnopqrstuvwxyz0123456789", 27, 25},
		{"0123456789abcdef", 20, 0},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 27, 100},
	} {
		miss := 0
		for range 1000 {
			b := make([]byte, c.n)
			for i := range b {
				b[i] = c.alphabet[r.IntN(len(c.alphabet))]
			}
			if got := String("t " + string(b)); got != "t "+Placeholder {
				miss++
			}
		}
		if miss > c.max {
			t.Errorf("%d of 1000 random %d-character strings over %q survived; want at most %d", miss, c.n, c.alphabet, c.max)
		}
	}
}

// TestRedactKeepsSentences: error sentences, Go error chains included, come
// through as they were.
func TestRedactKeepsSentences(t *testing.T) {
	for _, in := range []string{
		"operation timed out",
		"expected 200 got 401",
		"error getting credentials - err: exit status 1, out: `credentials not found in native keychain`",
		"error getting credentials - err: exec: \"docker-credential-secretservice\": executable file not found in $PATH, out: ``",
		"invalid token: expected two parts, got 1",
		"ecr: Failed to get authorization token: operation error ECR: GetAuthorizationToken",
		"https response error StatusCode: 400, InvalidIdentityToken: Incorrect token audience",
		"could not retrieve GCR's access token: credentials: status code 400",
		"oauth2: cannot fetch token: 400 Bad Request",
		`cannot fetch token: Post "https://oauth2.googleapis.com/token": context deadline exceeded`,
		"failed to get refresh token: exit status 1",
		"login refused: password: wrong length, Basic authentication failed",
	} {
		if got := String(in); got != in {
			t.Errorf("String(%q)\n = %q", in, got)
		}
	}
}

func TestRedactKeepsOperatorWords(t *testing.T) {
	words := []string{
		"GetAuthorizationToken",
		"AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
		"AssumeRoleWithWebIdentity",
		"123456789012.dkr.ecr.us-east-1.amazonaws.com",
		"us-docker.pkg.dev",
		"https://oauth2.googleapis.com/token",
		"/etc/kubernetes/credential-provider.yaml",
		"/var/lib/kubelet/pods/8c3f2a1e-9a7d-4c1b-8f0e-2d5a6b7c8d9e/volumes/kubernetes.io~projected/kube-api-access-x2b7q",
		"coredns-5d78c9869d-x2b7q",
		"/usr/local/bin/docker-credential-ecr-login",
		"credentials not found in native keychain",
		"StatusCode: 403",
		"HTTP 403 Forbidden",
		"RequestID: 0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f",
		"arn:aws:iam::123456789012:role/nodecred",
		"AKIAIOSFODNN7EXAMPLE",
		"credentialprovider.kubelet.k8s.io/v1",
	}
	for _, w := range words {
		in := "nodecred: helper failed for " + w + " (HTTP 403): denied"
		if got := String(in); got != in {
			t.Errorf("String(%q) = %q", in, got)
		}
	}
}

func TestRedactOneLine(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"  a\n\tb\r\n c \u2028 d\u0085e  ", "a b c d e"},
		{"\x1b[31mred\x1b[0m \u202egnirts\u202c", "[31mred[0m gnirts"},
		{"bad \xff byte", "bad \uFFFD byte"},
	} {
		if got := String(c.in); got != c.want {
			t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, in := range []string{
		strings.Repeat("word ", 1<<18),
		strings.Repeat("é", 600),
		strings.Repeat("🔑x", 300),
		strings.Repeat("\n", 1<<20) + "last",
	} {
		got := String(in)
		if len(got) > maxRedacted || !utf8.ValidString(got) || strings.ContainsAny(got, "\n\r") {
			t.Errorf("String(%.20q…) = %q: %d bytes", in, got, len(got))
		}
		if len(in) > maxRedacted && len(got) > maxRedacted-4 && !strings.HasSuffix(got, "…") {
			t.Errorf("String(%.20q…) = %q, cut without …", in, got)
		}
	}
}

// BenchmarkRedactLargeInput: redact reads at most maxRedactInput bytes of
// whatever a program printed, so its cost does not grow with the output
// (about 1 MiB here). A memory bound is a benchmark figure, not a test.
func BenchmarkRedactLargeInput(b *testing.B) {
	in := strings.Repeat("password=hunter22 GetAuthorizationToken eyJhbGciOiJIUzI1NiJ9 ", 1<<14)
	b.ReportAllocs()
	for b.Loop() {
		String(in)
	}
}

// fuzzKeys are secret-named keys; fuzzForms put a value after one, as
// {before the key, between key and value, after the value}.
var (
	fuzzKeys = []string{
		"password", "passwd", "Secret", "client_secret", "token", "access_token", "refresh_token",
		"id_token", "X-Amz-Security-Token", "authorizationToken", "secret_access_key",
		"AWS_SECRET_ACCESS_KEY", "aws_session_token", "private_key", "identitytoken", "registrytoken",
		"auth", "Authorization", "api_key", "sig", "X-Amz-Signature", "passphrase", "cookie",
	}
	fuzzForms = [][3]string{
		{" ", "=", " "},        // logfmt, flags
		{"\n", ": ", "\n"},     // YAML, headers: a key starting a line
		{` "`, `":"`, `"`},     // JSON
		{` "`, `" : "`, `"`},   // JSON, spaced
		{` "`, `": "`, `"`},    // JSON, indented
		{" ", `="`, `"`},       // logfmt, quoted
		{"?", "=", "&"},        // query string
		{" ", ":", " "},        // Go's %+v and maps
		{"{", ":", "}"},        // Go's %+v of a struct
		{` \"`, `\":\"`, `\"`}, // JSON inside Go's %q
		{" ", "='", "'"},       // shell, YAML
		{" ", " = ", " "},      // ini
		{" ", `:"`, `"`},       // Go's %q in a struct
		{" ", "=", ""},         // at the end
	}
	// fuzzPool holds the runes a fuzzed secret is drawn from, less those
	// of the key and form around it.
	fuzzPool = []rune("!#$%()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~éßЖ中🔑ǅ٣")
)

// FuzzRedact puts a secret after a secret-named key inside random text.
// The secret's runes are drawn from an alphabet that no other part of the
// input or placeholder uses, so any of them in the answer is a leak, whole
// or in part. The answer must be one line of bounded length.
func FuzzRedact(f *testing.F) {
	f.Add("error: login failed:", " rejected", []byte("hunter22"), uint8(0), uint8(0), uint64(1<<62|0xFFFF))
	f.Add(`{"ServerURL":"r.example.com","Username":"u",`, `}`, []byte("a long secret without spaces"), uint8(2), uint8(2), uint64(0xF0F0F0F0F0F0))
	f.Add("GET /v2/token", "expires_in=3600", []byte("0123456789abcdef0123"), uint8(5), uint8(4), uint64(0xFFFFFFFF))
	f.Add(`error="{`, `}"`, []byte("p"), uint8(0), uint8(7), uint64(0x5555))
	f.Add("token='x", "", []byte("abc"), uint8(0), uint8(8), uint64(0x3333))
	f.Add("HTTP 403", "GetAuthorizationToken", []byte("Bearer"), uint8(19), uint8(1), uint64(0xFF00FF00))
	f.Add(strings.Repeat(" ", maxRedactInput-10), "", []byte("0123456789"), uint8(0), uint8(0), uint64(0xFFFFFF))
	f.Add("x", "y", []byte{}, uint8(0), uint8(0), uint64(0))
	f.Fuzz(func(t *testing.T, prefix, suffix string, secret []byte, key, form uint8, bits uint64) {
		k := []rune(fuzzKeys[int(key)%len(fuzzKeys)])
		for i, r := range k { // ASCII case, at random
			if bits>>(i%64)&1 == 1 && unicode.IsLetter(r) {
				k[i] = r ^ 0x20
			}
		}
		fm := fuzzForms[int(form)%len(fuzzForms)]
		taken := string(k) + strings.ToLower(string(k)) + strings.ToUpper(string(k)) +
			strings.Join(fm[:], "") + Placeholder + "…"
		var alphabet []rune
		for i, r := range fuzzPool {
			if bits>>(i%64)&1 == 1 && !strings.ContainsRune(taken, r) {
				alphabet = append(alphabet, r)
			}
		}
		if len(alphabet) == 0 {
			return
		}
		if len(secret) == 0 {
			secret = []byte{0}
		}
		var sec strings.Builder
		for _, b := range secret {
			sec.WriteRune(alphabet[int(b)%len(alphabet)])
		}
		notAlphabet := func(s string) string {
			return strings.Map(func(r rune) rune {
				if slices.Contains(alphabet, r) {
					return -1
				}
				return r
			}, strings.ToValidUTF8(s, "\uFFFD"))
		}
		prefix, suffix = notAlphabet(prefix), notAlphabet(suffix)
		in := prefix + fm[0] + string(k) + fm[1] + sec.String() + fm[2] + suffix
		got := String(in)
		if i := strings.IndexFunc(got, func(r rune) bool { return slices.Contains(alphabet, r) }); i >= 0 {
			t.Fatalf("secret %q after %q shows in\n%q\nas\n%q", sec.String(), string(k)+fm[1], in, got)
		}
		if len(got) > maxRedacted || !utf8.ValidString(got) || strings.IndexFunc(got, func(r rune) bool {
			return unicode.IsControl(r) || r != ' ' && unicode.IsSpace(r)
		}) >= 0 {
			t.Fatalf("String(%q) = %q: not one line of at most %d bytes", in, got, maxRedacted)
		}
	})
}
