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

package hostmatch

import "strings"

// dockerHubAliases are Docker Hub's names: docker and the containers tools
// store its credentials under "https://index.docker.io/v1/" (docker),
// "docker.io" (podman, containers auth.json) or "index.docker.io", and
// containerd contacts registry-1.docker.io. nodecred treats them as one
// host everywhere a host is named: docker config keys, credHelpers keys
// and host patterns.
var dockerHubAliases = map[string]bool{
	"docker.io":            true,
	"index.docker.io":      true,
	"registry-1.docker.io": true,
}

// isDockerHub reports whether host (lower case, without a port) is one of
// Docker Hub's names.
func isDockerHub(host string) bool {
	return strings.HasSuffix(host, "docker.io") && dockerHubAliases[host]
}

// CanonicalHost lower-cases host and folds Docker Hub's names into
// "docker.io". A host with a port is never Docker Hub.
func CanonicalHost(host string) string {
	if strings.ContainsFunc(host, func(r rune) bool { return 'A' <= r && r <= 'Z' }) {
		host = strings.ToLower(host)
	}
	if isDockerHub(host) {
		return "docker.io"
	}
	return host
}
