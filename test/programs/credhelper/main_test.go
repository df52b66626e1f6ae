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

package main

import (
	"testing"

	"github.com/docker/docker-credential-helpers/credentials"
)

func TestHelperGet(t *testing.T) {
	h := helper{creds: map[string]string{"r.io": "robot:pw:with:colons"}}
	user, secret, err := h.Get("r.io")
	if err != nil || user != "robot" || secret != "pw:with:colons" {
		t.Fatalf("Get(r.io) = %q, %q, %v", user, secret, err)
	}
	if _, _, err := h.Get("other.io"); !credentials.IsErrCredentialsNotFound(err) {
		t.Fatalf("Get(other.io) err = %v, want not found", err)
	}
}

func TestHelperFailGivesTheReason(t *testing.T) {
	t.Setenv("CREDHELPER_REASON", "token endpoint said 400")
	_, _, err := helper{mode: "fail"}.Get("r.io")
	if err == nil || err.Error() != "token endpoint said 400" || credentials.IsErrCredentialsNotFound(err) {
		t.Fatalf("fail mode err = %v", err)
	}
}
