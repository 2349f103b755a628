package zendesk

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// ErrMaybeSent is matched when a POST (Create, Reply, Import, ImportEvents,
// UploadAttachment) failed in a way that leaves open whether Zendesk acted
// on it: the connection broke after the request was written, the call timed
// out waiting for the answer, Zendesk answered a 5xx status other than 501,
// 505 and a 503 with Retry-After (500, 502, 504, 520, 524, ...), or it
// answered 2xx with a body that could not be read. The client never resends
// such a request by itself, because a side conversation e-mail sent twice
// cannot be taken back. Look before sending again, or set an IdempotencyKey
// and let the client look for you.
var ErrMaybeSent = errors.New("zendesk: the request may have reached Zendesk")

// RetryPolicy decides which failed attempts are tried again and how long the
// client waits in between. Zero fields take the defaults of
// DefaultRetryPolicy.
//
// The rules are fixed, because they are what makes retrying safe: a 429 is
// retried on any method (Zendesk did not process the request), waiting for
// its Retry-After; a 503 with Retry-After likewise; other 5xx answers except
// 501 and 505, and transport errors, only for GET, PUT and DELETE. A POST is
// never resent after a failure that may have reached Zendesk (the same
// failures match ErrMaybeSent); it is resent after a dial error, when
// nothing was sent.
type RetryPolicy struct {
	// MaxRetries is the number of retries after the first attempt (default
	// 3). Zero means the default; a negative value, or WithoutRetries,
	// turns retries off.
	MaxRetries int
	// MinWait and MaxWait bound the exponential backoff with full jitter
	// used when the server gives no Retry-After (defaults 500ms and 30s).
	MinWait, MaxWait time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits for
	// (default 60s). A longer one ends the call at once with an *APIError
	// whose RetryAfter is set, so a job runner can reschedule the work.
	MaxRetryAfter time.Duration
	// OnRetry, if set, is called before each wait with what failed and how
	// long the client will wait. It runs on the calling goroutine.
	OnRetry func(RetryInfo)
	// Wait, if set, replaces the pause between attempts. It must return
	// ctx.Err() promptly when ctx ends. Tests use it to skip or record the
	// waits instead of sleeping; nil waits on a timer.
	Wait func(ctx context.Context, d time.Duration) error
}

// RetryInfo describes one retry about to happen.
type RetryInfo struct {
	Method string
	// URL is the request URL; it never holds credentials.
	URL string
	// Attempt is the number of the attempt that failed, starting at 1.
	Attempt int
	// StatusCode is the status of the failed attempt, or 0 after a
	// transport error.
	StatusCode int
	// Err is the transport error of the failed attempt, or nil.
	Err error
	// RequestID is the X-Zendesk-Request-Id of the failed attempt, if any.
	RequestID string
	// Wait is the pause before the next attempt.
	Wait time.Duration
}

// DefaultRetryPolicy returns the policy a Client uses unless told otherwise:
// 3 retries, backoff between 500ms and 30s, Retry-After honoured up to 60s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MaxRetries:    3,
		MinWait:       500 * time.Millisecond,
		MaxWait:       30 * time.Second,
		MaxRetryAfter: 60 * time.Second,
	}
}

func (p RetryPolicy) validate() error {
	switch {
	case p.MinWait < 0:
		return errors.New("zendesk: RetryPolicy.MinWait is negative")
	case p.MaxWait < 0:
		return errors.New("zendesk: RetryPolicy.MaxWait is negative")
	case p.MaxRetryAfter < 0:
		return errors.New("zendesk: RetryPolicy.MaxRetryAfter is negative")
	case p.MinWait > 0 && p.MaxWait > 0 && p.MinWait > p.MaxWait:
		return fmt.Errorf("zendesk: RetryPolicy.MinWait (%s) is longer than MaxWait (%s)", p.MinWait, p.MaxWait)
	}
	return nil
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy()
	switch {
	case p.MaxRetries == 0:
		p.MaxRetries = d.MaxRetries
	case p.MaxRetries < 0:
		p.MaxRetries = 0
	}
	if p.MinWait == 0 {
		p.MinWait = d.MinWait
	}
	if p.MaxWait == 0 {
		p.MaxWait = max(d.MaxWait, p.MinWait)
	}
	if p.MaxRetryAfter == 0 {
		p.MaxRetryAfter = d.MaxRetryAfter
	}
	return p
}

// shouldRetry applies the retry rules to the outcome of one attempt.
// retryAfter is the Retry-After of the attempt's answer, read once.
func (p RetryPolicy) shouldRetry(method string, resp *http.Response, err error, ra time.Duration, hasRA bool) bool {
	if err != nil {
		if isDialError(err) {
			return true // nothing was sent
		}
		return idempotent(method) && !isPermanentTransportError(err)
	}
	switch statusOutcome(resp.StatusCode, hasRA) {
	case notProcessed:
		// Wait for the Retry-After, unless it is longer than the client
		// waits: the caller then learns when to come back.
		return !hasRA || ra <= p.MaxRetryAfter
	case maybeProcessed:
		return idempotent(method)
	}
	return false
}

// processing is what an answer says of whether the server acted on the
// request.
type processing uint8

const (
	// processed: the server acted on the request, or refused it for good.
	processed processing = iota
	// notProcessed: the server asks for the request again (429, 503 with
	// Retry-After); resending it cannot make a duplicate.
	notProcessed
	// maybeProcessed: the answer leaves open whether the server acted on
	// it (a 5xx from the server or a proxy in front of it).
	maybeProcessed
)

// statusOutcome classifies a status. It is the one classification behind
// both the retry rules and ErrMaybeSent: a POST is resent exactly when it
// was notProcessed, and its failure matches ErrMaybeSent exactly when it was
// maybeProcessed. 501 and 505 refuse the request before any processing.
func statusOutcome(code int, hasRetryAfter bool) processing {
	switch {
	case code == http.StatusTooManyRequests:
		return notProcessed
	case code == http.StatusServiceUnavailable && hasRetryAfter:
		return notProcessed
	case code == http.StatusNotImplemented || code == http.StatusHTTPVersionNotSupported:
		return processed
	case code >= 500 && code <= 599:
		return maybeProcessed
	}
	return processed
}

// waitBefore returns the pause before retry number attempt (0-based): the
// server's Retry-After when it sent one, else the jittered backoff.
func (p RetryPolicy) waitBefore(attempt int, ra time.Duration, hasRA bool) time.Duration {
	if hasRA {
		return ra
	}
	return p.backoff(attempt)
}

// backoff is exponential backoff with full jitter: a random pause between
// MinWait and min(MaxWait, MinWait·2^attempt).
func (p RetryPolicy) backoff(attempt int) time.Duration {
	ceiling := p.MaxWait
	if attempt < 32 {
		if c := p.MinWait << attempt; c > 0 && c < ceiling {
			ceiling = c
		}
	}
	if ceiling <= p.MinWait {
		return p.MinWait
	}
	return p.MinWait + rand.N(ceiling-p.MinWait+1) //nolint:gosec // jitter needs spread, not secrecy
}

func (p RetryPolicy) sleep(ctx context.Context, d time.Duration) error {
	if p.Wait != nil {
		return p.Wait(ctx, d)
	}
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// isDialError reports whether err happened before any byte of the request
// left: a failed DNS lookup or a refused connection.
func isDialError(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr)
}

// isPermanentTransportError reports errors that another attempt cannot fix.
func isPermanentTransportError(err error) bool {
	var certErr *tls.CertificateVerificationError
	var redirErr *redirectError
	var decErr *decodeError
	var credErr *credentialError
	return errors.As(err, &certErr) || errors.As(err, &redirErr) || errors.As(err, &credErr) ||
		errors.As(err, &decErr) && decErr.final
}

// redirectError is returned by the client's redirect policy.
type redirectError struct{ err error }

func (e *redirectError) Error() string { return e.err.Error() }
func (e *redirectError) Unwrap() error { return e.err }

// retryAfterOf reads the Retry-After of a 429 or 503 answer; an HTTP date
// is read against now.
func retryAfterOf(resp *http.Response, now time.Time) (time.Duration, bool) {
	if resp == nil || resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0, false
	}
	return parseRetryAfter(resp.Header.Get("Retry-After"), now)
}

// maxRetryAfter caps absurd Retry-After values so the arithmetic stays sane;
// anything this long is longer than any MaxRetryAfter.
const maxRetryAfter = 1000 * 24 * time.Hour

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date
// (RFC 9110). A date in the past means no wait. It reports false for a
// missing or malformed value.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			var numErr *strconv.NumError
			if errors.As(err, &numErr) && errors.Is(numErr.Err, strconv.ErrRange) {
				return maxRetryAfter, true
			}
			return 0, false
		}
		if secs > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	switch {
	case d < 0:
		return 0, true
	case d > maxRetryAfter:
		return maxRetryAfter, true
	}
	return d, true
}

// attemptState carries one call through the retry layer: it counts attempts,
// applies the policy, waits, and re-authorizes each new attempt. The
// client recycles states; rc's callbacks are bound to their state once.
type attemptState struct {
	rc            retryablehttp.Client
	decodeHandler retryablehttp.ResponseHandlerFunc

	client      *Client
	ctx         context.Context
	method, url string
	attempt     Attempt
	out         any
	// body reads the answers: the size limit, and a buffer kept from call
	// to call.
	body answerBody

	attempts int
	// answered is the last attempt reported to the coordinator.
	answered int
	// retryAfter is the Retry-After of the last answer, read once so the
	// coordinator and the backoff agree on it.
	retryAfter    time.Duration
	hasRetryAfter bool
	lastErr       error
	lastResp      *http.Response
	// betweenAttempts is true from the decision to retry until the next
	// attempt starts: a failure then happened while nothing was in flight.
	betweenAttempts bool
	waitErr         error
}

// attempt returns a state for one call of cl, decoding into out.
func (c *Client) attempt(ctx context.Context, cl *call, out any) *attemptState {
	s, _ := c.states.Get().(*attemptState)
	if s == nil {
		s = &attemptState{client: c}
		s.rc = retryablehttp.Client{
			HTTPClient:     c.http,
			RetryMax:       c.retry.MaxRetries,
			RetryWaitMin:   c.retry.MinWait,
			RetryWaitMax:   c.retry.MaxWait,
			CheckRetry:     s.checkRetry,
			Backoff:        s.backoff,
			PrepareRetry:   s.prepareRetry,
			RequestLogHook: s.countAttempt,
			ErrorHandler:   retryablehttp.PassthroughErrorHandler,
		}
		s.decodeHandler = func(resp *http.Response) error { return c.decodeSuccess(resp, s.out, s.attempts, &s.body) }
	}
	s.ctx, s.method, s.url, s.out = ctx, cl.method, cl.url, out
	s.attempt = Attempt{Account: c.account, Budget: cl.budget, MaxWait: c.retry.MaxRetryAfter}
	if s.attempt.Budget == "" {
		s.attempt.Budget = BudgetPlan
	}
	return s
}

// release clears what a call left in s and recycles it.
func (c *Client) release(s *attemptState) {
	s.ctx, s.out, s.lastErr, s.lastResp, s.waitErr = nil, nil, nil, nil, nil
	s.body.reset()
	s.method, s.url = "", ""
	s.attempts, s.answered, s.betweenAttempts = 0, 0, false
	s.retryAfter, s.hasRetryAfter = 0, false
	c.states.Put(s)
}

// countAttempt runs before each attempt (the retry loop's request hook).
func (s *attemptState) countAttempt(_ retryablehttp.Logger, _ *http.Request, retry int) {
	s.attempts = retry + 1
}

// checkRetry runs after each attempt, and once more after the response
// handler when that decoded the body.
func (s *attemptState) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	s.lastErr, s.lastResp = withoutURL(err), resp
	if s.answered < s.attempts {
		// Once per attempt: the retry loop asks again after decoding.
		s.answered = s.attempts
		s.retryAfter, s.hasRetryAfter = retryAfterOf(resp, s.client.now())
		ans := answerOf(resp, s.attempt.Budget)
		ans.RetryAfter = s.retryAfter
		s.client.coord.Done(s.ctx, s.attempt, ans)
	}
	if ctx.Err() != nil {
		return false, nil
	}
	return s.client.retry.shouldRetry(s.method, resp, err, s.retryAfter, s.hasRetryAfter), nil
}

// backoff does the waiting itself, so that the wait is cancellable through
// the call's context, replaceable by RetryPolicy.Wait, and reported to
// OnRetry and the logger; it returns 0 to the retry loop.
func (s *attemptState) backoff(_, _ time.Duration, attemptNum int, resp *http.Response) time.Duration {
	s.betweenAttempts = true
	p := &s.client.retry
	// A pause Zendesk announced to another call is waited for too, by
	// the coordinator before the next attempt.
	wait := p.waitBefore(attemptNum, s.retryAfter, s.hasRetryAfter)
	info := RetryInfo{Method: s.method, URL: s.url, Attempt: s.attempts, Err: s.lastErr, Wait: wait}
	if resp != nil {
		info.StatusCode = resp.StatusCode
		info.RequestID = resp.Header.Get("X-Zendesk-Request-Id")
	}
	if p.OnRetry != nil {
		p.OnRetry(info)
	}
	if l := s.client.logger; l != nil && l.Enabled(s.ctx, slog.LevelDebug) {
		attrs := []slog.Attr{
			slog.String("method", info.Method),
			slog.String("url", info.URL),
			slog.Int("attempt", info.Attempt),
			slog.Int("status", info.StatusCode),
			slog.Duration("wait", info.Wait),
		}
		if info.Err != nil {
			attrs = append(attrs, slog.String("error", info.Err.Error()))
		}
		if info.RequestID != "" {
			attrs = append(attrs, slog.String("request_id", info.RequestID))
		}
		l.LogAttrs(s.ctx, slog.LevelDebug, "zendesk retry", attrs...)
	}
	if err := p.sleep(s.ctx, wait); err != nil {
		s.waitErr = err
	}
	return 0
}

// prepareRetry runs before each new attempt: it stops when the wait was cut
// short, and waits for the coordinator to admit the attempt. The transport
// authorizes each attempt afresh, so a refreshed OAuth token is used.
func (s *attemptState) prepareRetry(*http.Request) error {
	if s.waitErr != nil {
		return s.waitErr
	}
	if err := s.ctx.Err(); err != nil {
		return err
	}
	if err := s.client.admit(s.ctx, s.attempt); err != nil {
		return err
	}
	s.betweenAttempts = false
	return nil
}

// transportError turns a failure without a usable response into the error
// the caller sees, marking a POST that may have reached Zendesk.
func (s *attemptState) transportError(err error) error {
	err = withoutURL(err)
	e := &requestError{method: s.method, url: s.url, attempts: s.attempts, err: err}
	var credErr *credentialError
	switch {
	case s.betweenAttempts:
		e.phase = "waiting to retry"
	case errors.As(err, &credErr):
		e.phase = "not sent"
	case !idempotent(s.method) && s.lastErr != nil && !isDialError(s.lastErr):
		e.maybeSent = true
	}
	return e
}

// withoutURL returns the cause of a *url.Error. net/http names in it the
// URL it was fetching, which after a redirect is one the client did not
// choose, such as a signed file-storage link; the client's errors and logs
// name the request's own URL instead.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// requestError is a call that ended without a response to report.
type requestError struct {
	method, url string
	attempts    int
	phase       string
	maybeSent   bool
	err         error
}

func (e *requestError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "zendesk: %s %s: ", e.method, e.url)
	if e.phase != "" {
		b.WriteString(e.phase)
		b.WriteString(": ")
	}
	b.WriteString(e.err.Error())
	if e.attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.attempts)
	}
	if e.maybeSent {
		b.WriteString(": the request may have reached Zendesk, so it was not resent")
	}
	return b.String()
}

func (e *requestError) Unwrap() []error {
	if e.maybeSent {
		return []error{e.err, ErrMaybeSent}
	}
	return []error{e.err}
}
