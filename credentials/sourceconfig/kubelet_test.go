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

package sourceconfig

import (
	"fmt"
	"path/filepath"
	"testing"
)

func TestBuildKubeletSource(t *testing.T) {
	binDir, config := kubeletSetup(t, "provider0")
	writeConfig(t, config, versionedConfig("kubelet.config.k8s.io/v1beta1", "credentialprovider.kubelet.k8s.io/v1", map[string]string{"PROVIDER_USER": "u", "PROVIDER_PASSWORD": "p"}, "provider0", "ecr-credential-provider"))
	_, err := Build([]Config{{Type: "kubelet", Config: config, BinDir: binDir}})
	want := fmt.Sprintf(`sources[0].config: %q: providers[1] "ecr-credential-provider": %s: no such file or directory`, config, filepath.Join(binDir, "ecr-credential-provider"))
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	_, err = Build([]Config{{Type: "kubelet", Config: config, BinDir: filepath.Join(binDir, "x")}})
	if want := fmt.Sprintf(`sources[0].bin_dir: %q: no such file or directory`, filepath.Join(binDir, "x")); err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}

	writeConfig(t, config, versionedConfig("kubelet.config.k8s.io/v1beta1", "credentialprovider.kubelet.k8s.io/v1", map[string]string{"PROVIDER_USER": "u", "PROVIDER_PASSWORD": "p"}, "provider0"))
	chain, err := Build([]Config{{Type: "kubelet", Config: config, BinDir: binDir}})
	if err != nil {
		t.Fatal(err)
	}
	if chain[0].Name != "kubelet:"+config {
		t.Fatalf("name %q", chain[0].Name)
	}
}
