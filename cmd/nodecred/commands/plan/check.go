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

package plan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/errdefs"
	"github.com/urfave/cli/v3"

	"github.com/nodecred/nodecred/cmd/nodecred/commands"
)

// hostCheck is the outcome of the registry handshake with one host.
type hostCheck struct {
	target
	Status string `json:"status"` // ok, unauthorized, forbidden, not-found, unreachable, error
	HTTP   int    `json:"http_status,omitempty"`
	Detail string `json:"detail,omitempty"`
}

type checkResult struct {
	*plan
	Hosts []hostCheck `json:"hosts"`
	OK    bool        `json:"ok"`
	// Via is the host the pull would resolve the image from.
	Via string `json:"via,omitempty"`
}

// CheckCommand is `nodecred check REF`.
func CheckCommand() *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "resolve REF at each host with the node's credentials, as a pull would; exit 0 only if the pull would succeed",
		ArgsUsage: "REF",
		Flags: append(planFlags[:len(planFlags):len(planFlags)],
			&cli.DurationFlag{Name: "timeout", Value: 30 * time.Second, Usage: "time allowed for each host"}),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			ref, err := commands.RefArg(cmd)
			if err != nil {
				return err
			}
			rec := &statusRecorder{last: map[string]int{}}
			opts := planOptionsFrom(cmd)
			opts.updateClient = rec.wrap
			p, err := makePlan(ctx, opts, ref)
			if err != nil {
				return commands.UsageError{Err: err}
			}
			defer p.Close()
			res := runCheck(ctx, p, rec, cmd.Duration("timeout"))
			if cmd.Bool("json") {
				err = writeJSON(cmd.Root().Writer, res)
			} else {
				err = writeCheck(cmd.Root().Writer, res)
			}
			if err != nil {
				return err
			}
			if !res.OK {
				return commands.FailedError{Err: errors.New(res.reason())}
			}
			if p.criLocal() {
				return commands.CRILocalError{Verdict: p.CRI}
			}
			return nil
		},
	}
}

// runCheck resolves the reference at each host that can resolve, one host
// at a time, with the credentials the daemon would use for that host.
func runCheck(ctx context.Context, p *plan, rec *statusRecorder, timeout time.Duration) *checkResult {
	res := &checkResult{plan: p}
	for _, t := range p.Targets {
		hc := hostCheck{target: t}
		if !t.registryHost.Capabilities.Has(docker.HostCapabilityResolve) {
			hc.Status, hc.Detail = "skipped", "host cannot resolve tags; used for blobs only"
			res.Hosts = append(res.Hosts, hc)
			continue
		}
		host := t.registryHost
		resolver := docker.NewResolver(docker.ResolverOptions{
			Hosts: func(string) ([]docker.RegistryHost, error) { return []docker.RegistryHost{host}, nil },
		})
		hctx, cancel := context.WithTimeout(ctx, timeout)
		_, _, err := resolver.Resolve(hctx, p.Ref)
		cancel()
		hc.HTTP = rec.status(t.Host)
		hc.Status, hc.Detail = classify(err, hc.HTTP)
		if hc.Status == "unauthorized" && t.Kind == "none" {
			// Nothing was sent: nothing was refused.
			hc.Detail = "401: the registry wants a credential, and the node has none for this host"
		}
		if hc.Status == "ok" && !res.OK {
			res.OK, res.Via = true, t.Host
		}
		res.Hosts = append(res.Hosts, hc)
	}
	return res
}

// classify names the outcome. Resolver errors name URLs and statuses, never
// the credential.
func classify(err error, status int) (string, string) {
	switch {
	case err == nil:
		return "ok", ""
	case status == http.StatusUnauthorized || errors.Is(err, docker.ErrInvalidAuthorization):
		return "unauthorized", "401: the registry refused the credential"
	case status == http.StatusForbidden:
		return "forbidden", "403: the credential may not pull this repository"
	case errdefs.IsNotFound(err):
		return "not-found", err.Error()
	}
	var netErr net.Error
	if errors.As(err, &netErr) || status == 0 {
		return "unreachable", err.Error()
	}
	return "error", err.Error()
}

func (r *checkResult) reason() string {
	var parts []string
	for _, h := range r.Hosts {
		if h.Status != "skipped" {
			parts = append(parts, fmt.Sprintf("%s: %s", h.Host, h.Status))
		}
	}
	return "the pull would fail (" + strings.Join(parts, "; ") + ")"
}

func writeCheck(w io.Writer, r *checkResult) error {
	writeHeading(w, r.plan)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tROLE\tSOURCE\tCREDENTIAL\tRESULT\tDETAIL")
	for _, h := range r.Hosts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", h.Host, h.Role, h.sourceOrDash(), h.Kind, h.Status, h.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.OK {
		fmt.Fprintf(w, "ok: the pull would resolve %s from %s\n", r.Ref, r.Via)
	}
	return nil
}
