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
	"strings"
	"testing"
	"time"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/cripull"
	"github.com/nodecred/nodecred/internal/testprog"
	"github.com/nodecred/nodecred/transfer"
)

func criSettings(edit func(*cripull.Settings)) cripull.Settings {
	s := cripull.Settings{DisableSnapshotAnnotations: true, MaxConcurrentDownloads: 3,
		PinnedImages: map[string]string{"sandbox": "r.example/private/pause:3.10"}}
	edit(&s)
	return s
}

func TestCRIStartedLocal(t *testing.T) {
	before := criSettings(func(s *cripull.Settings) { s.DiscardUnpackedLayers = true })
	after := before
	after.UseLocalImagePull = true // containerd's fallback
	for _, require := range []bool{false, true} {
		ctx, buf := testprog.CapturedLog(t)
		nc := &instance{source: credentials.Chain{}, exports: map[string]string{}, requireCRITransfer: require}
		err := nc.criStarted(ctx, before, after, nil)
		if require {
			if !errors.Is(err, errCRILocal) || !strings.Contains(err.Error(), "require_cri_transfer_pull") || !strings.Contains(err.Error(), "discard_unpacked_layers = true") {
				t.Errorf("require_cri_transfer_pull: err = %v", err)
			}
		} else if err != nil {
			t.Errorf("err = %v", err)
		}
		if nc.exports["cri_pull_mode"] != "local" || nc.exports["cri_pull_setting"] != "discard_unpacked_layers = true" {
			t.Errorf("exports = %v", nc.exports)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != 1 || !strings.Contains(lines[0], "level=error") || !strings.Contains(lines[0], "discard_unpacked_layers = true") ||
			!strings.Contains(lines[0], "r.example/private/pause:3.10") || !strings.Contains(lines[0], "To fix") ||
			!strings.Contains(lines[0], `msg="CRI pulls images without the transfer service"`) || !strings.Contains(lines[0], "plugin=nodecred") {
			t.Errorf("want one error line naming the setting, the sandbox image and the fix, got:\n%s", buf)
		}
	}
}

func TestCRIStartedUnknown(t *testing.T) {
	ctx, buf := testprog.CapturedLog(t)
	nc := &instance{exports: map[string]string{}, requireCRITransfer: true}
	err := nc.criStarted(ctx, cripull.Settings{}, cripull.Settings{}, errors.New(`CRI's image config has no key "discard_unpacked_layers"`))
	if err == nil || !strings.Contains(err.Error(), "unknown") {
		t.Errorf("err = %v, want a failure: the mode cannot be read and the transfer service is required", err)
	}
	if nc.exports["cri_pull_mode"] != "unknown" || !strings.Contains(buf.String(), "level=error") {
		t.Errorf("exports %v, log %s", nc.exports, buf)
	}
}

// In transfer mode the source is asked, in the background, for the sandbox
// image's host in CRI's namespace; a namespace list without k8s.io asks
// nothing.
func TestCRIStartedTransferWarms(t *testing.T) {
	asked := make(chan credentials.Request, 4)
	src := sourceFunc(func(_ context.Context, req credentials.Request) (credentials.Credential, error) {
		asked <- req
		return credentials.Credential{}, nil
	})
	s := criSettings(func(*cripull.Settings) {})
	ctx, buf := testprog.CapturedLog(t)
	nc := &instance{source: src, exports: map[string]string{}, requireCRITransfer: true}
	if err := nc.criStarted(ctx, s, s, nil); err != nil {
		t.Fatal(err)
	}
	if nc.exports["cri_pull_mode"] != "transfer" || nc.exports["cri_pull_setting"] != "" || strings.Contains(buf.String(), "level=error") {
		t.Errorf("exports %v, log %s", nc.exports, buf)
	}
	select {
	case req := <-asked:
		if req.Host != "r.example" || req.Ref != "r.example/private/pause:3.10" || req.Namespace != "k8s.io" {
			t.Errorf("asked %+v", req)
		}
	case <-time.After(time.Minute):
		t.Fatal("the source was not asked for the sandbox image's host")
	}

	nc = &instance{source: src, exports: map[string]string{}, options: transfer.Options{Namespaces: []string{"default"}}}
	ctx, _ = testprog.CapturedLog(t)
	if err := nc.criStarted(ctx, s, s, nil); err != nil {
		t.Fatal(err)
	}
	// warm runs in a goroutine only when it may ask; none was started.
	select {
	case req := <-asked:
		t.Errorf("asked %+v for a namespace nodecred may not serve", req)
	default:
	}
}
