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

	v1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
)

func TestRespond(t *testing.T) {
	env := map[string]string{"PROVIDER_USER": "u", "PROVIDER_PASSWORD": "p", "PROVIDER_CACHE_KEY_TYPE": "Image", "PROVIDER_CACHE_DURATION": "5m"}
	resp := respond(v1.CredentialProviderRequest{Image: "r.io:5000/app:1"}, func(k string) string { return env[k] })
	if resp.Kind != "CredentialProviderResponse" || resp.CacheKeyType != v1.ImagePluginCacheKeyType || resp.CacheDuration.Minutes() != 5 {
		t.Fatalf("response %+v", resp)
	}
	if a, ok := resp.Auth["r.io:5000"]; !ok || a.Username != "u" || a.Password != "p" {
		t.Fatalf("auth %+v, want r.io:5000 -> u", resp.Auth)
	}
}
