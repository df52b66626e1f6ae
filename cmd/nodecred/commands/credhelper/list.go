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

package credhelper

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/nodecred/nodecred/credentials/dockerconfig"
	"github.com/nodecred/nodecred/credentials/kubelet"
	"github.com/nodecred/nodecred/credentials/sourceconfig"
	"github.com/nodecred/nodecred/internal/logs"
)

// listCandidates returns, once each, the contacted hosts that the sources
// name literally, in the order configured. Files it cannot read or parse
// are logged and skipped: the source itself reports them on lookup.
func listCandidates(ctx context.Context, sources []sourceconfig.Config) []string {
	var hosts []string
	seen := map[string]bool{}
	add := func(host string, ok bool) {
		if ok && !seen[host] {
			seen[host] = true
			hosts = append(hosts, host)
		}
	}
	for i, s := range sources {
		var err error
		switch s.Type {
		case sourceconfig.TypeStatic, sourceconfig.TypeHelper:
			for _, p := range s.Hosts {
				add(patternHost(p))
			}
		case sourceconfig.TypeKubelet:
			err = kubeletHosts(s.Config, func(p string) { add(patternHost(p)) })
		case sourceconfig.TypeDockerConfig:
			err = dockerConfigHosts(s.Path, func(k string) { add(authKeyHost(k)) })
		}
		if err != nil {
			logs.G(ctx).WithField("source", fmt.Sprintf("sources[%d]", i)).WithError(err).Warn("cannot list the hosts of a source; they are not listed")
		}
	}
	return hosts
}

// the file.
func dockerConfigHosts(path string, add func(string)) error {
	data, err := readBounded(path)
	if err != nil {
		return err
	}
	if _, err := dockerconfig.Parse(data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var keys struct {
		Auths       map[string]json.RawMessage `json:"auths"`
		CredHelpers map[string]json.RawMessage `json:"credHelpers"`
	}
	if err := json.Unmarshal(data, &keys); err != nil {
		return fmt.Errorf("%s: not a docker config", path)
	}
	for k := range keys.Auths {
		add(k)
	}
	for k := range keys.CredHelpers {
		add(k)
	}
	return nil
}

// kubeletHosts calls add with each provider's matchImages entries.
func kubeletHosts(path string, add func(string)) error {
	cfg, err := kubelet.ReadConfig(path) // a file or a directory, as the kubelet reads it
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, p := range cfg.Providers {
		if ta := p.TokenAttributes; ta != nil && ta.RequireServiceAccount != nil && *ta.RequireServiceAccount {
			continue // never runs for the node: no credential from it
		}
		for _, m := range p.MatchImages {
			add(m)
		}
	}
	return nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxListedFile+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	if len(data) > maxListedFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxListedFile)
	}
	return data, nil
}
