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

package transfer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/core/transfer/registry"

	"github.com/nodecred/nodecred/credentials"
)

// callerFunc is a caller-side registry.CredentialHelper.
type callerFunc func(host string) (registry.Credentials, error)

func (f callerFunc) GetCredentials(_ context.Context, _, host string) (registry.Credentials, error) {
	return f(host)
}

// nodeSource answers every host with robot/node-pw and counts its calls.
type nodeSource struct {
	calls int
	cred  credentials.Credential
}

func (n *nodeSource) Get(context.Context, credentials.Request) (credentials.Credential, error) {
	n.calls++
	return n.cred, nil
}

func TestCallerCredentialsWin(t *testing.T) {
	robot := credentials.Credential{Username: "robot", Password: "node-pw", Source: "static:r.io"}
	tests := []struct {
		name          string
		caller        registry.CredentialHelper
		node          credentials.Credential
		wantUser      string
		wantSecret    string
		wantErr       bool
		wantNodeCalls int
	}{
		{"caller has credentials", callerFunc(func(h string) (registry.Credentials, error) {
			return registry.Credentials{Host: h, Username: "kubelet", Secret: "pull-secret"}, nil
		}), robot, "kubelet", "pull-secret", false, 0},
		{"caller has a refresh token", callerFunc(func(h string) (registry.Credentials, error) {
			return registry.Credentials{Host: h, Secret: "token"}, nil
		}), robot, "", "token", false, 0},
		{"caller has none", callerFunc(func(h string) (registry.Credentials, error) {
			return registry.Credentials{Host: h}, nil
		}), robot, "robot", "node-pw", false, 1},
		{"caller failed", callerFunc(func(string) (registry.Credentials, error) {
			return registry.Credentials{}, errors.New("bad auth")
		}), robot, "", "", true, 0},
		{"no caller helper", nil, robot, "robot", "node-pw", false, 1},
		{"node identity token", nil, credentials.Credential{Username: "<token>", IdentityToken: "refresh"}, "", "refresh", false, 1},
		{"nobody has any", nil, credentials.Credential{}, "", "", false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			node := &nodeSource{cred: tt.node}
			h := &credentialHelper{ctx: context.Background(), caller: tt.caller, node: node, namespace: "k8s.io"}
			c, err := h.GetCredentials(context.Background(), "r.io/app:1", "r.io")
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if c.Username != tt.wantUser || c.Secret != tt.wantSecret {
				t.Errorf("got %q with a %d-byte secret, want %q", c.Username, len(c.Secret), tt.wantUser)
			}
			if node.calls != tt.wantNodeCalls {
				t.Errorf("node source asked %d times, want %d", node.calls, tt.wantNodeCalls)
			}
		})
	}
}

// TestCallerStreamRoundTrip runs the caller's helper behind containerd's own
// OCIRegistry.MarshalAny serving loop, as rehome does.
func TestCallerStreamRoundTrip(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	caller := callerFunc(func(host string) (registry.Credentials, error) {
		switch host {
		case "caller.io":
			return registry.Credentials{Host: host, Username: "kubelet", Secret: "pull-secret"}, nil
		case "broken.io":
			return registry.Credentials{}, errors.New("invalid auth")
		default:
			return registry.Credentials{Host: host}, nil
		}
	})
	r, err := registry.NewOCIRegistry(ctx, "caller.io/app:1", registry.WithCredentials(caller))
	if err != nil {
		t.Fatal(err)
	}
	node := &nodeSource{cred: credentials.Credential{Username: "robot", Password: "node-pw"}}
	h := &credentialHelper{ctx: ctx, node: node}
	_, done, err := rehome(ctx, r, h)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	if h.caller == nil {
		t.Fatal("rehome did not find the caller's credential stream")
	}
	steps := []struct {
		host, wantUser string
		wantErr        bool
	}{
		{"caller.io", "kubelet", false},
		{"node.io", "robot", false},
		// The serving loop logs the error and answers nothing; the request
		// must fail at once rather than hang, and the stream keep working.
		{"broken.io", "", true},
		{"caller.io", "kubelet", false},
		{"node.io", "robot", false},
	}
	for _, s := range steps {
		c, err := h.GetCredentials(context.Background(), "caller.io/app:1", s.host)
		if (err != nil) != s.wantErr || c.Username != s.wantUser {
			t.Fatalf("host %s: got %q, err %v; want %q, wantErr %v", s.host, c.Username, err, s.wantUser, s.wantErr)
		}
	}
	if ctx.Err() != nil {
		t.Fatal("round trip hit the test timeout")
	}
}

func TestCallerStreamEndsWithTransfer(t *testing.T) {
	ctx := context.Background()
	r, err := registry.NewOCIRegistry(ctx, "r.io/app:1", registry.WithCredentials(callerFunc(func(h string) (registry.Credentials, error) {
		return registry.Credentials{Host: h}, nil
	})))
	if err != nil {
		t.Fatal(err)
	}
	h := &credentialHelper{ctx: ctx, node: &nodeSource{}}
	_, done, err := rehome(ctx, r, h)
	if err != nil {
		t.Fatal(err)
	}
	done()
	if _, err := h.caller.GetCredentials(ctx, "r.io/app:1", "r.io"); err == nil {
		t.Fatal("caller stream still answers after the transfer ended")
	}
}
