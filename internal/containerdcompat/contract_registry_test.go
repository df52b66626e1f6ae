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

package containerdcompat_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"

	transferapi "github.com/containerd/containerd/api/services/transfer/v1"
	transfertypes "github.com/containerd/containerd/api/types/transfer"
	"github.com/containerd/containerd/v2/core/streaming"
	"github.com/containerd/containerd/v2/core/transfer/image"
	tplugins "github.com/containerd/containerd/v2/core/transfer/plugins"
	"github.com/containerd/containerd/v2/core/transfer/registry"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/nodecred/nodecred/internal/containerdcompat"
)

// TestContractOCIRegistryHeaders guards containerdcompat.Headers, the read
// of OCIRegistry's unexported headers field: it is still there, an
// http.Header holding what WithHeaders was given, keys as given.
func TestContractOCIRegistryHeaders(t *testing.T) {
	f, ok := reflect.TypeFor[registry.OCIRegistry]().FieldByName("headers")
	if !ok || f.Type != reflect.TypeFor[http.Header]() {
		t.Fatalf("registry.OCIRegistry has no headers field of type http.Header (found %v): containerdcompat.Headers falls back to MarshalAny's flattened headers", f.Type)
	}
	h := http.Header{"x-lower": {"a"}, "X-Multi": {"one", "two"}}
	r, err := registry.NewOCIRegistry(context.Background(), "r.io/app:1", registry.WithHeaders(h))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := containerdcompat.Headers(r)
	if !ok {
		t.Fatal("Headers cannot read OCIRegistry's headers field in this containerd version")
	}
	// Compared whole: the non-canonical key must come back as it was set.
	if !maps.EqualFunc(got, h, slices.Equal[[]string]) {
		t.Fatalf("Headers = %v, want %v", got, h)
	}
	none, err := registry.NewOCIRegistry(context.Background(), "r.io/app:1")
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := containerdcompat.Headers(none); !ok || got != nil {
		t.Fatalf("Headers of a registry without headers = %v, %v", got, ok)
	}
}

// helperFunc is a registry.CredentialHelper.
type helperFunc func(host string) (registry.Credentials, error)

func (f helperFunc) GetCredentials(_ context.Context, _, host string) (registry.Credentials, error) {
	return f(host)
}

// caller answers as a caller's credential helper may: a username and
// secret, a header, a refresh token, nothing, or an error.
var caller = helperFunc(func(host string) (registry.Credentials, error) {
	switch host {
	case "user.io":
		return registry.Credentials{Host: host, Username: "u", Secret: "s"}, nil
	case "header.io":
		return registry.Credentials{Host: host, Header: "Bearer h"}, nil
	case "token.io":
		return registry.Credentials{Host: host, Secret: "refresh"}, nil
	case "broken.io":
		return registry.Credentials{}, errors.New("broken")
	}
	return registry.Credentials{Host: host}, nil
})

// ask sends an AuthRequest for host on p and returns the AuthResponse, or
// nil when p's serving end went back to Recv without answering.
func ask(t *testing.T, p *pipeEnd, recvs chan struct{}, host string) *transfertypes.AuthResponse {
	t.Helper()
	req, err := typeurl.MarshalAny(&transfertypes.AuthRequest{Host: host, Reference: host + "/app:1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Send(req); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-p.in:
		var resp transfertypes.AuthResponse
		if err := typeurl.UnmarshalTo(a, &resp); err != nil {
			t.Fatal(err)
		}
		<-recvs // the loop waits for the next request
		return &resp
	case <-recvs:
		return nil
	case <-time.After(10 * time.Second):
		t.Fatalf("host %s: no answer and no next Recv", host)
		return nil
	}
}

func authStream(t *testing.T, a typeurl.Any) *transfertypes.OCIRegistry {
	t.Helper()
	var msg transfertypes.OCIRegistry
	if err := typeurl.UnmarshalTo(a, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.GetResolver().GetAuthStream() == "" {
		t.Fatal("MarshalAny set no auth_stream for a registry with a credential helper")
	}
	return &msg
}

// wantAnswers is what the serving loop must answer for each host, in
// order; nil: no answer, and the loop keeps serving.
var wantAnswers = []struct {
	host string
	want *transfertypes.AuthResponse
}{
	{"user.io", &transfertypes.AuthResponse{AuthType: transfertypes.AuthType_CREDENTIALS, Username: "u", Secret: "s"}},
	{"header.io", &transfertypes.AuthResponse{AuthType: transfertypes.AuthType_HEADER, Secret: "Bearer h"}},
	{"token.io", &transfertypes.AuthResponse{AuthType: transfertypes.AuthType_REFRESH, Secret: "refresh"}},
	{"none.io", &transfertypes.AuthResponse{AuthType: transfertypes.AuthType_REFRESH}},
	{"broken.io", nil},
	{"user.io", &transfertypes.AuthResponse{AuthType: transfertypes.AuthType_CREDENTIALS, Username: "u", Secret: "s"}},
}

func checkAnswers(t *testing.T, p *pipeEnd, recvs chan struct{}) {
	t.Helper()
	<-recvs // the loop's first Recv
	for _, w := range wantAnswers {
		got := ask(t, p, recvs, w.host)
		if (got == nil) != (w.want == nil) || got != nil && !proto.Equal(got, w.want) {
			t.Errorf("host %s: answer %v, want %v", w.host, got, w.want)
		}
	}
}

// TestContractMarshalAnyServesCredentials guards the in-process stream
// round trip (ReadBack, LocalStreams in streams.go): OCIRegistry.MarshalAny
// creates the credential stream through the StreamCreator it is given,
// names it in auth_stream, answers each AuthRequest with the caller's
// helper, and when the helper fails goes back to Recv without answering,
// still serving the next request. LocalStreams tells that silence from an
// answer by that next Recv.
func TestContractMarshalAnyServesCredentials(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sm := &streams{recvs: make(chan struct{}, 1)}
	defer sm.close()
	r, err := registry.NewOCIRegistry(ctx, "user.io/app:1", registry.WithCredentials(caller),
		registry.WithHostDir("/etc/containerd/certs.d"), registry.WithDefaultScheme("http"), registry.WithHTTPDebug())
	if err != nil {
		t.Fatal(err)
	}
	a, err := r.MarshalAny(ctx, sm)
	if err != nil {
		t.Fatal(err)
	}
	msg := authStream(t, a)
	res := msg.GetResolver()
	if msg.GetReference() != "user.io/app:1" || res.GetHostDir() != "/etc/containerd/certs.d" || res.GetDefaultScheme() != "http" || res.GetHttpDebug() != transfertypes.HTTPDebug_DEBUG {
		t.Errorf("MarshalAny lost options: %v", msg)
	}
	p := sm.peer(res.GetAuthStream())
	if p == nil {
		t.Fatal("MarshalAny did not create its auth stream through the StreamCreator")
	}
	checkAnswers(t, p, sm.recvs)
}

// TestContractUnmarshalAny guards the re-implementations of containerd's
// OCIRegistry.UnmarshalAny (unmarshal.go) and credCallback (caller.go):
// the messages have the fields they read, no more;
// UnmarshalAny takes the client's credential stream from the stream
// getter, and credCallback maps AuthResponse as CallerCredentials does.
// The credential round trip goes client registry -> MarshalAny ->
// UnmarshalAny (credCallback) -> MarshalAny again, whose serving loop asks
// credCallback.
func TestContractUnmarshalAny(t *testing.T) {
	for _, m := range []struct {
		msg    proto.Message
		fields []string
	}{
		{&transfertypes.OCIRegistry{}, []string{"reference", "resolver"}},
		{&transfertypes.RegistryResolver{}, []string{"auth_stream", "headers", "host_dir", "default_scheme", "http_debug", "logs_stream"}},
		{&transfertypes.AuthRequest{}, []string{"host", "reference", "wwwauthenticate"}},
		{&transfertypes.AuthResponse{}, []string{"authType", "secret", "username", "expire_at"}},
	} {
		if got := fieldNames(m.msg.ProtoReflect().Descriptor()); !slices.Equal(got, m.fields) {
			t.Errorf("%s has fields %v, the re-implementations read %v", m.msg.ProtoReflect().Descriptor().FullName(), got, m.fields)
		}
	}
	var types []string
	for i, v := 0, transfertypes.AuthType(0).Descriptor().Values(); i < v.Len(); i++ {
		types = append(types, string(v.Get(i).Name()))
	}
	if want := []string{"NONE", "CREDENTIALS", "REFRESH", "HEADER"}; !slices.Equal(types, want) {
		t.Errorf("AuthType values %v, want %v", types, want)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clientSide := &streams{}
	defer clientSide.close()
	client, err := registry.NewOCIRegistry(ctx, "user.io/app:1", registry.WithCredentials(caller))
	if err != nil {
		t.Fatal(err)
	}
	a, err := client.MarshalAny(ctx, clientSide)
	if err != nil {
		t.Fatal(err)
	}
	authStream(t, a)
	var daemon registry.OCIRegistry
	if err := daemon.UnmarshalAny(ctx, clientSide, a); err != nil {
		t.Fatal(err)
	}
	again := &streams{recvs: make(chan struct{}, 1)}
	defer again.close()
	b, err := daemon.MarshalAny(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	p := again.peer(authStream(t, b).GetResolver().GetAuthStream())
	// A failing host is not asked: credCallback would wait for an answer
	// the client's loop never sends (nodecred's CallerCredentials does not).
	<-again.recvs
	for _, w := range wantAnswers[:4] {
		if got := ask(t, p, again.recvs, w.host); got == nil || !proto.Equal(got, w.want) {
			t.Errorf("host %s through credCallback: answer %v, want %v", w.host, got, w.want)
		}
	}
}

func fieldNames(d protoreflect.MessageDescriptor) []string {
	var names []string
	for i := 0; i < d.Fields().Len(); i++ {
		names = append(names, string(d.Fields().Get(i).Name()))
	}
	return names
}

// received is a transfer object registered under its own type URL, as
// nodecred's receivedRegistry is.
type received struct {
	msg     transfertypes.OCIRegistry
	streams streaming.StreamGetter
}

func (r *received) UnmarshalAny(_ context.Context, sm streaming.StreamGetter, a typeurl.Any) error {
	r.streams = sm
	return proto.Unmarshal(a.GetValue(), &r.msg)
}

const receivedTypeURL = "github.com/nodecred/nodecred/internal/containerdcompat/received"

func init() {
	typeurl.Register(&received{}, receivedTypeURL)
	tplugins.Register(&received{}, &received{})
}

// TestContractTransferServiceResolvesByTypeURL guards the renamed type URL
// (transfer/service.go, received.go): the transfer gRPC service turns a
// request's source into the Go type core/transfer/plugins registered for
// its type URL, calls its UnmarshalAny with the service's stream manager,
// and hands it to the transferrer; OCIRegistry's own URL is taken by
// registry.OCIRegistry.
func TestContractTransferServiceResolvesByTypeURL(t *testing.T) {
	a, err := typeurl.MarshalAnyToProto(&transfertypes.OCIRegistry{Reference: "r.io/app:1", Resolver: &transfertypes.RegistryResolver{HostDir: "/etc/containerd/certs.d"}})
	if err != nil {
		t.Fatal(err)
	}
	if obj, err := tplugins.ResolveType(a); err != nil {
		t.Fatal(err)
	} else if _, ok := obj.(*registry.OCIRegistry); !ok {
		t.Fatalf("OCIRegistry's type URL resolves to %T", obj)
	}
	dst, err := typeurl.MarshalAnyToProto(&transfertypes.ImageStore{Name: "r.io/app:1"})
	if err != nil {
		t.Fatal(err)
	}
	tr, sm := &standinTransferrer{}, &streams{}
	inst, err := initTransferServiceWith(t, tr, sm)
	if err != nil {
		t.Fatal(err)
	}
	a.TypeUrl = receivedTypeURL
	if _, err := inst.(transferapi.TransferServer).Transfer(context.Background(), &transferapi.TransferRequest{Source: a, Destination: dst}); err != nil {
		t.Fatal(err)
	}
	got, ok := tr.src.(*received)
	if !ok {
		t.Fatalf("the transferrer got %T, want the type registered for the renamed URL", tr.src)
	}
	if got.msg.GetResolver().GetHostDir() != "/etc/containerd/certs.d" || got.streams != streaming.StreamGetter(sm) {
		t.Errorf("UnmarshalAny got message %v, streams %v", &got.msg, got.streams)
	}
	if _, ok := tr.dst.(*image.Store); !ok {
		t.Errorf("destination %T", tr.dst)
	}
}
