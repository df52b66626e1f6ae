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

package containerdcompat

import (
	"net/http"
	"reflect"

	"github.com/containerd/containerd/v2/core/transfer/registry"
)

var headerType = reflect.TypeFor[http.Header]()

// Headers returns the headers r was built with (registry.WithHeaders),
// every key as given and every value, and whether it could read them.
//
// This is the one place nodecred reads an unexported field, read-only and
// without unsafe. The public way, OCIRegistry.MarshalAny, flattens headers
// with r.headers.Get(k) (containerd core/transfer/registry/registry.go,
// 2.1 to 2.4): a key not in canonical form, such as a lower-case key from
// CRI's registry.headers, comes back empty, and a header with several values
// keeps only the first. CRI passes its registry.headers table to
// WithHeaders as is. If a containerd release renames the field, the
// caller falls back to MarshalAny's headers; TestContractOCIRegistryHeaders
// fails first.
func Headers(r *registry.OCIRegistry) (http.Header, bool) {
	v := reflect.ValueOf(r).Elem().FieldByName("headers")
	if !v.IsValid() || v.Type() != headerType {
		return nil, false
	}
	if v.IsNil() {
		return nil, true
	}
	h := make(http.Header, v.Len())
	for it := v.MapRange(); it.Next(); {
		vals := it.Value()
		s := make([]string, vals.Len())
		for i := range s {
			s[i] = vals.Index(i).String()
		}
		h[it.Key().String()] = s
	}
	return h, true
}
