package credentials

import (
	"strings"

	"github.com/containerd/containerd/v2/pkg/reference"
)

// RepoPath returns the repository path of Ref without its host, such as
// "library/pause", or "" when Ref does not parse.
func (r Request) RepoPath() string {
	spec, err := reference.Parse(r.Ref)
	if err != nil {
		return ""
	}
	_, path, _ := strings.Cut(spec.Locator, "/")
	return path
}
