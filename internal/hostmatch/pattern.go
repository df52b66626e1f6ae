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

// Package hostmatch parses registry host patterns with the kubelet's
// matchImages rules, matches hosts against them, and folds Docker Hub's
// names into one host.
package hostmatch

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nodecred/nodecred/internal/fielderr"
)

// Pattern is a registry host pattern with the kubelet's matchImages rules
// (https://kubernetes.io/docs/tasks/administer-cluster/kubelet-credential-provider/):
// each dot-separated label of the host is a glob ("*.example.com",
// "*.dkr.ecr.*.amazonaws.com"), a port must match exactly when either side
// has one, and an optional path must be a prefix of the repository path.
// A glob never spans labels: "*.example.com" does not match
// "a.b.example.com" nor "example.com".
//
// Docker Hub's names are one host: a pattern that names one of them
// ("docker.io", "index.docker.io", "registry-1.docker.io", or docker's key
// "https://index.docker.io/v1/") matches all of them, so "docker.io" covers
// registry-1.docker.io, the host containerd contacts. A glob is not a name:
// "*.docker.io" matches only the names it matches label by label.
type Pattern struct {
	text   string
	labels []string
	port   string
	path   string
	hub    bool // names Docker Hub: matches any of its names, without a port
}

// ParsePattern parses a host pattern such as "registry.example.com",
// "*.example.com:5000" or "quay.io/team", and checks all of it, as the
// kubelet documents matchImages: globs only in the host's labels, a port
// that is a number from 1 to 65535, a repository path of lower-case letters,
// digits and separators. An "https://" or "http://" prefix is accepted and
// ignored, as the kubelet does.
//
// Its errors quote the pattern; errors.As finds a *PatternError whose
// Reason does not, for callers whose patterns came from somewhere that
// must not be quoted (a provider's response).
func ParsePattern(s string) (Pattern, error) {
	p, reason := parsePattern(s)
	if reason != "" {
		return Pattern{}, &PatternError{Pattern: s, Reason: reason}
	}
	return p, nil
}

// PatternError is a host pattern that does not parse.
type PatternError struct {
	// Pattern is the text that was given.
	Pattern string
	// Reason says what is wrong without quoting the pattern: "has an
	// empty label".
	Reason string
}

// Error quotes the pattern: a config mistake is shown with the value that
// was written, and a host pattern is never a secret.
func (e *PatternError) Error() string {
	return fmt.Sprintf("host pattern %q %s", e.Pattern, e.Reason)
}

// parsePattern returns the pattern, or the reason it is not one.
func parsePattern(s string) (Pattern, string) {
	rest := s
	scheme := false
	if i := strings.Index(rest, "://"); i >= 0 {
		if sc := rest[:i]; sc != "https" && sc != "http" {
			return Pattern{}, "has a scheme other than https:// or http://"
		}
		rest, scheme = rest[i+3:], true
	}
	hostport, path, _ := strings.Cut(rest, "/")
	host, port, reason := splitPatternHost(hostport)
	if reason != "" {
		return Pattern{}, reason
	}
	if reason := checkPatternPath(path); reason != "" {
		return Pattern{}, reason
	}
	labels := strings.Split(strings.ToLower(host), ".")
	if !strings.Contains(host, ":") { // an IPv6 address was checked whole
		for _, l := range labels {
			if reason := checkPatternLabel(l); reason != "" {
				return Pattern{}, reason
			}
		}
	}
	p := Pattern{text: s, labels: labels, port: port, path: path}
	if port == "" && isDockerHub(strings.Join(labels, ".")) {
		p.hub = true
		if scheme && (path == "v1" || path == "v1/") {
			p.path = "" // docker's key for Docker Hub, "https://index.docker.io/v1/": not a repository path
		}
	}
	return p, ""
}

// splitPatternHost splits a pattern's "host[:port]" and checks the port: a
// number from 1 to 65535 without leading zeros, the form a host's port has
// when containerd contacts it, so that the pattern can match. An IPv6
// address is written in brackets and must parse.
func splitPatternHost(hostport string) (host, port, reason string) {
	if hostport == "" {
		return "", "", "has no host"
	}
	// "[::1]:5000" is an IPv6 address; "[ab].example.com" a glob.
	if end := strings.IndexByte(hostport, ']'); strings.HasPrefix(hostport, "[") && end > 0 && strings.Contains(hostport[:end], ":") {
		host, rest := hostport[1:end], hostport[end+1:]
		if net.ParseIP(host) == nil {
			return "", "", "has a bracketed host that is not an IPv6 address"
		}
		if rest == "" {
			return host, "", ""
		}
		if rest[0] != ':' {
			return "", "", "has text after its IPv6 address"
		}
		port, reason := checkPort(rest[1:])
		return host, port, reason
	}
	host, port, hasPort := strings.Cut(hostport, ":")
	if host == "" {
		return "", "", "has no host"
	}
	if !hasPort {
		return host, "", ""
	}
	port, reason = checkPort(port)
	return host, port, reason
}

func checkPort(port string) (string, string) {
	switch n, err := strconv.Atoi(port); {
	case port == "":
		return "", "has an empty port"
	case err != nil || n < 1 || n > 65535 || port[0] < '1' || port[0] > '9':
		return "", "has a port that is not a number from 1 to 65535"
	}
	return port, ""
}

// checkPatternLabel checks one label of a host pattern: the characters of a
// host name (letters, digits, - and _) and the globs *, ? and [...], a
// class of those characters or ranges of them, negated by a leading ^ or !.
func checkPatternLabel(l string) string {
	if l == "" {
		return "has an empty label"
	}
	for i := 0; i < len(l); i++ {
		switch c := l[i]; {
		case isHostByte(c), c == '*', c == '?':
		case c == '[':
			j := i + 1
			if j < len(l) && (l[j] == '^' || l[j] == '!') {
				j++
			}
			start := j
			for j < len(l) && isHostByte(l[j]) {
				j++
			}
			if j == len(l) || l[j] != ']' || j == start {
				return "has a bad glob"
			}
			i = j
		default:
			return "has a character that is neither part of a host name (letters, digits, - and _) nor a glob (*, ?, [...])"
		}
	}
	if _, err := filepath.Match(l, ""); err != nil {
		return "has a bad glob"
	}
	return ""
}

func isHostByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// checkPatternPath checks a pattern's repository path: lower-case letters,
// digits, ., _ and -, in segments separated by /, with one trailing /
// allowed. Globs are not: the kubelet matches the path as a prefix.
func checkPatternPath(path string) string {
	if path == "" {
		return ""
	}
	for _, seg := range strings.Split(strings.TrimSuffix(path, "/"), "/") {
		if seg == "" {
			return "has an empty path segment"
		}
		for _, r := range seg {
			if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '.' || r == '_' || r == '-') {
				return "has a path character other than a-z, 0-9, ., _, - and / (repository paths are lower case; the path takes no globs)"
			}
		}
	}
	return ""
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.text }

// Match reports whether host (with its port, if any) and the repository path
// (without the host, e.g. "library/pause") match the pattern.
func (p Pattern) Match(host, repoPath string) bool {
	return p.match(splitTarget(host), repoPath)
}

// target is a host split once for matching against many patterns.
type target struct {
	host   string // lower case, without port
	port   string
	labels int
	hub    bool // one of Docker Hub's names, without a port
}

func splitTarget(hostport string) target {
	h, port := splitHostPort(hostport)
	if strings.ContainsFunc(h, func(r rune) bool { return 'A' <= r && r <= 'Z' }) {
		h = strings.ToLower(h)
	}
	return target{host: h, port: port, labels: strings.Count(h, ".") + 1, hub: port == "" && isDockerHub(h)}
}

func (p Pattern) match(t target, repoPath string) bool {
	if p.hub {
		return t.hub && strings.HasPrefix(repoPath, p.path)
	}
	if t.port != p.port || t.labels != len(p.labels) || !strings.HasPrefix(repoPath, p.path) {
		return false
	}
	rest := t.host
	for i, glob := range p.labels {
		label := rest
		if i < len(p.labels)-1 {
			label, rest, _ = strings.Cut(rest, ".")
		}
		if !strings.ContainsAny(glob, `*?[\`) {
			if glob != label {
				return false
			}
			continue
		}
		if ok, _ := filepath.Match(glob, label); !ok {
			return false
		}
	}
	return true
}

// Patterns matches when any of its patterns does. Patterns are indexed by
// the literal labels that end them ("team5.example.com" for
// "*.team5.example.com"), so a lookup costs a few map probes however many
// patterns there are. Patterns naming Docker Hub are kept apart and asked
// only about Docker Hub's names.
type Patterns struct {
	all      []Pattern
	bySuffix map[suffixKey][]int // literal suffix and port -> indexes into all
	unsorted []int               // patterns whose last label is a glob
	hub      []int               // patterns naming Docker Hub
}

// ParsePatterns parses each pattern, naming the first bad one in the error.
func ParsePatterns(ss []string) (Patterns, error) {
	ps := Patterns{all: make([]Pattern, 0, len(ss)), bySuffix: map[suffixKey][]int{}}
	for i, s := range ss {
		p, err := ParsePattern(s)
		if err != nil {
			return Patterns{}, fielderr.New(fmt.Sprintf("[%d]", i), "%w", err)
		}
		ps.all = append(ps.all, p)
		if p.hub {
			ps.hub = append(ps.hub, i)
		} else if suffix, ok := p.literalSuffix(); ok {
			ps.bySuffix[suffix] = append(ps.bySuffix[suffix], i)
		} else {
			ps.unsorted = append(ps.unsorted, i)
		}
	}
	return ps, nil
}

// Len returns the number of patterns.
func (ps Patterns) Len() int { return len(ps.all) }

// Match reports whether any pattern matches host and repoPath.
func (ps Patterns) Match(host, repoPath string) bool {
	t := splitTarget(host)
	if t.hub {
		for _, i := range ps.hub {
			if ps.all[i].match(t, repoPath) {
				return true
			}
		}
	}
	for _, i := range ps.unsorted {
		if ps.all[i].match(t, repoPath) {
			return true
		}
	}
	// Probe every label-boundary suffix of the host: "a.b.c", "b.c", "c".
	for rest := t.host; ; {
		for _, i := range ps.bySuffix[suffixKey{rest, t.port}] {
			if ps.all[i].match(t, repoPath) {
				return true
			}
		}
		_, after, ok := strings.Cut(rest, ".")
		if !ok {
			return false
		}
		rest = after
	}
}

// literalSuffix returns the labels after the pattern's last glob label,
// with the port, or false when the last label itself is a glob.
func (p Pattern) literalSuffix() (suffixKey, bool) {
	first := len(p.labels)
	for first > 0 && !strings.ContainsAny(p.labels[first-1], `*?[\`) {
		first--
	}
	if first == len(p.labels) {
		return suffixKey{}, false
	}
	return suffixKey{strings.Join(p.labels[first:], "."), p.port}, true
}

type suffixKey struct{ host, port string }

// splitHostPort splits "host:port"; a host without a port (including a bare
// IPv6 address in brackets) returns an empty port.
func splitHostPort(hostport string) (host, port string) {
	if !strings.Contains(hostport, ":") {
		return hostport, "" // no port; net.SplitHostPort's error would cost two allocations per lookup
	}
	h, p, err := net.SplitHostPort(hostport)
	if err != nil {
		if len(hostport) > 2 && hostport[0] == '[' && hostport[len(hostport)-1] == ']' && strings.Contains(hostport, ":") {
			return hostport[1 : len(hostport)-1], "" // "[::1]"
		}
		return hostport, ""
	}
	return h, p
}
