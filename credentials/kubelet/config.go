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

package kubelet

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	kubeletconfig "k8s.io/kubelet/config/v1"
	"sigs.k8s.io/yaml"

	"github.com/nodecred/nodecred/internal/fielderr"
	"github.com/nodecred/nodecred/internal/filewatch"
	"github.com/nodecred/nodecred/internal/hostmatch"
	"github.com/nodecred/nodecred/internal/jsonerr"
)

// kubeletProvider is a provider entry of a kubelet config and the file it
// came from.
type kubeletProvider struct {
	file  string
	index int // in its file's providers
	kubeletconfig.CredentialProvider
}

// ParseConfig parses a CredentialProviderConfig in YAML or JSON, of
// any version the kubelet accepts (kubelet.config.k8s.io/v1, v1beta1 or
// v1alpha1), and checks it as the kubelet does. It decodes as the kubelet's
// strict codec does: unknown, duplicate and wrongly-cased fields are
// errors. The result is in the v1 types, whose fields are every version's;
// its apiVersion is the file's. Errors name fields, never values: a
// provider's env may hold secrets.
func ParseConfig(data []byte) (*kubeletconfig.CredentialProviderConfig, error) {
	cfg, err := decodeKubeletConfig(data)
	if err != nil {
		return nil, err
	}
	if len(cfg.Providers) == 0 {
		return nil, errors.New("providers: none configured")
	}
	if _, err := addProviders(nil, map[string]string{}, "", cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// ReadConfig reads the kubelet config at path, a file or a
// directory, as the kubelet does (see kubeletConfigFiles), and returns its
// providers merged, in order, checked as one config.
func ReadConfig(path string) (*kubeletconfig.CredentialProviderConfig, error) {
	_, data, err := readKubeletConfig(filewatch.OpenForRead, path, maxConfigFileSize)
	if err != nil {
		return nil, filewatch.PathError(err)
	}
	providers, err := parseKubeletFiles(data)
	if err != nil {
		return nil, err
	}
	cfg := &kubeletconfig.CredentialProviderConfig{}
	for _, p := range providers {
		cfg.Providers = append(cfg.Providers, p.CredentialProvider)
	}
	return cfg, nil
}

// parseKubeletFiles parses the files readKubeletConfig encoded and checks
// them as the kubelet checks a config directory: each file is decoded on
// its own (its apiVersion and kind are its own, and it may list no
// provider), then the providers of all files, merged in file order, are
// validated as one config: at least one provider, and a name used twice,
// in one file or across files, is an error. Errors begin with the file's
// path.
func parseKubeletFiles(data []byte) ([]kubeletProvider, error) {
	var files []kubeletFile
	if err := json.Unmarshal(data, &files); err != nil {
		return nil, fmt.Errorf("internal: config files: %w", err)
	}
	var providers []kubeletProvider
	from := map[string]string{}
	for _, f := range files {
		cfg, err := decodeKubeletConfig(f.Data)
		if err == nil {
			providers, err = addProviders(providers, from, f.Path, cfg)
		}
		if err != nil {
			return nil, fmt.Errorf("%q: %w", f.Path, err)
		}
	}
	if len(providers) == 0 {
		if len(files) == 1 {
			return nil, fmt.Errorf("%q: providers: none configured", files[0].Path)
		}
		return nil, fmt.Errorf("providers: none configured in any of %d files", len(files))
	}
	return providers, nil
}

// addProviders checks the providers of cfg, read from file, as the kubelet
// checks a config's providers, and appends them to providers. from maps
// each name already seen to its file: a name used twice, in one file or
// across files, is an error. Errors do not name file; the caller does.
func addProviders(providers []kubeletProvider, from map[string]string, file string, cfg *kubeletconfig.CredentialProviderConfig) ([]kubeletProvider, error) {
	for i, p := range cfg.Providers {
		field := fmt.Sprintf("providers[%d]", i)
		if prev, dup := from[p.Name]; dup {
			also := ""
			if prev != file {
				also = fmt.Sprintf(" (also in %q)", prev)
			}
			return nil, fmt.Errorf("%s.name: %q is configured twice%s", field, p.Name, also)
		}
		from[p.Name] = file
		if err := validateKubeletProvider(field, p); err != nil {
			return nil, err
		}
		providers = append(providers, kubeletProvider{file: file, index: i, CredentialProvider: p})
	}
	return providers, nil
}

// decodeKubeletConfig decodes one CredentialProviderConfig file and checks
// its apiVersion and kind; its providers are checked by
// validateKubeletProvider.
func decodeKubeletConfig(data []byte) (*kubeletconfig.CredentialProviderConfig, error) {
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, invalidYAML(err)
	}
	var loose struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Providers  []struct {
			TokenAttributes json.RawMessage `json:"tokenAttributes"`
		} `json:"providers"`
	}
	if err := json.Unmarshal(j, &loose); err != nil {
		return nil, fmt.Errorf("invalid CredentialProviderConfig: %w", jsonerr.Scrub(err))
	}
	if !slices.Contains(kubeletConfigVersions, loose.APIVersion) || loose.Kind != kubeletConfigKind {
		return nil, fmt.Errorf("apiVersion %q, kind %q: want %s %s", loose.APIVersion, loose.Kind, wantVersions(kubeletConfigVersions), kubeletConfigKind)
	}
	// Only v1 has tokenAttributes; the kubelet's strict decoding of the
	// older versions refuses it as an unknown field.
	if loose.APIVersion != kubeletconfig.SchemeGroupVersion.String() {
		for i, p := range loose.Providers {
			if len(p.TokenAttributes) > 0 {
				return nil, fmt.Errorf("unknown field \"providers[%d].tokenAttributes\" (only %s has it)", i, kubeletconfig.SchemeGroupVersion)
			}
		}
	}
	var cfg kubeletconfig.CredentialProviderConfig
	if err := decodeStrict(j, &cfg); err != nil {
		return nil, fmt.Errorf("invalid CredentialProviderConfig: %w", err)
	}
	return &cfg, nil
}

// validateKubeletProvider checks one provider entry as the kubelet's
// validateCredentialProviderConfig does, and also that its matchImages
// parse as nodecred's host patterns.
func validateKubeletProvider(field string, p kubeletconfig.CredentialProvider) error {
	switch {
	case p.Name == "" || strings.ContainsAny(p.Name, `/\ `) || p.Name == "." || p.Name == "..":
		return fmt.Errorf("%s.name: %q is not a file name in bin_dir", field, p.Name)
	case len(p.MatchImages) == 0:
		return fmt.Errorf("%s.matchImages: required", field)
	case p.DefaultCacheDuration == nil || p.DefaultCacheDuration.Duration < 0:
		return fmt.Errorf("%s.defaultCacheDuration: required and not negative", field)
	case p.APIVersion == "":
		return fmt.Errorf("%s.apiVersion: required (%s)", field, wantVersions(providerAPIVersions))
	case !slices.Contains(providerAPIVersions, p.APIVersion):
		return fmt.Errorf("%s.apiVersion: %q is not supported (want %s)", field, p.APIVersion, wantVersions(providerAPIVersions))
	}
	if _, err := hostmatch.ParsePatterns(p.MatchImages); err != nil {
		return fielderr.In(field+".matchImages", err)
	}
	if p.TokenAttributes != nil {
		if err := validateTokenAttributes(field+".tokenAttributes", p.APIVersion, p.TokenAttributes); err != nil {
			return err
		}
	}
	return nil
}
