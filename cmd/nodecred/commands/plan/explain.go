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
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v3"

	"github.com/nodecred/nodecred/cmd/nodecred/commands"
)

// ExplainCommand is `nodecred explain REF`.
func ExplainCommand() *cli.Command {
	return &cli.Command{
		Name:      "explain",
		Usage:     "list the hosts a pull of REF would contact and which source has a credential for each",
		ArgsUsage: "REF",
		Flags:     planFlags,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			ref, err := commands.RefArg(cmd)
			if err != nil {
				return err
			}
			p, err := makePlan(ctx, planOptionsFrom(cmd), ref)
			if err != nil {
				return commands.UsageError{Err: err}
			}
			defer p.Close()
			if cmd.Bool("json") {
				err = writeJSON(cmd.Root().Writer, p)
			} else {
				err = writeExplain(cmd.Root().Writer, p)
			}
			if err == nil && p.criLocal() {
				return commands.CRILocalError{Verdict: p.CRI}
			}
			return err
		},
	}
}

func writeExplain(w io.Writer, p *plan) error {
	writeHeading(w, p)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tROLE\tCAPABILITIES\tSOURCE\tCREDENTIAL")
	for _, t := range p.Targets {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Host, t.Role, strings.Join(t.Capabilities, ","), t.sourceOrDash(), t.Kind)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(p.Providers) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	fmt.Fprintln(tw, "PROVIDER\tSOURCE\tFILE\tMATCHIMAGES\tSTATUS")
	for _, r := range p.Providers {
		status := "runs"
		if r.Skipped != "" {
			status = "skipped: " + r.Skipped
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.Source, r.File, strings.Join(r.MatchImages, ","), status)
	}
	return tw.Flush()
}

// writeHeading prints, first, whether CRI pulls bypass nodecred, then the
// reference and, when it applies, why no node credential is used.
func writeHeading(w io.Writer, p *plan) {
	if p.criLocal() {
		fmt.Fprintf(w, "CRI PULLS LOCALLY (%s): %s\nThe credentials below serve transfer API clients only.\n\n", p.CRI.Setting(), p.CRI.Summary())
	}
	fmt.Fprintf(w, "%s (namespace %s, hosts dir %s)\n", p.Ref, p.Namespace, p.HostsDir)
	if p.Scoped {
		fmt.Fprintf(w, "namespace %s may not use node credentials (nodecred namespaces)\n", p.Namespace)
	}
}

func (t target) sourceOrDash() string {
	if t.Source == "" {
		return "-"
	}
	return t.Source
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
