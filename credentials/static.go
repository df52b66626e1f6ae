package credentials

import (
	"context"
	"errors"
	"strings"

	"github.com/nodecred/nodecred/internal/filewatch"
	"github.com/nodecred/nodecred/internal/hostmatch"
)

// StaticSource serves one username and password for the hosts it matches.
// The password comes from a file, re-read when it changes, or from config.
type StaticSource struct {
	hosts    hostmatch.Patterns
	username string
	password Secret
	file     *filewatch.File[Secret]
}

var _ Source = (*StaticSource)(nil)

// NewStaticSource returns a source with a fixed password.
func NewStaticSource(hosts hostmatch.Patterns, username string, password Secret) *StaticSource {
	return &StaticSource{hosts: hosts, username: username, password: password}
}

// NewStaticFileSource returns a source whose password is the contents of
// passwordFile, without a trailing newline.
func NewStaticFileSource(hosts hostmatch.Patterns, username, passwordFile string) *StaticSource {
	return &StaticSource{hosts: hosts, username: username, file: filewatch.New(passwordFile, maxPasswordFileSize, true, parsePasswordFile)}
}

// Get answers for the hosts the source is configured for, and no others.
func (s *StaticSource) Get(ctx context.Context, req Request) (Credential, error) {
	if !s.hosts.Match(req.Host, req.RepoPath()) {
		return Credential{}, nil
	}
	password := s.password
	if s.file != nil {
		p, ok := s.file.Load(ctx)
		if !ok {
			return Credential{}, nil
		}
		password = p
	}
	return Credential{Username: s.username, Password: password}, nil
}

// maxPasswordFileSize bounds a password file (password_file): a password,
// even a Google service account key, is a few KB. See TestFileHeapBound
// and docs/config.md.
const maxPasswordFileSize = 64 << 10

func parsePasswordFile(data []byte) (Secret, error) {
	p := strings.TrimRight(string(data), "\r\n")
	if p == "" {
		return "", errors.New("password file is empty")
	}
	return Secret(p), nil
}
