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

package nodecred

import (
	"errors"
	"slices"

	"github.com/containerd/plugin"

	ctrtransfer "github.com/containerd/containerd/v2/core/transfer"

	"github.com/nodecred/nodecred/internal/containerdcompat"
	"github.com/nodecred/nodecred/transfer"
)

// This is the one place nodecred changes containerd's plugin registry
// (through containerdcompat.Reregister, which says why it must be done
// this way). Every plugin is registered again as it was, except that the
// local transfer plugin's instance comes back wrapped. Its own config
// section, [plugins."io.containerd.transfer.v1.local"], is decoded and used
// by its unchanged InitFn. The transfer gRPC service comes back wrapped
// too, so that the OCIRegistry messages gRPC clients send reach the
// transferrer with every field (see transfer.Service), and CRI's image
// service comes back reporting whether it pulls through the transfer
// service at all (cri.go).
func init() {
	err := containerdcompat.Reregister(func(r *plugin.Registration) {
		switch {
		case containerdcompat.LocalTransfer.Is(r):
			wrapLocalTransfer(r)
		case containerdcompat.TransferService.Is(r):
			wrapTransferService(r)
		case containerdcompat.CRIImages.Is(r):
			wrapCRIImages(r)
		}
	}, containerdcompat.LocalTransfer, containerdcompat.TransferService)
	if err != nil {
		panic("nodecred: " + err.Error())
	}
}

// wrapLocalTransfer makes r's instance a nodecred Transferrer around the
// one r's own InitFn returns.
func wrapLocalTransfer(r *plugin.Registration) {
	wrapWhenEnabled(r, func(nc *instance, t any) (any, error) {
		return transfer.New(t.(ctrtransfer.Transferrer), nc.source, nc.options), nil
	})
}

// wrapTransferService makes r's instance, containerd's transfer gRPC
// service, a transfer.Service around the one r's own InitFn returns.
func wrapTransferService(r *plugin.Registration) {
	wrapWhenEnabled(r, func(_ *instance, s any) (any, error) {
		return transfer.WrapService(s)
	})
}

// wrapWhenEnabled makes r require the nodecred plugin, so that it is
// initialised first, and makes r's instance wrap(nodecred's instance, the
// instance r's own InitFn returns). A failure of r's own InitFn is
// returned as it is. With the nodecred plugin disabled, the inner instance
// is returned unchanged.
func wrapWhenEnabled(r *plugin.Registration, wrap func(nc *instance, inner any) (any, error)) {
	inner := r.InitFn
	r.Requires = append(slices.Clone(r.Requires), CredentialsPlugin)
	r.InitFn = func(ic *plugin.InitContext) (any, error) {
		i, err := inner(ic)
		if err != nil {
			return nil, err
		}
		p, err := ic.GetByID(CredentialsPlugin, PluginID)
		if errors.Is(err, plugin.ErrPluginNotFound) {
			return i, nil
		}
		if err != nil {
			return nil, err
		}
		return wrap(p.(*instance), i)
	}
}
