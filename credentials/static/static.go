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

// Package static serves one username and password for the hosts a config
// names: the password from a file, re-read when it changes, or from the
// config itself.
package static

import (
	"context"
	"errors"
	"strings"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/filewatch"
	"github.com/nodecred/nodecred/internal/hostmatch"
)

// Source serves one username and password for the hosts it matches.
// The password comes from a file, re-read when it changes, or from config.
type Source struct {
	hosts    hostmatch.Patterns
	username string
	password credentials.Secret
	file     *filewatch.File[credentials.Secret]
}

var _ credentials.Source = (*Source)(nil)

// New returns a source with a fixed password.
func New(hosts hostmatch.Patterns, username string, password credentials.Secret) *Source {
	return &Source{hosts: hosts, username: username, password: password}
}

// NewFile returns a source whose password is the contents of
// passwordFile, without its trailing CR and LF characters.
func NewFile(hosts hostmatch.Patterns, username, passwordFile string) *Source {
	return &Source{hosts: hosts, username: username, file: filewatch.New(passwordFile, MaxPasswordFileSize, true, parsePasswordFile)}
}

// Get answers for the hosts the source is configured for, and no others.
func (s *Source) Get(ctx context.Context, req credentials.Request) (credentials.Credential, error) {
	if !s.hosts.Match(req.Host, req.RepoPath()) {
		return credentials.Credential{}, nil
	}
	password := s.password
	if s.file != nil {
		p, ok := s.file.Load(ctx)
		if !ok {
			return credentials.Credential{}, nil
		}
		password = p
	}
	return credentials.Credential{Username: s.username, Password: password}, nil
}

// MaxPasswordFileSize bounds a password file (password_file): a larger
// file is not read. A password, even a Google service account key, is a
// few KB. See TestFileHeapBound and docs/config.md.
const MaxPasswordFileSize = 64 << 10

func parsePasswordFile(data []byte) (credentials.Secret, error) {
	p := strings.TrimRight(string(data), "\r\n")
	if p == "" {
		return "", errors.New("password file is empty")
	}
	return credentials.Secret(p), nil
}
