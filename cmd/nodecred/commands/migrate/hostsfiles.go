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

package migrate

import (
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/containerd/containerd/v2/core/remotes/docker"

	"github.com/nodecred/nodecred/nodeconfig"
)

// hostsFile is one hosts.toml that migrate writes.
type hostsFile struct {
	// Host is the registry host the file configures; "*" for _default.
	Host string
	// Dir is its directory under the hosts directory, named as containerd
	// looks it up (host:port becomes host_port_; "*" becomes _default).
	Dir string
	// Data is the file, in containerd's hosts.toml format.
	Data []byte
}

// hostsFiles translates CRI's deprecated registry.mirrors and
// registry.configs.*.tls into hosts.toml files that give each host the
// endpoints CRI's local pull mode gave it (internal/cri/server/images
// registryHosts), in the same order, each with the TLS settings containerd
// 1.7 gave that endpoint's host. A host's file lists its mirrors as
// [host."…"] tables and the last endpoint as its server; the "*" mirrors
// become _default/hosts.toml, which containerd reads for every host without
// a directory of its own.
func hostsFiles(cri nodeconfig.CRIImages) ([]hostsFile, error) {
	hosts := map[string]bool{}
	for h := range cri.Mirrors {
		if err := checkHost("registry.mirrors", h); err != nil {
			return nil, err
		}
		hosts[h] = true
	}
	for h, rc := range cri.Configs {
		if rc.TLS != nil {
			if err := checkHost("registry.configs", h); err != nil {
				return nil, err
			}
			if err := checkTLS(h, rc.TLS); err != nil {
				return nil, err
			}
			hosts[h] = true
		}
	}
	names := make([]string, 0, len(hosts))
	for h := range hosts {
		names = append(names, h)
	}
	sort.Strings(names)
	var files []hostsFile
	for _, h := range names {
		eps, err := criEndpoints(cri.Mirrors, h)
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		if h == "*" {
			if len(eps) == 0 {
				continue
			}
			b.WriteString("# registry.mirrors.\"*\": tried in this order before each registry without a directory of its own\n")
		} else {
			last := eps[len(eps)-1]
			fmt.Fprintf(&b, "server = %s\n", tomlString(last.String()))
			writeHostKeys(&b, "", last, cri.Configs)
			eps = eps[:len(eps)-1]
		}
		for _, e := range eps {
			fmt.Fprintf(&b, "\n[host.%s]\n", tomlString(e.String()))
			b.WriteString("  capabilities = [\"pull\", \"resolve\"]\n")
			writeHostKeys(&b, "  ", e, cri.Configs)
		}
		dir := hostDirectory(h)
		if h == "*" {
			dir = "_default"
		}
		files = append(files, hostsFile{Host: h, Dir: dir, Data: []byte(b.String())})
	}
	return files, nil
}

// criEndpoints returns the endpoints CRI's local pull mode tries for host,
// in order: registry.mirrors."host" (else registry.mirrors."*"), each with
// the default scheme added, then the host's own default endpoint unless a
// mirror already is that host ("*" gets no default: containerd adds each
// host's own). As internal/cri/server/images registryEndpoints.
func criEndpoints(mirrors map[string][]string, host string) ([]*url.URL, error) {
	field := fmt.Sprintf("registry.mirrors.%q.endpoint", host)
	raw, ok := mirrors[host]
	if !ok {
		raw, field = mirrors["*"], `registry.mirrors."*".endpoint`
	}
	var eps []*url.URL
	hasHost := false
	for i, e := range raw {
		if !strings.Contains(e, "://") {
			u, err := url.Parse("dummy://" + e)
			if err != nil {
				return nil, fmt.Errorf("%s[%d] %q: %w", field, i, e, err)
			}
			e = defaultScheme(u.Host) + "://" + e
		}
		u, err := url.Parse(e)
		if err != nil {
			return nil, fmt.Errorf("%s[%d] %q: %w", field, i, e, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%s[%d] %q: not an http or https URL with a host", field, i, e)
		}
		hasHost = hasHost || u.Host == host
		eps = append(eps, u)
	}
	if host == "*" || hasHost {
		return eps, nil
	}
	def, err := docker.DefaultHost(host)
	if err != nil {
		return nil, fmt.Errorf("registry host %q: %w", host, err)
	}
	return append(eps, &url.URL{Scheme: defaultScheme(def), Host: def}), nil
}

// defaultScheme is CRI's scheme for an endpoint written without one.
func defaultScheme(host string) string {
	if docker.IsLocalhost(host) {
		return "http"
	}
	return "https"
}

// writeHostKeys writes the keys of one endpoint: override_path where it
// has a path that does not end in /v2 (containerd would append /v2; CRI used the path
// as written), and the TLS settings of its host for https. An http endpoint
// gets none: containerd tries https first on an http host that has TLS
// settings, which CRI did not.
func writeHostKeys(b *strings.Builder, indent string, u *url.URL, configs map[string]nodeconfig.RegistryConfig) {
	if u.Path != "" && !strings.HasSuffix(path.Clean(u.Path), "/v2") {
		fmt.Fprintf(b, "%soverride_path = true\n", indent)
	}
	t := configs[u.Host].TLS
	if t == nil || u.Scheme != "https" {
		return
	}
	if t.CAFile != "" {
		fmt.Fprintf(b, "%sca = %s\n", indent, tomlString(t.CAFile))
	}
	if t.CertFile != "" {
		fmt.Fprintf(b, "%sclient = [[%s, %s]]\n", indent, tomlString(t.CertFile), tomlString(t.KeyFile))
	}
	if t.InsecureSkipVerify {
		fmt.Fprintf(b, "%sskip_verify = true\n", indent)
	}
}

// checkHost refuses a key that is not a registry host ("*" is one for
// registry.mirrors): it names a directory migrate writes.
func checkHost(table, host string) error {
	if host == "*" && table == "registry.mirrors" {
		return nil
	}
	u, err := url.Parse("dummy://" + host)
	if err != nil || u.Host != host || host == "" || strings.ContainsAny(host, `/\`) || strings.HasPrefix(host, ".") {
		return fmt.Errorf("%s key %q: not a registry host (host or host:port)", table, host)
	}
	return nil
}

// checkTLS refuses what containerd 1.7 refused (a certificate without its
// key or a key without its certificate), relative paths (containerd 1.7 read
// them from its working directory, hosts.toml from the host's directory),
// and values a TOML string cannot hold.
func checkTLS(host string, t *nodeconfig.RegistryTLS) error {
	field := fmt.Sprintf("registry.configs.%q.tls", host)
	if (t.CertFile == "") != (t.KeyFile == "") {
		return fmt.Errorf("%s: cert_file %q and key_file %q: set both or neither", field, t.CertFile, t.KeyFile)
	}
	for _, f := range []struct{ key, value string }{{"ca_file", t.CAFile}, {"cert_file", t.CertFile}, {"key_file", t.KeyFile}} {
		if f.value == "" {
			continue
		}
		if !filepath.IsAbs(f.value) {
			return fmt.Errorf("%s.%s %q: not an absolute path", field, f.key, f.value)
		}
		if !printable(f.value) {
			return fmt.Errorf("%s.%s %q: holds characters hosts.toml cannot", field, f.key, f.value)
		}
	}
	return nil
}

// hostDirectory is containerd's directory name for a host: ":port"
// becomes "_port_" (core/remotes/docker/config).
func hostDirectory(host string) string {
	if i := strings.LastIndex(host, ":"); i > 0 {
		return host[:i] + "_" + host[i+1:] + "_"
	}
	return host
}

// tomlString quotes s as a TOML basic string. Callers pass only printable
// text, for which Go's quoting is valid TOML.
func tomlString(s string) string { return strconv.Quote(s) }

func printable(s string) bool {
	return utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0
}
