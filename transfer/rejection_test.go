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

package transfer

import (
	"errors"
	"fmt"
	"testing"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	remoteerrors "github.com/containerd/containerd/v2/core/remotes/errors"
	"github.com/containerd/errdefs"
)

func TestRefused(t *testing.T) {
	status := func(code int) error {
		return fmt.Errorf("failed to resolve image: %w", remoteerrors.ErrUnexpectedStatus{Status: fmt.Sprint(code), StatusCode: code})
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"token endpoint refused", fmt.Errorf("pull access denied, repository does not exist or may require authorization: %w",
			fmt.Errorf("server message: insufficient_scope: %w", docker.ErrInvalidAuthorization)), true},
		{"registry 401", status(401), true},
		{"registry 403", status(403), true},
		{"registry 404", status(404), false},
		{"registry 500", status(500), false},
		{"not found", fmt.Errorf("r.io/a:1: %w", errdefs.ErrNotFound), false},
		{"network", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), false},
	}
	for _, tt := range tests {
		if got := refused(tt.err); got != tt.want {
			t.Errorf("%s: refused = %v, want %v", tt.name, got, tt.want)
		}
	}
}
