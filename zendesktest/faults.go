package zendesktest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FaultKind is what goes wrong in a Fault.
type FaultKind int

const (
	// FaultStatus answers Status (default 500) with Body (default a
	// Zendesk-shaped JSON error) and Retry-After when RetryAfter is set,
	// without processing the request.
	FaultStatus FaultKind = iota
	// FaultDropBeforeProcessing closes the connection without answering
	// and without processing the request: the request is lost.
	FaultDropBeforeProcessing
	// FaultDropAfterProcessing processes the request (its changes are
	// made) and then closes the connection without answering: the
	// response is lost.
	FaultDropAfterProcessing
	// FaultTruncatedBody processes the request and sends the real status
	// and the Content-Length of the full body, but only the first half of
	// the body, then closes the connection.
	FaultTruncatedBody
	// FaultHTMLBody answers Status (default 502) with an HTML error page
	// (or Body), Content-Type text/html, as a proxy in front of Zendesk
	// would, without processing the request.
	FaultHTMLBody
	// FaultEmptyBody processes the request and answers its real status
	// with an empty body.
	FaultEmptyBody
	// FaultWrongTypes processes the request and answers its real status
	// with JSON that has the right envelope keys but values of the wrong
	// types (such as "id": 12345 or "participants": "x"). An answer that
	// is not 2xx is sent unchanged.
	FaultWrongTypes
	// FaultDelay processes the request and holds its answer until Hold is
	// closed or, when Hold is nil, for Delay. The hold ends early, and the
	// connection is closed without an answer, when the client goes away or
	// the server is closed.
	FaultDelay
	// FaultLateCommit answers Status (default 504) with Body (default a
	// Zendesk-shaped JSON error) and Retry-After when RetryAfter is set,
	// at once and without processing the request, and processes the
	// request afterwards: when Hold is closed or, when Hold is nil, Delay
	// after answering (at once for a Delay of 0). The processing is that
	// of any request (rate limits, authentication, validation, changes);
	// its answer goes nowhere, its changes show in the server's state.
	// This is Zendesk's gateway giving up on a request that the
	// application then completes. A request whose processing is still
	// pending when the server is closed is never processed.
	FaultLateCommit
)

var faultNames = [...]string{
	FaultStatus:               "FaultStatus",
	FaultDropBeforeProcessing: "FaultDropBeforeProcessing",
	FaultDropAfterProcessing:  "FaultDropAfterProcessing",
	FaultTruncatedBody:        "FaultTruncatedBody",
	FaultHTMLBody:             "FaultHTMLBody",
	FaultEmptyBody:            "FaultEmptyBody",
	FaultWrongTypes:           "FaultWrongTypes",
	FaultDelay:                "FaultDelay",
	FaultLateCommit:           "FaultLateCommit",
}

func (k FaultKind) String() string {
	if k >= 0 && int(k) < len(faultNames) {
		return faultNames[k]
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// preProcessing reports whether the fault answers in place of the server:
// such a request is neither authenticated, nor counted against a rate
// limit, nor processed when it is answered.
func (k FaultKind) preProcessing() bool {
	switch k {
	case FaultStatus, FaultDropBeforeProcessing, FaultHTMLBody, FaultLateCommit:
		return true
	}
	return false
}

// Fault describes a failure to inject into the answers of the requests it
// matches. Queue faults with Server.InjectFault; they are matched before
// authentication and rate limiting, in the order they were injected.
// FaultStatus, FaultHTMLBody and FaultDropBeforeProcessing answer in place
// of the server: the request is neither authenticated, nor charged to a
// rate limit, nor processed. FaultLateCommit answers in place of the
// server too, and has the server handle the request later. The other kinds
// let the server handle the request as usual (a 401 or 429 included) and
// then spoil its answer.
//
// Hold and Applied let a test order events without waiting on the clock:
// a FaultDelay answer, or a FaultLateCommit processing, waits until the
// test closes Hold, and Applied tells the test that the fault has taken
// effect.
type Fault struct {
	Kind FaultKind
	// Method matches the request method; "" matches any.
	Method string
	// Path matches the whole request path, such as
	// "/api/v2/tickets/*/side_conversations", where * matches exactly one
	// segment; "" matches any path.
	Path string
	// Times is how many matching requests the fault applies to; 0 (or a
	// negative value) means 1.
	Times int
	// Status is the status of FaultStatus (default 500), FaultHTMLBody
	// (default 502) and FaultLateCommit (default 504).
	Status int
	// RetryAfter is the Retry-After header of FaultStatus, FaultHTMLBody
	// and FaultLateCommit; "" sends none.
	RetryAfter string
	// Body replaces the default body of FaultStatus, FaultHTMLBody and
	// FaultLateCommit.
	Body string
	// Delay is how long FaultDelay holds its answer, and how long after
	// answering FaultLateCommit processes the request, when Hold is nil.
	Delay time.Duration
	// Hold, when not nil, replaces Delay: FaultDelay holds its answer,
	// and FaultLateCommit defers the processing, until Hold is closed.
	// The client going away (FaultDelay) or the server closing end the
	// wait as they end a Delay. One channel may hold many requests.
	Hold <-chan struct{}
	// Applied, when not nil, receives a value each time the fault takes
	// effect: for FaultDelay once the request was processed and its
	// answer starts being held; for FaultLateCommit once the deferred
	// processing has finished; for the other kinds once the answer was
	// written or the connection dropped. The server never blocks on it: a
	// value nobody is ready to receive is dropped, so give it a buffer
	// (of Times values, to see every application).
	Applied chan<- struct{}
}

type queuedFault struct {
	Fault
	left int
}

// InjectFault queues f. Each request takes the first queued fault that
// matches it; a fault is removed once it has been applied Times times.
// Requests answered by a fault are recorded like any other.
func (s *Server) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &queuedFault{Fault: f, left: max(f.Times, 1)})
}

// ClearFaults removes every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault consumes one application of the first fault matching the
// request. The caller holds s.mu.
func (s *Server) takeFault(method, path string) *Fault {
	for i, q := range s.faults {
		if !q.matches(method, path) {
			continue
		}
		q.left--
		if q.left <= 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		f := q.Fault
		return &f
	}
	return nil
}

func (q *queuedFault) matches(method, path string) bool {
	if q.Method != "" && !strings.EqualFold(q.Method, method) {
		return false
	}
	return q.Path == "" || pathMatches(q.Path, path)
}

// pathMatches reports whether path matches pattern segment by segment, a *
// segment matching any one segment.
func pathMatches(pattern, path string) bool {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	xs := strings.Split(strings.Trim(path, "/"), "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if ps[i] != "*" && ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// applied tells the test, through f.Applied, that f took effect, without
// blocking.
func (f *Fault) applied() {
	if f.Applied == nil {
		return
	}
	select {
	case f.Applied <- struct{}{}:
	default:
	}
}

// wait blocks until f.Hold is closed or, without a Hold, for f.Delay. It
// reports false when stop or done (either may be nil) ends the wait first.
func (f *Fault) wait(stop, done <-chan struct{}) bool {
	var timeout <-chan time.Time
	if f.Hold == nil {
		if f.Delay <= 0 {
			return true
		}
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-f.Hold: // a nil Hold never fires
		return true
	case <-timeout:
		return true
	case <-stop:
	case <-done:
	}
	return false
}

// writeFault answers a request in place of the server (FaultStatus,
// FaultHTMLBody, FaultLateCommit) or drops it (FaultDropBeforeProcessing).
func (s *Server) writeFault(w http.ResponseWriter, f *Fault, requestID string) {
	resp := newResponse()
	switch f.Kind {
	case FaultDropBeforeProcessing:
		dropConnection(w)
		return
	case FaultHTMLBody:
		resp.status = f.Status
		if resp.status == 0 {
			resp.status = http.StatusBadGateway
		}
		body := f.Body
		if body == "" {
			text := http.StatusText(resp.status)
			body = fmt.Sprintf("<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"+
				"<body><h1>%d %s</h1><p>The server encountered a temporary error. Please try again.</p></body></html>\n",
				resp.status, text, resp.status, text)
		}
		resp.header.Set("Content-Type", "text/html; charset=utf-8")
		resp.body = []byte(body)
	default: // FaultStatus, FaultLateCommit
		status := f.Status
		if status == 0 {
			status = http.StatusInternalServerError
			if f.Kind == FaultLateCommit {
				status = http.StatusGatewayTimeout
			}
		}
		if f.Body == "" {
			resp.fail(status, errorCode(status), http.StatusText(status))
		} else {
			resp.status = status
			resp.body = []byte(f.Body)
			if json.Valid(resp.body) {
				resp.header.Set("Content-Type", jsonContentType)
			} else {
				resp.header.Set("Content-Type", "text/plain; charset=utf-8")
			}
		}
	}
	if f.RetryAfter != "" {
		resp.header.Set("Retry-After", f.RetryAfter)
	}
	resp.header.Set("X-Zendesk-Request-Id", requestID)
	writeResponse(w, resp)
	if f.Kind == FaultLateCommit {
		// The answer is out before the processing can begin.
		_ = http.NewResponseController(w).Flush()
		return
	}
	flush(w, f)
}

// errorCode is the "error" value of the default FaultStatus body.
func errorCode(status int) string {
	switch status {
	case http.StatusNotFound:
		return "RecordNotFound"
	case http.StatusUnprocessableEntity:
		return "RecordInvalid"
	case http.StatusUnauthorized:
		return "Couldn't authenticate you"
	}
	if text := http.StatusText(status); text != "" {
		return strings.ReplaceAll(strings.ReplaceAll(text, " ", ""), "-", "")
	}
	return "Error"
}

// deliver writes the processed answer, as the fault (if any) says.
func (s *Server) deliver(w http.ResponseWriter, r *http.Request, resp *response, f *Fault) {
	if f == nil {
		writeResponse(w, resp)
		return
	}
	switch f.Kind {
	case FaultDropAfterProcessing:
		dropConnection(w)
	case FaultTruncatedBody:
		writeTruncated(w, resp)
	case FaultEmptyBody:
		resp.body = nil
		writeResponse(w, resp)
		flush(w, f)
	case FaultWrongTypes:
		if resp.status >= 200 && resp.status <= 299 {
			resp.body = wrongTypes(resp.body)
			resp.header.Set("Content-Type", jsonContentType)
		}
		writeResponse(w, resp)
		flush(w, f)
	case FaultDelay:
		f.applied()
		if !f.wait(r.Context().Done(), s.done) {
			// Returning without a word would make net/http send an
			// empty 200; the connection is cut instead.
			dropConnection(w)
			return
		}
		writeResponse(w, resp)
		return
	default:
		writeResponse(w, resp)
		flush(w, f)
	}
	f.applied()
}

// flush sends what was written so far to the client before a test
// watching f.Applied hears of it. A hijacked connection must not be
// flushed.
func flush(w http.ResponseWriter, f *Fault) {
	if f.Applied != nil {
		_ = http.NewResponseController(w).Flush()
	}
}

// dropConnection closes the connection without a word. Should the
// connection not allow hijacking, it announces a one-byte body and sends
// none, which the client also sees as a broken connection.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		w.Header().Set("Connection", "close")
		w.Header().Set("Content-Length", "1")
		w.WriteHeader(http.StatusOK)
		return
	}
	_ = conn.Close()
}

// writeTruncated sends the status and headers of resp with the full
// Content-Length but only the first half of the body, then closes the
// connection.
func writeTruncated(w http.ResponseWriter, resp *response) {
	half := resp.body[:len(resp.body)/2]
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		h := w.Header()
		for k, vs := range resp.header {
			h[k] = vs
		}
		h.Set("Content-Length", strconv.Itoa(len(resp.body)))
		w.WriteHeader(resp.status)
		_, _ = w.Write(half)
		return
	}
	defer func() { _ = conn.Close() }()
	bw := rw.Writer
	if bw == nil {
		bw = bufio.NewWriter(conn)
	}
	var head bytes.Buffer
	fmt.Fprintf(&head, "HTTP/1.1 %d %s\r\n", resp.status, http.StatusText(resp.status))
	h := resp.header.Clone()
	h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	h.Set("Connection", "close")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	_ = h.Write(&head)
	head.WriteString("\r\n")
	_, _ = bw.Write(head.Bytes())
	_, _ = bw.Write(half)
	_ = bw.Flush()
}

// wrongTypes rewrites a JSON object so that its keys stay and every value
// has a type the client does not expect.
func wrongTypes(body []byte) []byte {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return []byte(`{"side_conversation":"x"}`)
	}
	badRecord := map[string]any{
		"id":           12345,
		"participants": "x",
		"created_at":   true,
		"state":        7,
		"message":      "x",
		"subject":      []int{1},
	}
	out := make(map[string]any, len(top))
	for k, v := range top {
		switch k {
		case "side_conversation", "event":
			out[k] = badRecord
		case "side_conversations", "events":
			out[k] = []any{badRecord}
		case "count", "end_time", "size", "width", "height":
			out[k] = "many"
		case "next_page", "previous_page":
			out[k] = 12
		case "updates":
			out[k] = "x"
		case "id", "name", "content_type":
			out[k] = 12345
		default:
			out[k] = oppositeType(v)
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return []byte(`{"side_conversation":"x"}`)
	}
	return b
}

// oppositeType returns a value of another JSON type than v.
func oppositeType(v json.RawMessage) any {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '"' {
		return 12345
	}
	return "x"
}
