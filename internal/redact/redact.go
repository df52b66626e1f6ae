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

// Package redact makes a credential program's output, or an error sentence
// about it, fit for one log line without the secrets it may carry.
package redact

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
)

const (
	// Placeholder stands where a secret was.
	Placeholder = "<redacted>"
	// maxRedactInput bounds the bytes String reads; the rest is dropped unread.
	maxRedactInput = 8 << 10
	// maxRedacted bounds String's answer in bytes, "…" included.
	maxRedacted = 512
)

// String makes a program's output, or an error sentence about it, fit for
// one log line: whitespace runs become a space, control and format
// characters go, invalid UTF-8 becomes U+FFFD, and a line longer than
// maxRedacted bytes is cut on a rune boundary and ends in "…".
//
// It puts <redacted> for what the rules below find: the password of a URL,
// the credential after Bearer or Basic, the value of a secret-named key,
// JWTs, and runs of base64 or hex that read as random. Everything else
// stays: error sentences, host names, API names, paths, status codes,
// request IDs, digests and AWS access key IDs.
//
// "key: value" with a space after the colon counts as a key only where a
// line starts (YAML, HTTP headers) or the key is quoted (JSON): in the
// middle of a line it is how Go error chains read ("invalid token:
// expected two parts"), and the word after it stays. A secret there, or
// after a key not named as secret, stays unless its shape gives it away.
func String(s string) string {
	cut := len(s) > maxRedactInput
	if cut {
		s = s[:maxRedactInput]
	}
	s, starts := oneLine(s)
	if cut { // the last word may be a token cut short
		s = strings.TrimRightFunc(s, func(r rune) bool { return r == '=' || r < 0x80 && isRunByte(byte(r)) })
	}
	// Spans are found on the same text, so that no rule hides a key or a
	// secret from another, then merged and replaced at once.
	var spans [][2]int
	for _, m := range userinfo.FindAllStringSubmatchIndex(s, -1) {
		spans = append(spans, [2]int{m[2], m[3]})
	}
	for _, m := range schemeValue.FindAllStringSubmatchIndex(s, -1) {
		word := s[m[2]:m[3]] // not a word ("Basic authentication") nor a key (Bearer expires_in=1)
		if strings.IndexFunc(word, func(r rune) bool { return r < 'a' || r > 'z' }) >= 0 &&
			(m[3] == m[1] || m[1] == len(s) || !isRunByte(s[m[1]])) {
			spans = append(spans, [2]int{m[2], m[1]})
		}
	}
	spans = keyValueSpans(spans, s, starts)
	spans = tokenSpans(spans, s)
	return truncate(replaceSpans(s, spans), maxRedacted)
}

// oneLine collapses whitespace runs into one space, drops control and
// format characters (escape sequences, bidi overrides) and replaces
// invalid UTF-8. It also returns where each line of s starts in the
// answer, after its indentation.
func oneLine(s string) (string, []int) {
	var b strings.Builder
	b.Grow(len(s))
	starts := []int{0}
	space, newline := false, false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = true
			newline = newline || r != ' ' && r != '\t' && r != '\u00a0'
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r):
		default:
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			if newline {
				starts = append(starts, b.Len())
			}
			space, newline = false, false
			b.WriteRune(r)
		}
	}
	return b.String(), starts
}

// replaceSpans puts one placeholder for each run of overlapping or
// touching spans.
func replaceSpans(s string, spans [][2]int) string {
	if len(spans) == 0 {
		return s
	}
	slices.SortFunc(spans, func(a, b [2]int) int { return a[0] - b[0] })
	var b strings.Builder
	done := 0
	for i := 0; i < len(spans); {
		from, to := spans[i][0], spans[i][1]
		for i++; i < len(spans) && spans[i][0] <= to; i++ {
			to = max(to, spans[i][1])
		}
		b.WriteString(s[done:from])
		b.WriteString(Placeholder)
		done = to
	}
	b.WriteString(s[done:])
	return b.String()
}

// truncate cuts s, valid UTF-8, to at most n bytes on a rune boundary,
// ending in "…".
func truncate(s string, n int) string {
	const ellipsis = "…"
	if len(s) <= n {
		return s
	}
	cut := n - len(ellipsis)
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + ellipsis
}

var (
	// userinfo matches scheme://user:password@ (group 1 the password): a
	// proxy or registry URL a program echoes from its settings.
	userinfo = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.\-]*://[^/\s@:]*:([^/\s@]+)@`)
	// schemeValue matches Bearer or Basic and the credential after (group
	// 1): an Authorization header an HTTP debug log prints, as in Go's %v
	// of an http.Header (map[Authorization:[Basic dXNl…]]).
	schemeValue = regexp.MustCompile(`\b(?:Bearer|Basic) +([A-Za-z0-9+/_.~\-]+)=*`)
	// keySep matches a key (group 1), its closing quote if any (group 2),
	// and = or : with a space around it if any (group 3 the space after).
	keySep = regexp.MustCompile(`([A-Za-z0-9_.\-]+)(\\*["'])? ?[=:]( ?)`)
	// authScheme is the scheme of an Authorization value, which stays: ECR
	// requests are signed "Authorization: AWS4-HMAC-SHA256 Credential=…".
	authScheme = regexp.MustCompile(`(?i)^\[?(?:basic|bearer|aws4-hmac-sha256) +`)
	// secretKeyEnds are the endings, lower case and without _ - or ., of
	// the keys whose values the programs' output carries: the answer
	// quoted back (Secret, password), STS and OAuth bodies
	// (WebIdentityToken, subject_token, access_token, refresh_token), ECR's
	// authorizationToken, signed request headers (X-Amz-Security-Token,
	// Signature), a docker config (auth, identitytoken), and the other
	// names of the same secrets in settings a program echoes (passwd,
	// passphrase, client_secret, AWS_SECRET_ACCESS_KEY, private_key,
	// api_key, cookie).
	secretKeyEnds = []string{"password", "passwd", "passphrase", "secret", "token", "auth",
		"authorization", "cookie", "signature", "apikey", "privatekey", "secretaccesskey"}
	keyFold = strings.NewReplacer("_", "", "-", "", ".", "")
)

// isSecretKey reports whether k ends in a secretKeyEnds name, or is sig
// (an Azure SAS URL's signature).
func isSecretKey(k string) bool {
	k = strings.ToLower(keyFold.Replace(k))
	return k == "sig" || slices.ContainsFunc(secretKeyEnds, func(end string) bool { return strings.HasSuffix(k, end) })
}

// keyValueSpans adds the span of the value after each secret-named key. A
// "key" right after / is the end of a path (Post "…/token": …); a key with
// ": " after it in the middle of a line is part of an error chain.
func keyValueSpans(spans [][2]int, s string, starts []int) [][2]int {
	// reach is the end of the longest value yet; plain says it was neither
	// quoted nor bracketed, so a plain value starting inside it ends there too.
	reach, plain := 0, false
	for _, m := range keySep.FindAllStringSubmatchIndex(s, -1) {
		key, i := s[m[2]:m[3]], m[1]
		prose := s[m[6]-1] == ':' && m[7] > m[6] && m[4] < 0 && !slices.Contains(starts, m[2])
		if prose || !isSecretKey(key) || m[2] > 0 && s[m[2]-1] == '/' {
			continue
		}
		if strings.HasSuffix(strings.ToLower(key), "authorization") {
			if a := authScheme.FindStringIndex(s[i:]); a != nil {
				i += a[1]
			}
		}
		if i < reach && (reach == len(s) || plain && strings.IndexByte("\\\"'{[", s[i]) < 0) {
			continue // inside a value that holds it whole
		}
		from, to := valueSpan(s, i)
		if from == to {
			continue
		}
		spans = append(spans, [2]int{from, to})
		if to > reach {
			reach, plain = to, from == i && strings.IndexByte("{[", s[i]) < 0
		}
	}
	return spans
}

// valueSpan returns the value starting at i. A value opened by a quote with
// n backslashes before it (n > 0 inside Go's %q) ends at the first quote
// with at most n, a single-quoted one at a lone ', an unclosed one at the
// end of s. An unquoted one ends at a space, & or quote, but not before
// the bracket it opens with ({…} or Go's [a b]) is closed.
func valueSpan(s string, i int) (int, int) {
	j := i
	for j < len(s) && s[j] == '\\' {
		j++
	}
	if j < len(s) && (s[j] == '"' || s[j] == '\'') {
		q, esc, from := s[j], j-i, j+1
		for k := from; k < len(s); k++ {
			switch {
			case s[k] != q:
			case q == '\'' && k+1 < len(s) && s[k+1] == '\'': // YAML's ''
				k++
			case q == '\'':
				return from, k
			default:
				n := 0
				for k-n > from && s[k-n-1] == '\\' {
					n++
				}
				if n <= esc {
					return from, k - n
				}
			}
		}
		return from, len(s)
	}
	depth := 0
	for k := i; k < len(s); k++ {
		switch c := s[k]; {
		case (c == '{' || c == '[') && (k == i || depth > 0):
			depth++
		case (c == '}' || c == ']') && depth > 0:
			depth--
		case depth == 0 && strings.IndexByte(" &\"'", c) >= 0:
			return i, k
		}
	}
	return i, len(s)
}

var (
	// jwt is a JWT's header: Kubernetes service account tokens, which
	// ecr-credential-provider and docker-credential-gcr exchange at STS,
	// have parts too short to read as random alone.
	jwt = regexp.MustCompile(`eyJ[A-Za-z0-9_\-]{8}`)
	// awsKeyID is an AWS access key ID, which stays: it names the key an
	// AccessDenied or a signed request (Credential=ASIA…) is about.
	awsKeyID = regexp.MustCompile(`^A(?:KIA|SIA|ROA|IDA)[A-Z0-9]{16}$`)
	// digest ends where a digest's hex starts (sha256: or blobs/sha256/),
	// which stays: it names the blob a pull failed on.
	digest = regexp.MustCompile(`sha(?:256|384|512)[:/]$`)
)

// afterDigest reports whether before ends where a digest's hex starts.
func afterDigest(before string) bool { return digest.MatchString(before[max(0, len(before)-7):]) }

// tokenSpans adds token-like runs of [A-Za-z0-9+/_%.~-] (with any =
// padding): session tokens, signatures and ECR authorization tokens,
// wherever they stand (an SDK debug log's headers, a pass store path). A
// run holding a JWT goes whole; otherwise each dot-separated part of it
// (base64 and hex have no dots, host names do) goes if randomPart.
func tokenSpans(spans [][2]int, s string) [][2]int {
	for i := 0; i < len(s); {
		if !isRunByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isRunByte(s[j]) {
			j++
		}
		if e := j + len(s[j:]) - len(strings.TrimLeft(s[j:], "=")); e == len(s) || !isRunByte(s[e]) {
			j = e // padding, not key=value
		}
		if jwt.MatchString(s[i:j]) {
			spans = append(spans, [2]int{i, j})
		} else {
			for k := i; k < j; {
				e := strings.IndexByte(s[k:j], '.')
				if e = k + e; e < k {
					e = j
				}
				if !afterDigest(s[:k]) && randomPart(s[k:e]) {
					spans = append(spans, [2]int{k, e})
				}
				k = e + 1
			}
		}
		i = j
	}
	return spans
}

// randomPart reports whether p, with no dot, reads as random in one of its
// /-separated parts or as a whole, digests left out. A token in a path
// takes the path with it: the parts of a base64 token that a / cuts off
// could be too short to read as random alone.
func randomPart(p string) bool {
	if len(p) < 20 {
		return false
	}
	var rest strings.Builder
	for i := 0; i < len(p); {
		e := strings.IndexByte(p[i:], '/')
		if e = i + e; e < i {
			e = len(p)
		}
		if !afterDigest(p[:i]) {
			if randomLooking(p[i:e]) {
				return true
			}
			rest.WriteString(p[i:min(e+1, len(p))])
		}
		i = e + 1
	}
	return randomLooking(rest.String())
}

// randomLooking reports whether p reads as random rather than as words. It
// is true for 20 hex digits or more with digits and letters (signatures),
// for 40 of base64 in both cases (an AWS secret access key), and for 20
// characters or more in words (runs of letters, digits, + and /) of 6 or
// more that bear the marks of chance: a change of class among digits,
// lower and upper case (but a capital starting a word) at 22% of their
// letters and digits, or under 22% vowels among 12 letters or more.
// Identifiers (GetAuthorizationToken, AmazonEC2ContainerRegistry_V20150921)
// change class seldom and have more vowels; short words
// (kube-api-access-x2b7q) and UUIDs (AWS request IDs) do not count. Of
// random strings of 27 characters it misses about 1 in 500 of base64, 1 in
// 80 of lower case and digits, 1 in 17 of base32 (TestRedactRandomTokens).
func randomLooking(p string) bool {
	const hexDigits, b64 = "0123456789abcdefABCDEF", "+/0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	switch {
	case len(p) < 20 || awsKeyID.MatchString(p):
		return false
	case strings.Trim(p, hexDigits) == "":
		return strings.Trim(p, "0123456789") != "" && strings.ContainsAny(p, "0123456789")
	case len(p) == 40 && strings.Trim(p, b64) == "" &&
		strings.IndexFunc(p, unicode.IsUpper) >= 0 && strings.IndexFunc(p, unicode.IsLower) >= 0:
		return true
	}
	var chars, alnum, changes, letters, vowels int
	for i := 0; i < len(p); {
		if isUUID(p, i) {
			i += 36
			continue
		}
		w := i
		for w < len(p) && (isAlnum(p[w]) || p[w] == '+' || p[w] == '/') && (w == i || !isUUID(p, w)) {
			w++
		}
		if w-i < 6 {
			i = max(w, i+1)
			continue
		}
		prev := byte(0)
		for _, c := range []byte(p[i:w]) {
			if !isAlnum(c) {
				continue
			}
			class := charClass(c)
			if prev != 0 && class != prev && (prev != 'A' || class != 'a') {
				changes++
			}
			prev, alnum = class, alnum+1
			if class != '0' {
				letters++
				if strings.IndexByte("aeiouAEIOU", c) >= 0 {
					vowels++
				}
			}
		}
		chars, i = chars+w-i, w
	}
	return chars >= 20 && (changes*50 >= alnum*11 || letters >= 12 && vowels*50 < letters*11)
}

// charClass is '0' for a digit, 'a' for lower case, 'A' for upper case.
func charClass(c byte) byte {
	switch {
	case c <= '9':
		return '0'
	case c >= 'a':
		return 'a'
	}
	return 'A'
}

// isUUID reports whether a UUID (8-4-4-4-12 hex digits) stands alone at s[i:].
func isUUID(s string, i int) bool {
	if len(s)-i < 36 || i > 0 && isAlnum(s[i-1]) || len(s)-i > 36 && isAlnum(s[i+36]) {
		return false
	}
	for k, c := range []byte(s[i : i+36]) {
		if (k == 8 || k == 13 || k == 18 || k == 23) != (c == '-') || c != '-' && !isHex(c) {
			return false
		}
	}
	return true
}

func isRunByte(c byte) bool { return isAlnum(c) || strings.IndexByte("+/_%.~-", c) >= 0 }

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
