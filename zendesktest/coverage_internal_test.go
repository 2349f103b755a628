package zendesktest

// Direct tests of defensive branches that no request to a Server can take:
// the fallbacks of connections that cannot be hijacked, and helpers given
// input that the server's own callers never pass them.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDropConnectionWithoutHijacking: a ResponseWriter that cannot be
// hijacked gets a one-byte Content-Length and no body.
func TestDropConnectionWithoutHijacking(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	dropConnection(w)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "1", w.Header().Get("Content-Length"))
	assert.Equal(t, "close", w.Header().Get("Connection"))
	assert.Zero(t, w.Body.Len())
}

func truncatedFixture() *response {
	r := newResponse()
	r.status = http.StatusCreated
	r.header.Set("Content-Type", jsonContentType)
	r.header.Set("X-Zendesk-Request-Id", "zendesktest-00000001")
	r.body = []byte(`{"id":"abc"}`)
	return r
}

// TestWriteTruncatedWithoutHijacking: without hijacking, the headers and
// half the body are written through the ResponseWriter.
func TestWriteTruncatedWithoutHijacking(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	writeTruncated(w, truncatedFixture())
	assert.Equal(t, http.StatusCreated, w.Code)
	assert.Equal(t, "12", w.Header().Get("Content-Length"), "the length of the whole body")
	assert.Equal(t, jsonContentType, w.Header().Get("Content-Type"))
	assert.Equal(t, "zendesktest-00000001", w.Header().Get("X-Zendesk-Request-Id"))
	assert.Equal(t, `{"id":`, w.Body.String())
}

// pipeHijacker hijacks to one end of a net.Pipe and, unlike net/http,
// hands back a ReadWriter without a Writer.
type pipeHijacker struct {
	http.ResponseWriter
	conn net.Conn
}

func (h *pipeHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return h.conn, bufio.NewReadWriter(bufio.NewReader(h.conn), nil), nil
}

func TestWriteTruncatedOnHijackedConnWithoutWriter(t *testing.T) {
	t.Parallel()
	server, client := net.Pipe()
	defer func() { _ = client.Close() }()
	done := make(chan struct{})
	go func() {
		defer close(done)
		writeTruncated(&pipeHijacker{ResponseWriter: httptest.NewRecorder(), conn: server}, truncatedFixture())
	}()
	raw, err := io.ReadAll(client) // until writeTruncated closes its end
	require.NoError(t, err)
	<-done

	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, int64(12), resp.ContentLength)
	assert.True(t, resp.Close, "Connection: close")
	assert.Equal(t, "zendesktest-00000001", resp.Header.Get("X-Zendesk-Request-Id"))
	assert.NotEmpty(t, resp.Header.Get("Date"))
	body, err := io.ReadAll(resp.Body)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, `{"id":`, string(body))
}

// TestSetJSONFallback: a value that does not encode gives a Zendesk-shaped
// error body instead of a broken one.
func TestSetJSONFallback(t *testing.T) {
	t.Parallel()
	r := newResponse()
	r.setJSON(http.StatusTeapot, make(chan int))
	assert.Equal(t, http.StatusTeapot, r.status)
	assert.Equal(t, jsonContentType, r.header.Get("Content-Type"))
	assert.JSONEq(t, `{"error":"InternalError","description":"zendesktest could not encode its answer"}`, string(r.body))
}

func TestCloneValues(t *testing.T) {
	t.Parallel()
	assert.Nil(t, cloneValues(nil))
	orig := url.Values{"a": {"1", "2"}}
	cp := cloneValues(orig)
	cp["a"][0] = "changed"
	cp.Set("b", "3")
	assert.Equal(t, url.Values{"a": {"1", "2"}}, orig, "a deep copy")
}

func TestCutFold(t *testing.T) {
	t.Parallel()
	before, after, found := cutFold("Jane%40Acme.com", "%40")
	assert.Equal(t, []any{"Jane", "Acme.com", true}, []any{before, after, found})
	before, after, found = cutFold("aXb", "x")
	assert.Equal(t, []any{"a", "b", true}, []any{before, after, found}, "the separator in any case")
	before, after, found = cutFold("no-separator", "%40")
	assert.Equal(t, []any{"no-separator", "", false}, []any{before, after, found})
}

func TestJSONTypeName(t *testing.T) {
	t.Parallel()
	cases := []struct {
		t    reflect.Type
		want string
	}{
		{nil, "a value"},
		{reflect.TypeFor[string](), "a string"},
		{reflect.TypeFor[**string](), "a string"},
		{reflect.TypeFor[bool](), "a boolean"},
		{reflect.TypeFor[int64](), "a number"},
		{reflect.TypeFor[uint8](), "a number"},
		{reflect.TypeFor[float64](), "a number"},
		{reflect.TypeFor[[]string](), "an array"},
		{reflect.TypeFor[[2]int](), "an array"},
		{reflect.TypeFor[map[string]int](), "an object"},
		{reflect.TypeFor[struct{}](), "an object"},
		{reflect.TypeFor[any](), "a value"},
		{reflect.TypeFor[chan int](), "a value"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, jsonTypeName(tc.t), "%v", tc.t)
	}
}

// TestDecodeJSONOtherErrors: a type error at the top level is reported on
// "base", and an error that is no type error is a 400.
func TestDecodeJSONOtherErrors(t *testing.T) {
	t.Parallel()
	var list []int
	resp := newResponse()
	require.False(t, decodeJSON([]byte(`{"a":1}`), &list, resp))
	assert.Equal(t, http.StatusUnprocessableEntity, resp.status)
	assert.JSONEq(t, `{"error":"RecordInvalid","description":"Record validation errors",
		"details":{"base":[{"description":"base must be an array, not object"}]}}`, string(resp.body))

	resp = newResponse()
	require.False(t, decodeJSON([]byte(`{}`), struct{}{}, resp))
	assert.Equal(t, http.StatusBadRequest, resp.status)
	var m map[string]string
	require.NoError(t, json.Unmarshal(resp.body, &m))
	assert.Equal(t, "InvalidJSON", m["error"])
	assert.Contains(t, m["description"], "The request body could not be decoded: json: Unmarshal(non-pointer")
}

// TestParseHelpersOnMalformedInput feeds the parsers raw values that are
// not valid JSON, which the server's decoder never hands them.
func TestParseHelpersOnMalformedInput(t *testing.T) {
	t.Parallel()
	n, ok := parseFlexID(json.RawMessage(`"12`))
	assert.False(t, ok)
	assert.Zero(t, n)

	_, kind, problem := parseParticipant(json.RawMessage(`{"email":`), other)
	assert.Empty(t, kind)
	assert.Equal(t, "is not a participant object", problem)

	assert.Equal(t, "nothing", jsonKind(nil))
	assert.Equal(t, "a string", jsonKind(json.RawMessage(`"x"`)))
	assert.Equal(t, "a number", jsonKind(json.RawMessage(`-1`)))

	// Sanity: a syntax error is not mistaken for a type error.
	var typeErr *json.UnmarshalTypeError
	assert.False(t, errors.As(json.Unmarshal([]byte(`{"email":`), &participantIn{}), &typeErr))
}
