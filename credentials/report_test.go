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

package credentials

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nodecred/nodecred/internal/hostmatch"
)

func failWith(err error) Source {
	return sourceFunc(func(context.Context, Request) (Credential, error) { return Credential{}, err })
}

func TestReportNamesSourcesAndPrograms(t *testing.T) {
	const token = "ya29.c.b0AXv0zTPQsecretsecretsecret"
	hosts, _ := hostmatch.ParsePatterns([]string{"r.io"})
	helperFailed := fmt.Errorf("failed to run credential helper %q: %w", "/usr/local/bin/docker-credential-ecr-login",
		&ProgramError{Kind: "helper", Program: "docker-credential-ecr-login", Status: "timed out after 1m0s",
			Said: "token " + token, Stderr: "refresh failed: " + token})
	providersFailed := errors.Join(
		fmt.Errorf("failed to run provider %q: %w", "ecr", &ProgramError{Kind: "provider", Program: "ecr", Status: "exit status 1", Stderr: token}),
		fmt.Errorf("failed to run provider %q: %w", "gcr", &ProgramError{Kind: "provider", Program: "gcr", Status: "malformed response"}),
	)
	chain := Chain{
		{Name: "helper:ecr-login", Type: "helper", Source: failWith(helperFailed)},
		{Name: "kubelet:/etc/kubernetes/credential-provider.yaml", Type: "kubelet", Source: failWith(providersFailed)},
		{Name: "dockerconfig:/etc/containerd/auth.json", Type: "dockerconfig", Source: failWith(errors.New(`"/etc/containerd/auth.json": syntax error at byte 3`))},
		{Name: "static:r.io", Type: "static", Source: sourceFunc(func(_ context.Context, req Request) (Credential, error) {
			if !hosts.Match(req.Host, req.RepoPath()) {
				return Credential{}, nil
			}
			return Credential{Username: "robot", Password: Secret("pw-" + token)}, nil
		})},
	}
	cred, r, err := chain.GetReport(context.Background(), Request{Host: "r.io", Ref: "r.io/app:1"})
	if err != nil || cred.Username != "robot" {
		t.Fatalf("GetReport = %q, %v; want robot's credential", cred.Username, err)
	}
	if got, want := r.Served(), "static sources[3]"; got != want {
		t.Errorf("Served() = %q, want %q", got, want)
	}
	want := []string{
		"helper docker-credential-ecr-login in helper sources[0] failed: timed out after 1m0s",
		"provider ecr in kubelet sources[1] failed: exit status 1",
		"provider gcr in kubelet sources[1] failed: malformed response",
		"dockerconfig sources[2] failed",
	}
	got := r.Failures()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Failures() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, s := range append(got, r.Served()) {
		for _, secret := range []string{token, "secret", "/etc/", "refresh failed"} {
			if strings.Contains(s, secret) {
				t.Errorf("report %q carries %q", s, secret)
			}
		}
	}

	// Get answers the same, and a miss reports no source.
	if c, _ := chain.Get(context.Background(), Request{Host: "r.io"}); c.Username != cred.Username || c.Source != cred.Source {
		t.Errorf("Get = %+v, GetReport = %+v", c, cred)
	}
	_, miss, _ := chain.GetReport(context.Background(), Request{Host: "other.io"})
	if miss.Served() != "" || len(miss.Failures()) != 4 {
		t.Errorf("miss: Served() = %q, %d failures; want none and 4", miss.Served(), len(miss.Failures()))
	}
	if (Report{}).Served() != "" || (Report{}).Failures() != nil {
		t.Errorf("the zero Report says something")
	}
}

// TestReportNamesSourcesByType: a report names a source by its Type, never
// by its Name, which may carry a path; a source without a Type is named by
// its Name.
func TestReportNamesSourcesByType(t *testing.T) {
	broken := failWith(errors.New("broken"))
	chain := Chain{
		{Name: "/etc/containerd/auth.json", Type: "dockerconfig", Source: broken},
		{Name: "kubelet:/etc/kubernetes/credential-provider.yaml", Type: "helper", Source: broken},
		{Name: "mine", Source: broken},
	}
	_, r, _ := chain.GetReport(context.Background(), Request{Host: "r.io"})
	want := []string{"dockerconfig sources[0] failed", "helper sources[1] failed", "mine sources[2] failed"}
	if got := r.Failures(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Failures() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPublicStatus(t *testing.T) {
	long := "apiVersion " + strings.Repeat("verylongword ", 20)
	tests := []struct{ in, want string }{
		{"exit status 1", "exit status 1"},
		{"timed out after 1m0s", "timed out after 1m0s"},
		{"exit status 1\nsecond line", "exit status 1"},
		// A program that cannot be started is named, its path on the node is not.
		{"fork/exec /opt/cp/bin/ecr-credential-provider: no such file or directory", "fork/exec ecr-credential-provider: no such file or directory"},
		{`exec: "/usr/local/bin/docker-credential-gcr": permission denied`, `exec: "docker-credential-gcr": permission denied`},
		{"response apiVersion: not credentialprovider.kubelet.k8s.io/v1", "response apiVersion: not credentialprovider.kubelet.k8s.io/v1"},
		{long, long[:strings.LastIndexByte(long[:maxStatusShown], ' ')] + "…"},
	}
	for _, tt := range tests {
		if got := publicStatus(tt.in); got != tt.want {
			t.Errorf("publicStatus(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if len(publicStatus(tt.in)) > maxStatusShown+len("…") {
			t.Errorf("publicStatus(%q) is longer than %d bytes", tt.in, maxStatusShown)
		}
	}
	// A status that carries a credential is redacted like a log line.
	if got := publicStatus(`failed: {"password":"hunter2hunter2"}`); strings.Contains(got, "hunter2") {
		t.Errorf("publicStatus kept a password: %q", got)
	}
}

// FuzzPublicStatus: whatever a status holds, what a pull's error shows of
// it is one line, bounded, and valid UTF-8 when the status was.
func FuzzPublicStatus(f *testing.F) {
	for _, s := range []string{"exit status 1", "timed out after 1m0s", "a\nb", strings.Repeat("é", 80), strings.Repeat("x", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := publicStatus(s)
		if strings.ContainsAny(got, "\n") {
			t.Errorf("publicStatus(%q) = %q: more than one line", s, got)
		}
		if len(got) > maxStatusShown+len("…") {
			t.Errorf("publicStatus(%q) is %d bytes, more than %d", s, len(got), maxStatusShown+len("…"))
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Errorf("publicStatus(%q) = %q: not valid UTF-8", s, got)
		}
	})
}
