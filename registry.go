package nodecred

import (
	"errors"
	"slices"

	"github.com/containerd/containerd/v2/plugins"
	"github.com/containerd/plugin"
	"github.com/containerd/plugin/registry"

	ctrtransfer "github.com/containerd/containerd/v2/core/transfer"
	// Imported so that their inits, which register the local transfer
	// plugin, the transfer gRPC service and CRI's image service, run
	// before ours.
	_ "github.com/containerd/containerd/v2/plugins/cri/images"
	_ "github.com/containerd/containerd/v2/plugins/services/transfer"
	_ "github.com/containerd/containerd/v2/plugins/transfer"

	"github.com/nodecred/nodecred/transfer"
)

const (
	localTransferID   = "local"
	transferServiceID = "transfer"
	criImagesID       = "images"
)

// This is the one place nodecred touches containerd's global plugin
// registry. CRI looks the transfer service up with GetSingle, so there must
// stay exactly one transfer plugin, and a plugin may not require its own
// type: so rather than adding a second transfer plugin, we re-register every
// plugin as it was, except that the local transfer plugin's instance comes
// back wrapped. Its own config section, [plugins."io.containerd.transfer.v1.local"],
// is decoded and used by its unchanged InitFn. The transfer gRPC service
// comes back wrapped too, so that the OCIRegistry messages gRPC clients send
// reach the transferrer with every field (see transfer.Service), and CRI's
// image service comes back reporting whether it pulls through the transfer
// service at all (cri.go).
func init() {
	regs := registry.Graph(func(*plugin.Registration) bool { return false })
	registry.Reset()
	var local, service bool
	for i := range regs {
		r := &regs[i]
		switch {
		case r.Type == plugins.TransferPlugin && r.ID == localTransferID:
			wrapLocalTransfer(r)
			local = true
		case r.Type == plugins.GRPCPlugin && r.ID == transferServiceID:
			wrapTransferService(r)
			service = true
		case r.Type == plugins.CRIServicePlugin && r.ID == criImagesID:
			wrapCRIImages(r)
		}
		registry.Register(r)
	}
	if !local || !service {
		panic("nodecred: containerd's local transfer plugin or transfer gRPC service is not registered")
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
