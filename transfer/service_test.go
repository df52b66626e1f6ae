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
	"bytes"
	"context"
	"testing"

	transferapi "github.com/containerd/containerd/api/services/transfer/v1"
	transfertypes "github.com/containerd/containerd/api/types/transfer"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"
)

// fakeService records the request containerd's service would get.
type fakeService struct {
	transferapi.UnimplementedTransferServer
	req *transferapi.TransferRequest
}

func (f *fakeService) Transfer(_ context.Context, req *transferapi.TransferRequest) (*emptypb.Empty, error) {
	f.req = req
	return &emptypb.Empty{}, nil
}

func TestServiceRenamesOnlyOCIRegistry(t *testing.T) {
	reg, _ := typeurl.MarshalAnyToProto(&transfertypes.OCIRegistry{Reference: "r.io/app:1", Resolver: &transfertypes.RegistryResolver{HostDir: "/etc/containerd/certs.d"}})
	store, _ := typeurl.MarshalAnyToProto(&transfertypes.ImageStore{Name: "r.io/app:1"})
	tests := []struct {
		name                string
		src, dst            *anypb.Any
		wantSrcURL, wantDst string
	}{
		{"pull", reg, store, receivedRegistryTypeURL, store.TypeUrl},
		{"push", store, reg, store.TypeUrl, receivedRegistryTypeURL},
		{"tag", store, store, store.TypeUrl, store.TypeUrl},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeService{}
			s, err := WrapService(f)
			if err != nil {
				t.Fatal(err)
			}
			req := &transferapi.TransferRequest{Source: tt.src, Destination: tt.dst}
			if _, err := s.Transfer(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			if f.req.Source.TypeUrl != tt.wantSrcURL || f.req.Destination.TypeUrl != tt.wantDst {
				t.Errorf("inner service got %s -> %s", f.req.Source.TypeUrl, f.req.Destination.TypeUrl)
			}
			if !bytes.Equal(f.req.Source.Value, tt.src.Value) || !bytes.Equal(f.req.Destination.Value, tt.dst.Value) {
				t.Errorf("message bytes changed")
			}
			if req.Source != tt.src || tt.src.TypeUrl == receivedRegistryTypeURL || tt.dst.TypeUrl == receivedRegistryTypeURL {
				t.Errorf("the caller's request was modified")
			}
		})
	}
	if _, err := WrapService(struct{}{}); err == nil {
		t.Error("WrapService accepted something that is not a TransferServer")
	}
}
