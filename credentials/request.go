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

package credentials

import "strings"

// RepoPath returns the repository path of Ref without its host, such as
// "library/pause", or "" when Ref has none. It runs on every lookup, so it
// cuts the string rather than parse and validate the reference: Ref comes
// from containerd, which has parsed it already.
func (r Request) RepoPath() string {
	ref, _, _ := strings.Cut(r.Ref, "@") // drop a digest
	_, path, ok := strings.Cut(ref, "/")
	if !ok {
		return ""
	}
	if i := strings.LastIndexByte(path, ':'); i >= 0 && !strings.Contains(path[i:], "/") {
		path = path[:i] // drop a tag
	}
	return path
}

// ImageAt returns Ref with its registry host replaced by host: the image
// as the contacted host (a mirror, say) serves it; "" when Ref has no host.
func (r Request) ImageAt(host string) string {
	_, rest, ok := strings.Cut(r.Ref, "/")
	if !ok {
		return ""
	}
	return host + "/" + rest
}
