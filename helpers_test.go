package zendesk

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testEmail = "agent@example.com"
	testToken = "tok-5ecr3t-value-that-must-never-leak"
	testRoot  = "https://acme.zendesk.com/api/v2/"
	// testBasic is base64("agent@example.com/token:tok-5ecr3t-value-that-must-never-leak").
	testBasic = "Basic YWdlbnRAZXhhbXBsZS5jb20vdG9rZW46dG9rLTVlY3IzdC12YWx1ZS10aGF0LW11c3QtbmV2ZXItbGVhaw=="
	convID    = "8566255a-ece5-11e8-857d-493066fa7b17"
)

// waits records the pauses the retry layer asked for instead of sleeping,
// and moves a clock of its own by each of them: a client attached to it
// sees time pass exactly as it waits.
type waits struct {
	mu    sync.Mutex
	d     []time.Duration
	clock time.Time
}

// clockStart is where every test clock starts.
var clockStart = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func (w *waits) wait(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.clock = w.now().Add(d)
	w.mu.Unlock()
	return ctx.Err()
}

// now reads the clock; the caller holds w.mu, or calls it through nowFunc.
func (w *waits) now() time.Time {
	if w.clock.IsZero() {
		w.clock = clockStart
	}
	return w.clock
}

func (w *waits) nowFunc() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now()
}

// advance moves the clock as if d had passed without a wait.
func (w *waits) advance(d time.Duration) {
	w.mu.Lock()
	w.clock = w.now().Add(d)
	w.mu.Unlock()
}

// attach makes c and its default coordinator read w's clock.
func (w *waits) attach(c *Client) {
	setClock(c, w.nowFunc)
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

// newMockClient returns a client on a fresh httpmock transport whose retry
// waits are recorded, not slept.
func newMockClient(t testing.TB, opts ...Option) (*Client, *httpmock.MockTransport, *waits) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	w := &waits{}
	all := append([]Option{
		WithHTTPClient(&http.Client{Transport: mt}),
		WithRetryPolicy(RetryPolicy{Wait: w.wait}),
	}, opts...)
	c, err := NewClient("acme", APIToken(testEmail, testToken), all...)
	require.NoError(t, err)
	w.attach(c)
	return c, mt, w
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// captured is what one request carried.
type captured struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// recorder answers with fixed responses, in order (the last one repeats),
// and keeps every request.
type recorder struct {
	mu        sync.Mutex
	requests  []captured
	responses []func(*http.Request) (*http.Response, error)
}

func (r *recorder) respond(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}
	r.mu.Lock()
	r.requests = append(r.requests, captured{Method: req.Method, URL: req.URL.String(), Header: req.Header.Clone(), Body: body})
	i := min(len(r.requests)-1, len(r.responses)-1)
	next := r.responses[i]
	r.mu.Unlock()
	return next(req)
}

func (r *recorder) calls() []captured {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]captured(nil), r.requests...)
}

func (r *recorder) last(t testing.TB) captured {
	t.Helper()
	calls := r.calls()
	require.NotEmpty(t, calls, "no request reached the transport")
	return calls[len(calls)-1]
}

// reply builds a response with a body and headers given as key, value pairs.
func reply(status int, body string, headers ...string) func(*http.Request) (*http.Response, error) {
	return func(req *http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(status, body)
		resp.Request = req
		if len(body) > 0 && (body[0] == '{' || body[0] == '[') {
			resp.Header.Set("Content-Type", "application/json; charset=utf-8")
		}
		for i := 0; i+1 < len(headers); i += 2 {
			resp.Header.Set(headers[i], headers[i+1])
		}
		return resp, nil
	}
}

// register installs a recorder for method and URL on mt.
func register(mt *httpmock.MockTransport, method, url string, responses ...func(*http.Request) (*http.Response, error)) *recorder {
	r := &recorder{responses: responses}
	mt.RegisterResponder(method, url, r.respond)
	return r
}

// assertJSONEquivalent compares two JSON documents by value, treating two
// strings that are the same instant in RFC 3339 as equal.
func assertJSONEquivalent(t testing.TB, want, got []byte) {
	t.Helper()
	var w, g any
	require.NoError(t, json.Unmarshal(want, &w), "want is not JSON")
	require.NoError(t, json.Unmarshal(got, &g), "got is not JSON: %s", got)
	assert.Equal(t, normalizeTimes(w), normalizeTimes(g))
}

func normalizeTimes(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeTimes(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeTimes(e)
		}
	case string:
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return t.UTC().Format(time.RFC3339Nano)
		}
	}
	return v
}

// noCalls asserts that nothing reached the transport.
func noCalls(t testing.TB, mt *httpmock.MockTransport) {
	t.Helper()
	assert.Zero(t, mt.GetTotalCallCount(), "a request was sent: %v", mt.GetCallCountInfo())
}
