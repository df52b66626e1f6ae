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

package pull

import (
	"bytes"
	"testing"

	"github.com/containerd/containerd/v2/core/transfer"
)

func TestProgressLinesWithoutTerminal(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out)
	for _, u := range []transfer.Progress{
		{Event: "downloading", Name: "layer-1", Progress: 10, Total: 100},
		{Event: "downloading", Name: "layer-1", Progress: 50, Total: 100},
		{Event: "complete", Name: "layer-1", Progress: 100, Total: 100},
	} {
		p.update(u)
	}
	p.done()
	if got := out.String(); got != "downloading layer-1\ncomplete layer-1\n" {
		t.Fatalf("progress output %q", got)
	}
}
