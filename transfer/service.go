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
	"fmt"

	transferapi "github.com/containerd/containerd/api/services/transfer/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Service is containerd's gRPC transfer service with one change: a source
// or destination that is an OCIRegistry message is given receivedRegistry's
// type URL before containerd's service turns it into an object, so that
// containerd's transfer type registry resolves it to receivedRegistry
// rather than to registry.OCIRegistry, and the Transferrer sees the
// message's own fields. Everything else, progress streams and the choice
// of transferrer included, is containerd's service unchanged.
//
// The type registry (core/transfer/plugins) maps each type URL to one Go
// type and refuses a second registration, so the message's own type URL
// cannot be claimed there; renaming it on its way in is the narrow way to
// take part.
type Service struct {
	transferapi.UnimplementedTransferServer
	inner transferapi.TransferServer
}

// WrapService wraps inner, the instance of containerd's transfer gRPC
// plugin (io.containerd.grpc.v1.transfer).
func WrapService(inner any) (*Service, error) {
	ts, ok := inner.(transferapi.TransferServer)
	if !ok {
		return nil, fmt.Errorf("containerd's transfer gRPC service is a %T, not a TransferServer", inner)
	}
	return &Service{inner: ts}, nil
}

// Register serves s in place of the wrapped service.
func (s *Service) Register(gs *grpc.Server) error {
	transferapi.RegisterTransferServer(gs, s)
	return nil
}

// Unwrap returns the wrapped service.
func (s *Service) Unwrap() transferapi.TransferServer { return s.inner }

// Transfer hands the request to containerd's service with OCIRegistry
// sources and destinations renamed.
func (s *Service) Transfer(ctx context.Context, req *transferapi.TransferRequest) (*emptypb.Empty, error) {
	if isOCIRegistry(req.GetSource()) || isOCIRegistry(req.GetDestination()) {
		req = proto.Clone(req).(*transferapi.TransferRequest)
		req.Source, req.Destination = received(req.Source), received(req.Destination)
	}
	return s.inner.Transfer(ctx, req)
}

func isOCIRegistry(a *anypb.Any) bool {
	return a != nil && a.GetTypeUrl() == ociRegistryTypeURL
}

func received(a *anypb.Any) *anypb.Any {
	if isOCIRegistry(a) {
		a.TypeUrl = receivedRegistryTypeURL
	}
	return a
}
