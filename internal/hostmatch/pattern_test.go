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

package hostmatch

import (
	"errors"
	"fmt"
	"net"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/nodecred/nodecred/internal/fielderr"
)

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pattern, host, path string
		want                bool
	}{
		{"registry.example.com", "registry.example.com", "app", true},
		{"registry.example.com", "REGISTRY.example.com", "app", true},
		{"registry.example.com", "other.example.com", "app", false},
		{"registry.example.com", "registry.example.com:5000", "app", false},
		{"registry.example.com:5000", "registry.example.com:5000", "app", true},
		{"registry.example.com:5000", "registry.example.com:5001", "app", false},
		{"registry.example.com:5000", "registry.example.com", "app", false},
		{"*.example.com", "registry.example.com", "app", true},
		{"*.example.com", "example.com", "app", false},
		{"*.example.com", "a.b.example.com", "app", false},
		{"*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com", "app", true},
		{"*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com.cn", "app", false},
		{"*-docker.pkg.dev", "europe-docker.pkg.dev", "proj/repo/img", true},
		{"quay.io/team", "quay.io", "team/app", true},
		{"quay.io/team", "quay.io", "other/app", false},
		{"quay.io/team", "quay.io", "", false},
		{"https://registry.example.com", "registry.example.com", "app", true},
		{"127.0.0.1:5000", "127.0.0.1:5000", "app", true},
		{"127.0.0.1", "127.0.0.1:5000", "app", false},
		{"reg?stry.example.com", "registry.example.com", "app", true},
		{"[ab].example.com", "a.example.com", "x", true},
		{"[ab].example.com", "c.example.com", "x", false},
	}
	for _, tt := range tests {
		p, err := ParsePattern(tt.pattern)
		if err != nil {
			t.Fatalf("ParsePattern(%q): %v", tt.pattern, err)
		}
		if got := p.Match(tt.host, tt.path); got != tt.want {
			t.Errorf("%q.Match(%q, %q) = %v, want %v", tt.pattern, tt.host, tt.path, got, tt.want)
		}
	}
}

func TestDockerHubPatternsMatchEveryHubName(t *testing.T) {
	hubNames := []string{"docker.io", "index.docker.io", "registry-1.docker.io", "Registry-1.Docker.IO"}
	tests := []struct {
		pattern string
		path    string // repository path asked about
		want    bool   // for every one of hubNames
	}{
		{"docker.io", "library/pause", true},
		{"index.docker.io", "library/pause", true},
		{"registry-1.docker.io", "library/pause", true},
		{"DOCKER.IO", "library/pause", true},
		{"https://index.docker.io/v1/", "library/pause", true}, // docker's own key
		{"https://index.docker.io/v1", "library/pause", true},
		{"https://docker.io", "team/app", true},
		{"docker.io/team", "team/app", true},
		{"docker.io/team", "other/app", false},
		{"https://index.docker.io/v1/team", "team/app", false}, // a path after /v1/ is a path "v1/team"
		{"index.docker.io/v1/", "library/pause", false},        // without a scheme, "v1/" is a path
		{"docker.io:443", "library/pause", false},              // a port: not Docker Hub's name
	}
	for _, tt := range tests {
		p, err := ParsePattern(tt.pattern)
		if err != nil {
			t.Fatalf("ParsePattern(%q): %v", tt.pattern, err)
		}
		ps, err := ParsePatterns([]string{"unrelated.example.com", tt.pattern, "*.example.com"})
		if err != nil {
			t.Fatal(err)
		}
		for _, host := range hubNames {
			if got := p.Match(host, tt.path); got != tt.want {
				t.Errorf("%q.Match(%q, %q) = %v, want %v", tt.pattern, host, tt.path, got, tt.want)
			}
			if got := ps.Match(host, tt.path); got != tt.want {
				t.Errorf("Patterns with %q: Match(%q, %q) = %v, want %v", tt.pattern, host, tt.path, got, tt.want)
			}
		}
	}
	// Names that are not Docker Hub's, or globs, match as written.
	literal := []struct {
		pattern, host string
		want          bool
	}{
		{"docker.io", "docker.io:443", false},
		{"docker.io", "registry-1.docker.io:5000", false},
		{"docker.io", "evil-docker.io", false},
		{"docker.io", "hub.docker.com", false},
		{"docker.io:443", "docker.io:443", true},
		{"*.docker.io", "registry-1.docker.io", true},
		{"*.docker.io", "docker.io", false}, // a glob is not a name
		{"docker.*", "docker.io", true},
		{"docker.*", "index.docker.io", false},
		{"registry.example.com", "docker.io", false},
		{"*.example.com", "registry-1.docker.io", false},
	}
	for _, tt := range literal {
		p, err := ParsePattern(tt.pattern)
		if err != nil {
			t.Fatalf("ParsePattern(%q): %v", tt.pattern, err)
		}
		if got := p.Match(tt.host, "library/pause"); got != tt.want {
			t.Errorf("%q.Match(%q) = %v, want %v", tt.pattern, tt.host, got, tt.want)
		}
	}
}

func TestParsePatternErrors(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{"", "has no host"},
		{"https://", "has no host"},
		{":5000", "has no host"},
		{"::1", "has no host"},
		{"ftp://r.io", "has a scheme other than https:// or http://"},
		{"a..b", "has an empty label"},
		{"r.io.", "has an empty label"},
		{"[a.example.com", "has a bad glob"},
		{"reg istry.io", "has a character that is neither part of a host name"},
		{`r\.io`, "has a character that is neither part of a host name"},
		{"r.io%eth0", "has a character that is neither part of a host name"},
		{"r.io:", "has an empty port"},
		{"r.io:notaport", "has a port that is not a number from 1 to 65535"},
		{"r.io:0", "has a port that is not a number from 1 to 65535"},
		{"r.io:65536", "has a port that is not a number from 1 to 65535"},
		{"r.io:05000", "has a port that is not a number from 1 to 65535"},
		{"r.io:+500", "has a port that is not a number from 1 to 65535"},
		{"r.io:50*", "has a port that is not a number from 1 to 65535"},
		{"r.io:5000:1", "has a port that is not a number from 1 to 65535"},
		{"[::1]x", "has text after its IPv6 address"},
		{"[::g]:5000", "has a bracketed host that is not an IPv6 address"},
		{"[::1]:", "has an empty port"},
		{"r.io/Team", "has a path character other than"},
		{"r.io/te*m", "has a path character other than"},
		{"r.io/a//b", "has an empty path segment"},
		{"r.io//", "has an empty path segment"},
		{"/path", "has no host"},
	}
	for _, tt := range tests {
		_, err := ParsePattern(tt.pattern)
		var pe *PatternError
		switch {
		case err == nil:
			t.Errorf("ParsePattern(%q) succeeded, want %q", tt.pattern, tt.want)
		case !strings.Contains(err.Error(), fmt.Sprintf("host pattern %q %s", tt.pattern, tt.want)):
			t.Errorf("ParsePattern(%q): %v, want %q", tt.pattern, err, tt.want)
		case !errors.As(err, &pe) || (tt.pattern != "" && strings.Contains(pe.Reason, tt.pattern)):
			t.Errorf("ParsePattern(%q): no PatternError whose reason leaves the pattern out: %v", tt.pattern, err)
		}
	}
	for _, good := range []string{"[::1]", "[::1]:5000", "r.io:1", "r.io:65535", "r.io/team/", "http://r.io", "https://index.docker.io/v1/",
		"my_mirror.local:5000", "*.dkr.ecr.*.amazonaws.com", "[ab]-[^c]?.example.com", "[!a].example.com", "quay.io/team-1/app_2.x"} {
		if _, err := ParsePattern(good); err != nil {
			t.Errorf("ParsePattern(%q): %v", good, err)
		}
	}
}

func TestIPv6Patterns(t *testing.T) {
	tests := []struct {
		pattern, host string
		want          bool
	}{
		{"[::1]:5000", "[::1]:5000", true},
		{"[::1]:5000", "[::1]:5001", false},
		{"[::1]:5000", "[::1]", false},
		{"[::1]", "[::1]", true},
		{"[fd00::1]", "[FD00::1]", true},
	}
	for _, tt := range tests {
		p, err := ParsePattern(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Match(tt.host, "app"); got != tt.want {
			t.Errorf("%q.Match(%q) = %v, want %v", tt.pattern, tt.host, got, tt.want)
		}
	}
}

func TestParsePatternsNamesIndex(t *testing.T) {
	_, err := ParsePatterns([]string{"ok.example.com", "a..b"})
	if err == nil || err.Error()[:3] != "[1]" {
		t.Fatalf("err = %v, want it to start with the bad entry's index [1]", err)
	}
	if !errdefs.IsInvalidArgument(err) {
		t.Fatalf("err = %v is not errdefs.ErrInvalidArgument", err)
	}
	if got := fielderr.In("hosts", err).Error(); got[:9] != "hosts[1]:" {
		t.Fatalf("in hosts: %q, want it to start with hosts[1]:", got)
	}
}

// patternGrammar is the grammar docs/config.md gives host patterns, written
// apart from ParsePattern so that one checks the other: an optional
// http(s) scheme; a host that is a bracketed IPv6 address or dot-separated
// labels of letters, digits, - and _ with the globs *, ? and [...] (a class
// of those, maybe negated); a port
// of 1 to 5 digits without a leading zero; a path of lower-case segments.
var patternGrammar = regexp.MustCompile(`^(?:https?://)?(?:\[([0-9A-Fa-f.]*:[0-9A-Fa-f:.]*)\]|((?:[A-Za-z0-9_*?-]|\[[!^]?[A-Za-z0-9_-]+\])+(?:\.(?:[A-Za-z0-9_*?-]|\[[!^]?[A-Za-z0-9_-]+\])+)*))(?::([1-9][0-9]{0,4}))?(?:/((?:[a-z0-9._-]+/)*[a-z0-9._-]*))?$`)

// oraclePattern is a pattern as the documentation reads it.
type oraclePattern struct {
	host, port, path string
	hub              bool
}

// parseOracle accepts what the documentation accepts.
func parseOracle(s string) (oraclePattern, bool) {
	m := patternGrammar.FindStringSubmatch(s)
	if m == nil {
		return oraclePattern{}, false
	}
	p := oraclePattern{host: strings.ToLower(m[1] + m[2]), port: m[3], path: m[4]}
	if m[1] != "" && net.ParseIP(m[1]) == nil {
		return oraclePattern{}, false
	}
	if m[2] != "" && strings.Contains(m[2], ":") {
		return oraclePattern{}, false
	}
	if p.port != "" {
		if n, _ := strconv.Atoi(p.port); n > 65535 {
			return oraclePattern{}, false
		}
	}
	if strings.HasSuffix(p.path, "//") || strings.HasPrefix(p.path, "/") {
		return oraclePattern{}, false
	}
	for _, label := range strings.Split(p.host, ".") {
		if _, err := path.Match(label, ""); err != nil && m[2] != "" {
			return oraclePattern{}, false
		}
	}
	hubNames := map[string]bool{"docker.io": true, "index.docker.io": true, "registry-1.docker.io": true}
	if p.port == "" && hubNames[p.host] {
		p.hub = true
		if strings.Contains(s, "://") && (p.path == "v1" || p.path == "v1/") {
			p.path = ""
		}
	}
	return p, true
}

// targetGrammar is a host as containerd contacts it: a name or a
// bracketed IPv6 address, and a port.
var targetGrammar = regexp.MustCompile(`^(?:\[([0-9A-Fa-f.]*:[0-9A-Fa-f:.]*)\]|([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*))(?::([0-9]+))?$`)

// match is the documented rule: Docker Hub's names are one host; else the
// ports are equal, there are as many labels, each label matches its glob
// (path.Match on labels joined by "/", where a glob cannot cross a "/"),
// and the path is a prefix of the repository path.
func (p oraclePattern) match(target, repoPath string) bool {
	m := targetGrammar.FindStringSubmatch(target)
	host, port := strings.ToLower(m[1]+m[2]), m[3]
	hubNames := map[string]bool{"docker.io": true, "index.docker.io": true, "registry-1.docker.io": true}
	if p.hub {
		return port == "" && hubNames[host] && strings.HasPrefix(repoPath, p.path)
	}
	if port != p.port || !strings.HasPrefix(repoPath, p.path) {
		return false
	}
	if m[1] != "" || strings.Contains(p.host, ":") {
		return host == p.host
	}
	globs, labels := strings.Split(p.host, "."), strings.Split(host, ".")
	if len(globs) != len(labels) {
		return false
	}
	ok, _ := path.Match(strings.Join(globs, "/"), strings.Join(labels, "/"))
	return ok
}

// FuzzPattern holds ParsePattern and Match to the documented grammar and
// matching rule, implemented apart in the test (parseOracle, match): a
// pattern is accepted exactly when the grammar accepts it, and then matches
// a host exactly when the rule says so. A pattern without globs also
// matches the host it names, and its errors never quote more than the
// pattern.
func FuzzPattern(f *testing.F) {
	for _, s := range []string{"*.example.com", "registry.example.com:5000/team", "https://a.b", "[a-", "*", "r.io:notaport", "[::1]:5000", "r.io/Team", "a..b"} {
		f.Add(s, "registry.example.com:5000", "team/app")
	}
	f.Add("https://index.docker.io/v1/", "registry-1.docker.io", "library/pause")
	f.Add("docker.io/library", "index.docker.io", "library/pause")
	f.Add("[ab]-?.example.com", "a-x.example.com", "")
	f.Add("r.io:05000", "r.io:5000", "")
	f.Fuzz(func(t *testing.T, pattern, host, repoPath string) {
		p, err := ParsePattern(pattern)
		want, valid := parseOracle(pattern)
		if (err == nil) != valid {
			t.Fatalf("ParsePattern(%q): err = %v, the grammar says valid = %v", pattern, err, valid)
		}
		if err != nil {
			var pe *PatternError
			if !errors.As(err, &pe) || pe.Pattern != pattern || err.Error() != fmt.Sprintf("host pattern %q %s", pattern, pe.Reason) {
				t.Fatalf("ParsePattern(%q): error %q is not the pattern and a reason", pattern, err)
			}
			return
		}
		if targetGrammar.MatchString(host) {
			if got := p.Match(host, repoPath); got != want.match(host, repoPath) {
				t.Fatalf("%q.Match(%q, %q) = %v, the documented rule says %v", pattern, host, repoPath, got, !got)
			}
		}
		// A pattern without globs matches the host and path it names.
		if !strings.ContainsAny(want.host, "*?[") {
			self := want.host
			if strings.Contains(self, ":") {
				self = "[" + self + "]"
			}
			if want.port != "" {
				self += ":" + want.port
			}
			if !p.Match(strings.ToUpper(self), want.path+"/app") {
				t.Fatalf("%q does not match its own host %q", pattern, self)
			}
		}
	})
}

func TestPatternsIndexAgreesWithEachPattern(t *testing.T) {
	texts := []string{"registry.example.com", "*.example.com", "*.dkr.ecr.*.amazonaws.com", "registry.*", "reg?stry.example.com:5000",
		"quay.io/team", "*.team1.example.com", "[ab].example.com", "127.0.0.1:5000", "*", "*.*", "docker.io/team", "*.docker.io"}
	ps, err := ParsePatterns(texts)
	if err != nil {
		t.Fatal(err)
	}
	hosts := []string{"registry.example.com", "a.example.com", "c.example.com", "x.team1.example.com", "registry.io", "registry.example.com:5000",
		"123.dkr.ecr.eu-west-1.amazonaws.com", "quay.io", "127.0.0.1:5000", "127.0.0.1", "localhost", "a.b", "Registry.Example.com", "example.com",
		"docker.io", "index.docker.io", "registry-1.docker.io", "docker.io:443"}
	for _, h := range hosts {
		for _, path := range []string{"", "team/app", "other/app"} {
			want := false
			for _, text := range texts {
				p, _ := ParsePattern(text)
				want = want || p.Match(h, path)
			}
			if got := ps.Match(h, path); got != want {
				t.Errorf("Patterns.Match(%q, %q) = %v, each pattern alone says %v", h, path, got, want)
			}
		}
	}
}

func FuzzPatternsIndex(f *testing.F) {
	f.Add("*.example.com", "registry.*", "a.example.com:5000", "team/app")
	f.Add("x.y.z", "*.y.z", "x.y.z", "")
	f.Add("docker.io", "*.docker.io", "registry-1.docker.io", "library/pause")
	f.Add("https://index.docker.io/v1/", "registry-1.*", "index.docker.io", "")
	f.Fuzz(func(t *testing.T, p1, p2, host, path string) {
		ps, err := ParsePatterns([]string{p1, p2})
		if err != nil {
			return
		}
		a, _ := ParsePattern(p1)
		b, _ := ParsePattern(p2)
		if want := a.Match(host, path) || b.Match(host, path); ps.Match(host, path) != want {
			t.Fatalf("index disagrees for %q, %q on %q %q", p1, p2, host, path)
		}
	})
}

func TestSplitHostPort(t *testing.T) {
	for _, tc := range []struct{ in, host, port string }{
		{"registry.example.com", "registry.example.com", ""},
		{"registry.example.com:5000", "registry.example.com", "5000"},
		{"127.0.0.1:5000", "127.0.0.1", "5000"},
		{"[::1]", "::1", ""},
		{"[::1]:5000", "::1", "5000"},
		{"::1", "::1", ""},
		{"", "", ""},
	} {
		host, port := splitHostPort(tc.in)
		if host != tc.host || port != tc.port {
			t.Errorf("splitHostPort(%q) = %q, %q; want %q, %q", tc.in, host, port, tc.host, tc.port)
		}
	}
}
