package zendesktest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxRequestBody bounds what the server reads of a request body: Zendesk's
// attachment limit.
const maxRequestBody = 50 << 20

const jsonContentType = "application/json; charset=utf-8"

// response is an answer computed under the lock and written afterwards, so
// that faults can mangle, delay or drop it.
type response struct {
	status int
	header http.Header
	body   []byte
}

func newResponse() *response { return &response{status: http.StatusOK, header: make(http.Header)} }

// setJSON makes v the body of the response.
func (r *response) setJSON(status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only our own wire structs are encoded here; they always encode.
		buf.Reset()
		buf.WriteString(`{"error":"InternalError","description":"zendesktest could not encode its answer"}`)
	}
	r.status = status
	r.header.Set("Content-Type", jsonContentType)
	r.body = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// apiError is the body of Zendesk's error answers.
type apiError struct {
	Error       string           `json:"error"`
	Description string           `json:"description,omitempty"`
	Details     validationErrors `json:"details,omitempty"`
}

type errorDetail struct {
	Description string `json:"description"`
}

func (r *response) fail(status int, code, description string) {
	r.setJSON(status, apiError{Error: code, Description: description})
}

func (r *response) notFound() { r.fail(http.StatusNotFound, "RecordNotFound", "Not found") }

func (r *response) badRequest(code, description string) {
	r.fail(http.StatusBadRequest, code, description)
}

// invalid answers 422 RecordInvalid with per-field reasons.
func (r *response) invalid(details validationErrors) {
	r.setJSON(http.StatusUnprocessableEntity, apiError{
		Error:       "RecordInvalid",
		Description: "Record validation errors",
		Details:     details,
	})
}

// validationErrors collects the reasons of a 422 answer by field.
type validationErrors map[string][]errorDetail

func (v validationErrors) add(field, format string, args ...any) {
	v[field] = append(v[field], errorDetail{Description: fmt.Sprintf(format, args...)})
}

// request is what a handler sees.
type request struct {
	r     *http.Request
	body  []byte
	route route
}

type routeKind int

const (
	routeUnknown routeKind = iota
	routeList
	routeCreate
	routeImport
	routeShow
	routeUpdate
	routeReply
	routeEvents
	routeImportEvents
	routeIncremental
	routeUpload
	routeDownload
)

type route struct {
	kind         routeKind
	ticketID     int64
	convID       string
	attachmentID string
	fileName     string
	// path is the canonical path of the resource (without a .json
	// suffix), used for pagination links.
	path string
}

// isCreateOrReply reports whether the create/reply budget applies.
func (rt route) isCreateOrReply() bool { return rt.kind == routeCreate || rt.kind == routeReply }

// matchRoute maps a request onto an endpoint. Paths may end in .json, as
// Zendesk's curl samples write them.
func matchRoute(method string, u *url.URL) route {
	raw := u.EscapedPath()
	rest, ok := strings.CutPrefix(raw, "/api/v2/")
	if !ok {
		return route{}
	}
	rest = strings.TrimSuffix(rest, "/")
	parts := strings.Split(rest, "/")
	segs := make([]string, len(parts))
	for i, p := range parts {
		seg, err := url.PathUnescape(p)
		if err != nil || seg == "" {
			return route{}
		}
		segs[i] = seg
	}
	if len(segs) == 8 && segs[6] == "download" {
		// /tickets/{t}/side_conversations/{id}/attachments/{aid}/download/{name}
		if segs[0] != "tickets" || segs[2] != "side_conversations" || segs[4] != "attachments" || method != http.MethodGet {
			return route{}
		}
		t, ok := parseTicketID(segs[1])
		if !ok {
			return route{}
		}
		return route{kind: routeDownload, ticketID: t, convID: segs[3], attachmentID: segs[5], fileName: segs[7]}
	}
	last := len(segs) - 1
	segs[last] = strings.TrimSuffix(segs[last], ".json")
	if segs[last] == "" || segs[0] != "tickets" {
		return route{}
	}

	if len(segs) == 3 && segs[1] == "side_conversations" {
		switch {
		case segs[2] == "events" && method == http.MethodGet:
			return route{kind: routeIncremental, path: "/api/v2/tickets/side_conversations/events"}
		case segs[2] == "attachments" && method == http.MethodPost:
			return route{kind: routeUpload}
		}
		return route{}
	}
	if len(segs) < 3 || segs[2] != "side_conversations" {
		return route{}
	}
	t, ok := parseTicketID(segs[1])
	if !ok {
		return route{}
	}
	base := "/api/v2/tickets/" + itoa(t) + "/side_conversations"
	rt := route{ticketID: t, path: base}
	switch len(segs) {
	case 3:
		switch method {
		case http.MethodGet:
			rt.kind = routeList
		case http.MethodPost:
			rt.kind = routeCreate
		}
		return rt
	case 4:
		if segs[3] == "import" && method == http.MethodPost {
			rt.kind = routeImport
			return rt
		}
		rt.convID = segs[3]
		rt.path = base + "/" + url.PathEscape(segs[3])
		switch method {
		case http.MethodGet:
			rt.kind = routeShow
		case http.MethodPut:
			rt.kind = routeUpdate
		}
		return rt
	case 5:
		rt.convID = segs[3]
		rt.path = base + "/" + url.PathEscape(segs[3]) + "/" + segs[4]
		switch {
		case segs[4] == "reply" && method == http.MethodPost:
			rt.kind = routeReply
		case segs[4] == "events" && method == http.MethodGet:
			rt.kind = routeEvents
		}
		return rt
	case 6:
		if segs[4] == "events" && segs[5] == "import" && method == http.MethodPost {
			rt.convID = segs[3]
			rt.kind = routeImportEvents
		}
		return rt
	}
	return route{}
}

func parseTicketID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// authorized reports whether the request carries credentials the server
// accepts.
func (s *Server) authorized(r *http.Request) bool {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, value, ok := strings.Cut(h, " ")
	if !ok {
		return false
	}
	value = strings.TrimSpace(value)
	switch strings.ToLower(scheme) {
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			return false
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok || s.cfg.email == "" || s.cfg.token == "" {
			return false
		}
		email, ok := strings.CutSuffix(user, "/token")
		return ok && strings.EqualFold(email, s.cfg.email) &&
			subtle.ConstantTimeCompare([]byte(pass), []byte(s.cfg.token)) == 1
	case "bearer":
		return s.cfg.bearer != "" && subtle.ConstantTimeCompare([]byte(value), []byte(s.cfg.bearer)) == 1
	}
	return false
}

// serveHTTP records the request, applies a fault if one matches, and
// otherwise processes it and writes the answer.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	tooLarge := len(body) > maxRequestBody
	if tooLarge {
		body = body[:maxRequestBody]
	}
	readFailed := err != nil
	authorized := s.authorized(r)
	header := r.Header.Clone()
	header.Del("Authorization")

	s.mu.Lock()
	s.requests = append(s.requests, RecordedRequest{
		Method:     r.Method,
		Path:       r.URL.Path,
		Query:      r.URL.Query(),
		Body:       body,
		Header:     header,
		Authorized: authorized,
	})
	s.requestSeq++
	requestID := fmt.Sprintf("zendesktest-%08d", s.requestSeq)
	fault := s.takeFault(r.Method, r.URL.Path)
	s.mu.Unlock()

	if fault != nil && fault.Kind.preProcessing() {
		s.writeFault(w, fault, requestID)
		if fault.Kind == FaultLateCommit {
			s.commitLate(r, body, readFailed, tooLarge, authorized, fault)
			return
		}
		fault.applied()
		return
	}

	resp := newResponse()
	rq := &request{r: r, body: body, route: matchRoute(r.Method, r.URL)}
	s.mu.Lock()
	s.compute(rq, readFailed, tooLarge, authorized, resp)
	s.mu.Unlock()
	resp.header.Set("X-Zendesk-Request-Id", requestID)
	s.deliver(w, r, resp, fault)
}

// commitLate processes a request answered by a FaultLateCommit once the
// fault's Hold is closed or its Delay has passed, unless the server is
// closed first. The answer of the processing is thrown away.
func (s *Server) commitLate(r *http.Request, body []byte, readFailed, tooLarge, authorized bool, f *Fault) {
	// The handler returns before the processing; it works on its own
	// copy of what it reads of the request.
	late := r.Clone(context.Background())
	late.Body = http.NoBody
	rq := &request{r: late, body: body, route: matchRoute(late.Method, late.URL)}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing() {
		return
	}
	s.late.Add(1)
	go func() {
		defer s.late.Done()
		if !f.wait(nil, s.done) {
			return
		}
		s.mu.Lock()
		if s.closing() {
			s.mu.Unlock()
			return
		}
		s.compute(rq, readFailed, tooLarge, authorized, newResponse())
		s.mu.Unlock()
		f.applied()
	}()
}

// closing reports whether Close has begun. The caller holds s.mu.
func (s *Server) closing() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// compute works out the answer to a request: an error when its body could
// not be read whole, else whatever processing says. The caller holds s.mu.
func (s *Server) compute(rq *request, readFailed, tooLarge, authorized bool, resp *response) {
	switch {
	case readFailed:
		resp.badRequest("InvalidRequest", "The request body could not be read")
	case tooLarge:
		resp.fail(http.StatusRequestEntityTooLarge, "RequestTooLarge", "The request body is larger than 50 MB")
	default:
		s.process(rq, authorized, resp)
	}
}

// process computes the answer to one request: rate limits,
// authentication, then the endpoint. The caller holds s.mu.
func (s *Server) process(rq *request, authorized bool, resp *response) {
	if s.rateLimited(rq.route, resp) {
		return
	}
	if !authorized {
		resp.setJSON(http.StatusUnauthorized, apiError{Error: "Couldn't authenticate you"})
		return
	}
	switch rq.route.kind {
	case routeList:
		s.handleList(rq, resp)
	case routeCreate:
		s.handleCreate(rq, resp)
	case routeImport:
		s.handleImport(rq, resp)
	case routeShow:
		s.handleShow(rq, resp)
	case routeUpdate:
		s.handleUpdate(rq, resp)
	case routeReply:
		s.handleReply(rq, resp)
	case routeEvents:
		s.handleEvents(rq, resp)
	case routeImportEvents:
		s.handleImportEvents(rq, resp)
	case routeIncremental:
		s.handleIncremental(rq, resp)
	case routeUpload:
		s.handleUpload(rq, resp)
	case routeDownload:
		s.handleDownload(rq, resp)
	default:
		resp.notFound()
	}
}

// writeResponse writes a computed answer as it is.
func writeResponse(w http.ResponseWriter, resp *response) {
	h := w.Header()
	for k, vs := range resp.header {
		h[k] = vs
	}
	h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

// lookupConversation finds the conversation a per-conversation route names,
// answering 404 when the ticket or the conversation is unknown or they do
// not belong together. The caller holds s.mu.
func (s *Server) lookupConversation(rq *request, resp *response) *conversation {
	if !s.tickets[rq.route.ticketID] {
		resp.notFound()
		return nil
	}
	c, ok := s.convs[rq.route.convID]
	if !ok || c.sc.TicketID != rq.route.ticketID {
		resp.notFound()
		return nil
	}
	return c
}

// ticketExists answers 404 unless the route's ticket exists. The caller
// holds s.mu.
func (s *Server) ticketExists(rq *request, resp *response) bool {
	if !s.tickets[rq.route.ticketID] {
		resp.notFound()
		return false
	}
	return true
}
