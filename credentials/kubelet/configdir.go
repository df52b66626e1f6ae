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
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/nodecred/nodecred/internal/filewatch"
)

// maxKubeletConfigFiles bounds the files a config directory may hold, so
// that the heap a read takes stays bounded (each file is at most
// maxConfigFileSize). The kubelet has no bound; a node has a few.
const maxKubeletConfigFiles = 64

// kubeletFile is one config file and its contents.
type kubeletFile struct {
	Path string `json:"path"`
	Data []byte `json:"data"`
}

// kubeletConfigFiles lists the files the kubelet (1.34 and later) reads for
// a --image-credential-provider-config that names a directory
// (readCredentialProviderConfig in kubernetes
// pkg/credentialprovider/plugin/config.go): every entry that is not a
// directory, symlinks included, whose name ends in exactly ".json", ".yaml"
// or ".yml", in lexical order of their paths. Subdirectories are not
// read. A directory without such a file is an error.
func kubeletConfigFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, filewatch.PathError(err)
	}
	var files []string
	for _, e := range entries {
		if isKubeletConfigName(e) {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(files)
	switch {
	case len(files) == 0:
		return nil, fmt.Errorf("no configuration files (*.json, *.yaml, *.yml) in the directory")
	case len(files) > maxKubeletConfigFiles:
		return nil, fmt.Errorf("%d configuration files in the directory, more than the limit of %d", len(files), maxKubeletConfigFiles)
	}
	return files, nil
}

func isKubeletConfigName(e fs.DirEntry) bool {
	switch filepath.Ext(e.Name()) {
	case ".json", ".yaml", ".yml":
		return !e.IsDir()
	}
	return false
}

// readKubeletConfig reads the kubelet config at path, a file or a
// directory of files, and returns its stamp and the files, encoded for
// parseKubeletFiles. A directory's stamp covers the directory and each
// file it lists, so that a file added, removed, renamed or written in place
// changes it; it is taken before the files are read, so a change during the
// read is read again at the next lookup.
func readKubeletConfig(open func(string) (*os.File, error), path string, limit int64) (filewatch.Stamp, []byte, error) {
	info, err := filewatch.Stat(path)
	if err != nil {
		return filewatch.Stamp{}, nil, err
	}
	if !info.IsDir() {
		stamp, data, err := filewatch.ReadRegular(open, path, limit)
		if err != nil {
			return filewatch.Stamp{}, nil, err
		}
		enc, err := json.Marshal([]kubeletFile{{Path: path, Data: data}})
		return stamp, enc, err
	}
	stamp := filewatch.StampDir(info, path, isKubeletConfigName)
	names, err := kubeletConfigFiles(path)
	if err != nil {
		return filewatch.Stamp{}, nil, &filewatch.NotReadError{Reason: err.Error()}
	}
	files := make([]kubeletFile, 0, len(names))
	for _, name := range names {
		_, data, err := filewatch.ReadRegular(open, name, limit)
		if err != nil {
			// Not a missing directory: one file of it, which the kubelet
			// cannot read either.
			return filewatch.Stamp{}, nil, &filewatch.NotReadError{Reason: fmt.Sprintf("%q: %v", name, filewatch.PathError(err))}
		}
		files = append(files, kubeletFile{Path: name, Data: data})
	}
	enc, err := json.Marshal(files)
	return stamp, enc, err
}
