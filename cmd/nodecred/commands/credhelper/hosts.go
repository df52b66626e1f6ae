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
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/nodecred/nodecred/internal/hostmatch"
)

// contactedHost turns a protocol server URL ("https://index.docker.io/v1/",
// "registry.example.com", "https://registry.example.com:5000/v2/") into
// the host containerd would contact and ask the node source about: the
// host as docker's ConvertToHostname takes it (scheme and path dropped),
// lower-cased, with Docker Hub's names as registry-1.docker.io. A server
// URL that names no host, or a glob, is refused.
func contactedHost(serverURL string) (string, error) {
	host := serverURL
	if strings.Contains(host, "://") {
		u, err := url.Parse(host)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("server URL %q names no registry host", serverURL)
		}
		host = u.Host
	}
	host, _, _ = strings.Cut(host, "/")
	host = strings.ToLower(host)
	if !validHost(host) {
		return "", fmt.Errorf("server URL %q names no registry host", serverURL)
	}
	switch host {
	case "docker.io", "index.docker.io", dockerHubHost:
		return dockerHubHost, nil
	}
	return host, nil
}

// validHost reports whether host is "name[:port]" or "[ipv6][:port]", with
// a name of letters, digits, '.', '-' and '_'.
func validHost(host string) bool {
	name, port := host, ""
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 || net.ParseIP(host[1:end]) == nil {
			return false
		}
		rest := host[end+1:]
		if rest != "" && (rest[0] != ':' || len(rest) == 1) {
			return false
		}
		if rest != "" {
			port = rest[1:]
		}
		name = "ip"
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		name, port = host[:i], host[i+1:]
		if port == "" {
			return false
		}
	}
	for _, r := range port {
		if r < '0' || r > '9' {
			return false
		}
	}
	if name == "" || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
		return false
	}
	for _, r := range name {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// serverKey is the server URL list gives for a contacted host: docker's
// key for Docker Hub, the host itself for any other.
func serverKey(host string) string {
	if host == dockerHubHost {
		return dockerHubKey
	}
	return host
}

// patternHost returns the contacted host a host pattern names literally:
// none for a glob or a repository path. Docker's key for Docker Hub names
// Docker Hub.
func patternHost(pattern string) (string, bool) {
	if _, err := hostmatch.ParsePattern(pattern); err != nil {
		return "", false
	}
	rest := pattern
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	host, path, _ := strings.Cut(rest, "/")
	h, err := contactedHost(host) // refuses globs: they are not host names
	if err != nil {
		return "", false
	}
	if path != "" && !(h == dockerHubHost && strings.Trim(path, "/") == "v1") {
		return "", false
	}
	return h, true
}

// authKeyHost returns the contacted host of a docker config key: a URL
// key's host, or a bare key without a path.
func authKeyHost(key string) (string, bool) {
	if !strings.Contains(key, "://") && strings.Contains(strings.TrimSuffix(key, "/"), "/") {
		return "", false // scoped to a repository path
	}
	h, err := contactedHost(key)
	return h, err == nil
}

// dockerConfigHosts calls add with each auths and credHelpers key of the
// docker config at path. Only the keys are decoded; errors never quote
