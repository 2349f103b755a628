package zendesktest

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"

	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"
)

// VCR returns the go-vcr recorder option for recording and replaying this
// SDK's calls: Scrub's hooks, Matcher, no replayed latency, and go-vcr's
// debug log off. Add the mode:
//
//	// Record once from your account (ModeRecordOnly), then replay in CI
//	// without network:
//	rec, err := recorder.New("testdata/cassettes/escalation",
//		zendesktest.VCR(), recorder.WithMode(recorder.ModeReplayOnly))
//	client, err := zendesk.NewClient("example", creds,
//		zendesk.WithHTTPClient(&http.Client{Transport: rec}))
//	defer rec.Stop() // saves the cassette when recording
//
// A replaying client is made for the subdomain "example" (ScrubbedHost),
// so that it follows the recorded next_page links. Each interaction
// answers once, in recorded order; a request that none answers fails with
// cassette.ErrInteractionNotFound. Give the same options as to Scrub.
//
// go-vcr's debug log (VCR_DEBUG) prints the requests it sees, their
// Authorization header included, so VCR turns it off; an explicit
// recorder.WithDebugWriter after VCR turns it on again.
func VCR(opts ...ScrubOption) recorder.Option {
	scrub := Scrub(opts...)
	match := Matcher(opts...)
	return func(r *recorder.Recorder) {
		scrub(r)
		recorder.WithMatcher(match)(r)
		recorder.WithSkipRequestLatency(true)(r)
		recorder.WithDebugWriter(silent{})(r)
	}
}

// silent discards go-vcr's debug log. It is not io.Discard, which go-vcr
// replaces with stderr when VCR_DEBUG is set.
type silent struct{}

func (silent) Write(p []byte) (int, error) { return len(p), nil }

// Matcher returns a go-vcr matcher that compares a request with a recorded
// one the way Scrub left it:
//
//   - the method and the decoded URL path; not the scheme or host, which
//     were scrubbed;
//   - the query as parsed values, in any order;
//   - the body: JSON as values (key order and spacing do not matter),
//     multipart with its boundary ignored, other text as it is;
//   - in the query and the body, every e-mail address, person's name,
//     secret-looking value and credential compares equal to any other, as
//     Scrub's stand-ins (user1@example.com, "Person 1", "[REDACTED]")
//     replaced them; the strings given to ScrubString are replaced first.
//
// Headers are not compared.
func Matcher(opts ...ScrubOption) recorder.MatcherFunc {
	cfg := newScrubConfig(opts)
	return func(r *http.Request, rec cassette.Request) bool {
		return matches(cfg, r, rec)
	}
}

func matches(cfg scrubConfig, r *http.Request, rec cassette.Request) bool {
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	u, err := url.Parse(rec.URL)
	if err != nil || method != rec.Method || r.URL.Path != u.Path {
		return false
	}
	live, recorded := newScrubber(cfg, true), newScrubber(cfg, true)
	live.addHost(r.URL.Host)
	live.addHost(r.Host)
	live.secrets = credentialsOf(r.Header.Get("Authorization"))
	if !sameQuery(live, recorded, r.URL.RawQuery, u.RawQuery) {
		return false
	}
	body, ok := readBody(r)
	return ok && sameBody(live, recorded, r.Header.Get("Content-Type"), body, rec.Body)
}

// readBody reads a request body and puts an unread copy back.
func readBody(r *http.Request) (string, bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return "", true
	}
	b, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	return string(b), err == nil
}

func sameQuery(live, recorded *scrubber, liveRaw, recRaw string) bool {
	lq, lerr := url.ParseQuery(liveRaw)
	rq, rerr := url.ParseQuery(recRaw)
	if lerr != nil || rerr != nil {
		return live.text(liveRaw) == recorded.text(recRaw)
	}
	return canonicalQuery(live.values(lq)) == canonicalQuery(recorded.values(rq))
}

// canonicalQuery encodes query values with keys and the values of each
// key sorted.
func canonicalQuery(q url.Values) string {
	for _, vs := range q {
		slices.Sort(vs)
	}
	return q.Encode()
}

func sameBody(live, recorded *scrubber, liveContentType, liveBody, recBody string) bool {
	_, liveBody = fixBoundary(liveContentType, liveBody)
	lv, lok := decodeJSONValue(liveBody)
	rv, rok := decodeJSONValue(recBody)
	if lok && rok {
		return reflect.DeepEqual(live.value(lv), recorded.value(rv))
	}
	return live.text(liveBody) == recorded.text(recBody)
}
