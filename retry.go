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
// out waiting for the answer, Zendesk answered 500, 502, 503 without
// Retry-After or 504, or it answered 2xx with a body that could not be read.
// The client never resends such a request by itself, because a side
// conversation e-mail sent twice cannot be taken back. Look before sending
// again, or set an IdempotencyKey and let the client look for you.
var ErrMaybeSent = errors.New("zendesk: the request may have reached Zendesk")

// RetryPolicy decides which failed attempts are tried again and how long the
// client waits in between. Zero fields take the defaults of
// DefaultRetryPolicy.
//
// The rules are fixed, because they are what makes retrying safe: a 429 is
// retried on any method (Zendesk did not process the request), waiting for
// its Retry-After; a 503 with Retry-After likewise; other 5xx answers except
// 501 and 505, and transport errors, only for GET, PUT and DELETE. A POST is
// never resent after a failure that may have reached Zendesk; it is resent
// after a dial error, when nothing was sent.
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
func (p RetryPolicy) shouldRetry(method string, resp *http.Response, err error) bool {
	if err != nil {
		if isDialError(err) {
			return true // nothing was sent
		}
		return idempotent(method) && !isPermanentTransportError(err)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests:
		ra, ok := retryAfterOf(resp)
		return !ok || ra <= p.MaxRetryAfter
	case code == http.StatusServiceUnavailable:
		if ra, ok := retryAfterOf(resp); ok {
			return ra <= p.MaxRetryAfter
		}
		return idempotent(method)
	case code >= 500 && code <= 599 && code != http.StatusNotImplemented && code != http.StatusHTTPVersionNotSupported:
		return idempotent(method)
	}
	return false
}

// waitBefore returns the pause before retry number attempt (0-based): the
// server's Retry-After when it sent one, else the jittered backoff.
func (p RetryPolicy) waitBefore(attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if ra, ok := retryAfterOf(resp); ok {
			return ra
		}
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
	return errors.As(err, &certErr) || errors.As(err, &redirErr) || errors.As(err, &decErr) && decErr.final
}

// redirectError is returned by the client's redirect policy.
type redirectError struct{ err error }

func (e *redirectError) Error() string { return e.err.Error() }
func (e *redirectError) Unwrap() error { return e.err }

func retryAfterOf(resp *http.Response) (time.Duration, bool) {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0, false
	}
	return parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
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
	bucket      bucket
	out         any

	attempts int
	// answered is the last attempt reported to the pacer.
	answered int
	lastErr  error
	lastResp *http.Response
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
		s.decodeHandler = func(resp *http.Response) error { return c.decodeSuccess(resp, s.out, s.attempts) }
	}
	s.ctx, s.method, s.url, s.bucket, s.out = ctx, cl.method, cl.url, cl.bucket, out
	return s
}

// release clears what a call left in s and recycles it.
func (c *Client) release(s *attemptState) {
	s.ctx, s.out, s.lastErr, s.lastResp, s.waitErr = nil, nil, nil, nil, nil
	s.method, s.url = "", ""
	s.attempts, s.answered, s.betweenAttempts = 0, 0, false
	c.states.Put(s)
}

// countAttempt runs before each attempt (the retry loop's request hook).
func (s *attemptState) countAttempt(_ retryablehttp.Logger, _ *http.Request, retry int) {
	s.attempts = retry + 1
}

// checkRetry runs after each attempt, and once more after the response
// handler when that decoded the body.
func (s *attemptState) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	s.lastErr, s.lastResp = err, resp
	if s.answered < s.attempts {
		// Once per attempt: the retry loop asks again after decoding.
		s.answered = s.attempts
		s.client.pacer.answered(resp, s.bucket)
	}
	if ctx.Err() != nil {
		return false, nil
	}
	return s.client.retry.shouldRetry(s.method, resp, err), nil
}

// backoff does the waiting itself, so that the wait is cancellable through
// the call's context, replaceable by RetryPolicy.Wait, and reported to
// OnRetry and the logger; it returns 0 to the retry loop.
func (s *attemptState) backoff(_, _ time.Duration, attemptNum int, resp *http.Response) time.Duration {
	s.betweenAttempts = true
	p := &s.client.retry
	wait := p.waitBefore(attemptNum, resp)
	// A pause Zendesk announced to another call holds this one too.
	if d := s.client.pacer.pause(s.bucket); d > wait && d <= p.MaxRetryAfter {
		wait = d
	}
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
// short, and authorizes the attempt afresh (an OAuth token may have been
// refreshed meanwhile).
func (s *attemptState) prepareRetry(req *http.Request) error {
	p := &s.client.retry
	if s.waitErr != nil {
		return s.waitErr
	}
	if err := s.ctx.Err(); err != nil {
		return err
	}
	if err := s.client.pacer.take(s.ctx, s.bucket, p.sleep); err != nil {
		return err
	}
	// The retry loop shares the header map with the previous attempt.
	req.Header = req.Header.Clone()
	if err := s.client.authorize(req); err != nil {
		return err
	}
	// The wait for Zendesk's pauses was part of the backoff.
	s.client.pacer.admit(s.bucket, p.MaxRetryAfter, true)
	s.betweenAttempts = false
	return nil
}

// transportError turns a failure without a usable response into the error
// the caller sees, marking a POST that may have reached Zendesk.
func (s *attemptState) transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	e := &requestError{method: s.method, url: s.url, attempts: s.attempts, err: err}
	switch {
	case s.betweenAttempts:
		e.phase = "waiting to retry"
	case s.method == http.MethodPost && s.lastErr != nil && !isDialError(s.lastErr):
		e.maybeSent = true
	}
	return e
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
