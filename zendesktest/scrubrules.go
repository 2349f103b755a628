package zendesktest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// ScrubbedHost is the host that scrubbed cassettes name in place of the
// real account's host, with the https scheme. It is the host of
// zendesk.NewClient("example", ...), so a client for the subdomain
// "example" follows recorded next_page links when it replays a cassette.
const ScrubbedHost = "example.zendesk.com"

const (
	scrubbedOrigin = "https://" + ScrubbedHost
	// redactedValue replaces the values of secret-looking JSON keys and
	// query parameters, and the credentials a request carried.
	redactedValue = "[REDACTED]"
	// recordedBoundary replaces the random boundary of a multipart
	// request, so that recording the same upload twice gives the same
	// cassette.
	recordedBoundary = "zendesktest-recorded-boundary"
	// maskedEmail and maskedName stand for every address and person's
	// name when requests are compared (see Matcher).
	maskedEmail = "user@example.com"
	maskedName  = "Person"
)

// scrubber holds the rules that remove credentials and personal data, and
// the mappings that make replacements consistent across a recording. Its
// methods are safe for concurrent use.
//
// A masking scrubber (mask set) maps every address and name to one stand-in
// and keeps no state: it brings a live request and a recorded one to the
// same form for comparison.
type scrubber struct {
	literals [][2]string
	mask     bool

	mu    sync.Mutex
	hosts []string // lower case, longest first
	// secrets are the credentials of the interaction being scrubbed.
	secrets []string

	// emails and names map the SHA-256 of a normalized address or name
	// to its replacement, so that the originals are not kept in memory.
	emails     map[[sha256.Size]byte]string
	keptEmails map[string]bool // example.com addresses seen
	emailSeq   int
	names      map[[sha256.Size]byte]string
}

func newScrubber(cfg scrubConfig, mask bool) *scrubber {
	s := &scrubber{
		literals:   cfg.literals,
		mask:       mask,
		emails:     make(map[[sha256.Size]byte]string),
		keptEmails: make(map[string]bool),
		names:      make(map[[sha256.Size]byte]string),
	}
	for _, h := range cfg.hosts {
		s.addHost(h)
	}
	return s
}

// addHost adds a host to replace by ScrubbedHost. The caller holds s.mu or
// owns s alone.
func (s *scrubber) addHost(h string) {
	h = asciiLower(strings.TrimSpace(h))
	if h == "" || h == ScrubbedHost || slices.Contains(s.hosts, h) {
		return
	}
	s.hosts = append(s.hosts, h)
	sort.SliceStable(s.hosts, func(i, j int) bool { return len(s.hosts[i]) > len(s.hosts[j]) })
}

// text scrubs a string: literals, credentials, e-mail addresses, and
// secrets in URLs. Hosts are left to hostsIn, except when masking.
func (s *scrubber) text(v string) string {
	for _, l := range s.literals {
		v = strings.ReplaceAll(v, l[0], l[1])
	}
	for _, secret := range s.secrets {
		v = strings.ReplaceAll(v, secret, redactedValue)
	}
	v = emailPattern.ReplaceAllStringFunc(v, s.email)
	v = tokenSegmentPattern.ReplaceAllString(v, "${1}REDACTED")
	v = secretParamPattern.ReplaceAllStringFunc(v, redactParam)
	if s.mask {
		v = s.hostsIn(v)
	}
	return v
}

// hostsIn replaces the hosts to scrub in v.
func (s *scrubber) hostsIn(v string) string {
	for _, h := range s.hosts {
		v = replaceHost(v, h)
	}
	return v
}

// emailPattern matches e-mail addresses, also with the @ URL-encoded.
var emailPattern = regexp.MustCompile(`(?i)[a-z0-9._%+\-]+(?:@|%40)[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*\.[a-z]{2,}`)

// notTLDs are file extensions that make "logo@2x.png" look like an address.
var notTLDs = map[string]bool{
	"png": true, "jpg": true, "jpeg": true, "gif": true, "svg": true, "webp": true,
	"pdf": true, "txt": true, "csv": true, "html": true, "json": true,
}

// email returns the replacement of one matched address.
func (s *scrubber) email(m string) string {
	sep := "@"
	local, domain, ok := strings.Cut(m, "@")
	if !ok {
		sep = "%40"
		local, domain, _ = cutFold(m, "%40")
	}
	domain = asciiLower(domain)
	if notTLDs[domain[strings.LastIndexByte(domain, '.')+1:]] {
		return m
	}
	if s.mask {
		return strings.Replace(maskedEmail, "@", sep, 1)
	}
	if isExampleDomain(domain) {
		s.keptEmails[asciiLower(local)+"@"+domain] = true
		return m
	}
	key := asciiLower(local) + "@" + domain
	if sep != "@" {
		if unescaped, err := url.QueryUnescape(local); err == nil {
			key = asciiLower(unescaped) + "@" + domain
		}
	}
	sum := sha256.Sum256([]byte(key))
	repl, ok := s.emails[sum]
	if !ok {
		for {
			s.emailSeq++
			repl = "user" + strconv.Itoa(s.emailSeq) + "@example.com"
			if !s.keptEmails[repl] {
				break
			}
		}
		s.emails[sum] = repl
	}
	return strings.Replace(repl, "@", sep, 1)
}

func isExampleDomain(domain string) bool {
	for _, d := range []string{"example.com", "example.net", "example.org"} {
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return true
		}
	}
	return false
}

// cutFold is strings.Cut with an ASCII case-insensitive separator.
func cutFold(s, sep string) (before, after string, found bool) {
	i := strings.Index(asciiLower(s), asciiLower(sep))
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

var (
	// tokenSegmentPattern matches the token of a URL such as Zendesk's
	// /attachments/token/{token}/?name=...
	tokenSegmentPattern = regexp.MustCompile(`(?i)(/token/)[^/?#\s"']+`)
	// secretParamPattern matches secret-looking parameters inside URLs.
	secretParamPattern = regexp.MustCompile(`(?i)([?&](?:[a-z0-9_]*_)?(?:token|secret|password|api_key|apikey)=)[^&#\s"']*`)
)

func redactParam(m string) string {
	i := strings.IndexByte(m, '=')
	return m[:i+1] + "REDACTED"
}

// secretKeys are the JSON keys and query parameters whose values are never
// recorded, besides those ending in _token, _secret and _password.
var secretKeys = map[string]bool{
	"token": true, "access_token": true, "refresh_token": true, "password": true,
	"api_token": true, "secret": true, "client_secret": true, "api_key": true,
	"apikey": true, "authorization": true,
}

func isSecretKey(k string) bool {
	k = asciiLower(strings.TrimSpace(k))
	return secretKeys[k] || strings.HasSuffix(k, "_token") || strings.HasSuffix(k, "_secret") || strings.HasSuffix(k, "_password")
}

// credentialsOf returns the secrets an Authorization header carries: the
// header value, its token, and for Basic the decoded pair and password.
// Short values are left out, so that scrubbing them cannot mangle unrelated
// text.
func credentialsOf(h string) []string {
	h = strings.TrimSpace(h)
	if h == "" {
		return nil
	}
	found := []string{h}
	scheme, value, ok := strings.Cut(h, " ")
	if ok {
		value = strings.TrimSpace(value)
		found = append(found, value)
		if strings.EqualFold(scheme, "basic") {
			if raw, err := base64.StdEncoding.DecodeString(value); err == nil {
				if _, pass, ok := strings.Cut(string(raw), ":"); ok {
					found = append(found, string(raw), pass)
				}
			}
		}
	}
	var out []string
	for _, s := range found {
		if len(s) >= 8 {
			out = append(out, s)
		}
	}
	// Longest first, so that a value containing another goes whole.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// replaceHost replaces host (lower case) in v, case-insensitively and only
// where it is a whole host name: with its http or https scheme by
// https://example.zendesk.com, alone by example.zendesk.com.
func replaceHost(v, host string) string {
	lower := asciiLower(v)
	if !strings.Contains(lower, host) {
		return v
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(v); {
		j := strings.Index(lower[i:], host)
		if j < 0 {
			break
		}
		start, end := i+j, i+j+len(host)
		i = start + 1
		if start > 0 && partOfHost(lower[start-1], true) || end < len(v) && continuesHost(lower, end) {
			continue
		}
		from, repl := start, ScrubbedHost
		for _, scheme := range []string{"https://", "http://"} {
			if strings.HasSuffix(lower[:start], scheme) {
				from, repl = start-len(scheme), scrubbedOrigin
				break
			}
		}
		if from < last {
			continue
		}
		b.WriteString(v[last:from])
		b.WriteString(repl)
		last = end
		i = end
	}
	if last == 0 {
		return v
	}
	b.WriteString(v[last:])
	return b.String()
}

// partOfHost reports whether c can belong to the host name before a match
// (before is true) so that the match is only the tail of a longer name, or
// of an e-mail address.
func partOfHost(c byte, before bool) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || before && (c == '.' || c == '@')
}

// continuesHost reports whether the host name goes on at lower[i]: a letter,
// digit or '-' (so 127.0.0.1:80 is not found in 127.0.0.1:8080), or a '.'
// followed by one. A port after a host given without one is kept.
func continuesHost(lower string, i int) bool {
	c := lower[i]
	return partOfHost(c, false) || c == '.' && i+1 < len(lower) && partOfHost(lower[i+1], false)
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for k := i; k < len(b); k++ {
				if b[k] >= 'A' && b[k] <= 'Z' {
					b[k] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// values scrubs query or form values: secret-looking keys get
// "[REDACTED]", the rest is scrubbed as text.
func (s *scrubber) values(q url.Values) url.Values {
	if q == nil {
		return nil
	}
	out := make(url.Values, len(q))
	for k, vs := range q {
		nk := s.text(k)
		for _, v := range vs {
			if isSecretKey(k) {
				v = redactedValue
			} else {
				v = s.text(v)
			}
			out[nk] = append(out[nk], v)
		}
	}
	return out
}

// query scrubs an encoded query; the result has its keys sorted. A query
// that does not parse is scrubbed as text.
func (s *scrubber) query(raw string) string {
	if raw == "" {
		return ""
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return s.text(raw)
	}
	return s.values(q).Encode()
}

// header returns the headers keep accepts, scrubbed as text, in a new map.
func (s *scrubber) header(h http.Header, keep func(string) bool) http.Header {
	out := make(http.Header)
	for k, vs := range h {
		ck := http.CanonicalHeaderKey(k)
		if !keep(ck) {
			continue
		}
		for _, v := range vs {
			out[ck] = append(out[ck], s.text(v))
		}
	}
	return out
}

func keepRequestHeader(name string) bool { return name == "Content-Type" }

func keepResponseHeader(name string) bool {
	switch name {
	case "Content-Type", "X-Zendesk-Request-Id", "Retry-After":
		return true
	}
	return strings.HasPrefix(name, "X-Rate-Limit") || strings.HasPrefix(name, "Ratelimit-")
}

// body scrubs a body. A JSON object or array is encoded again, indented
// with its keys sorted, so that a cassette reads well in review; anything
// else is scrubbed as text.
func (s *scrubber) body(b string) string {
	if b == "" {
		return ""
	}
	if j, ok := s.json(b); ok {
		return j
	}
	return s.text(b)
}

// decodeJSONValue decodes a JSON object or array with numbers kept as
// written. Anything after the value but spaces makes it no JSON.
func decodeJSONValue(b string) (any, bool) {
	trimmed := strings.TrimSpace(b)
	if trimmed == "" || trimmed[0] != '{' && trimmed[0] != '[' {
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(trimmed))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, false
	}
	return v, true
}

// json scrubs a JSON object or array and encodes it again: indented,
// keys sorted, numbers as they were, HTML characters unescaped.
func (s *scrubber) json(b string) (string, bool) {
	v, ok := decodeJSONValue(b)
	if !ok {
		return "", false
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s.value(v)); err != nil {
		return "", false
	}
	return buf.String(), true
}

// value scrubs a decoded JSON value. Keys are visited in sorted order, so
// that the numbering of replacements does not depend on map order.
func (s *scrubber) value(v any) any {
	switch v := v.(type) {
	case map[string]any:
		_, hasEmail := v["email"]
		_, hasUser := v["user_id"]
		person := hasEmail || hasUser
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make(map[string]any, len(v))
		for _, k := range keys {
			val := v[k]
			nk := s.text(k)
			switch name, isString := val.(string); {
			case isSecretKey(k) && val != nil:
				out[nk] = redactedValue
			case person && k == "name" && isString && strings.TrimSpace(name) != "":
				out[nk] = s.name(name)
			default:
				out[nk] = s.value(val)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = s.value(e)
		}
		return out
	case string:
		return s.text(v)
	default:
		return v
	}
}

func (s *scrubber) name(n string) string {
	if s.mask {
		return maskedName
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(n)))
	if r, ok := s.names[sum]; ok {
		return r
	}
	r := "Person " + strconv.Itoa(len(s.names)+1)
	s.names[sum] = r
	return r
}

// fixBoundary replaces the boundary of a multipart Content-Type with
// recordedBoundary, in the header value and the body.
func fixBoundary(contentType, body string) (string, string) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	boundary := params["boundary"]
	if err != nil || !strings.HasPrefix(mediaType, "multipart/") || boundary == "" || boundary == recordedBoundary {
		return contentType, body
	}
	params["boundary"] = recordedBoundary
	return mime.FormatMediaType(mediaType, params), strings.ReplaceAll(body, "--"+boundary, "--"+recordedBoundary)
}
