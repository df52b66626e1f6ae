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
	})
}

func TestPatternsIndexAgreesWithEachPattern(t *testing.T) {
	texts := []string{"registry.example.com", "*.example.com", "*.dkr.ecr.*.amazonaws.com", "registry.*", "reg?stry.example.com:5000",
		"quay.io/team", "*.team1.example.com", "[ab].example.com", "127.0.0.1:5000", "*", "*.*"}
	ps, err := ParsePatterns(texts)
	if err != nil {
		t.Fatal(err)
	}
	hosts := []string{"registry.example.com", "a.example.com", "c.example.com", "x.team1.example.com", "registry.io", "registry.example.com:5000",
		"123.dkr.ecr.eu-west-1.amazonaws.com", "quay.io", "127.0.0.1:5000", "127.0.0.1", "localhost", "a.b", "Registry.Example.com", "example.com"}
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
