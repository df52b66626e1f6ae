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
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/containerd/containerd/v2/core/remotes/docker/config"
	"github.com/containerd/log"
	"github.com/containerd/plugin"
	"github.com/distribution/reference"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/cripull"
	"github.com/nodecred/nodecred/internal/logs"
	"github.com/nodecred/nodecred/metrics"
)

// criNamespace is the containerd namespace CRI pulls in.
const criNamespace = "k8s.io"

// wrapCRIImages makes CRI's image service report, once it has started,
// whether it pulls through the transfer service. CRI decides that in its
// own InitFn (CheckLocalImagePullConfigs sets use_local_image_pull on the
// config it was given), so its config is read before that, for the
// settings as written, and after, for the mode CRI runs in. With the
// nodecred plugin disabled, nothing is read or reported.
func wrapCRIImages(r *plugin.Registration) {
	inner := r.InitFn
	r.Requires = append(slices.Clone(r.Requires), CredentialsPlugin)
	r.InitFn = func(ic *plugin.InitContext) (any, error) {
		before, readErr := cripull.FromConfig(ic.Config)
		i, err := inner(ic)
		if err != nil {
			return i, err
		}
		p, err := ic.GetByID(CredentialsPlugin, PluginID)
		if err != nil {
			// Disabled; or failed, and containerd stops for it.
			return i, nil
		}
		nc := p.(*instance)
		var after cripull.Settings
		if readErr == nil {
			after, readErr = cripull.FromConfig(ic.Config)
		}
		if err := nc.criStarted(ic.Context, before, after, readErr); err != nil {
			// Registered only for its side effect: failing after
			// registering readiness stops containerd (plugin.go). The
			// returned func is not needed, as containerd does not start.
			if ic.RegisterReadiness != nil {
				ic.RegisterReadiness()
			}
			return nil, err
		}
		return i, nil
	}
}

// criStarted reports CRI's pull mode in the log, the plugin's exports and
// the metric; fails when CRI pulls locally (or the mode cannot be read)
// and the config requires the transfer service; and, in transfer mode,
// warms the sources for the sandbox image.
func (nc *instance) criStarted(ctx context.Context, before, after cripull.Settings, readErr error) error {
	if readErr != nil {
		nc.exports["cri_pull_mode"], nc.exports["cri_pull_setting"] = "unknown", ""
		metrics.CRIPullMode("unknown", "")
		logs.With(ctx, log.Fields{"effect": "node credentials may not reach CRI pulls"}).WithError(readErr).
			Error("cannot tell whether CRI pulls through the transfer service")
		if nc.requireCRITransfer {
			return fmt.Errorf("require_cri_transfer_pull is set and CRI's pull mode is unknown: %w", readErr)
		}
		return nil
	}
	v := cripull.Observe(before, after)
	nc.exports["cri_pull_mode"], nc.exports["cri_pull_setting"] = string(v.Mode), v.Setting()
	metrics.CRIPullMode(string(v.Mode), v.Setting())
	if v.Mode == cripull.Local {
		logs.With(ctx, log.Fields{"setting": v.Setting(), "sandbox_image": v.SandboxImage, "detail": v.Summary()}).Error("CRI pulls images without the transfer service")
		if nc.requireCRITransfer {
			return fmt.Errorf("require_cri_transfer_pull is set and CRI pulls locally (%s): %w", v.Setting(), errCRILocal)
		}
		return nil
	}
	logs.G(ctx).WithField("sandbox_image", v.SandboxImage).Info("CRI pulls images through the transfer service; node credentials serve them")
	if ns := nc.options.Namespaces; v.SandboxImage != "" && (len(ns) == 0 || slices.Contains(ns, criNamespace)) {
		go warm(context.WithoutCancel(ctx), nc.source, v.SandboxImage, after.Registry.ConfigPath)
	}
	return nil
}

var errCRILocal = errors.New("CRI pulls would get no node credentials")

// warm asks the source, once, for each host a pull of the sandbox image
// contacts, as the transferrer will: exec-backed sources cache the answer
// (or let the first pull join the run in flight), so the first
// RunPodSandbox does not wait on a credential program.
func warm(ctx context.Context, src credentials.Source, image, hostsDir string) {
	named, err := reference.ParseDockerRef(image)
	if err != nil {
		logs.G(ctx).WithField("sandbox_image", image).WithError(err).Warn("sandbox image is not a valid reference; not warming credentials")
		return
	}
	ref := named.String()
	opts := config.HostOptions{}
	if hostsDir != "" {
		opts.HostDir = config.HostDirFromRoot(hostsDir)
	}
	hosts, err := config.ConfigureHosts(ctx, opts)(reference.Domain(named))
	if err != nil {
		logs.G(ctx).WithField("sandbox_image", image).WithError(err).Warn("cannot read the sandbox image's hosts; not warming credentials")
		return
	}
	for _, h := range hosts {
		c, err := src.Get(ctx, credentials.Request{Host: h.Host, Ref: ref, Namespace: criNamespace})
		logs.With(ctx, log.Fields{"host": h.Host, "credential": c.Kind(), "source": c.Source, "error": err}).Debug("warmed sandbox image credentials")
	}
}
