package zendesk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Version is the version of this module, sent in the default User-Agent.
const Version = "0.1.0"

const (
	defaultUserAgent = "sideconv-zendesk-go/" + Version
	// DefaultMaxResponseBytes bounds how much of a successful response body
	// the client reads; see WithMaxResponseBytes.
	DefaultMaxResponseBytes = 64 << 20
	// defaultTimeout bounds one attempt when the client builds its own
	// http.Client, so an unattended service never hangs on a dead connection.
	defaultTimeout = 60 * time.Second
)

// Client talks to the Zendesk API of one account. It is safe for concurrent
// use by many goroutines; create one and share it.
type Client struct {
	// SideConversations reaches the side conversation endpoints.
	SideConversations *SideConversationsService

	apiRoot    *url.URL // https://{subdomain}.zendesk.com/api/v2/
	apiRootStr string
	creds      Credentials
	http       *http.Client
	userAgent  string
	// userAgentHeader is the User-Agent header value, built once.
	userAgentHeader []string
	retry           RetryPolicy
	logger          *slog.Logger
	maxBody         int64
	maxUpload       int64
	// coord shares budgets, pauses and idempotency keys; account is the
	// name the client's state has there (the API host).
	coord   Coordinator
	account string
	// settle is how long a send that may have reached Zendesk is taken to
	// be still in progress; see WithSettleTime.
	settle time.Duration
	// now is the client's clock (tests replace it).
	now func() time.Time
	// states recycles the per-call retry state, whose callbacks are bound
	// to it once instead of on every call.
	states sync.Pool
}

type service struct{ client *Client }

// SideConversationsService reaches the side conversation endpoints of the
// API. Get it from Client.SideConversations.
type SideConversationsService service

// clientConfig collects what the options set before NewClient builds the
// client from it.
type clientConfig struct {
	baseURL     *url.URL
	insecure    bool
	httpClient  *http.Client
	userAgent   string
	retry       RetryPolicy
	noRetries   bool
	logger      *slog.Logger
	maxBody     int64
	rateLimits  *RateLimits
	coordinator Coordinator
	settle      time.Duration
}

// Option configures a Client in NewClient. An option given a bad value makes
// NewClient return an error.
type Option func(*clientConfig) error

// WithBaseURL replaces https://{subdomain}.zendesk.com, for example to reach
// a proxy or the zendesktest server. The API paths are appended as
// /api/v2/...; a rawURL already ending in /api/v2 is accepted as it is. Plain
// http is accepted only for loopback hosts unless WithInsecureHTTP is given
// too. The URL must not hold credentials, a query or a fragment.
func WithBaseURL(rawURL string) Option {
	return func(cfg *clientConfig) error {
		u, err := url.Parse(rawURL)
		if err != nil {
			return fmt.Errorf("zendesk: WithBaseURL: %w", err)
		}
		switch {
		case u.Scheme != "http" && u.Scheme != "https":
			return fmt.Errorf("zendesk: WithBaseURL: %q: the scheme must be https (or http for loopback)", rawURL)
		case u.Host == "":
			return fmt.Errorf("zendesk: WithBaseURL: %q has no host", rawURL)
		case u.User != nil:
			return errors.New("zendesk: WithBaseURL: the URL must not carry credentials; pass them to NewClient")
		case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
			return fmt.Errorf("zendesk: WithBaseURL: %q must not have a query or fragment", rawURL)
		}
		path := strings.TrimSuffix(u.Path, "/")
		path = strings.TrimSuffix(path, "/api/v2")
		u.Path = path + "/api/v2/"
		u.RawPath = ""
		cfg.baseURL = u
		return nil
	}
}

// WithInsecureHTTP allows a plain-http base URL on a host that is not
// loopback. Credentials then cross the network unencrypted: use it only
// inside a trusted network.
func WithInsecureHTTP() Option {
	return func(cfg *clientConfig) error {
		cfg.insecure = true
		return nil
	}
}

// WithHTTPClient sets the HTTP client under the retry layer: its Transport,
// Timeout, Jar and CheckRedirect are used. The client is never modified; the
// Client works on a copy whose transport adds the credentials to requests
// for the base URL's scheme and host only. Without this option the Client
// uses a copy of http.DefaultTransport with connections of its own, and a
// 60-second timeout per attempt.
func WithHTTPClient(hc *http.Client) Option {
	return func(cfg *clientConfig) error {
		if hc == nil {
			return errors.New("zendesk: WithHTTPClient: the client is nil")
		}
		cfg.httpClient = hc
		return nil
	}
}

// WithUserAgent prepends ua to the default User-Agent
// "sideconv-zendesk-go/<version>", so Zendesk can tell your integration apart.
func WithUserAgent(ua string) Option {
	return func(cfg *clientConfig) error {
		if strings.ContainsAny(ua, "\r\n\x00") {
			return errors.New("zendesk: WithUserAgent: the user agent must not contain line breaks")
		}
		cfg.userAgent = strings.TrimSpace(ua)
		return nil
	}
}

// WithRetryPolicy replaces the default retry policy. Zero fields take their
// defaults; see RetryPolicy.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(cfg *clientConfig) error {
		if err := p.validate(); err != nil {
			return err
		}
		cfg.retry = p
		cfg.noRetries = false
		return nil
	}
}

// WithoutRetries makes every request a single attempt.
func WithoutRetries() Option {
	return func(cfg *clientConfig) error {
		cfg.noRetries = true
		return nil
	}
}

// WithLogger sends debug lines for each request and each retry (method, URL,
// status, attempt, wait, request id) to l. Headers and bodies are never
// logged, so no credential reaches the log. A nil logger logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(cfg *clientConfig) error {
		cfg.logger = l
		return nil
	}
}

// WithMaxResponseBytes bounds how much of a successful response body is read
// (default DefaultMaxResponseBytes). A longer body fails the call with an
// error matching ErrInvalidResponse instead of being read into memory.
func WithMaxResponseBytes(n int64) Option {
	return func(cfg *clientConfig) error {
		if n <= 0 {
			return errors.New("zendesk: WithMaxResponseBytes: the limit must be positive")
		}
		cfg.maxBody = n
		return nil
	}
}

// NewClient returns a client for https://{subdomain}.zendesk.com. The
// subdomain must match ^[a-z0-9][a-z0-9-]{0,62}$ (it may be empty when
// WithBaseURL is given). It returns an error for a bad subdomain, missing
// credentials or a bad option; nothing is sent.
func NewClient(subdomain string, creds Credentials, opts ...Option) (*Client, error) {
	if creds == nil {
		return nil, errors.New("zendesk: NewClient: credentials are required (APIToken, BearerToken or OAuth)")
	}
	cfg := clientConfig{retry: DefaultRetryPolicy(), maxBody: DefaultMaxResponseBytes, settle: DefaultSettleTime}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	if subdomain != "" || cfg.baseURL == nil {
		if err := checkSubdomain(subdomain); err != nil {
			return nil, err
		}
	}
	root := cfg.baseURL
	if root == nil {
		root = &url.URL{Scheme: "https", Host: subdomain + ".zendesk.com", Path: "/api/v2/"}
	}
	if root.Scheme == "http" && !cfg.insecure && !isLoopback(root.Hostname()) {
		return nil, fmt.Errorf("zendesk: NewClient: refusing plain http to %s: use https, or WithInsecureHTTP inside a trusted network", root.Host)
	}
	coord := cfg.coordinator
	switch {
	case coord != nil && cfg.rateLimits != nil:
		return nil, errors.New("zendesk: NewClient: WithRateLimit configures the default coordinator; with WithCoordinator, give the limits to that coordinator")
	case coord == nil && cfg.rateLimits != nil:
		coord = newLocalCoordinator(*cfg.rateLimits)
	case coord == nil:
		coord = newLocalCoordinator(RateLimits{})
	}
	timeout := defaultTimeout
	if cfg.httpClient != nil {
		timeout = cfg.httpClient.Timeout
	}
	if timeout > 0 && cfg.settle < timeout {
		return nil, fmt.Errorf("zendesk: NewClient: the settle time (%s) is shorter than the HTTP client's timeout (%s): a send could still be in progress when it ends", cfg.settle, timeout)
	}

	c := &Client{
		apiRoot:    root,
		apiRootStr: root.String(),
		creds:      creds,
		userAgent:  defaultUserAgent,
		retry:      cfg.retry.withDefaults(),
		logger:     cfg.logger,
		maxBody:    cfg.maxBody,
		maxUpload:  MaxAttachmentBytes,
		coord:      coord,
		account:    strings.ToLower(root.Host),
		settle:     cfg.settle,
		now:        time.Now,
	}
	if cfg.noRetries {
		c.retry.MaxRetries = 0
	}
	if cfg.userAgent != "" {
		c.userAgent = cfg.userAgent + " " + defaultUserAgent
	}
	c.userAgentHeader = []string{c.userAgent}
	c.http = c.guardedHTTPClient(cfg.httpClient)
	c.SideConversations = &SideConversationsService{client: c}
	return c, nil
}

// BaseURL returns a copy of the API root the client sends requests to, such
// as https://acme.zendesk.com/api/v2/.
func (c *Client) BaseURL() *url.URL {
	u := *c.apiRoot
	return &u
}

func checkSubdomain(s string) error {
	if s == "" || len(s) > 63 {
		return fmt.Errorf("zendesk: NewClient: subdomain %q must be 1 to 63 characters of a-z, 0-9 and '-'", s)
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		ok := ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' && i > 0
		if !ok {
			return fmt.Errorf("zendesk: NewClient: subdomain %q must match ^[a-z0-9][a-z0-9-]{0,62}$ (just the name: acme for acme.zendesk.com)", s)
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// guardedHTTPClient copies hc (or builds a default client) and puts the
// client's credentials into its transport: each request to the API's own
// scheme and host is authorized on a copy as it is sent, so the request a
// caller can reach (Response.Request) never carries them, and a request
// anywhere else, a redirect included, goes without them. Only GET and HEAD
// follow redirects: a request with a body is never sent somewhere the
// client did not choose, nor turned into a GET; its 3xx answer is returned
// as an *APIError.
func (c *Client) guardedHTTPClient(hc *http.Client) *http.Client {
	var out http.Client
	if hc != nil {
		out = *hc
	} else {
		out.Timeout = defaultTimeout
		out.Transport = ownTransport()
	}
	out.Transport = &authTransport{client: c, base: out.Transport}
	userPolicy := out.CheckRedirect
	out.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if m := via[0].Method; m != http.MethodGet && m != http.MethodHead {
			return http.ErrUseLastResponse
		}
		if userPolicy != nil {
			err := userPolicy(req, via)
			switch {
			case err == nil:
				return nil
			case errors.Is(err, http.ErrUseLastResponse):
				// net/http compares with ==: hand it the sentinel itself.
				return http.ErrUseLastResponse
			}
			return &redirectError{err: err}
		}
		if len(via) >= 10 {
			return &redirectError{err: errors.New("stopped after 10 redirects")}
		}
		return nil
	}
	return &out
}

// ownTransport is the transport of a client built without WithHTTPClient:
// a copy of http.DefaultTransport (its proxy, dial and TLS settings) with
// connections of its own, so that neither the client nor the rest of the
// program closes the other's connections (httptest.Server.Close, for one,
// closes the idle connections of http.DefaultTransport).
func ownTransport() http.RoundTripper {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		return t.Clone()
	}
	return http.DefaultTransport
}

// authTransport authorizes the requests it sends to the API's origin. It
// deliberately has no CloseIdleConnections: the retry layer calls that
// after a failed call, and the connections of the transport under it (by
// default http.DefaultTransport) belong to the rest of the program too.
type authTransport struct {
	client *Client
	base   http.RoundTripper
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	if !t.client.sameOrigin(req.URL) {
		return base.RoundTrip(req)
	}
	// A shallow copy with its own header map: the original, which the
	// caller can reach through the response, stays without credentials.
	// The values are shared; nobody writes into them.
	authorized := new(http.Request)
	*authorized = *req
	authorized.Header = maps.Clone(req.Header)
	if authorized.Header == nil {
		authorized.Header = make(http.Header, 1)
	}
	var err error
	if fixed, ok := t.client.creds.(fixedAuthorization); ok {
		var v string
		if v, err = fixed.authorization(); err == nil {
			// A slice of its own: a transport under the client may
			// rewrite header values in place (to redact them, say).
			authorized.Header["Authorization"] = []string{v}
		}
	} else {
		err = t.client.creds.Authorize(authorized)
	}
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, &credentialError{err: err}
	}
	resp, err := base.RoundTrip(authorized)
	if resp != nil {
		resp.Request = req
	}
	return resp, err
}

// credentialError is a failure to apply the credentials: the request was
// not sent.
type credentialError struct{ err error }

func (e *credentialError) Error() string { return "applying credentials: " + e.err.Error() }
func (e *credentialError) Unwrap() error { return e.err }

// sameOrigin reports whether u has the API root's scheme and host, the only
// place credentials are sent.
func (c *Client) sameOrigin(u *url.URL) bool {
	return u.Scheme == c.apiRoot.Scheme && strings.EqualFold(u.Host, c.apiRoot.Host)
}

// Response wraps the HTTP response of a call with what Zendesk says about
// it. Its body has already been read and closed.
type Response struct {
	*http.Response

	// RequestID is the X-Zendesk-Request-Id header: quote it to Zendesk support.
	RequestID string
	// Rate is the rate-limit state Zendesk reported.
	Rate RateLimit
	// Attempts is 1 plus the number of retries made.
	Attempts int
	// NextPage and PreviousPage are the pagination links of a list, or "".
	NextPage, PreviousPage string
	// Count is the total number of records of a list, when Zendesk sends it.
	Count int
	// FoundByIdempotencyKey is set on the answer of a Create or Reply with
	// an IdempotencyKey when the result was found, not made by this call:
	// an earlier call, or an attempt whose answer was lost, had made it.
	FoundByIdempotencyKey bool
	// UnmatchedEvents are sideloaded events (include=events) whose side
	// conversation is not in this response. Zendesk sideloads the events of
	// the conversations it returns, so this is normally empty; ListIter
	// carries such events forward (at most MaxCarriedEvents of them) and
	// attaches them when their conversation appears on a later page.
	UnmatchedEvents []Event
}

// RateLimit is the rate-limit state of the last response: the budget that
// governed the request, read from the ratelimit-limit, ratelimit-remaining
// and ratelimit-reset headers, or from X-Rate-Limit and
// X-Rate-Limit-Remaining (the plan-wide budget) when those are missing. A
// field the response did not carry is -1 (Limit, Remaining) or 0 (Reset).
type RateLimit struct {
	Limit     int
	Remaining int
	Reset     time.Duration
}

// paginated is implemented by list envelopes so that do can lift their
// pagination fields into the Response.
type paginated interface {
	pagination() (next, previous string, count int)
}

// call describes one API request. Methods build it; do sends it.
type call struct {
	method string
	// url is the absolute URL: the API root plus an escaped path and query,
	// or a next_page link already checked to be on the API's origin.
	url string
	// body is sent as it is, with contentType; nil sends no body.
	body        []byte
	contentType string
	// accept is the Accept header; nil asks for JSON.
	accept []string
	// budget is the rate budget the request draws on; "" is BudgetPlan.
	budget Budget
}

func (c *Client) endpoint(path string, query url.Values) string {
	return withQuery(c.apiRootStr+path, query)
}

// requestBody is implemented by requests whose wire form is another
// value: encoding that value directly spares encoding/json a second pass
// over the output of their MarshalJSON.
type requestBody interface {
	requestBody() any
}

func jsonCall(method, u string, body any) (*call, error) {
	cl := &call{method: method, url: u}
	if rb, ok := body.(requestBody); ok {
		body = rb.requestBody()
	}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("zendesk: encoding the %s %s body: %w", method, u, err)
		}
		cl.body, cl.contentType = b, "application/json"
	}
	return cl, nil
}

// do sends cl through the retry layer and decodes a successful body into
// out. It is the one path every API method takes.
func (c *Client) do(ctx context.Context, cl *call, out any) (*Response, error) {
	if ctx == nil {
		return nil, invalid("ctx", "is nil; pass context.Background() or a request context")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("zendesk: %s %s: not sent: %w", cl.method, cl.url, err)
	}
	var body any
	if cl.body != nil {
		body = cl.body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, cl.method, cl.url, body)
	if err != nil {
		return nil, fmt.Errorf("zendesk: building %s %s: %w", cl.method, cl.url, err)
	}
	st := c.attempt(ctx, cl, out)
	h := req.Header
	h["Accept"] = acceptJSON
	if cl.accept != nil {
		h["Accept"] = cl.accept
	}
	h["User-Agent"] = c.userAgentHeader
	if cl.contentType != "" {
		h["Content-Type"] = []string{cl.contentType}
	}
	if err := c.admit(ctx, st.attempt); err != nil {
		c.release(st)
		return nil, &requestError{method: cl.method, url: cl.url, phase: "not sent: waiting for the rate limit", err: err}
	}

	start := time.Now()
	defer c.release(st)
	if out != nil {
		// Decoding inside the retry loop lets a GET whose body broke off
		// be tried again like any other failed read.
		req.SetResponseHandler(st.decodeHandler)
	}
	resp, err := st.rc.Do(req) //nolint:bodyclose // closed below, on every path
	if err != nil {
		var bad *decodeError
		if errors.As(err, &bad) && resp != nil {
			defer drainAndClose(resp.Body)
			r := newResponse(resp, st.attempts)
			c.logDone(ctx, cl, r, st.attempts, start, err)
			return r, &responseError{method: cl.method, url: cl.url, status: resp.StatusCode, requestID: r.RequestID, err: bad.err}
		}
		if resp != nil {
			drainAndClose(resp.Body)
		}
		c.logDone(ctx, cl, nil, st.attempts, start, withoutURL(err))
		return nil, st.transportError(err)
	}
	defer drainAndClose(resp.Body)

	r := newResponse(resp, st.attempts)
	c.logDone(ctx, cl, r, st.attempts, start, nil)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return r, newAPIError(cl, resp, r.RequestID, c.now())
	}
	if p, ok := out.(paginated); ok {
		r.NextPage, r.PreviousPage, r.Count = p.pagination()
	}
	return r, nil
}

// acceptJSON is the Accept header of every request. Header values are only
// read by net/http, so one slice serves every request.
var acceptJSON = []string{"application/json"}

// decodeSuccess decodes a 2xx body into out; other answers are left for the
// error path. A failure is a *decodeError, which the retry policy retries
// for idempotent methods when the body may decode another time.
func (c *Client) decodeSuccess(resp *http.Response, out any, attempt int, b *answerBody) error {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil
	}
	if d, ok := out.(*download); ok {
		return d.receive(resp.Body)
	}
	if attempt > 1 {
		// A broken earlier body may have filled part of out.
		reflect.ValueOf(out).Elem().SetZero()
	}
	if retryable, err := c.decodeBody(resp.Body, resp.ContentLength, out, b); err != nil {
		return &decodeError{err: err, final: !retryable}
	}
	if v, ok := out.(validated); ok {
		if err := v.validAnswer(); err != nil {
			return &decodeError{err: err, final: true}
		}
	}
	return nil
}

// validated is implemented by answers that can tell a usable value from an
// empty one, such as a conversation without an id.
type validated interface {
	validAnswer() error
}

// decodeError is a 2xx answer whose body could not be decoded. It is final
// when another attempt cannot help: a body too large or of the wrong shape.
type decodeError struct {
	err   error
	final bool
}

func (e *decodeError) Error() string { return e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

func newResponse(resp *http.Response, attempts int) *Response {
	h := resp.Header
	r := &Response{
		Response:  resp,
		RequestID: h.Get("X-Zendesk-Request-Id"),
		Attempts:  attempts,
		Rate:      RateLimit{Limit: -1, Remaining: -1},
	}
	// The ratelimit-* headers describe the budget that governs this very
	// request (for Create and Reply, their own); X-Rate-Limit* the plan.
	if v, ok := headerInt(h, "Ratelimit-Limit", "X-Rate-Limit"); ok {
		r.Rate.Limit = v
	}
	if v, ok := headerInt(h, "Ratelimit-Remaining", "X-Rate-Limit-Remaining"); ok {
		r.Rate.Remaining = v
	}
	if v, ok := headerInt(h, "Ratelimit-Reset"); ok && v > 0 {
		r.Rate.Reset = time.Duration(v) * time.Second
	}
	return r
}

// headerInt returns the leading integer of the first of keys present in h.
// Keys must be in canonical form.
func headerInt(h http.Header, keys ...string) (int, bool) {
	for _, k := range keys {
		vs := h[k]
		if len(vs) == 0 {
			continue
		}
		v := strings.TrimSpace(vs[0])
		end := 0
		for end < len(v) && v[end] >= '0' && v[end] <= '9' {
			end++
		}
		if n, err := strconv.Atoi(v[:end]); err == nil {
			return n, true
		}
	}
	return 0, false
}

func newAPIError(cl *call, resp *http.Response, requestID string, now time.Time) *APIError {
	e := &APIError{
		StatusCode: resp.StatusCode,
		Method:     cl.method,
		URL:        cl.url,
		RequestID:  requestID,
	}
	if d, ok := retryAfterOf(resp, now); ok {
		e.RetryAfter, e.hasRetryAfter = d, true
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyReadLimit))
	e.parseErrorBody(body)
	return e
}

// decodeBody reads body through the size limit into b's buffer (size is
// its length when known, else -1) and decodes it into out: the fast way
// when it can, else the tolerant way (see decoding.go). On failure it also
// reports whether another attempt might decode: true when the body broke
// off, was empty or was not JSON at all (a proxy's page), false when it
// was too large or whole JSON of the wrong shape.
func (c *Client) decodeBody(body io.Reader, size int64, out any, b *answerBody) (retryable bool, err error) {
	data, readErr := b.read(body, c.maxBody, size)
	if b.limit.exceeded {
		return false, fmt.Errorf("the body is larger than the client's %d-byte limit (see WithMaxResponseBytes); it was not read further: %w", c.maxBody, errBodyTooLarge)
	}
	first := firstByte(data)
	b.tolerant = false
	if first == '{' && decodeFast(data, out) == nil {
		return false, nil
	}
	// The tolerant way reads the bytes as the connection gave them, its
	// failure included, so that its errors tell what went wrong.
	b.tolerant = true
	err = decodeTolerant(&replay{data: data, err: readErr}, out)
	var syntaxErr *json.SyntaxError
	switch {
	case err == nil && first != '{':
		// null, a number or an array decode into a struct without a
		// word; none of them is an answer.
		return false, fmt.Errorf("the body is JSON but not an object (it starts with %q)", first)
	case err == nil:
		return false, nil
	case errors.Is(err, io.EOF):
		return true, errors.New("the body is empty")
	default:
		retryable = readErr != nil || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &syntaxErr)
		return retryable, fmt.Errorf("the body could not be decoded: %w", readableError(err))
	}
}

// decodeFast decodes a whole JSON object into out with json.Unmarshal.
func decodeFast(data []byte, out any) error {
	if a, ok := out.(answer); ok {
		return a.decodeFast(data)
	}
	return json.Unmarshal(data, out)
}

// decodeTolerant decodes the first JSON value of r into out.
func decodeTolerant(r io.Reader, out any) error {
	dec := json.NewDecoder(r)
	if a, ok := out.(answer); ok {
		return a.decodeTolerant(dec)
	}
	reflect.ValueOf(out).Elem().SetZero() // of what the fast way filled
	return dec.Decode(out)
}

// firstByte returns the first byte of data that is not white space, or 0.
func firstByte(data []byte) byte {
	for _, b := range data {
		if b != ' ' && b != '\t' && b != '\r' && b != '\n' {
			return b
		}
	}
	return 0
}

// answerBody is what a call keeps to read its answers: the size limit and
// a buffer, which the call's state keeps for the next call.
type answerBody struct {
	limit limitedBody
	buf   []byte
	// tolerant reports that the last body took the tolerant way.
	tolerant bool
}

// maxKeptBuffer is the largest buffer kept for the next call: a page of 100
// conversations with their sideloaded events fits in it, and the memory of
// a rare larger answer is left to the garbage collector.
const maxKeptBuffer = 1 << 20

// read reads body through the limit, into a buffer of at least size bytes
// when that is known. It returns what it read, and an error when the
// connection failed or the limit was exceeded.
func (b *answerBody) read(body io.Reader, limit, size int64) ([]byte, error) {
	b.limit = limitedBody{r: body, remaining: limit}
	buf := b.buf[:0]
	if size >= 0 {
		// One byte more, to read the end without growing.
		buf = slices.Grow(buf, int(min(size, limit, maxKeptBuffer))+1)
	}
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, max(512, len(buf)))
		}
		n, err := b.limit.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			b.buf = buf
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return buf, err
		}
	}
}

// reset forgets the last body, keeping a buffer that is not too large.
func (b *answerBody) reset() {
	buf := b.buf[:0]
	if cap(buf) > maxKeptBuffer {
		buf = nil
	}
	*b = answerBody{buf: buf}
}

// replay reads data, then fails with err as the connection did, or ends.
type replay struct {
	data []byte
	err  error
}

func (r *replay) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		return 0, io.EOF
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// limitedBody reads at most remaining bytes and then fails, so an oversized
// body ends the reading instead of filling memory.
type limitedBody struct {
	r         io.Reader
	remaining int64
	exceeded  bool
	readErr   error // a failure of the connection, not the end of the body
}

var errBodyTooLarge = errors.New("response body too large")

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.remaining <= 0 {
		// Only a body with more to give is too large.
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			l.exceeded = true
			return 0, errBodyTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.remaining {
		p = p[:l.remaining]
	}
	n, err := l.r.Read(p)
	l.remaining -= int64(n)
	if err != nil && err != io.EOF {
		l.readErr = err
	}
	return n, err
}

// responseError reports a successful status whose body could not be used.
type responseError struct {
	method, url string
	status      int
	requestID   string
	err         error
}

func (e *responseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "zendesk: %s %s: status %d, but %v", e.method, e.url, e.status, e.err)
	if e.method == http.MethodPost {
		b.WriteString(" (Zendesk accepted the request: it took effect)")
	}
	if e.requestID != "" {
		fmt.Fprintf(&b, " [request id %s]", e.requestID)
	}
	return b.String()
}

// Unwrap returns the cause, ErrInvalidResponse, and for a POST ErrMaybeSent:
// the request took effect although its result cannot be returned.
func (e *responseError) Unwrap() []error {
	errs := []error{e.err, ErrInvalidResponse}
	if e.method == http.MethodPost {
		errs = append(errs, ErrMaybeSent)
	}
	return errs
}

// drainAndClose reads a little of what is left (at most 4 KiB) so the
// connection can be reused, then closes the body.
func drainAndClose(body io.ReadCloser) {
	buf := drainBuffers.Get().(*[512]byte)
	for range 8 {
		if _, err := body.Read(buf[:]); err != nil {
			break
		}
	}
	drainBuffers.Put(buf)
	_ = body.Close()
}

// drainBuffers recycles drainAndClose's buffers: one handed to a Read
// would otherwise be allocated for every call.
var drainBuffers = sync.Pool{New: func() any { return new([512]byte) }}

func (c *Client) logDone(ctx context.Context, cl *call, r *Response, attempts int, start time.Time, err error) {
	if c.logger == nil || !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", cl.method),
		slog.String("url", cl.url),
		slog.Int("attempts", attempts),
		slog.Duration("elapsed", time.Since(start)),
	}
	if r != nil {
		attrs = append(attrs, slog.Int("status", r.StatusCode), slog.String("request_id", r.RequestID))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "zendesk request", attrs...)
}
