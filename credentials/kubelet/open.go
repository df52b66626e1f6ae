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
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/fielderr"
	"github.com/nodecred/nodecred/internal/filewatch"
)

// Open checks a kubelet source as the kubelet checks its
// credential providers when it starts (RegisterCredentialProviderPlugins in
// kubernetes pkg/credentialprovider/plugin): binDir is a directory, the
// config (a file, or a directory of files as kubelet 1.34 and later read
// it, see kubeletConfigFiles) parses and validates, and every provider's
// executable is binDir/NAME, an executable file. The source starts with the config it
// checked, so that an edit made before the first pull is a change to it.
//
// Errors name the field, the file and the provider:
//
//	bin_dir: "/opt/cp": no such file or directory
//	config: "/etc/kubernetes/cp.yaml": providers[0].matchImages: required
//	config: "/etc/kubernetes/cp.yaml": providers[1] "ecr-credential-provider": /opt/cp/ecr-credential-provider: no such file or directory
//	config: "/etc/kubernetes/cp.d/20-own.yaml": providers[0].name: "ecr" is configured twice (also in "/etc/kubernetes/cp.d/10-eks.yaml")
//
// After startup the config is re-read when it changes, and a change that
// does not parse or validate keeps the last good config with a warning, as
// for every file nodecred reads. The kubelet never re-reads it. A re-read
// does not look for the executables: an executable that is missing then
// fails that provider's runs, logged, until it is installed, so that a
// config edited before its provider is installed still takes effect, and a
// provider removed after startup fails the same way, as in the kubelet.
func Open(configPath, binDir string, timeout time.Duration, opts ...credentials.Option) (*Source, error) {
	if err := checkDir(binDir); err != nil {
		return nil, fielderr.New("bin_dir", "%q: %w", binDir, err)
	}
	stamp, data, err := readKubeletConfig(filewatch.OpenForRead, configPath, maxConfigFileSize)
	if err != nil {
		return nil, fielderr.New("config", "%q: %w", configPath, filewatch.PathError(err))
	}
	entries, err := parseKubeletFiles(data)
	if err != nil {
		return nil, fielderr.In("config", err) // err names the file
	}
	for _, p := range entries {
		if err := checkExecutable(filepath.Join(binDir, p.Name)); err != nil {
			return nil, fielderr.New("config", "%q: providers[%d] %q: %w", p.file, p.index, p.Name, err)
		}
	}
	s := newSource(configPath, binDir, timeout, opts...)
	// What was checked is what the source starts with; a change since is
	// read at the first lookup.
	if err := s.file.Prime(stamp, data); err != nil {
		return nil, fielderr.In("config", err)
	}
	return s, nil
}

// checkDir reports why dir is not a directory.
func checkDir(dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return filewatch.PathError(err)
	}
	if !info.IsDir() {
		return errors.New("not a directory")
	}
	return nil
}

// checkExecutable reports why path is not an executable file, naming it:
// what the kubelet's exec.LookPath(filepath.Join(binDir, name)) checks.
func checkExecutable(path string) error {
	info, err := os.Stat(path)
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", path, filewatch.PathError(err))
	case info.IsDir():
		return fmt.Errorf("%s: is a directory", path)
	case !info.Mode().IsRegular():
		return fmt.Errorf("%s: not a regular file", path)
	case info.Mode().Perm()&0o111 == 0:
		return fmt.Errorf("%s: not executable (mode %s)", path, info.Mode().Perm())
	}
	return nil
}
