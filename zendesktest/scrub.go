package zendesktest

import (
	"net/url"

	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"
)

// ScrubOption adds a rule to Scrub, Matcher, VCR and RegisterCassette.
type ScrubOption func(*scrubConfig)

type scrubConfig struct {
	hosts    []string
	literals [][2]string
}

func newScrubConfig(opts []ScrubOption) scrubConfig {
	var cfg scrubConfig
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	return cfg
}

// ScrubHost adds hosts (such as a brand's host "support.acme.com") to
// replace by example.zendesk.com, besides the host of each recorded
// request, which always is. A host may carry a port. Empty strings are
// ignored.
func ScrubHost(hosts ...string) ScrubOption {
	return func(c *scrubConfig) {
		for _, h := range hosts {
			if h != "" {
				c.hosts = append(c.hosts, h)
			}
		}
	}
}

// ScrubString replaces every occurrence of value with replacement in
// everything recorded, before the other rules: for a company name, a
// customer's name in message bodies, or an id that should not be
// published. An empty value is ignored. Give the same option to Matcher
// (VCR does), so that a request carrying value still matches.
func ScrubString(value, replacement string) ScrubOption {
	return func(c *scrubConfig) {
		if value != "" {
			c.literals = append(c.literals, [2]string{value, replacement})
		}
	}
}

// Scrub returns a go-vcr recorder option that removes credentials and
// personal data from every interaction the recorder captures, before it is
// kept in memory or written to disk:
//
//	rec, err := recorder.New("testdata/cassettes/escalation", zendesktest.Scrub())
//
// It adds two hooks. The recorder.AfterCaptureHook applies these rules the
// moment an interaction is captured:
//
//   - no header is kept but the request's Content-Type and the response's
//     Content-Type, X-Zendesk-Request-Id, Retry-After, X-Rate-Limit* and
//     ratelimit-* headers: never Authorization, never cookies; and should
//     the token or Authorization value a request carried appear anywhere
//     else in it, it becomes "[REDACTED]";
//   - every e-mail address (also URL-encoded as %40) becomes
//     userN@example.com, the same address always the same N; addresses at
//     example.com, example.net and example.org (reserved for examples) are
//     kept;
//   - the values of secret-looking JSON keys, query parameters and form
//     values (token, access_token, refresh_token, password, api_token,
//     secret, client_secret, api_key, authorization, and any key ending in
//     _token, _secret or _password; case-insensitive) become "[REDACTED]",
//     as do path segments after /token/ and secret-looking query
//     parameters inside URLs; user info in the request URL is dropped;
//   - the "name" of a person (a JSON object that also has "email" or
//     "user_id") becomes "Person N", consistently;
//   - the strings given to ScrubString are replaced everywhere;
//   - a multipart request's random boundary becomes a fixed one, and the
//     recorded duration becomes zero, so that recording the same calls
//     twice gives the same cassette.
//
// JSON bodies are stored indented with their keys sorted; other text is
// stored as text. Subjects and message bodies are kept apart from the
// e-mail addresses in them: review a cassette before committing it.
//
// go-vcr answers the caller with the interaction as captured, so during
// recording the client already sees the scrubbed bodies and headers: a
// test sees the same addresses, names and values whether it records or
// replays.
//
// The recorder.BeforeSaveHook replaces the host of every recorded request,
// and the hosts given to ScrubHost, by example.zendesk.com (ScrubbedHost)
// wherever they appear: "http://127.0.0.1:PORT/api/v2/..." and
// "https://acme.zendesk.com/api/v2/..." both become
// "https://example.zendesk.com/api/v2/...". It runs when the cassette is
// saved rather than captured, so that during recording the client still
// follows next_page links to the account it records.
//
// Each recorder given the option gets its own numbering of addresses and
// names. go-vcr's default matcher compares hosts and headers, which a
// scrubbed cassette no longer holds: replay with Matcher, or use VCR, which
// adds both.
func Scrub(opts ...ScrubOption) recorder.Option {
	cfg := newScrubConfig(opts)
	return func(r *recorder.Recorder) {
		s := newScrubber(cfg, false)
		recorder.WithHook(s.afterCapture, recorder.AfterCaptureHook)(r)
		recorder.WithHook(s.beforeSave, recorder.BeforeSaveHook)(r)
	}
}

// afterCapture scrubs a captured interaction of everything but hosts. It
// replaces the header maps rather than editing them: go-vcr captures the
// live request's own header.
func (s *scrubber) afterCapture(i *cassette.Interaction) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, resp := &i.Request, &i.Response

	s.secrets = credentialsOf(req.Headers.Get("Authorization"))
	defer func() { s.secrets = nil }()
	if u, err := url.Parse(req.URL); err == nil {
		s.addHost(u.Host)
	}
	s.addHost(req.Host)

	contentType, body := fixBoundary(req.Headers.Get("Content-Type"), req.Body)
	req.Headers = s.header(req.Headers, keepRequestHeader)
	if contentType != "" {
		req.Headers.Set("Content-Type", s.text(contentType))
	}
	req.Body = s.body(body)
	req.ContentLength = int64(len(req.Body))
	req.URL = s.url(req.URL)
	req.Form = s.values(req.Form)
	req.Host = s.text(req.Host)
	req.RemoteAddr, req.RequestURI, req.Trailer = "", "", nil

	resp.Headers = s.header(resp.Headers, keepResponseHeader)
	resp.Body = s.body(resp.Body)
	resp.ContentLength = int64(len(resp.Body))
	resp.Trailer = nil
	resp.Duration = 0
	return nil
}

// beforeSave replaces the hosts seen and configured, everywhere.
func (s *scrubber) beforeSave(i *cassette.Interaction) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, resp := &i.Request, &i.Response
	req.URL = s.hostsIn(req.URL)
	req.Host = s.hostsIn(req.Host)
	req.Body = s.hostsIn(req.Body)
	req.ContentLength = int64(len(req.Body))
	req.Form = s.hostsInValues(req.Form)
	req.Headers = s.hostsInValues(req.Headers)
	resp.Headers = s.hostsInValues(resp.Headers)
	resp.Body = s.hostsIn(resp.Body)
	resp.ContentLength = int64(len(resp.Body))
	return nil
}

// hostsInValues returns a copy of header or form values with hosts
// replaced. It copies because go-vcr hands the captured response's header
// to the caller.
func (s *scrubber) hostsInValues(in map[string][]string) map[string][]string {
	if in == nil {
		return nil
	}
	out := make(map[string][]string, len(in))
	for k, vs := range in {
		for _, v := range vs {
			out[k] = append(out[k], s.hostsIn(v))
		}
	}
	return out
}

// url scrubs a request URL: user info and fragment are dropped, the path
// is scrubbed as text and the query as values. The host stays for
// beforeSave.
func (s *scrubber) url(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return s.text(raw)
	}
	out := s.text(u.EscapedPath())
	if u.Host != "" {
		out = u.Scheme + "://" + u.Host + out
	}
	if u.RawQuery != "" {
		out += "?" + s.query(u.RawQuery)
	}
	return out
}
