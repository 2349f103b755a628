package zendesktest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/jarcoal/httpmock"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
)

// RegisterCassette registers the interactions of a go-vcr cassette on an
// httpmock transport, for tests that already inject one: one responder per
// method and URL path, at baseURL plus the recorded path (a baseURL ending
// in /api/v2 is accepted, as zendesk.WithBaseURL accepts it).
//
//	cas, err := cassette.Load("testdata/cassettes/show")
//	err = zendesktest.RegisterCassette(mt, cas, "https://mock.test")
//	client, err := zendesk.NewClient("", creds, zendesk.WithBaseURL("https://mock.test"),
//		zendesk.WithHTTPClient(&http.Client{Transport: mt}))
//
// A request gets the first interaction of its method and path not yet
// answered that Matcher, given opts, finds equal to it; each answers once.
// A request that none answers fails with an error naming its method and
// URL. In the response bodies, https://example.zendesk.com (ScrubbedHost)
// becomes baseURL, so the client follows next_page links. Responders
// registered earlier for the same method and URL are replaced.
func RegisterCassette(mt *httpmock.MockTransport, c *cassette.Cassette, baseURL string, opts ...ScrubOption) error {
	if mt == nil || c == nil {
		return errors.New("zendesktest: RegisterCassette needs a transport and a cassette")
	}
	root := strings.TrimSuffix(strings.TrimRight(baseURL, "/"), "/api/v2")
	if u, err := url.Parse(root); err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("zendesktest: RegisterCassette: the base URL %q is not an absolute URL", baseURL)
	}
	cfg := newScrubConfig(opts)
	groups := make(map[string]*mockGroup)
	var order []string
	for n, it := range c.Interactions {
		u, err := url.Parse(it.Request.URL)
		if err != nil {
			return fmt.Errorf("zendesktest: RegisterCassette: interaction %d: %w", n, err)
		}
		key := it.Request.Method + " " + root + u.EscapedPath()
		g, ok := groups[key]
		if !ok {
			g = &mockGroup{cfg: cfg, root: root}
			groups[key] = g
			order = append(order, key)
		}
		g.items = append(g.items, it)
	}
	for _, key := range order {
		method, u, _ := strings.Cut(key, " ")
		mt.RegisterResponder(method, u, groups[key].respond)
	}
	return nil
}

// mockGroup answers the requests of one method and path.
type mockGroup struct {
	cfg  scrubConfig
	root string

	mu       sync.Mutex
	items    []*cassette.Interaction
	answered []bool
}

func (g *mockGroup) respond(req *http.Request) (*http.Response, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.answered == nil {
		g.answered = make([]bool, len(g.items))
	}
	for n, it := range g.items {
		if g.answered[n] || !matches(g.cfg, req, it.Request) {
			continue
		}
		g.answered[n] = true
		return g.response(req, it.Response), nil
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	return nil, fmt.Errorf("zendesktest: the cassette has no interaction left for %s %s", method, req.URL.Redacted())
}

func (g *mockGroup) response(req *http.Request, rec cassette.Response) *http.Response {
	body := strings.ReplaceAll(rec.Body, scrubbedOrigin, g.root)
	status := rec.Status
	if status == "" {
		status = strconv.Itoa(rec.Code) + " " + http.StatusText(rec.Code)
	}
	header := http.Header(rec.Headers).Clone()
	if header == nil {
		header = make(http.Header)
	}
	return &http.Response{
		Status:        status,
		StatusCode:    rec.Code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
