package zendesktest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/jarcoal/httpmock"
)

// ScrubbedHost is the host that recorded bodies, queries and headers name
// in place of the real account's host, with the https scheme. It is the
// host of zendesk.NewClient("example", ...), so a client for the subdomain
// "example" follows recorded next_page links when it replays a cassette
// through Cassette.Transport.
const ScrubbedHost = "example.zendesk.com"

const (
	scrubbedOrigin = "https://" + ScrubbedHost
	// redactedValue replaces the values of secret-looking JSON keys and
	// query parameters, and the credentials a request carried.
	redactedValue = "[REDACTED]"
)

// Recorder is an http.RoundTripper that forwards every request to the
// transport under it and records the interaction, scrubbed of credentials
// and personal data, so that the real response shapes of an account can be
// replayed in tests (see Cassette). Put it under the client:
//
//	rec := zendesktest.NewRecorder(nil)
//	client, err := zendesk.NewClient("acme", creds,
//		zendesk.WithHTTPClient(&http.Client{Transport: rec}))
//	// ... read calls ...
//	err = rec.Save("testdata/recorded/ticket.json")
//
// Each interaction keeps the method, the URL path and query (never the
// scheme, host or user info), the request's Content-Type and body, the
// response status, its Content-Type, X-Zendesk-Request-Id, Retry-After,
// X-Rate-Limit* and ratelimit-* headers, and the response body. The caller
// gets the response with its body intact.
//
// Scrubbing happens as the interaction is recorded, so no secret is kept,
// even in memory:
//
//   - no other header is recorded: not Authorization, not cookies; and
//     should the token or Authorization value a request carried appear in
//     its bodies, it becomes "[REDACTED]";
//   - every e-mail address (also URL-encoded as %40) becomes userN@example.com,
//     the same address always the same N; addresses at example.com,
//     example.net and example.org (reserved for examples) are kept;
//   - the values of secret-looking JSON keys and query parameters (token,
//     access_token, refresh_token, password, api_token, secret, client_secret,
//     api_key, authorization, and any key ending in _token, _secret or
//     _password; case-insensitive) become "[REDACTED]", as do path segments
//     after /token/ and secret-looking query parameters inside URLs;
//   - the "name" of a person (a JSON object that also has "email" or
//     "user_id") becomes "Person N", consistently;
//   - the host of every request the Recorder forwards, and the hosts given
//     to WithScrubHost, become example.zendesk.com (ScrubbedHost) wherever
//     they appear: "http://127.0.0.1:PORT/api/v2/..." and
//     "https://acme.zendesk.com/api/v2/..." both become
//     "https://example.zendesk.com/api/v2/...". Scrubbing the request's own
//     host by default makes a recording portable whatever it was recorded
//     against: a real account, a proxy, or a zendesktest Server;
//   - the strings given to WithScrubString are replaced everywhere.
//
// JSON bodies are stored re-encoded with sorted keys; other text is stored
// as text, and binary bodies as base64 (scrubbed of e-mail addresses and
// hosts only). Free text such as subjects and message bodies is kept apart
// from the e-mail addresses in it: review a cassette before committing it.
//
// Requests that fail in the transport, and responses whose body cannot be
// read, are passed on to the caller but not recorded. A Recorder is safe for
// concurrent use.
type Recorder struct {
	next http.RoundTripper

	mu           sync.Mutex
	scrub        *scrubber
	interactions []Interaction
}

// RecorderOption configures a Recorder in NewRecorder.
type RecorderOption func(*scrubber)

// WithScrubHost adds hosts (such as "acme.zendesk.com" or a brand's host
// "support.acme.com") to scrub from everything recorded, besides the host of
// each request, which is always scrubbed. A host may carry a port. Empty
// strings are ignored.
func WithScrubHost(hosts ...string) RecorderOption {
	return func(s *scrubber) {
		for _, h := range hosts {
			s.addHost(h)
		}
	}
}

// WithScrubString replaces every occurrence of value with replacement in
// everything recorded, before the other scrubbing: for a company name, a
// customer's name in message bodies, or an id that should not be
// published. An empty value is ignored.
func WithScrubString(value, replacement string) RecorderOption {
	return func(s *scrubber) {
		if value != "" {
			s.literals = append(s.literals, [2]string{value, replacement})
		}
	}
}

// NewRecorder returns a Recorder that sends requests through next
// (http.DefaultTransport when nil).
func NewRecorder(next http.RoundTripper, opts ...RecorderOption) *Recorder {
	if next == nil {
		next = http.DefaultTransport
	}
	s := newScrubber()
	for _, opt := range opts {
		if opt != nil {
			opt(s)
		}
	}
	return &Recorder{next: next, scrub: s}
}

// RoundTrip forwards req and records the interaction. The response body is
// read whole and handed back as a fresh reader.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	reqBody, out, err := takeRequestBody(req)
	if err != nil {
		return nil, err
	}
	resp, err := r.next.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	if resp.Body == nil {
		resp.Body = http.NoBody
	}
	respBody, readErr := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if readErr != nil {
		// Hand the caller what came and then the same failure, and record
		// nothing: a half answer is no fixture.
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(respBody), errorReader{readErr}))
		return resp, nil
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	r.record(req, reqBody, resp, respBody)
	return resp, nil
}

type errorReader struct{ err error }

func (e errorReader) Read([]byte) (int, error) { return 0, e.err }

// takeRequestBody returns a copy of the request body and the request to
// forward. It reads through GetBody when it can, leaving req untouched;
// otherwise it consumes the body and forwards a clone carrying the bytes.
func takeRequestBody(req *http.Request) ([]byte, *http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, req, nil
	}
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err == nil {
			b, err := io.ReadAll(rc)
			_ = rc.Close()
			if err == nil {
				return b, req, nil
			}
		}
	}
	b, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("zendesktest: Recorder: reading the body of %s %s: %w", req.Method, req.URL.Redacted(), err)
	}
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(b))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	out.ContentLength = int64(len(b))
	return b, out, nil
}

// record scrubs one interaction and stores it.
func (r *Recorder) record(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) {
	secrets := credentialsOf(req.Header.Get("Authorization"))

	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.scrub
	s.addHost(req.URL.Host)
	s.addHost(req.Host)
	s.secrets = secrets
	defer func() { s.secrets = nil }()

	reqHeader := s.header(req.Header, keepRequestHeader)
	reqHeader, reqBody = fixBoundary(reqHeader, reqBody)
	it := Interaction{
		Request: InteractionRequest{
			Method: req.Method,
			Path:   s.text(req.URL.EscapedPath()),
			Query:  s.query(req.URL.RawQuery),
			Header: reqHeader,
			Body:   s.body(reqBody),
		},
		Response: InteractionResponse{
			Status: resp.StatusCode,
			Header: s.header(resp.Header, keepResponseHeader),
			Body:   s.body(respBody),
		},
	}
	r.interactions = append(r.interactions, it)
}

// recordedBoundary replaces the random boundary of a multipart request, so
// that recording the same upload twice gives the same cassette.
const recordedBoundary = "zendesktest-recorded-boundary"

// fixBoundary replaces the boundary of a multipart Content-Type in the
// header and the body.
func fixBoundary(h http.Header, body []byte) (http.Header, []byte) {
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	boundary := params["boundary"]
	if err != nil || !strings.HasPrefix(mediaType, "multipart/") || boundary == "" || boundary == recordedBoundary {
		return h, body
	}
	params["boundary"] = recordedBoundary
	h.Set("Content-Type", mime.FormatMediaType(mediaType, params))
	return h, bytes.ReplaceAll(body, []byte("--"+boundary), []byte("--"+recordedBoundary))
}

// Interactions returns copies of the interactions recorded so far, in the
// order their responses arrived.
func (r *Recorder) Interactions() []Interaction {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Interaction, len(r.interactions))
	for i, it := range r.interactions {
		out[i] = it.clone()
	}
	return out
}

// Save writes the interactions recorded so far to path as a cassette (see
// Cassette.Save).
func (r *Recorder) Save(path string) error {
	c := &Cassette{Interactions: r.Interactions()}
	return c.Save(path)
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

func keepRequestHeader(name string) bool { return name == "Content-Type" }

func keepResponseHeader(name string) bool {
	switch name {
	case "Content-Type", "X-Zendesk-Request-Id", "Retry-After":
		return true
	}
	return strings.HasPrefix(name, "X-Rate-Limit") || strings.HasPrefix(name, "Ratelimit-")
}

// Interaction is one recorded request and its response.
type Interaction struct {
	Request  InteractionRequest  `json:"request"`
	Response InteractionResponse `json:"response"`
}

// InteractionRequest is the recorded part of a request.
type InteractionRequest struct {
	Method string `json:"method"`
	// Path is the escaped URL path, such as
	// /api/v2/tickets/1/side_conversations.
	Path string `json:"path"`
	// Query is the encoded query without "?", keys sorted, or "".
	Query  string          `json:"query,omitempty"`
	Header http.Header     `json:"header,omitempty"`
	Body   InteractionBody `json:"body,omitzero"`
}

// InteractionResponse is the recorded part of a response.
type InteractionResponse struct {
	Status int             `json:"status"`
	Header http.Header     `json:"header,omitempty"`
	Body   InteractionBody `json:"body,omitzero"`
}

// InteractionBody is a recorded body in the most readable form that
// replays it: at most one field is set, none for an empty body. JSON holds a
// JSON object or array (keys sorted), Text other UTF-8 text, and Base64
// anything else.
type InteractionBody struct {
	JSON   json.RawMessage `json:"json,omitempty"`
	Text   string          `json:"text,omitempty"`
	Base64 string          `json:"base64,omitempty"`
}

// Bytes returns the body to replay.
func (b InteractionBody) Bytes() ([]byte, error) {
	set := 0
	for _, ok := range []bool{len(b.JSON) > 0, b.Text != "", b.Base64 != ""} {
		if ok {
			set++
		}
	}
	switch {
	case set > 1:
		return nil, errors.New("the body has more than one of json, text and base64")
	case len(b.JSON) > 0:
		if !json.Valid(b.JSON) {
			return nil, errors.New("the json body is not valid JSON")
		}
		return slices.Clone(b.JSON), nil
	case b.Base64 != "":
		out, err := base64.StdEncoding.DecodeString(b.Base64)
		if err != nil {
			return nil, fmt.Errorf("the base64 body does not decode: %w", err)
		}
		return out, nil
	}
	return []byte(b.Text), nil
}

func (it Interaction) clone() Interaction {
	it.Request.Header = it.Request.Header.Clone()
	it.Request.Body.JSON = slices.Clone(it.Request.Body.JSON)
	it.Response.Header = it.Response.Header.Clone()
	it.Response.Body.JSON = slices.Clone(it.Response.Body.JSON)
	return it
}

// Cassette is a list of recorded interactions: what a Recorder saves and
// what LoadCassette reads, to replay through Transport or Register.
type Cassette struct {
	Interactions []Interaction `json:"interactions"`
}

// LoadCassette reads a cassette file written by Save. Unknown fields, and
// interactions without a method, a path starting with "/", a status or a
// readable body, are errors.
func LoadCassette(path string) (*Cassette, error) {
	data, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		return nil, fmt.Errorf("zendesktest: LoadCassette: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Cassette
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("zendesktest: LoadCassette %s: %w", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("zendesktest: LoadCassette %s: data after the cassette object", path)
	}
	for i, it := range c.Interactions {
		if err := it.validate(); err != nil {
			return nil, fmt.Errorf("zendesktest: LoadCassette %s: interaction %d (%s %s): %w", path, i, it.Request.Method, it.Request.Path, err)
		}
	}
	return &c, nil
}

func (it Interaction) validate() error {
	switch {
	case it.Request.Method == "" || strings.ContainsAny(it.Request.Method, " \t\r\n/"):
		return fmt.Errorf("the method %q is not an HTTP method", it.Request.Method)
	case !strings.HasPrefix(it.Request.Path, "/"):
		return fmt.Errorf("the path %q does not start with /", it.Request.Path)
	case it.Response.Status < 100 || it.Response.Status > 999:
		return fmt.Errorf("the status %d is not an HTTP status", it.Response.Status)
	}
	if _, err := it.Request.Body.Bytes(); err != nil {
		return fmt.Errorf("request: %w", err)
	}
	if _, err := it.Response.Body.Bytes(); err != nil {
		return fmt.Errorf("response: %w", err)
	}
	return nil
}

// Save writes the cassette to path as indented JSON, one object
// {"interactions": [...]} with a stable key order, so that recording the
// same answers again gives the same file. The file is replaced atomically
// and created readable by its owner only: review it before committing it.
// The directory must exist.
func (c *Cassette) Save(path string) error {
	out := Cassette{Interactions: c.Interactions}
	if out.Interactions == nil {
		out.Interactions = []Interaction{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("zendesktest: saving the cassette %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".cassette-*.json")
	if err != nil {
		return fmt.Errorf("zendesktest: saving the cassette %s: %w", path, err)
	}
	_, werr := tmp.Write(buf.Bytes())
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("zendesktest: saving the cassette %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("zendesktest: saving the cassette %s: %w", path, err)
	}
	return nil
}

// Transport returns an http.RoundTripper that answers from the cassette
// without any network. A request matches an interaction with the same
// method, path and query (compared as parsed values, in any order); the
// scheme and host are not compared. Repeated identical requests get the
// matching interactions in recorded order, the last one repeating. A request
// that matches none fails with an error naming its method and URL.
//
// Bodies are served as recorded, so links in them point at
// https://example.zendesk.com: a client made with
// zendesk.NewClient("example", creds, zendesk.WithHTTPClient(&http.Client{Transport: c.Transport()}))
// follows next_page links. Each call returns a transport with its own
// position in the cassette.
func (c *Cassette) Transport() http.RoundTripper {
	return &replayTransport{groups: c.groups(func(b []byte) []byte { return b })}
}

// Register registers on mt one responder per distinct method and URL of the
// cassette, at baseURL plus the recorded path (a baseURL ending in /api/v2
// is accepted as zendesk.WithBaseURL accepts it). Each responder answers
// with the recorded interactions in order, the last one repeating; a query
// is matched as parsed values, in any order. In the bodies,
// https://example.zendesk.com becomes baseURL, so a client made with
// zendesk.WithBaseURL(baseURL) and zendesk.WithHTTPClient(&http.Client{Transport: mt})
// follows next_page links.
func (c *Cassette) Register(mt *httpmock.MockTransport, baseURL string) {
	if mt == nil {
		return
	}
	root := strings.TrimSuffix(strings.TrimRight(baseURL, "/"), "/api/v2")
	rewrite := func(b []byte) []byte {
		return bytes.ReplaceAll(b, []byte(scrubbedOrigin), []byte(root))
	}
	for _, g := range c.groups(rewrite) {
		u := root + g.path
		responder := g.serve
		if len(g.query) == 0 {
			// httpmock falls back to the URL without its query; a recorded
			// request without one must not answer every query.
			responder = func(req *http.Request) (*http.Response, error) {
				if len(req.URL.Query()) > 0 {
					return nil, noInteraction(req)
				}
				return g.serve(req)
			}
			mt.RegisterResponder(g.method, u, responder)
			continue
		}
		mt.RegisterResponderWithQuery(g.method, u, g.query, responder)
	}
}

// replayGroup holds the interactions of one method, path and query.
type replayGroup struct {
	method string
	path   string // escaped, as recorded
	query  url.Values

	mu     sync.Mutex
	served int
	items  []replayItem
}

type replayItem struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// groups sorts the interactions by request key, in order, with each
// response body passed through rewrite.
func (c *Cassette) groups(rewrite func([]byte) []byte) map[string]*replayGroup {
	out := make(map[string]*replayGroup)
	for _, it := range c.Interactions {
		key := requestKey(it.Request.Method, pathKey(it.Request.Path), it.Request.Query)
		g, ok := out[key]
		if !ok {
			// A query that does not parse (Recorder never writes one)
			// is registered without it.
			q, _ := url.ParseQuery(it.Request.Query)
			g = &replayGroup{method: it.Request.Method, path: it.Request.Path, query: q}
			out[key] = g
		}
		body, err := it.Response.Body.Bytes()
		g.items = append(g.items, replayItem{
			status: it.Response.Status,
			header: it.Response.Header.Clone(),
			body:   rewrite(body),
			err:    err,
		})
	}
	return out
}

// serve answers with the next recorded interaction, or the last one again.
func (g *replayGroup) serve(req *http.Request) (*http.Response, error) {
	g.mu.Lock()
	item := g.items[min(g.served, len(g.items)-1)]
	g.served++
	g.mu.Unlock()
	if item.err != nil {
		return nil, fmt.Errorf("zendesktest: replaying %s %s: %w", req.Method, req.URL.Redacted(), item.err)
	}
	header := item.header
	if header == nil {
		header = make(http.Header)
	}
	return &http.Response{
		Status:        strconv.Itoa(item.status) + " " + http.StatusText(item.status),
		StatusCode:    item.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(item.body)),
		ContentLength: int64(len(item.body)),
		Request:       req,
	}, nil
}

type replayTransport struct {
	groups map[string]*replayGroup
}

func (t *replayTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	g, ok := t.groups[requestKey(method, req.URL.Path, req.URL.RawQuery)]
	if !ok {
		return nil, noInteraction(req)
	}
	return g.serve(req)
}

func noInteraction(req *http.Request) error {
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	return fmt.Errorf("zendesktest: the cassette has no interaction for %s %s", method, req.URL.Redacted())
}

// pathKey is the decoded form of an escaped path, for comparison.
func pathKey(escaped string) string {
	if p, err := url.PathUnescape(escaped); err == nil {
		return p
	}
	return escaped
}

// requestKey identifies a request by method, decoded path and query
// compared as parsed values: keys sorted and the values of a key sorted.
func requestKey(method, path, rawQuery string) string {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return method + " " + path + "?" + rawQuery
	}
	for _, vs := range q {
		sort.Strings(vs)
	}
	return method + " " + path + "?" + q.Encode()
}

// scrubber removes credentials and personal data from what a Recorder
// records. It keeps the mappings that make replacements consistent; the
// Recorder's lock guards it.
type scrubber struct {
	hosts    []string // lower case, longest first
	literals [][2]string
	// secrets are the credentials of the request being recorded.
	secrets []string

	// emails and names map the SHA-256 of a normalized address or name
	// to its replacement, so that the originals are not kept in memory.
	emails     map[[sha256.Size]byte]string
	keptEmails map[string]bool // example.com addresses seen
	emailSeq   int
	names      map[[sha256.Size]byte]string
}

func newScrubber() *scrubber {
	return &scrubber{
		emails:     make(map[[sha256.Size]byte]string),
		keptEmails: make(map[string]bool),
		names:      make(map[[sha256.Size]byte]string),
	}
}

func (s *scrubber) addHost(h string) {
	h = asciiLower(strings.TrimSpace(h))
	if h == "" || h == ScrubbedHost || slices.Contains(s.hosts, h) {
		return
	}
	s.hosts = append(s.hosts, h)
	sort.SliceStable(s.hosts, func(i, j int) bool { return len(s.hosts[i]) > len(s.hosts[j]) })
}

// text scrubs a string: literals, credentials, e-mail addresses, secrets in
// URLs, then hosts.
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

// query scrubs an encoded query: secret-looking parameters are redacted, and
// the rest scrubbed as text. The result is encoded with sorted keys.
func (s *scrubber) query(raw string) string {
	if raw == "" {
		return ""
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return s.text(raw)
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
	return out.Encode()
}

// header keeps the headers keep accepts, scrubbed as text.
func (s *scrubber) header(h http.Header, keep func(string) bool) http.Header {
	var out http.Header
	for k, vs := range h {
		ck := http.CanonicalHeaderKey(k)
		if !keep(ck) {
			continue
		}
		if out == nil {
			out = make(http.Header)
		}
		for _, v := range vs {
			out[ck] = append(out[ck], s.text(v))
		}
	}
	return out
}

// body scrubs a body and picks its recorded form.
func (s *scrubber) body(b []byte) InteractionBody {
	if len(b) == 0 {
		return InteractionBody{}
	}
	if j, ok := s.json(b); ok {
		return InteractionBody{JSON: j}
	}
	if utf8.Valid(b) {
		return InteractionBody{Text: s.text(string(b))}
	}
	return InteractionBody{Base64: base64.StdEncoding.EncodeToString([]byte(s.text(string(b))))}
}

// json scrubs a JSON object or array and encodes it again with sorted
// keys, numbers as they were, and HTML characters unescaped.
func (s *scrubber) json(b []byte) (json.RawMessage, bool) {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 || trimmed[0] != '{' && trimmed[0] != '[' || !json.Valid(trimmed) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s.value(v)); err != nil {
		return nil, false
	}
	return json.RawMessage(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), true
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
	sum := sha256.Sum256([]byte(strings.TrimSpace(n)))
	if r, ok := s.names[sum]; ok {
		return r
	}
	r := "Person " + strconv.Itoa(len(s.names)+1)
	s.names[sum] = r
	return r
}
