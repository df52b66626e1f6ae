package credentials

import "testing"

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
	for _, bad := range []string{"", "https://", ":5000", "a..b", "[a.example.com", "reg istry.io", "/path"} {
		if _, err := ParsePattern(bad); err == nil {
			t.Errorf("ParsePattern(%q) succeeded, want an error", bad)
		}
	}
}

func TestParsePatternsNamesIndex(t *testing.T) {
	_, err := ParsePatterns([]string{"ok.example.com", "a..b"})
	if err == nil || err.Error()[:3] != "[1]" {
		t.Fatalf("err = %v, want it to start with the bad entry's index [1]", err)
	}
}

func FuzzPattern(f *testing.F) {
	for _, s := range []string{"*.example.com", "registry.example.com:5000/team", "https://a.b", "[a-", "*"} {
		f.Add(s, "registry.example.com:5000", "team/app")
	}
	f.Add("https://index.docker.io/v1/", "registry-1.docker.io", "library/pause")
	f.Add("docker.io/library", "index.docker.io", "library/pause")
	f.Fuzz(func(t *testing.T, pattern, host, path string) {
		p, err := ParsePattern(pattern)
		if err != nil {
			return
		}
		_ = p.Match(host, path)
		// A parsed pattern parses again to the same pattern.
		q, err := ParsePattern(p.String())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", p.String(), err)
		}
		if p.Match(host, path) != q.Match(host, path) {
			t.Fatalf("re-parsed pattern %q matches differently", pattern)
		}
		// A pattern answers the same for every one of Docker Hub's names
		// when it names Docker Hub, and for none of them with a port.
		if p.hub {
			want := p.Match("docker.io", path)
			for _, alias := range []string{"index.docker.io", "registry-1.docker.io", "REGISTRY-1.docker.io"} {
				if p.Match(alias, path) != want {
					t.Fatalf("Docker Hub pattern %q: %q and docker.io differ", pattern, alias)
				}
			}
			if p.Match("docker.io:443", path) {
				t.Fatalf("Docker Hub pattern %q matches a host with a port", pattern)
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
